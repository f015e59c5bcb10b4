"""Adding a site touches no platform file: the repair-desk pack in tests/sitepack_demo adds a command
kind (typed payload, server handler claiming a technician's time slot), store and server migrations,
a client projection, a config section, a service and a screen, loaded by dotted path."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from pos import packs
from pos.packs import PayloadInvalid
from pos.site import Site
from sync.client import SyncClient

from .sync_support import ThreadServer, db_url, new_kiosk  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parent.parent
PACK = "tests.sitepack_demo.pack:PACK"


@pytest.fixture
def with_pack():
    from pos.config import install_pack_sections
    packs.enable(["hospital", PACK])
    yield
    packs.enable(None)
    install_pack_sections()


@pytest.fixture
def server(with_pack, db_url):  # noqa: F811
    s = ThreadServer(db_url)
    yield s
    s.stop()


def desk(store):
    from pos.config import parse_config
    return Site(parse_config('[techdesk]\ndesk_name = "Repairs, floor 2"\n'), store).techdesk


def test_a_pack_from_tests_books_slots_through_the_real_server(server, tmp_path):
    a_store, b_store = new_kiosk(tmp_path, "KA", server.url), new_kiosk(tmp_path, "KB", server.url)
    a, b = desk(a_store), desk(b_store)
    with server.backend.tx() as cur:                  # the pack's server migration ran
        names = [r[0] for r in cur.execute("SELECT name FROM server_migrations").fetchall()]
        assert "techdesk.m001_bookings" in names and "hospital.m001_tables" in names
    first = a.book("Li", "2026-12-08T02:00:00Z", "2026-12-08T03:00:00Z")
    clash = b.book("Li", "2026-12-08T02:30:00Z", "2026-12-08T03:30:00Z")        # offline: B does not know
    after = b.book("Li", "2026-12-08T03:00:00Z", "2026-12-08T04:00:00Z")        # [) ranges: adjacent is fine
    other = b.book("Wang", "2026-12-08T02:30:00Z", "2026-12-08T03:30:00Z")
    SyncClient(a_store).sync_once()
    SyncClient(b_store).sync_once()
    results = {r[0]: (r[1], json.loads(r[2])) for r in b_store.conn.execute(
        "SELECT json_extract(payload, '$.visit_no'), state, result FROM outbox")}
    assert results[clash][0] == "rejected"
    assert results[clash][1]["result"]["reason"] == "slot_taken" and results[clash][1]["result"]["held_by"] == first
    assert results[after][0] == results[other][0] == "acked"
    # B's projection holds what the server granted, A's visit included; B no longer offers A's slot
    pulled = b_store.conn.execute("SELECT visit_no FROM techdesk_pulled_slots ORDER BY visit_no").fetchall()
    assert sorted(r[0] for r in pulled) == sorted([first, after, other])
    assert not b.free("Li", "2026-12-08T02:15:00Z", "2026-12-08T02:45:00Z")
    with server.backend.tx() as cur:
        claims = sorted(cur.execute("SELECT resource, holder FROM resource_claims").fetchall())
        conflicts = cur.execute("SELECT resource, holder, held_by FROM claim_conflicts").fetchall()
        booked = sorted(r[0] for r in cur.execute("SELECT visit_no FROM techdesk_bookings").fetchall())
    assert claims == sorted([("tech:Li", first), ("tech:Li", after), ("tech:Wang", other)])
    assert conflicts == [("tech:Li", clash, first)]
    assert booked == sorted([first, after, other])

    # A cancels: the claim stays, cancelled, and no longer counts; B's slot can now be had
    a.cancel(first)
    SyncClient(a_store).sync_once()
    SyncClient(b_store).pull_all()
    assert b.free("Li", "2026-12-08T02:00:00Z", "2026-12-08T02:30:00Z")     # B's own refused visit starts 02:30
    again = b.book("Li", "2026-12-08T02:00:00Z", "2026-12-08T02:30:00Z")
    SyncClient(b_store).sync_once()
    assert b_store.conn.execute("SELECT state FROM outbox WHERE json_extract(payload, '$.visit_no') = ?",
                                (again,)).fetchone()[0] == "acked"
    with server.backend.tx() as cur:
        states = dict(cur.execute("SELECT holder, state FROM resource_claims WHERE resource = 'tech:Li'").fetchall())
    assert states == {first: "cancelled", after: "live", again: "live"}


def test_the_packs_payload_schema_holds_on_the_device(with_pack, tmp_path):
    from pos.store import Store
    store = Store(tmp_path / "s.sqlite", device_id="KA")
    with pytest.raises(PayloadInvalid, match="end_at"):
        with store.transaction() as tx:
            tx.emit("techdesk.visit.booked", {"visit_no": "KA-000001", "technician": "Li",
                                              "start_at": "2026-12-08T02:00:00Z"})
    assert store.outbox_depth() == 0
    store.close()


def test_without_the_pack_the_kind_and_tables_do_not_exist(tmp_path):
    from pos.store import Store
    from sync.server.service import Refused, validate_batch
    packs.enable(["hospital"])
    try:
        store = Store(tmp_path / "s.sqlite", device_id="KA")
        assert not store.db["techdesk_visits"].exists()
        store.close()
        with pytest.raises(Refused, match="unknown kind"):
            validate_batch({"commands": [{"command_id": "c-00000001", "device_id": "KA", "device_seq": 1,
                                          "created_at": "2026-12-08T00:00:00Z", "kind": "techdesk.visit.booked",
                                          "payload": {}}]}, "KA")
    finally:
        packs.enable(None)


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


def test_no_platform_file_names_the_pack():
    """The pack lives in tests/ alone: no platform file (nor pyproject.toml) mentions it."""
    out = subprocess.run(["git", "grep", "-l", "-i", "-e", "techdesk", "-e", "sitepack_demo", "--",
                          "pos", "sync", "kiosk", "drivers", "assets", "pyproject.toml", "scripts"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 1 and out.stdout == "", out.stdout


def test_the_site_config_names_the_packs_it_runs():
    from pos.config import ConfigError, parse_config
    try:
        cfg = parse_config('[site]\npacks = ["hospital", "tests.sitepack_demo.pack:PACK"]\n'
                           '[techdesk]\ndesk_name = "Repairs"\n')
        assert cfg.get("techdesk", "desk_name") == "Repairs"
        assert [p.name for p in packs.active()] == ["hospital", "techdesk"]
        with pytest.raises(ConfigError, match="site.packs.*no site pack 'nosuch'"):
            parse_config('[site]\npacks = ["nosuch"]\n', "site.toml")
    finally:
        packs.enable(None)
        from pos.config import install_pack_sections
        install_pack_sections()


def test_the_hospital_names_its_insurance_adapter(tmp_path):
    """No silent fall-back to the simulated platform: none named is refused with the key to set."""
    from pos.config import ConfigError, parse_config
    from pos.hospital.gateway_sim import SimGateway
    from pos.store import Store
    store = Store(tmp_path / "s.sqlite", device_id="KA")
    try:
        with pytest.raises(ConfigError, match="hospital.insurance_gateway"):
            Site(parse_config(""), store).gateway
        assert isinstance(Site(parse_config('[hospital]\ninsurance_gateway = "sim"\n'), store).gateway, SimGateway)
        with pytest.raises(ConfigError, match="module:factory"):
            parse_config('[hospital]\ninsurance_gateway = "real"\n')
    finally:
        store.close()


def test_two_packs_cannot_own_one_kind():
    from pos.packs import Kind, Pack, PackError
    import tests.sitepack_demo.pack as demo
    demo.TWIN = Pack(name="twin", kinds=(Kind("techdesk.visit.booked"),))
    try:
        packs.enable([PACK, "tests.sitepack_demo.pack:TWIN"])
        with pytest.raises(PackError, match="declared by both techdesk and twin"):
            packs.active()
        packs.enable(["no_such_pack"])
        with pytest.raises(PackError, match="no site pack 'no_such_pack'"):
            packs.active()
    finally:
        packs.enable(None)
        del demo.TWIN
