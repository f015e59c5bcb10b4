"""The test pack's screen (tests/sitepack_demo) is a front end of its own: the app shell builds it
from the pack's manifest, shows its config, and a touch books a slot (kept in the front-end group)."""

from __future__ import annotations

import pytest

from pos import packs

PACK = "tests.sitepack_demo.pack:PACK"


@pytest.fixture
def with_pack():
    from pos.config import install_pack_sections
    packs.enable(["hospital", PACK])
    yield
    packs.enable(None)
    install_pack_sections()


def test_the_pack_screen_is_shown_and_books_through_a_touch(with_pack, tmp_path):
    from pos.config import parse_config
    from tests.kivy_harness import start_app, stop_app
    ui = start_app("techdesk", config=parse_config('[techdesk]\ndesk_name = "Repairs, floor 2"\n'),
                   store_path=str(tmp_path / "desk.sqlite"), language="en")
    try:
        ui.settle()
        assert ui.screen().name == "techdesk_home"
        ui.find("Repairs, floor 2")
        ui.tap(ui.find("Book Li 10:00-11:00"))
        ui.wait(lambda: ui.app.store.outbox_depth() == 1, what="the booking")
        kind = ui.app.store.conn.execute("SELECT kind FROM outbox").fetchone()[0]
        assert kind == "techdesk.visit.booked"
    finally:
        stop_app(ui)
