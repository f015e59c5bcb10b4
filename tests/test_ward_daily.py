"""``onestop ward``: the day's fee lists for every patient of the ward in one batch on the
station's printer (the virtual ESC/POS printer on a real socket), low balances first with the
top-up prompt on their list, each recorded as given; by a touch, in three languages."""

from __future__ import annotations

import pytest

from drivers.sim.printer import VirtualPrinter
from pos.config import load_config
from pos.hospital import demo
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.policy import load_policy
from pos.hospital.service import HospitalService
from pos.store import Store

from .counter_support import LANGS
from .kivy_harness import assert_no_tofu, start_app, stop_app
from .test_ward_board import arrived, login

pytestmark = pytest.mark.x11

PROMPT = "预交金余额不足，请到收费处或自助机补缴。"


@pytest.fixture
def ward_printing(tmp_path, artifacts):
    from kiosk.launch import demo_config_path

    store = Store(tmp_path / "ward.sqlite")
    policy = load_policy()
    gateway = SimGateway(policy, "tertiary")
    svc = HospitalService(store, policy, gateway, level="tertiary", low_balance_fen=50000)
    demo.seed(svc, gateway)
    p0, p2 = arrived(svc, 0), arrived(svc, 2)            # deposits ¥1,000 and ¥200 (low)
    svc.assign_bed(p0, "01")
    svc.assign_bed(p2, "02")
    for no in (p0, p2):
        svc.confirm_identity(no, "N07")
        svc.add_charge(no, "B001", 1000, unit_price_fen=4500)
    store.close()
    with VirtualPrinter(out_dir=artifacts / "ward-printed") as printer:
        config = load_config(demo_config_path())
        config.values["devices"] = {"receipt_printer": f"escpos+tcp://127.0.0.1:{printer.port}?profile=cn80"}
        ui = start_app("ward", config=config, store_path=str(tmp_path / "ward.sqlite"), language="zh-Hans")
        ui.settle()
        try:
            yield ui, printer, p0, p2
        finally:
            stop_app(ui)


def test_the_station_prints_every_daily_list_low_balance_first(ward_printing, artifacts):
    ui, printer, p0, p2 = ward_printing
    login(ui, "nurse", "N07", "1111")
    ui.wait(lambda: ui.app.sm.current == "ward_board", what="the bed board")
    ui.settle()
    b = ui.screen()
    ui.tap(b.ids.print_lists)
    ui.wait(lambda: not b.printing and len([d for d in printer.docs if getattr(d, "cut", False)]) == 2,
            what="two lists on paper")
    ui.frames(3)
    lists = [d.text for d in printer.docs if getattr(d, "cut", False)]
    assert p2 in lists[0] and p0 in lists[1]                 # the low balance first
    assert PROMPT in lists[0] and PROMPT not in lists[1]
    assert "床位费" in lists[0] and "45.00" in lists[0]
    assert "2 份" in b.message and "1 份余额不足" in b.message
    given = [r[0] for r in ui.app.store.conn.execute(
        "SELECT json_extract(payload, '$.inpatient_no') FROM outbox WHERE kind = 'hospital.daily_list.printed' "
        "ORDER BY device_seq")]
    assert given == [p2, p0]                                  # recorded as given, for the counter
    for lang in LANGS:
        ui.app.set_language(lang)
        ui.frames(3)
        assert_no_tofu(ui.app.root)
        ui.screenshot(artifacts / "ward-daily", lang)
