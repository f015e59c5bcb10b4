"""A pack's page on the IT site (``Pack.pages``) from the test pack in tests/sitepack_demo: mounted
at /admin/packs/<pack>/<path> with no platform file naming it, behind the admin's login, in the
three languages, with path parameters, reading the pack's own server table; through real HTTP."""

from __future__ import annotations

import httpx
import pytest

from pos import packs
from sync.client import SyncClient

from .sync_support import ADMIN_TOKEN, ThreadServer, db_url, new_kiosk  # noqa: F401 - fixture
from .test_sitepack import desk, with_pack  # noqa: F401 - fixture


@pytest.fixture
def server(with_pack, db_url):  # noqa: F811
    s = ThreadServer(db_url)
    yield s
    s.stop()


def test_a_pack_page_behind_the_login_in_three_languages(server, tmp_path):
    assert [p.name for p in packs.active()] == ["hospital", "techdesk"]
    store = new_kiosk(tmp_path, "KA", server.url)
    a = desk(store)
    li = a.book("Li", "2026-12-08T02:00:00Z", "2026-12-08T03:00:00Z")
    wang = a.book("Wang", "2026-12-08T02:00:00Z", "2026-12-08T03:00:00Z")
    SyncClient(store).sync_once()

    page = server.url + "/admin/packs/techdesk/bookings"
    r = httpx.get(page + "?lang=en")
    assert r.status_code == 401 and "<form" in r.text                  # the login page, no data
    assert li not in r.text
    web = httpx.Client(base_url=server.url)
    assert web.post("/admin/login?lang=en", data={"token": ADMIN_TOKEN}).status_code == 303
    for lang, word in (("en", "Booked visits"), ("zh-Hans", "已预约的上门"), ("zh-Hant", "已預約的上門")):
        r = web.get(f"/admin/packs/techdesk/bookings?lang={lang}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert f'<html lang="{lang}">' in r.text and f"<h1>{word}</h1>" in r.text      # the IT page's base
        assert li in r.text and wang in r.text
    r = web.get("/admin/packs/techdesk/bookings/Wang?lang=en")          # a path parameter
    assert wang in r.text and li not in r.text
    r = web.get("/admin/packs/hospital/bookings?lang=en")
    assert r.status_code == 404                                          # only what a pack declares
    web.close()
