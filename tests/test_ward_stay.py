"""``onestop ward``: a stay's charges and discharge by touches, against the real sync server
(SQLite and PostgreSQL): charges from the catalogue and by hand, a reversal instead of a delete,
the doctor's order, the nurse's line-by-line review and lock, a charge after the lock refused, the
charge nurse's unlock with a reason, the date checks, and the scheduled discharge reaching the
counter's device only through sync. Three languages."""

from __future__ import annotations

import datetime as dt

import pytest

from pos.hospital import demo, views
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.policy import load_policy
from pos.hospital.service import HospitalService
from sync.client import SyncClient

from .counter_support import LANGS, tap
from .kivy_harness import assert_no_tofu, start_app, stop_app
from .sync_support import ThreadServer, db_url, new_kiosk  # noqa: F401 - db_url is a fixture
from .test_ward_board import arrived, login

pytestmark = pytest.mark.x11

TITLES = {"zh-Hans": "费用与出院", "zh-Hant": "費用與出院", "en": "Charges and discharge"}


@pytest.fixture
def stay(db_url, tmp_path):             # noqa: F811 - the fixture
    server = ThreadServer(db_url)
    store = new_kiosk(tmp_path, "WS", server.url)
    policy = load_policy()
    gateway = SimGateway(policy, "tertiary")
    svc = HospitalService(store, policy, gateway, level="tertiary", low_balance_fen=50000)
    demo.seed(svc, gateway)
    no = arrived(svc, 0)
    svc.assign_bed(no, "01")
    svc.confirm_identity(no, "N07")
    path = store.path
    store.close()
    counter = new_kiosk(tmp_path, "KC", server.url)
    ui = start_app("ward", store_path=path, language="zh-Hans", size=(1280, 800))
    ui.settle()
    try:
        yield ui, no, counter
    finally:
        stop_app(ui)
        counter.close()
        server.stop()


def open_stay(ui, role, staff, pin):
    if ui.app.sm.current != "ward_login":
        ui.tap(ui.screen().ids.back)
        ui.settle()
        ui.tap(ui.screen().ids.logout)
        ui.settle()
    login(ui, role, staff, pin)
    ui.wait(lambda: ui.app.sm.current == "ward_board", what="the bed board")
    ui.settle()
    b = ui.screen()
    ui.tap(b.cells["01"])
    ui.tap(b.ids.stay)
    ui.wait(lambda: ui.app.sm.current == "ward_stay", what="the stay")
    ui.settle()
    return ui.screen()


def type_in(s, **fields):
    for k, v in fields.items():
        s.ids[k].text = v


def test_charges_review_lock_unlock_and_a_scheduled_discharge_that_reaches_the_counter(stay, artifacts):
    ui, no, counter = stay
    s = open_stay(ui, "nurse", "N07", "1111")
    hosp = ui.app.site_services.hospital
    tap(ui, s.fee_buttons["B001"])                                  # from the catalogue
    assert s.ids.code.text == "B001" and s.ids.qty.text == "1"
    tap(ui, s.ids.post)
    assert "单价" in s.message and s.rows == {}                     # no price known yet
    type_in(s, price="45.00")
    tap(ui, s.ids.post)
    assert "床位费" in s.message and "¥45.00" in s.message
    type_in(s, code="X900", name="陪护费", qty="2", price="30.00")  # by hand, category 丙
    tap(ui, s.ids.category)
    tap(ui, s.ids.category)
    assert s.category == "丙"
    tap(ui, s.ids.post)
    tap(ui, s.fee_buttons["B001"])                                  # the price as last charged
    tap(ui, s.ids.post)
    lines = hosp.stay_charges(no)
    assert [(c["fee_code"], c["category"], c["amount_fen"]) for c in lines] == [
        ("B001", "甲", 4500), ("X900", "丙", 6000), ("B001", "甲", 4500)]
    tap(ui, s.rows[lines[2]["id"]]["reverse"])                      # a reversal, never a delete
    lines = hosp.stay_charges(no)
    assert [c["amount_fen"] for c in lines] == [4500, 6000, 4500, -4500] and lines[3]["reverses_id"] == lines[2]["id"]
    assert s.rows[lines[2]["id"]]["reverse"].disabled and s.rows[lines[3]["id"]]["reverse"].disabled
    tap(ui, s.ids.order)
    assert "医生" in s.message and s.discharge() is None           # a nurse does not order

    s = open_stay(ui, "doctor", "D01", "3333")
    tap(ui, s.ids.order)
    assert "出院小结" in s.message
    type_in(s, summary="好转出院", ebill="EB-0001")
    tap(ui, s.ids.order)
    d = s.discharge()
    assert d["state"] == "ordered" and d["doctor"] == "D01" and d["summary"] == "好转出院"

    s = open_stay(ui, "nurse", "N07", "1111")
    tap(ui, s.ids.lock)
    assert "逐行" in s.message and s.discharge()["state"] == "ordered"
    for cid in list(s.rows):                                        # line by line
        tap(ui, s.rows[cid]["tick"])
    assert all("已核对" in r["tick"].text for r in s.rows.values())
    tap(ui, s.ids.lock)
    assert s.discharge()["state"] == "charges_locked" and "¥105.00" in s.message
    tap(ui, s.fee_buttons["N001"])
    type_in(s, price="28.00")
    tap(ui, s.ids.post)                                             # after the lock
    assert "护士长" in s.message and "锁定" in s.message and len(hosp.stay_charges(no)) == 4
    type_in(s, unlock_reason="漏记护理费")
    tap(ui, s.ids.unlock)
    assert "护士长" in s.message and s.discharge()["state"] == "charges_locked"

    s = open_stay(ui, "charge_nurse", "H01", "2222")
    tap(ui, s.ids.unlock)
    assert "原因" in s.message
    type_in(s, unlock_reason="漏记护理费")
    tap(ui, s.ids.unlock)
    assert s.discharge()["state"] == "ordered"
    unlocked = [r for r in ui.app.store.conn.execute("SELECT kind, payload FROM outbox ORDER BY device_seq")
                if r[0] == "hospital.charges.unlocked"]
    assert '"reason": "漏记护理费"' in unlocked[-1][1] and '"nurse": "H01"' in unlocked[-1][1]
    tap(ui, s.fee_buttons["N001"])
    type_in(s, price="28.00")
    tap(ui, s.ids.post)
    assert len(hosp.stay_charges(no)) == 5
    for cid in list(s.rows):
        tap(ui, s.rows[cid]["tick"])
    tap(ui, s.ids.lock)
    assert s.discharge()["state"] == "charges_locked"

    today = dt.date.fromisoformat(hosp.today())
    for bad, word in (("2020-01-01", "已过"), ("明天", "格式"), ("", "填写出院日期")):
        type_in(s, when=bad)
        tap(ui, s.ids.schedule)
        assert word in s.message and s.discharge()["state"] == "charges_locked"
    when = (today + dt.timedelta(days=1)).isoformat()
    type_in(s, when=when)
    tap(ui, s.ids.schedule)
    assert s.discharge()["state"] == "scheduled" and when in s.state_text

    assert views.scheduled_discharges(counter.conn, when) == []     # the counter knows only by sync
    SyncClient(ui.app.store).sync_once()
    SyncClient(counter).sync_once()
    assert views.scheduled_discharges(counter.conn, when) == [{"inpatient_no": no, "ward_code": "CARD",
                                                               "scheduled_for": when}]
    for lang in LANGS:
        ui.app.set_language(lang)
        ui.frames(3)
        assert TITLES[lang] in s.ids.title.text
        assert_no_tofu(ui.app.root)
        ui.screenshot(artifacts / "ward-stay", lang)
