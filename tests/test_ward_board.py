"""``onestop ward``, the nurse station, driven by touches and a keyboard-wedge scan against the real
sync server (SQLite and PostgreSQL): the role login with its refusals, the bed board, a bed given
by scanning the wristband, a claim the server gives to another device first (shown with the
server's reason on the station after a pull) and the nurse moving the patient to another bed, in
three languages, and the idle log-out."""

from __future__ import annotations

import pytest

from pos.hospital import demo
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.policy import load_policy
from pos.hospital.records import Payment
from pos.hospital.service import HospitalService
from sync.client import SyncClient

from ._hospital import person
from .counter_support import LANGS, scan, texts
from .kivy_harness import assert_no_tofu, start_app, stop_app
from .sync_support import ThreadServer, db_url, new_kiosk  # noqa: F401 - db_url is a fixture

pytestmark = pytest.mark.x11

TITLES = {"zh-Hans": "床位一览", "zh-Hant": "床位一覽", "en": "Bed board"}


def arrived(svc, i: int) -> str:
    """Person i registered at the counter, deposit paid, wristband printed: on the way to the ward."""
    rec = person(i)
    notice = svc.find_notice_for_identity(rec)
    no = svc.register_admission(notice["notice_no"], rec)["inpatient_no"]
    svc.record_deposit(no, Payment(100000 if i == 0 else 20000))
    svc.print_wristband(no)
    return no


@pytest.fixture
def station(db_url, tmp_path):          # noqa: F811 - the fixture
    server = ThreadServer(db_url)
    store = new_kiosk(tmp_path, "WS", server.url)
    policy = load_policy()
    gateway = SimGateway(policy, "tertiary")
    svc = HospitalService(store, policy, gateway, level="tertiary", low_balance_fen=50000)
    demo.seed(svc, gateway)
    patients = [arrived(svc, 0), arrived(svc, 2)]           # both for the cardiology ward (CARD)
    path = store.path
    store.close()
    other = new_kiosk(tmp_path, "KB", server.url)           # another device gives CARD/03 first
    with other.transaction() as tx:
        tx.emit("hospital.bed.assigned", {"inpatient_no": "KB-000001", "ward_code": "CARD", "bed_no": "03",
                                          "at": "2026-12-07T08:00:00Z"})
    SyncClient(other).sync_once()
    ui = start_app("ward", store_path=str(path), language="zh-Hans", size=(1280, 800))
    ui.settle()
    try:
        yield ui, server, patients
    finally:
        stop_app(ui)
        other.close()
        server.stop()


def login(ui, role: str, staff: str, pin: str) -> None:
    s = ui.screen()
    ui.tap(s.ids[f"role_{role}"])
    s.ids.staff.text = staff
    s.ids.pin.text = pin
    ui.tap(s.ids.ok)


def test_a_nurse_gives_beds_by_wristband_and_moves_a_patient_the_server_refused(station, artifacts):
    ui, server, (p0, p2) = station
    s = ui.screen()
    assert s.name == "ward_login"
    ui.tap(s.ids.ok)
    assert "角色" in s.message                                  # no role picked
    login(ui, "nurse", "", "1111")
    assert "工号" in s.message
    login(ui, "nurse", "N07", "9999")
    assert s.message == "密码错误。" and ui.app.sm.current == "ward_login"
    login(ui, "nurse", "N07", "1111")
    ui.wait(lambda: ui.app.sm.current == "ward_board", what="the bed board")
    ui.settle()
    b = ui.screen()
    assert "N07" in b.ids.who.text and "护士" in b.ids.who.text
    assert len(b.cells) == 20 and all(c["state"] == "free" for c in b.board)    # nothing pulled yet

    scan(ui, p0)                                                 # the wristband of 张三
    assert "张三" in texts(b) and p0 in b.selected_text
    ui.tap(b.cells["03"])
    hosp = ui.app.site_services.hospital
    assert hosp.admission(p0)["state"] == "bed_assigned"
    assert "03" in b.message
    cell = next(c for c in b.board if c["bed_no"] == "03")
    assert cell["state"] == "occupied" and cell["inpatient_no"] == p0 and cell["days"] == 1
    assert cell["balance_fen"] == 100000 and not cell["low_balance"]

    SyncClient(ui.app.store).sync_once()                         # the station's push and pull
    b.refresh()
    ui.frames(2)
    cell = next(c for c in b.board if c["bed_no"] == "03")
    assert cell["conflict"] == {"reason": "bed_taken", "held_by": "KB-000001"}
    assert "KB-000001" in b.message and "另选" in b.message       # the server's reason, at the station
    assert tuple(b.cells["03"].background_color) == (0.85, 0.2, 0.2, 1)

    ui.tap(b.cells["03"])                                        # pick the patient on the refused bed
    assert p0 in b.selected_text
    ui.tap(b.cells["04"])                                        # and move to 04
    SyncClient(ui.app.store).sync_once()
    b.refresh()
    ui.frames(2)
    assert not any(c["conflict"] for c in b.board) and "04" in b.message
    held = dict(ui.app.store.conn.execute("SELECT bed_id, inpatient_no FROM hosp_pulled_beds "
                                          "WHERE state = 'occupied'").fetchall())
    assert held == {"CARD/03": "KB-000001", "CARD/04": p0}       # as the server decided
    cell03 = next(c for c in b.board if c["bed_no"] == "03")
    assert cell03.get("elsewhere") and cell03["inpatient_no"] == "KB-000001"
    ui.tap(b.cells["03"])                                        # another device's bed: refused
    assert "已被占用" in b.message

    scan(ui, p2)                                                 # 李堃, deposit 200 yuan: low balance
    ui.tap(b.cells["05"])
    SyncClient(ui.app.store).sync_once()
    b.refresh()
    ui.frames(2)
    cell = next(c for c in b.board if c["bed_no"] == "05")
    assert cell["inpatient_no"] == p2 and cell["low_balance"] and "余额不足" in b.cells["05"].text
    ui.tap(b.ids.reserve)                                        # nobody picked: refused
    assert b.mode == "" and "先扫描" in b.message
    ui.tap(b.cells["07"])                                        # cleaning: tap the mode, then the bed
    ui.tap(b.ids.cleaning)
    ui.tap(b.cells["07"])
    assert next(c for c in b.board if c["bed_no"] == "07")["state"] == "cleaning" and "清洁中" in b.cells["07"].text
    scan(ui, p2)
    ui.tap(b.cells["07"])                                        # not while it is being cleaned: made ready
    assert next(c for c in b.board if c["bed_no"] == "07")["state"] == "free" and "已清洁" in b.message
    ui.tap(b.ids.reserve)
    ui.tap(b.cells["08"])                                        # 08 reserved for 李堃
    cell = next(c for c in b.board if c["bed_no"] == "08")
    assert cell["state"] == "reserved" and cell["inpatient_no"] == p2
    scan(ui, p0)
    ui.tap(b.cells["08"])                                        # not for 张三
    assert "预留" in b.message and hosp.admission(p0)["bed_id"] is not None
    assert next(c for c in b.board if c["bed_no"] == "04")["inpatient_no"] == p0
    scan(ui, p2)
    ui.tap(b.cells["08"])                                        # 李堃 moves into his reserved bed
    SyncClient(ui.app.store).sync_once()
    b.refresh()
    ui.frames(2)
    cell = next(c for c in b.board if c["bed_no"] == "08")
    assert cell["state"] == "occupied" and cell["inpatient_no"] == p2 and not cell["conflict"]
    scan(ui, p0)                                                 # a transfer to another ward
    ui.tap(b.ids.next_ward)
    assert "儿科" in b.ids.title.text
    ui.tap(b.ids.next_ward)                                      # wards in code order: CARD, PEDS, SURG
    assert "普外科" in b.ids.title.text and p0 in b.selected_text
    ui.tap(b.cells["10"])
    ui.wait(lambda: "10" in b.message, what="the transfer's message")     # the claim runs off the UI thread
    a = hosp.admission(p0)
    assert a["ward_code"] == "SURG" and "10" in b.message
    SyncClient(ui.app.store).sync_once()
    b.refresh()
    ui.frames(2)
    assert next(c for c in b.board if c["bed_no"] == "10")["inpatient_no"] == p0
    held = dict(ui.app.store.conn.execute("SELECT bed_id, inpatient_no FROM hosp_pulled_beds "
                                          "WHERE state = 'occupied'").fetchall())
    assert held["SURG/10"] == p0
    ui.tap(b.ids.next_ward)                                      # round to the station's own ward
    assert "心内科" in b.ids.title.text
    scan(ui, "ZYXX-999999")
    assert "ZYXX-999999" in b.message and "不是" in b.message

    for lang in LANGS:
        ui.app.set_language(lang)
        ui.frames(3)
        assert TITLES[lang] in b.ids.title.text
        assert_no_tofu(ui.app.root)
        ui.screenshot(artifacts / "ward-board", lang)

    ui.app.set_idle_timeout(0.5)                                 # the counter's idle rule: log out
    ui.wait(lambda: ui.app.sm.current == "ward_login", what="the idle log-out")
    assert b.staff == "" and b.picked is None
