"""``onestop desk-kiosk``, the residents' lobby kiosk, driven by touches in three languages: an
anonymous complaint and a repair request submitted, each with a printed slip (number and QR code,
over a real socket to the virtual printer), and the progress looked up by the slip's QR text."""

from __future__ import annotations

import pytest

from drivers.sim.printer import VirtualPrinter
from pos.config import load_config

from .kivy_harness import assert_no_tofu, start_app, stop_app

pytestmark = pytest.mark.x11

TITLES = {"zh-Hans": "住户服务", "zh-Hant": "住戶服務", "en": "Resident services"}


@pytest.fixture
def lobby(tmp_path, artifacts):
    from kiosk.launch import demo_config_path

    with VirtualPrinter(out_dir=artifacts / "desk-lobby-printed") as vp:
        config = load_config(demo_config_path())
        config.values["devices"] = {"receipt_printer": f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80"}
        ui = start_app("desk-kiosk", config=config, store_path=str(tmp_path / "lobby.sqlite"), language="zh-Hans")
        ui.settle()
        try:
            yield ui, vp
        finally:
            stop_app(ui)


def test_residents_submit_and_look_up_by_touches(lobby, artifacts):
    ui, vp = lobby
    s = ui.screen()
    assert s.name == "desk_lobby"
    ui.tap(s.ids.submit)                                       # nothing said: asked to say it
    assert "需求" in s.message and not vp.docs
    ui.tap(s.ids.complaint)
    ui.tap(s.ids.anonymous)
    s.ids.unit.text = "3-1201"
    s.ids.description.text = "电梯里有人吸烟"
    ui.tap(s.ids.submit)
    desk = ui.app.site_services.desk
    (o,) = desk.queue()
    assert (o["channel"], o["unit"], o["party"]) == ("lobby_kiosk", "", "")      # anonymous: no unit kept
    doc = vp.wait_docs(1)[0]
    assert doc.qr_codes == [f"onestop:desk:{o['order_no']}"] and o["order_no"] in s.message
    ui.tap(s.ids.repair)
    ui.tap(s.ids.anonymous)                                    # off again
    s.ids.description.text = "阳台水管漏水"
    ui.tap(s.ids.submit)
    repair = [x for x in desk.queue() if x["order_no"] != o["order_no"]][0]
    assert repair["unit"] == "3-1201"
    s.ids.lookup.text = doc.qr_codes[0]                        # the slip's code, as a scanner types it
    ui.tap(s.ids.lookup_button)
    assert o["order_no"] in s.message and "新工单" in s.message
    s.ids.lookup.text = "NOPE-1"
    ui.tap(s.ids.lookup_button)
    assert "没有" in s.message
    for lang in ("zh-Hant", "en", "zh-Hans"):
        ui.app.set_language(lang)
        ui.frames(3)
        assert TITLES[lang] in s.ids.title.text
        assert_no_tofu(ui.app.root)
        ui.screenshot(artifacts / "desk-lobby", lang)
    assert "沒有" not in s.message and "没有" in s.message      # the message follows the language
