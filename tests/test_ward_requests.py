"""By touches and wristband scans, across a kiosk and a ward station that see each other only
through the real server: the patient asks at the kiosk for a scheduled discharge, the station's bed
board and stay screen show the request, the ward schedules, and the patient's kiosk screen says the
date. The stay screen shows a HIS charge line read-only, marked "from HIS". The counter's patient
page reads the daily list the station gave. Three languages, no tofu."""

from __future__ import annotations

import pytest

from pos.hospital import demo, projections, views
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.policy import load_policy
from pos.hospital.service import HospitalService
from pos.store import Store
from sync.client import SyncClient

from .counter_support import LANGS, counter_bench, scan  # noqa: F401 - counter_bench is a fixture
from .kivy_harness import assert_no_tofu, start_app, stop_app
from .sync_support import ThreadServer, new_kiosk
from .test_ward_board import arrived, login

pytestmark = pytest.mark.x11

ASK = {"zh-Hans": "申请预约出院", "zh-Hant": "申請預約出院", "en": "Ask for a scheduled discharge"}
ASKED = {"zh-Hans": "已送达护士站", "zh-Hant": "已送達護士站", "en": "has reached the nurse station"}
FROM_HIS = {"zh-Hans": "来自HIS", "zh-Hant": "來自HIS", "en": "From HIS"}


def kiosk_session(tmp_path, store_path: str, no: str, lang: str = "zh-Hans"):
    """The demo kiosk at its identify screen for a discharge, the wristband ``no`` scanned."""
    from kiosk.demo_env import DemoWorld
    from kiosk.launch import demo_config_path
    from pos.config import load_config

    from .test_kiosk_flows import go_to

    world = DemoWorld(tmp_path / f"world-{len(list(tmp_path.iterdir()))}")
    ui = start_app("demo", config=world.config(load_config(demo_config_path())), store_path=store_path,
                   demo_world=world, language=lang)
    ui.tap(ui.screen().ids.svc_discharge)
    scr = go_to(ui, "identify")
    scan(ui, no)
    ui.wait(lambda: scr.message and not scr.working, what="the kiosk's answer")
    ui.frames(3)
    return ui, world, scr


@pytest.fixture
def world(tmp_path):
    server = ThreadServer(f"sqlite:///{tmp_path / 'server.sqlite'}")
    ward = new_kiosk(tmp_path, "WS", server.url)
    kiosk = new_kiosk(tmp_path, "KK", server.url)
    policy = load_policy()
    gateway = SimGateway(policy, "tertiary")
    for store in (ward, kiosk):
        demo.seed(HospitalService(store, policy, gateway), gateway)
    svc = HospitalService(ward, policy, gateway, level="tertiary", low_balance_fen=50000)
    no = arrived(svc, 0)                                     # 张三, registered at the station's desk
    svc.assign_bed(no, "01")
    svc.confirm_identity(no, "N07")
    svc.add_charge(no, "B001", 1000, unit_price_fen=4500)
    with ward.transaction() as tx:                           # a charge the HIS sent (as the pull applies it)
        from pos.hospital import his_projection

        notice = views.notice_by_id(ward.conn, svc.admission(no)["notice_id"])
        his_projection.apply(tx, "his.charge", {"notice_no": notice["notice_no"], "charge_ref": "HIS-T9",
                                                "fee_code": "D101", "name": "阿司匹林肠溶片", "category": "甲",
                                                "unit_price_fen": 1260, "qty_milli": 2000, "amount_fen": 2520,
                                                "service_date": svc.today(), "at": svc.now()}, 1)
    for s in (ward, kiosk, ward, kiosk):
        SyncClient(s).sync_once()
    paths = {"ward": ward.path, "kiosk": kiosk.path}
    ward.close()
    kiosk.close()
    yield server, paths, no
    server.stop()


def sync(*paths) -> None:
    for p in paths:
        s = Store(p)
        try:
            SyncClient(s).sync_once()
        finally:
            s.close()


def test_a_discharge_request_from_the_kiosk_reaches_the_station_and_the_date_comes_back(world, tmp_path, artifacts):
    server, paths, no = world
    # 1. the kiosk: the stay was registered elsewhere; the discharge is not ready; the patient asks
    ui, dw, scr = kiosk_session(tmp_path, paths["kiosk"], no)
    try:
        assert scr.can_ask and scr.ids.ask_discharge.opacity == 1
        for lang in LANGS:
            ui.app.set_language(lang)
            ui.frames(3)
            assert scr.ids.ask_discharge.text == ASK[lang]
            assert_no_tofu(ui.app.root)
        ui.tap(scr.ids.ask_discharge)
        ui.wait(lambda: not scr.working and "reached" in scr.message, what="the request sent")
        ui.frames(3)
        assert ASKED["en"] in scr.ids.message.text and not scr.can_ask
        ui.screenshot(artifacts / "kiosk-discharge-request", "en")
        req = ui.app.store.conn.execute("SELECT json_extract(payload, '$.inpatient_no') FROM outbox "
                                        "WHERE kind = 'hospital.discharge.requested'").fetchall()
        assert req == [(no,)]
    finally:
        stop_app(ui)
        dw.stop()
    sync(paths["kiosk"], paths["ward"])

    # 2. the station: the request on the board and on the stay; the HIS line read-only; the ward schedules
    ui = start_app("ward", store_path=paths["ward"], language="zh-Hans", size=(1280, 800))
    try:
        ui.settle()
        login(ui, "nurse", "N07", "1111")
        ui.wait(lambda: ui.app.sm.current == "ward_board", what="the bed board")
        ui.settle()
        b = ui.screen()
        assert no in b.requests_text and "张三" in b.requests_text and b.ids.requests.opacity == 1
        assert "申请出院" in b.cells["01"].text
        ui.tap(b.cells["01"])
        ui.tap(b.ids.stay)
        ui.wait(lambda: ui.app.sm.current == "ward_stay", what="the stay")
        ui.settle()
        s = ui.screen()
        assert "患者已在自助机申请预约出院" in s.state_text
        his = [r for r in s.rows.values() if r["line"]["fee_code"] == "D101"]
        own = [r for r in s.rows.values() if r["line"]["fee_code"] == "B001"]
        assert len(his) == 1 and his[0]["reverse"].disabled and not own[0]["reverse"].disabled
        for lang in LANGS:
            ui.app.set_language(lang)
            ui.frames(3)
            his = [r for r in s.rows.values() if r["line"]["fee_code"] == "D101"]       # the lines are redrawn
            assert his[0]["reverse"].text == FROM_HIS[lang] and his[0]["reverse"].disabled
            assert_no_tofu(ui.app.root)
            ui.screenshot(artifacts / "ward-his-line", lang)
        ui.app.set_language("zh-Hans")
        ui.frames(3)
        h = ui.app.site_services.hospital
        h.order_discharge(no, summary="好转出院", ebill_no="EB-1", doctor="D01")
        h.lock_charges(no, "N07")
        h.schedule_discharge(no, h.today())
        assert views.discharge_requests(h.conn, "CARD") == []
        ui.tap(s.ids.back)
        ui.wait(lambda: ui.app.sm.current == "ward_board", what="the bed board")
        ui.settle()
        assert ui.screen().requests_text == ""
        day = h.today()
    finally:
        stop_app(ui)
    sync(paths["ward"], paths["kiosk"])

    # 3. the kiosk again: the patient's screen says the date
    ui, dw, scr = kiosk_session(tmp_path, paths["kiosk"], no, lang="en")
    try:
        assert day in scr.ids.message.text and "scheduled" in scr.ids.message.text and not scr.can_ask
        for lang in LANGS:
            ui.app.set_language(lang)
            ui.frames(3)
            assert day in scr.ids.message.text
            assert_no_tofu(ui.app.root)
    finally:
        stop_app(ui)
        dw.stop()


LINE = {"zh-Hans": "病区已发放每日清单", "zh-Hant": "病區已發放每日清單", "en": "Daily list given at the ward"}
NO_LINE = {"zh-Hans": "病区尚未发放每日清单", "zh-Hant": "病區尚未發放每日清單", "en": "No daily list given at the ward yet"}


def test_the_counter_reads_the_daily_list_given_at_the_ward(counter_bench, artifacts):  # noqa: F811
    from kiosk.counter.base import desk

    from .counter_support import texts

    ui = counter_bench.start(language="zh-Hans")
    d = desk()
    no = demo.admit_demo_patient(d.hospital, 1, days=2)
    ui.app.go("counter_patient", inpatient_no=no)
    ui.settle()
    pat = ui.screen()
    ui.wait(lambda: pat.info, what="patient")
    assert NO_LINE["zh-Hans"] in texts(pat)
    # the station's record, as the counter pulls it (hospital.daily_list.printed -> daily_list.printed)
    with ui.app.store.transaction() as tx:
        projections.daily_list_printed(tx, "daily_list.printed", {"inpatient_no": no, "day": d.hospital.today(),
                                                                  "total_fen": 9000, "as_of": "2026-12-08T01:30:00Z"},
                                       41)
    pat.load()
    ui.wait(lambda: LINE["zh-Hans"] in texts(pat), what="the line")
    for lang in LANGS:
        ui.app.set_language(lang)
        ui.frames(3)
        assert LINE[lang] in texts(pat) and d.hospital.today() in texts(pat) and "09:30" in texts(pat)
        assert_no_tofu(ui.app.root)
        ui.screenshot(artifacts / "counter-daily-given", lang)
