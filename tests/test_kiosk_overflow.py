"""No text overflows its box (issue 20 item 13): on every kiosk screen a patient meets, in every
language, each label's rendered text (its texture, as Kivy drew it) fits the label's box."""

import pytest
from kivy.uix.label import Label

from kiosk.i18n import LANGUAGES

from .kivy_harness import all_widgets
from .test_kiosk_flows import go_to, kiosk  # noqa: F401 - the fixture
from .test_kiosk_journeys import start_checkin

SLACK = 2  # px: rounding


def overflowing(ui) -> list[str]:
    ui.frames(4)
    bad = []
    for w in all_widgets(ui.app.root):
        if not isinstance(w, Label) or not w.text.strip() or w.get_root_window() is None:
            continue
        if w.opacity == 0 or w.width < 1 or w.height < 1:
            continue
        w.texture_update()
        tw, th = w.texture_size
        if th > w.height + SLACK or tw > w.width + SLACK:
            bad.append(f"{type(w).__name__} {w.text[:60]!r}: text {tw:.0f}x{th:.0f} in box {w.width:.0f}x{w.height:.0f}")
    return bad


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_kiosk_screen_overflows(kiosk, artifacts, lang):
    start, world = kiosk
    ui = start(language=lang)
    seen = {"home": overflowing(ui)}
    ui.tap(ui.screen().ids.svc_admission)
    scr = go_to(ui, "identify")
    seen["identify"] = overflowing(ui)
    world.place_card(dict(world.start() and __import__("kiosk.demo_env").demo_env.demo_cards()[0], name="路人甲",
                          id_number="110101199003070011", birth_date="1990-03-07"))
    ui.wait(lambda: scr.message, timeout=20, what="no-notice message")
    seen["identify-message"] = overflowing(ui)
    world.place_card(None)
    ui.tap(ui.screen().ids.back)
    go_to(ui, "home")
    start_checkin(ui, 1)
    scr = go_to(ui, "checkin_confirm")
    seen["confirm"] = overflowing(ui)
    ui.tap(scr.ids.confirm)
    scr = go_to(ui, "amount")
    seen["amount"] = overflowing(ui)
    ui.tap(scr.ids.keypad)
    seen["keypad"] = overflowing(ui)
    ui.tap(scr._pad.ids.cancel)
    ui.tap(scr.ids.pay)
    go_to(ui, "finish", timeout=40)
    seen["finish"] = overflowing(ui)
    ui.screenshot(artifacts, f"overflow-finish-{lang}")
    ui.tap(ui.screen().ids.done)
    go_to(ui, "home")
    h = ui.app.site_services.hospital
    no = ui.app.site_services.hospital.conn.execute("SELECT inpatient_no FROM hosp_admissions").fetchone()[0]
    for code, price in (("B001", 4500), ("D205", 3350), ("I001", 28000)):
        h.add_charge(no, code, 1000, unit_price_fen=price, service_date=h.today(), department="SURG")
    ui.tap(ui.screen().ids.svc_daily_list)
    ui.tap(go_to(ui, "identify").ids.demo_card_1)
    go_to(ui, "daily_list")
    seen["daily_list"] = overflowing(ui)
    ui.tap(ui.app.root.ids.help_button)
    ui.wait(lambda: ui.app.help_command, what="help banner")
    seen["help banner"] = overflowing(ui)
    ui.app._start_countdown()
    seen["still there?"] = overflowing(ui)
    ui.app._stop_countdown()
    bad = [f"{k}: {x}" for k, v in seen.items() for x in v]
    assert not bad, "\n".join(bad)
