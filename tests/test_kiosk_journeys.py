"""Ordinary interruptions at the patient kiosk, driven by touches against the demo world (issue
20): Cancel and a declined card resume at the deposit, an admitted patient cannot check in again,
a refused card does not make the screen deaf to the next one."""

import pytest

from kiosk.demo_env import demo_cards
from kiosk.i18n import tr

from .test_kiosk_flows import go_to, kiosk, sales  # noqa: F401 - the fixture

STRANGER = dict(demo_cards()[0], name="路人甲", id_number="110101199003070011", birth_date="1990-03-07")


def text_of(widget) -> str:
    from .kivy_harness import _TAG, _unescape

    return _unescape(_TAG.sub("", widget.text))


def start_checkin(ui, card: int):
    ui.tap(ui.screen().ids.svc_admission)
    ui.tap(go_to(ui, "identify").ids[f"demo_card_{card}"])


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_cancel_at_the_deposit_then_resume(kiosk, lang):
    start, world = kiosk
    ui = start(language=lang)
    start_checkin(ui, 1)
    ui.tap(go_to(ui, "checkin_confirm").ids.confirm)
    scr = go_to(ui, "amount")
    no = ui.app.flow.admission["inpatient_no"]
    ui.tap(scr.ids.cancel)
    go_to(ui, "home")
    start_checkin(ui, 1)                      # the same patient tries again
    scr = go_to(ui, "amount")
    assert ui.app.flow.admission["inpatient_no"] == no
    assert "5,000.00" in scr.ids.amount.text
    ui.tap(scr.ids.pay)
    go_to(ui, "finish", timeout=40)
    assert [e["amount_fen"] for e in sales(world) if e.get("result") == "approved"] == [500000]
    assert ui.app.site_services.hospital.account(no)["deposit_fen"] == 500000


def test_declined_card_cancel_then_resume(kiosk):
    start, world = kiosk
    ui = start(language="zh-Hant")
    start_checkin(ui, 2)
    ui.tap(go_to(ui, "checkin_confirm").ids.confirm)
    world.terminal_sim.script.push({"action": "decline"})
    ui.tap(go_to(ui, "amount").ids.pay)
    scr = go_to(ui, "pay")
    ui.wait(lambda: scr.can_retry, timeout=30, what="declined")
    ui.tap(scr.ids.cancel)
    go_to(ui, "home")
    start_checkin(ui, 2)
    ui.tap(go_to(ui, "amount").ids.pay)
    go_to(ui, "finish", timeout=40)
    assert len([e for e in sales(world) if e.get("result") == "approved"]) == 1


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
def test_admitted_patient_cannot_check_in_again(kiosk, lang):
    start, world = kiosk
    ui = start(language=lang)
    start_checkin(ui, 1)
    ui.tap(go_to(ui, "checkin_confirm").ids.confirm)
    ui.tap(go_to(ui, "amount").ids.pay)
    go_to(ui, "finish", timeout=40)
    no = ui.app.flow.admission["inpatient_no"]
    ui.tap(ui.screen().ids.done)
    go_to(ui, "home")
    h = ui.app.site_services.hospital      # the HIS sends another notice for her
    h.record_notice(patient_name="王喆", id_number=demo_cards()[1]["id_number"], ward_code="CARD",
                    suggested_deposit_fen=300000, diagnosis="x", doctor="y", source="his")
    start_checkin(ui, 1)
    scr = ui.screen()
    want = tr("You are already admitted (inpatient number {number}). You can top up your deposit or see "
              "your daily fee list.", lang, number=no)
    ui.wait(lambda: text_of(scr.ids.message) == want, timeout=20, what="already admitted")
    assert ui.app.sm.current == "identify"
    assert text_of(scr.ids.offer_0) == tr("Deposit top-up", lang)
    assert text_of(scr.ids.offer_1) == tr("Daily fee list", lang)
    count = h.conn.execute("SELECT count(*) FROM hosp_admissions").fetchone()[0]
    ui.tap(scr.ids.offer_0)                # top-up, with the card already read
    amount = go_to(ui, "amount")
    assert ui.app.flow.admission["inpatient_no"] == no
    assert amount.balance_fen == 500000
    assert h.conn.execute("SELECT count(*) FROM hosp_admissions").fetchone()[0] == count


def test_the_next_card_is_read_after_a_refused_one(kiosk):
    start, world = kiosk
    ui = start(language="en")
    ui.tap(ui.screen().ids.svc_admission)
    scr = go_to(ui, "identify")
    world.place_card(STRANGER)
    ui.wait(lambda: "No admission notice" in scr.ids.message.text, timeout=20, what="no-notice message")
    world.place_card(None)
    ui.frames(5)
    ui.tap(scr.ids.demo_card_1)            # the right patient steps up with her card
    go_to(ui, "checkin_confirm", timeout=30)
    assert "王喆" in ui.find("王喆").text


def outbox(app, kind):
    return [r["payload"] | {"_id": r["command_id"]} for r in app.store.outbox_pending(limit=100_000) if r["kind"] == kind]


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_help_request_reaches_the_outbox_can_be_cancelled_and_does_not_carry_over(kiosk, lang):
    start, _world = kiosk
    ui = start(language=lang)
    ui.tap(ui.screen().ids.svc_topup)
    go_to(ui, "identify")
    root = ui.app.root
    ui.tap(root.ids.help_button)
    ui.wait(lambda: ui.app.help_command, what="help recorded")
    assert text_of(root.ids.notice) == tr("Staff have been called. Please wait here.", lang)
    assert text_of(root._cancel_help) == tr("Cancel the help request", lang)
    [req] = outbox(ui.app, "help.requested")
    assert req["device"] == ui.app.store.device_id and req["screen"] == "identify" and req["lang"] == lang
    assert req["at"].endswith("Z")
    ui.tap(root._cancel_help)
    ui.wait(lambda: outbox(ui.app, "help.cancelled"), what="help cancelled")
    assert outbox(ui.app, "help.cancelled")[0]["request"] == req["_id"]
    assert text_of(root.ids.notice) == "" and root._cancel_help is None
    ui.tap(root.ids.help_button)                 # again, then the patient leaves
    ui.wait(lambda: ui.app.help_command, what="second help recorded")
    ui.tap(ui.screen().ids.back)
    go_to(ui, "home")
    assert text_of(root.ids.notice) == "" and not ui.app.help_command   # the next patient sees no banner
    assert len(outbox(ui.app, "help.requested")) == 2


@pytest.mark.parametrize("lang", ["zh-Hant", "en"])
def test_idle_countdown_asks_before_clearing(kiosk, lang):
    start, _world = kiosk
    ui = start(language=lang)
    start_checkin(ui, 1)
    go_to(ui, "checkin_confirm")
    ui.app.set_idle_timeout(4.5)                 # asks after 3 s, clears 1.5 s later
    ui.wait(lambda: ui.app.idle_left > 0, timeout=15, what="still there?")
    popup = ui.app._idle_popup
    assert text_of(popup.ids.question) == tr("Are you still there?", lang)
    n = ui.app.idle_left
    assert text_of(popup.ids.countdown) == tr("Your screens will be cleared in {n} s.", lang, n=n)
    ui.tap(popup.ids.still_here)
    assert ui.app.idle_left == 0 and ui.app._idle_popup is None
    assert ui.app.sm.current == "checkin_confirm" and ui.app.flow is not None
    ui.wait(lambda: ui.app.idle_left > 0, timeout=15, what="asked again")
    ui.wait(lambda: ui.app.sm.current == "home", timeout=15, what="cleared after the countdown")
    assert ui.app.flow is None and ui.app._idle_popup is None
