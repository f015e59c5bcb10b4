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
