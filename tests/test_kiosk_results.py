"""What the patient sees and takes away at the end of each kiosk service (issue 20): the site's
clock, the directions slip and wristband, amount entry, the figures after a top-up or a discharge
refund, and only this patient's documents on the finish screen. Driven by touches."""

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest

from kiosk.i18n import tr

from .test_kiosk_flows import go_to, kiosk, sales  # noqa: F401 - the fixture
from .test_kiosk_journeys import start_checkin, text_of


def check_in(ui, card: int = 1):
    start_checkin(ui, card)
    ui.tap(go_to(ui, "checkin_confirm").ids.confirm)
    ui.tap(go_to(ui, "amount").ids.pay)
    go_to(ui, "finish", timeout=40)
    no = ui.app.flow.admission["inpatient_no"]
    return no


def test_the_clock_shows_the_site_time(kiosk):
    start, _world = kiosk
    ui = start(language="en")
    tz = ZoneInfo(ui.app.site.get("site", "timezone"))
    shown = ui.app.root.clock_text
    now = [dt.datetime.now(tz) + dt.timedelta(minutes=m) for m in (-1, 0)]
    assert shown in {n.strftime("%Y-%m-%d %H:%M") for n in now}
    assert ui.find(shown)                       # in the header, on the screen
    utc = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    assert shown != utc or tz.utcoffset(dt.datetime.now()) == dt.timedelta(0)


def test_daily_list_starts_on_the_local_admission_day(kiosk):
    start, _world = kiosk
    ui = start(language="zh-Hans")
    h = ui.app.site_services.hospital
    at = dt.datetime(2026, 12, 7, 17, 30, tzinfo=dt.timezone.utc).timestamp()   # 01:30 on the 8th in Shanghai
    h.clock = lambda: at
    no = check_in(ui, 1)
    ui.tap(ui.screen().ids.done)
    go_to(ui, "home")
    ui.tap(ui.screen().ids.svc_daily_list)
    ui.tap(go_to(ui, "identify").ids.demo_card_1)
    scr = go_to(ui, "daily_list")
    assert scr.day == "2026-12-08" and "2026-12-08" in text_of(scr.ids.title)
    assert scr.ids.prev_day.disabled            # the 7th is before the stay
    assert not scr.low_balance and text_of(scr.ids.warning) == ""
    assert h.account(no)["deposit_fen"] == 500000


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
def test_directions_slip_points_to_the_ward_and_the_band_has_no_empty_bed(kiosk, lang):
    start, world = kiosk
    ui = start(language=lang)
    check_in(ui, 1)
    ward = ui.app.flow.ward
    slip = world.receipt_printer.wait_docs(2)[-1]
    texts = [o for o in slip.ops if o.kind == "text" and o.text.strip()]
    biggest = max(texts, key=lambda o: o.size[0] * o.size[1])
    assert ward["name"] in biggest.text and "窗口" not in biggest.text
    body = "\n".join(o.text for o in texts)
    assert "please report to the nurse station" in " ".join(body.split())
    en_words = {w for o in texts for w in o.text.split() if w.isascii() and w.isalpha()}
    assert {"nurse", "station", "please", "report"} <= en_words     # whole words, none cut ("nurs / e")
    assert ("護士站" if lang == "zh-Hant" else "护士站") in body
    band = str(world.label_printer.wait_docs(1)[0])
    assert "床" not in band and ward["name"] in band
    # the screen: ward first, then the inpatient number
    scr = ui.screen()
    assert ward["name"] in text_of(scr.ids.line0)
    assert ui.app.flow.admission["inpatient_no"] in text_of(scr.ids.line1)


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_amount_by_preset_keypad_and_held_step(kiosk, lang):
    start, world = kiosk
    ui = start(language=lang)
    start_checkin(ui, 1)
    ui.tap(go_to(ui, "checkin_confirm").ids.confirm)
    scr = go_to(ui, "amount")
    assert text_of(scr.ids.patient) == tr("Patient: {name}", lang, name="王喆")
    assert [text_of(scr.ids[f"preset_{i}"]) for i in range(3)] == ["¥3,000.00", "¥5,000.00", "¥10,000.00"]
    ui.tap(scr.ids.preset_0)
    assert scr.amount_fen == 300000 and "3,000.00" in scr.ids.amount.text
    ui.tap(scr.ids.keypad)                       # the keypad: 6 8 0 0 OK
    pad = scr._pad
    for key in ("k6", "k8", "k0", "k0"):
        ui.tap(pad.ids[key])
    assert text_of(pad.ids.shown) == "¥6,800.00"
    ui.tap(pad.ids.ok)
    assert scr.amount_fen == 680000 and "6,800.00" in scr.ids.amount.text
    ui.tap(scr.ids.keypad)                       # more than allowed: kept at the top, and said
    pad = scr._pad
    for key in ("k9", "k9", "k9", "k9", "k9"):
        ui.tap(pad.ids[key])
    ui.tap(pad.ids.ok)
    assert scr.amount_fen == scr.max_fen == 1500000
    assert text_of(scr.ids.limits) == tr("The amount must be from {low} to {high}.", lang,
                                         low="¥2,500.00", high="¥15,000.00")
    # holding "−100" repeats the step until the finger lifts
    from kivy.tests.common import UnitTestTouch
    minus = scr.ids.minus
    touch = UnitTestTouch(*minus.to_window(*minus.center))
    touch.touch_down()
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        ui.frames(1)
        time.sleep(0.02)
    touch.touch_up()
    ui.frames(3)
    held = 1500000 - scr.amount_fen
    assert held >= 3 * 10000 and held % 10000 == 0
    after = scr.amount_fen
    ui.frames(20)
    assert scr.amount_fen == after               # and stops when it is released
    ui.tap(scr.ids.pay)
    go_to(ui, "finish", timeout=40)
    assert [e["amount_fen"] for e in sales(world) if e.get("result") == "approved"] == [after]


def test_top_up_result_shows_amount_new_balance_and_only_this_patients_documents(kiosk):
    start, world = kiosk
    ui = start(language="zh-Hant")
    no = check_in(ui, 1)
    ui.tap(ui.screen().ids.done)
    go_to(ui, "home")
    before = len(world.receipt_printer.docs) + len(world.label_printer.docs)
    assert before >= 3
    ui.tap(ui.screen().ids.svc_topup)
    ui.tap(go_to(ui, "identify").ids.demo_card_1)
    scr = go_to(ui, "amount")
    assert text_of(scr.ids.patient) == "患者：王喆"
    ui.tap(scr.ids.preset_1)                     # ¥2,000.00
    ui.tap(scr.ids.pay)
    scr = go_to(ui, "finish", timeout=40)
    assert text_of(scr.ids.line0) == "已繳 ¥2,000.00，目前預交金餘額 ¥7,000.00"
    assert ui.app.site_services.hospital.account(no)["available_fen"] == 700000
    receipt = world.receipt_printer.wait_docs(3)[-1]
    assert scr.pictures == [receipt.png_path]     # the top-up receipt only, not the check-in's


def _ready_for_discharge(ui, no):
    h = ui.app.site_services.hospital
    h.assign_bed(no, h.free_beds("SURG")[0])
    h.confirm_identity(no, "護士長")
    for code, price in (("B001", 4500), ("L020", 9800)):
        h.add_charge(no, code, 1000, unit_price_fen=price, service_date=h.today(), department="SURG")
    h.order_discharge(no, summary="好轉出院", ebill_no="EB-9")
    h.lock_charges(no, "護士長")
    h.schedule_discharge(no, (dt.date.today() + dt.timedelta(days=1)).isoformat())


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_discharge_refund_names_the_amount_and_the_masked_card(kiosk, lang):
    start, world = kiosk
    ui = start(language=lang)
    no = check_in(ui, 1)
    ui.tap(ui.screen().ids.done)
    go_to(ui, "home")
    _ready_for_discharge(ui, no)
    ui.tap(ui.screen().ids.svc_discharge)
    ui.tap(go_to(ui, "identify").ids.demo_card_1)
    scr = go_to(ui, "discharge_review")
    refund = scr.figures["refund"]
    ui.tap(scr.ids.settle)
    scr = go_to(ui, "finish", timeout=40)
    card = [e for e in world.terminal_sim.ledger.entries() if e.get("kind") == "refund"]
    assert [e["amount_fen"] for e in card] == [refund]
    pan = ui.app.flow.refunds[0].masked_pan
    lines = [text_of(scr.ids[f"line{i}"]) for i in range(4)]
    want = tr("Refunded {amount} to card {card}.", lang, amount=ui.app.money(refund), card="****" + pan[-4:])
    assert want in lines
    assert tr("Your settlement list has been printed.", lang) in lines


def test_refund_that_cannot_go_to_the_card_says_how_much_where_and_why(kiosk):
    start, world = kiosk
    ui = start(language="zh-Hans")
    no = check_in(ui, 1)
    ui.tap(ui.screen().ids.done)
    go_to(ui, "home")
    _ready_for_discharge(ui, no)
    ui.tap(ui.screen().ids.svc_discharge)
    ui.tap(go_to(ui, "identify").ids.demo_card_1)
    scr = go_to(ui, "discharge_review")
    refund = scr.figures["refund"]
    world.terminal.stop()                        # the terminal is gone
    ui.tap(scr.ids.settle)
    scr = go_to(ui, "finish", timeout=60)
    assert text_of(scr.ids.headline) == f"请到3号窗口领取退款 {ui.app.money(refund)}。"
    lines = [text_of(scr.ids[f"line{i}"]) for i in range(4)]
    assert "无法连接刷卡机，退款未能退回您的银行卡。" in lines
    assert ui.app.flow.refund_left_fen == refund


def test_daily_list_screen_and_paper_agree(kiosk):
    start, world = kiosk
    ui = start(language="zh-Hans")
    no = check_in(ui, 1)
    ui.tap(ui.screen().ids.done)
    go_to(ui, "home")
    h = ui.app.site_services.hospital
    today = dt.date.fromisoformat(h.today())
    for day, code, qty, price in ((today - dt.timedelta(days=1), "B001", 1000, 4500),
                                  (today - dt.timedelta(days=1), "D205", 1500, 3350),
                                  (today, "B001", 1000, 4500), (today, "I001", 1000, 28000)):
        h.add_charge(no, code, qty, unit_price_fen=price, service_date=day.isoformat(), department="SURG")
    ui.tap(ui.screen().ids.svc_daily_list)
    ui.tap(go_to(ui, "identify").ids.demo_card_1)
    scr = go_to(ui, "daily_list")
    totals = text_of(scr.ids.totals)
    running, balance = scr.totals["running"], scr.totals["balance"]
    assert ui.app.money(running) in totals and ui.app.money(balance) in totals
    ui.tap(scr.ids.print_button)
    ui.wait(lambda: "已打印" in text_of(scr.ids.warning), timeout=20, what="printed")
    paper = world.receipt_printer.wait_docs(3)[-1].text
    from pos.documents.capitals import format_yuan

    lines = {ln.split()[0]: ln.split()[-1] for ln in paper.splitlines() if ln.split()}
    assert lines["累计"] == format_yuan(running), paper
    assert lines["预交金余额"] == format_yuan(balance), paper
    assert running == 4500 + 5025 + 4500 + 28000 and balance == 500000 - running
