"""``onestop ward``: the bedside discharge (H-D7) by touches on the ward tablet against the real
sync server (SQLite and PostgreSQL): the refusals (not flagged, no cashier joined yet), the flag and
the session, the cashier's join reaching the tablet only through sync, the settlement marked
bedside with the session, and the receipt and the settlement list on the ward printer (the virtual
ESC/POS printer on a real socket). Three languages."""

from __future__ import annotations

import json

import pytest

from drivers.sim.printer import VirtualPrinter
from pos.config import load_config
from pos.hospital import demo
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.policy import load_policy
from pos.hospital.service import HospitalService
from sync.client import SyncClient

from .counter_support import LANGS, tap
from .kivy_harness import assert_no_tofu, start_app, stop_app
from .sync_support import ThreadServer, db_url, new_kiosk  # noqa: F401 - db_url is a fixture
from .test_ward_board import arrived
from .test_ward_stay import open_stay

pytestmark = pytest.mark.x11

TITLES = {"zh-Hans": "床边出院", "zh-Hant": "床邊出院", "en": "Bedside discharge"}


def stay_ready(tmp_path, server, device_id: str):
    """A stay on the ward tablet's store: in bed, charged, locked and scheduled for today."""
    store = new_kiosk(tmp_path, device_id, server.url)
    policy = load_policy()
    gateway = SimGateway(policy, "tertiary")
    svc = HospitalService(store, policy, gateway, level="tertiary", low_balance_fen=50000)
    demo.seed(svc, gateway)
    no = arrived(svc, 2)                                   # deposit ¥200.00
    svc.assign_bed(no, "01")
    svc.confirm_identity(no, "N07")
    svc.add_charge(no, "B001", 10000, unit_price_fen=4500)
    svc.order_discharge(no, summary="好转出院", ebill_no="EB-0009", doctor="D01")
    svc.lock_charges(no, "N07")
    svc.schedule_discharge(no, svc.today())
    path = store.path
    store.close()
    return no, str(path)


@pytest.fixture
def bedside(db_url, tmp_path, artifacts):      # noqa: F811 - the fixture
    from kiosk.launch import demo_config_path

    server = ThreadServer(db_url)
    no, path = stay_ready(tmp_path, server, "WS")
    counter = new_kiosk(tmp_path, "KC", server.url)
    policy = load_policy()
    desk = HospitalService(counter, policy, SimGateway(policy, "tertiary"), level="tertiary")
    with VirtualPrinter(out_dir=artifacts / "ward-bedside-printed") as printer:
        config = load_config(demo_config_path())
        config.values["devices"] = {"receipt_printer": f"escpos+tcp://127.0.0.1:{printer.port}?profile=cn80"}
        ui = start_app("ward", config=config, store_path=path, language="zh-Hans", size=(1280, 800))
        ui.settle()
        try:
            yield ui, no, desk, printer
        finally:
            stop_app(ui)
            counter.close()
            server.stop()


def open_bedside_screen(ui):
    s = open_stay(ui, "nurse", "N07", "1111")
    tap(ui, s.ids.bedside)
    ui.wait(lambda: ui.app.sm.current == "ward_bedside", what="the bedside discharge")
    ui.settle()
    return ui.screen()


def test_a_bedside_discharge_joined_by_the_counter_and_printed_on_the_ward_printer(bedside, artifacts):
    ui, no, desk, printer = bedside
    s = open_bedside_screen(ui)
    assert "未标记为行动不便" in s.info and "01 床" in s.info
    tap(ui, s.ids.open)
    assert "请先将病人标记为行动不便" in s.message
    s.ids.reason.text = "术后卧床，无陪护"
    tap(ui, s.ids.flag)
    assert "已将病人标记为行动不便" in s.message and "行动不便：由 N07 标记" in s.info
    tap(ui, s.ids.open)
    assert "床边出院已开启" in s.message and "等待收费员加入" in s.info
    tap(ui, s.ids.settle)
    ui.wait(lambda: not s.busy and "尚无收费员加入" in s.message, what="the refusal before a join")
    hosp = ui.app.site_services.hospital
    assert hosp.discharge_state(no) == "scheduled"

    SyncClient(ui.app.store).sync_once()                   # the counter learns it only by sync
    SyncClient(desk.store).sync_once()
    [req] = desk.bedside_sessions()
    desk.join_bedside(req["session_id"], "C01")
    SyncClient(desk.store).sync_once()
    SyncClient(ui.app.store).sync_once()
    tap(ui, s.ids.check)
    assert "收费员 C01 已加入床边出院" in s.info

    tap(ui, s.ids.settle)
    ui.wait(lambda: not s.busy and s.settled is not None, what="the bedside settlement")
    ui.frames(2)
    assert "请在床边收取现金 ¥250.00" in s.info and s.settled["settlement_no"] in s.info
    tap(ui, s.ids.finish)
    ui.wait(lambda: not s.busy and len([d for d in printer.docs if getattr(d, "cut", False)]) == 2,
            what="the receipt and the settlement list on paper")
    ui.frames(3)
    assert "已在床边办理出院" in s.message
    receipt, listing = [d.text for d in printer.docs if getattr(d, "cut", False)]
    assert no in receipt and "250.00" in receipt
    assert no in listing and "结算" in listing
    assert hosp.admission(no)["state"] == "discharged"
    out = {r[0]: json.loads(r[1]) for r in ui.app.store.conn.execute(
        "SELECT kind, payload FROM outbox WHERE kind IN ('hospital.discharged', 'hospital.settlement.recorded', "
        "'hospital.bedside.settled')")}
    assert out["hospital.discharged"]["bedside"] is True
    assert out["hospital.settlement.recorded"]["session_id"] == req["session_id"]
    assert out["hospital.bedside.settled"]["cashier"] == "C01"
    SyncClient(ui.app.store).sync_once()
    SyncClient(desk.store).sync_once()
    assert [r["state"] for r in desk.bedside_sessions(("opened", "joined", "settled"))] == ["settled"]
    for lang in LANGS:
        ui.app.set_language(lang)
        ui.frames(3)
        assert TITLES[lang] in s.ids.title.text
        assert_no_tofu(ui.app.root)
        ui.screenshot(artifacts / "ward-bedside", lang)
    assert "Discharged at the bed" in s.message
