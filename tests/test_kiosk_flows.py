"""The patient kiosk end to end, through the real Kivy UI driven by touches, against the demo
world: the ID card on the SAM_V module (pty), the ZVT terminal and both printers on TCP.
Asserts on the store, on what the virtual printers decoded and on the terminal's ledger."""

import datetime as dt

import pytest

from kiosk.demo_env import DemoWorld, demo_cards
from kiosk.launch import demo_config_path
from pos.config import load_config

from .kivy_harness import assert_no_tofu, start_app, stop_app


@pytest.fixture
def kiosk(tmp_path):
    world = DemoWorld(tmp_path / "world")
    uis = []

    def start(**kw):
        ui = start_app("demo", config=world.config(load_config(demo_config_path())),
                       store_path=str(tmp_path / "kiosk.sqlite"), demo_world=world, **kw)
        uis.append(ui)
        return ui

    yield start, world
    for ui in uis:
        stop_app(ui)
    world.stop()


def go_to(ui, name, timeout=20):
    ui.wait(lambda: ui.app.sm.current == name and not ui.app.sm.transition.is_active, timeout=timeout,
            what=f"screen {name} (now {ui.app.sm.current})")
    ui.frames(3)
    return ui.screen()


def sales(world):
    return [e for e in world.terminal_sim.ledger.entries() if e.get("kind") == "sale"]


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
def test_admission_check_in_by_touch(kiosk, artifacts, lang):
    start, world = kiosk
    ui = start(language=lang)
    ui.tap(ui.screen().ids.svc_admission)
    scr = go_to(ui, "identify")
    ui.screenshot(artifacts, f"checkin-1-identify-{lang}")
    ui.tap(scr.ids.demo_card_1)                      # 王喆 puts her ID card on the reader
    scr = go_to(ui, "checkin_confirm")
    assert "王喆" in ui.find("王喆").text
    assert_no_tofu(ui.app.root)
    ui.screenshot(artifacts, f"checkin-2-confirm-{lang}")
    ui.tap(scr.ids.confirm)
    scr = go_to(ui, "amount")
    assert scr.amount_fen == 500000
    ui.tap(scr.ids.plus)
    ui.tap(scr.ids.plus)
    ui.tap(scr.ids.minus)
    assert scr.amount_fen == 510000 and "5,100.00" in scr.ids.amount.text
    ui.screenshot(artifacts, f"checkin-3-amount-{lang}")
    ui.tap(scr.ids.pay)
    scr = go_to(ui, "finish", timeout=40)
    assert_no_tofu(ui.app.root)
    ui.screenshot(artifacts, f"checkin-4-finish-{lang}")
    flow = ui.app.flow
    no = flow.admission["inpatient_no"]
    # the terminal charged exactly once, what the ledger holds
    assert [e["amount_fen"] for e in sales(world)] == [510000]
    assert ui.app.site_services.hospital.account(no)["deposit_fen"] == 510000
    # the receipt and wristband were printed and decoded by the virtual printers
    receipt = world.receipt_printer.wait_docs(2)[0]
    assert flow.result.receipt_no in str(receipt) and "伍仟壹佰元整" in str(receipt)
    assert no in str(world.label_printer.wait_docs(1)[0])
    assert no in scr.ids.line1.text
    assert len(scr.pictures) >= 2   # the demo shows what was printed
    ui.tap(scr.ids.done)
    go_to(ui, "home")
    assert ui.app.flow is None


def test_no_notice_sends_the_patient_to_the_counter(kiosk, artifacts):
    start, world = kiosk
    ui = start(language="en")
    ui.tap(ui.screen().ids.svc_admission)
    scr = go_to(ui, "identify")
    world.place_card(dict(demo_cards()[0], name="路人甲", id_number="110101199003070011", birth_date="1990-03-07"))
    ui.wait(lambda: "No admission notice" in scr.ids.message.text, timeout=20, what="no-notice message")
    assert "window 3" in scr.ids.message.text
    assert ui.app.sm.current == "identify"
    ui.screenshot(artifacts, "checkin-no-notice-en")


def test_declined_card_then_retry(kiosk):
    start, world = kiosk
    ui = start(language="zh-Hans")
    ui.tap(ui.screen().ids.svc_admission)
    ui.tap(go_to(ui, "identify").ids.demo_card_2)
    ui.tap(go_to(ui, "checkin_confirm").ids.confirm)
    world.terminal_sim.script.push({"action": "decline"})
    ui.tap(go_to(ui, "amount").ids.pay)
    scr = go_to(ui, "pay")
    ui.wait(lambda: scr.can_retry, timeout=30, what="declined")
    assert "拒绝" in scr.ids.problem.text
    assert [e for e in sales(world) if e.get("result") == "approved"] == []
    ui.tap(scr.ids.retry)
    go_to(ui, "finish", timeout=40)
    assert len([e for e in sales(world) if e.get("result") == "approved"]) == 1


def test_idle_timeout_waits_for_a_slow_pin(kiosk):
    """The patient spends longer at the card terminal than the idle timeout, without touching
    the screen: the kiosk stays on the payment and goes on to the documents, charged once."""
    start, world = kiosk
    ui = start(language="en")
    ui.tap(ui.screen().ids.svc_admission)
    ui.tap(go_to(ui, "identify").ids.demo_card_2)
    ui.tap(go_to(ui, "checkin_confirm").ids.confirm)
    world.terminal_sim.script.push({"action": "approve", "pin_delay": 6})
    amount = go_to(ui, "amount")
    ui.app.set_idle_timeout(2.0)         # short from here on; the PIN takes three times as long
    ui.tap(amount.ids.pay)
    scr = go_to(ui, "pay")
    seen = set()
    ui.wait(lambda: seen.add(ui.app.sm.current) or ui.app.sm.current == "finish", timeout=40,
            what="the documents after a slow PIN")
    assert "home" not in seen
    assert ui.app.flow is not None and ui.app.flow.result.receipt_no in str(world.receipt_printer.wait_docs(1)[0])
    assert len([e for e in sales(world) if e.get("result") == "approved"]) == 1
    assert scr.problem == ""
    ui.wait(lambda: ui.app.sm.current == "home", timeout=10, what="idle return once it is over")


def test_top_up_by_wristband_scan_and_daily_list(kiosk, artifacts):
    start, world = kiosk
    ui = start(language="zh-Hans")
    # admit first through the kiosk
    ui.tap(ui.screen().ids.svc_admission)
    ui.tap(go_to(ui, "identify").ids.demo_card_0)
    ui.tap(go_to(ui, "checkin_confirm").ids.confirm)
    ui.tap(go_to(ui, "amount").ids.pay)
    no = go_to(ui, "finish", timeout=40) and ui.app.flow.admission["inpatient_no"]
    ui.tap(ui.screen().ids.done)
    go_to(ui, "home")
    # top-up: the wristband barcode arrives as a keyboard-wedge burst
    ui.tap(ui.screen().ids.svc_topup)
    go_to(ui, "identify")
    from kivy.core.window import Window
    for ch in no:
        Window.dispatch("on_textinput", ch)
    Window.dispatch("on_key_down", 13, 0, "\r", [])
    scr = go_to(ui, "amount")
    assert scr.balance_fen >= 0
    ui.screenshot(artifacts, "topup-amount-zh-Hans")
    ui.tap(scr.ids.pay)
    go_to(ui, "finish", timeout=40)
    assert ui.app.site_services.hospital.account(no)["deposit_fen"] == 300000 + 100000
    ui.tap(ui.screen().ids.done)
    go_to(ui, "home")
    # the daily list for today, printed
    h = ui.app.site_services.hospital
    h.add_charge(no, "B001", 1000, unit_price_fen=4500, service_date=h.today(), department="CARD")
    ui.tap(ui.screen().ids.svc_daily_list)
    ui.tap(go_to(ui, "identify").ids.demo_card_0)
    scr = go_to(ui, "daily_list")
    ui.find("¥45.00")
    assert_no_tofu(ui.app.root)
    ui.screenshot(artifacts, "daily-list-zh-Hans")
    ui.tap(scr.ids.print_button)
    ui.wait(lambda: "已打印" in scr.ids.warning.text, timeout=20, what="printed")


def test_self_service_discharge_refunds_to_the_card(kiosk, artifacts):
    start, world = kiosk
    ui = start(language="zh-Hant")
    ui.tap(ui.screen().ids.svc_admission)
    ui.tap(go_to(ui, "identify").ids.demo_card_1)
    ui.tap(go_to(ui, "checkin_confirm").ids.confirm)
    ui.tap(go_to(ui, "amount").ids.pay)
    go_to(ui, "finish", timeout=40)
    no = ui.app.flow.admission["inpatient_no"]
    ui.tap(ui.screen().ids.done)
    go_to(ui, "home")
    h = ui.app.site_services.hospital       # the ward: stay, charges, discharge order, lock, schedule
    h.assign_bed(no, h.free_beds("SURG")[0])
    h.confirm_identity(no, "護士長")
    for code, price in (("B001", 4500), ("L020", 9800), ("D901", 18600)):
        h.add_charge(no, code, 1000, unit_price_fen=price, service_date=h.today(), department="SURG")
    h.order_discharge(no, summary="好轉出院", ebill_no="EB-9")
    h.lock_charges(no, "護士長")
    h.schedule_discharge(no, (dt.date.today() + dt.timedelta(days=1)).isoformat())
    ui.tap(ui.screen().ids.svc_discharge)
    ui.tap(go_to(ui, "identify").ids.demo_card_1)
    scr = go_to(ui, "discharge_review")
    refund = scr.figures["refund"]
    assert refund > 0
    ui.screenshot(artifacts, "discharge-review-zh-Hant")
    ui.tap(scr.ids.settle)
    scr = go_to(ui, "finish", timeout=40)
    ui.screenshot(artifacts, "discharge-finish-zh-Hant")
    refunds = [e for e in world.terminal_sim.ledger.entries() if e.get("kind") == "refund"]
    assert [e["amount_fen"] for e in refunds] == [refund]
    assert h.admission(no)["state"] == "discharged"
    lines = [scr.ids[f"line{i}"].text for i in range(4)]
    assert any("作廢" in t for t in lines) and not any("作废" in t for t in lines)


PIN_PAD_TEXT = {
    "zh-Hans": ("请插卡、刷卡或挥卡", "请在刷卡机上输入密码", "正在处理，请稍候"),
    "zh-Hant": ("請插卡、刷卡或揮卡", "請在刷卡機上輸入密碼", "正在處理，請稍候"),
    "en": ("Insert, swipe or tap your card", "Enter your PIN on the card terminal", "Processing, please wait"),
}


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
def test_pay_screen_shows_the_pin_pad_prompts(kiosk, lang):
    """The terminal's intermediate status (04 FF, asked for at registration) reaches the patient:
    insert card, enter PIN, please wait, in the screen's language; the journal records the wait
    for the card."""
    start, world = kiosk
    ui = start(language=lang)
    ui.tap(ui.screen().ids.svc_admission)
    ui.tap(go_to(ui, "identify").ids.demo_card_2)
    ui.tap(go_to(ui, "checkin_confirm").ids.confirm)
    world.terminal_sim.script.push({"action": "approve", "card_delay": 1.5, "pin_delay": 1.5, "host_delay": 1.5})
    amount = go_to(ui, "amount")
    scr = ui.app.screen("pay")
    shown = []
    # every text the status line shows, however slowly frames come on a loaded machine
    scr.ids.status.bind(text=lambda _w, text: text and (not shown or shown[-1] != text) and shown.append(text))
    ui.tap(amount.ids.pay)
    ui.wait(lambda: ui.app.sm.current == "finish", timeout=60, what="the documents after the PIN pad prompts")
    want = list(PIN_PAD_TEXT[lang])
    assert [t for t in shown if t in want] == want, shown
    states = [r[0] for r in ui.app.store.conn.execute("SELECT to_state FROM payment_events ORDER BY rowid")]
    assert states.index("sent") < states.index("waiting_card") < states.index("approved")
