"""The counter's message line says what happened and what to do next (issue 20 item 14): it is
read from the label the cashier sees, not from the screen's property. A call that waits on the
card terminal says so every second instead of leaving the buttons frozen and the line blank."""

import pytest

from kiosk.i18n import tr

from .counter_support import counter_bench, type_into  # noqa: F401 - the fixture
from .kivy_harness import _TAG, _unescape, all_widgets


def message_label(screen):
    return [w for w in all_widgets(screen) if type(w).__name__ == "CounterMessage"][0]


def shown(label) -> str:
    return _unescape(_TAG.sub("", label.text))


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_deposit_outcomes_on_the_message_line(counter_bench, lang):
    from kiosk.counter.base import desk

    bench = counter_bench
    ui = bench.start(language=lang)
    d = desk()
    notice = {n["name"]: n for n in d.notices()}["王喆"]
    no = d.register(notice["notice_no"], "440305199001010026")["inpatient_no"]
    ui.app.go("counter_deposit", inpatient_no=no)
    ui.settle()
    dep = ui.screen()
    line = message_label(dep)
    ui.wait(lambda: dep.ids.amount.text, what="suggested deposit")
    # declined
    bench.terminal.script.push({"action": "decline"})
    type_into(ui, dep.ids.amount, "800")
    ui.tap(dep.ids.pay)
    ui.wait(lambda: dep.error and not dep.busy, timeout=30, what="declined")
    assert shown(line) == tr("The card was declined. No money was taken.", lang)
    # a slow answer: the line counts the seconds, then gives the outcome
    seen = []
    line.bind(text=lambda _w, t: seen.append(_unescape(_TAG.sub("", t))))
    bench.terminal.script.push({"action": "approve", "pin_delay": 4.5})
    ui.tap(dep.ids.pay)
    ui.wait(lambda: dep.done, timeout=40, what="approved")
    waiting = [t for t in seen if tr("Still waiting for an answer ({n} s). Do not start it again; the result will "
                                     "show here.", lang, n=3) in t]
    assert waiting, seen
    receipt = dep.msg_kw["receipt"]
    assert shown(line) == tr("Received {amount} by card. Receipt {receipt}.", lang, amount="¥800.00", receipt=receipt)
    assert [c["amount_fen"] for c in bench.charges()] == [80000]


def test_cash_short_and_empty_amount_are_said(counter_bench):
    from kiosk.counter.base import desk

    bench = counter_bench
    ui = bench.start(language="zh-Hant")
    d = desk()
    notice = {n["name"]: n for n in d.notices()}["李堃"]
    no = d.register(notice["notice_no"], "330106196208180037")["inpatient_no"]
    ui.app.go("counter_deposit", inpatient_no=no)
    ui.settle()
    dep = ui.screen()
    line = message_label(dep)
    ui.wait(lambda: dep.ids.amount.text, what="suggested deposit")
    ui.tap(dep.ids.by_cash)
    type_into(ui, dep.ids.tendered, "100")
    ui.tap(dep.ids.pay)
    assert shown(line) == tr("The cash given is less than the amount due.", "zh-Hant")
    assert line.color[0] > 0.5                      # red: an error
    type_into(ui, dep.ids.amount, "")
    ui.tap(dep.ids.pay)
    assert shown(line) == tr("Please enter an amount greater than zero.", "zh-Hant")


def test_search_results_name_the_ward(counter_bench):
    from .counter_support import press, texts, type_into

    ui = counter_bench.start(language="zh-Hans")
    home = ui.screen()
    type_into(ui, home.ids.search, "王喆")
    ui.tap(home.ids.search_button)
    ui.wait(lambda: home.results, timeout=15, what="results")
    shown_rows = texts(home.ids.results)
    assert "普外科病区" in shown_rows and "SURG" not in shown_rows


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_the_shift_opens_with_the_float_counted(counter_bench, lang):
    ui = counter_bench.start(language=lang)
    home = ui.screen()
    line = message_label(home)
    ui.wait(lambda: not home.shift_open, timeout=15, what="no shift open")
    assert shown(line) == tr("No shift is open. Count the cash in the drawer, enter it as the opening float, then "
                             "open the shift.", lang)
    ui.tap(home.ids.float_amount)
    pad = home._pad
    for key in ("k5", "k0", "k0"):
        ui.tap(pad.ids[key])
    ui.tap(pad.ids.ok)
    assert shown(home.ids.float_amount) == tr("Opening float: {amount}", lang, amount="¥500.00")
    ui.tap(home.ids.open_shift)
    ui.wait(lambda: home.shift_open, timeout=15, what="shift opened")
    assert shown(line) == tr("Shift opened with a float of {amount}.", lang, amount="¥500.00")
    assert home._float_row.parent is None                # the float row is gone
    from kiosk.counter.base import desk

    d = desk()
    sh = d.shift_status()
    assert sh["float_fen"] == 50000 and sh["expected_fen"] == 50000


def test_amount_fields_get_a_digit_keyboard_that_leaves_the_pay_button_visible(counter_bench):
    from kivy.core.window import Window

    from kiosk.counter.base import NUMERIC_LAYOUT, desk

    bench = counter_bench
    ui = bench.start(language="zh-Hans")
    d = desk()
    notice = {n["name"]: n for n in d.notices()}["王喆"]
    no = d.register(notice["notice_no"], "440305199001010026")["inpatient_no"]
    ui.app.go("counter_deposit", inpatient_no=no)
    ui.settle()
    dep = ui.screen()
    ui.wait(lambda: dep.ids.amount.text, what="suggested deposit")

    def keyboard():
        kbs = [k.widget for k in getattr(Window, "_keyboards", {}).values()
               if k.widget is not None and k.widget.parent is not None]
        return kbs[0] if kbs else None

    # the counter's touch screen: a docked on-screen keyboard (kivy keyboard_mode = dock)
    saved = Window.allow_vkeyboard, Window.single_vkeyboard, Window.docked_vkeyboard
    Window.allow_vkeyboard = Window.single_vkeyboard = Window.docked_vkeyboard = True
    try:
        _check_keyboard(ui, dep, keyboard, NUMERIC_LAYOUT)
        dep.ids.amount.focus = False
        ui.wait(lambda: ui.app.keyboard_height == 0, what="room given back when the keyboard goes")
    finally:
        dep.ids.amount.focus = False
        ui.frames(3)
        Window.allow_vkeyboard, Window.single_vkeyboard, Window.docked_vkeyboard = saved


def _check_keyboard(ui, dep, keyboard, NUMERIC_LAYOUT):
    ui.tap(dep.ids.amount)
    ui.wait(lambda: keyboard() is not None and keyboard().layout == NUMERIC_LAYOUT, what="digit keyboard")
    ui.frames(3)
    kb = keyboard()
    keys = {k[0] for row in kb.available_layouts[NUMERIC_LAYOUT]["normal_1"] for k in [row]}
    assert keys == {"7", "8", "9", "⌫"}
    top = kb.to_parent(0, kb.height)[1]
    pay = dep.ids.pay
    assert pay.to_window(*pay.pos)[1] >= top, "the keyboard hides the pay button"
    amount = dep.ids.amount
    assert amount.to_window(*amount.pos)[1] >= top, "the keyboard hides the amount"


def test_pinyin_initials_find_a_name(counter_bench):
    ui = counter_bench.start(language="en")
    home = ui.screen()
    type_into(ui, home.ids.search, "wz")
    ui.tap(home.ids.search_button)
    ui.wait(lambda: home.results, timeout=15, what="results")
    assert [r["name"] for r in home.results] == ["王喆"]
    type_into(ui, home.ids.search, "zs")
    ui.tap(home.ids.search_button)
    ui.wait(lambda: home.results and home.results[0]["name"] != "王喆", timeout=15, what="results")
    assert {r["name"] for r in home.results} == {"张三"}


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_settling_with_receipts_out_names_them_and_a_receipt_can_be_marked_by_hand(counter_bench, lang):
    from kiosk.counter.base import desk

    from .counter_support import prepare_discharge
    from .test_counter_discharge import open_discharge

    ui = counter_bench.start(language=lang)
    store, d = ui.app.store, desk()
    no = prepare_discharge(d, 1)
    d.deposit_cash(no, 70000, 70000)                 # a second receipt, ¥700.00
    receipts = [r["receipt_no"] for r in d.receipts(no)]
    assert len(receipts) == 2
    dis = open_discharge(ui, no)
    line = message_label(dis)
    # the first receipt will not scan: the cashier marks it by hand
    row = next(w for w in dis.ids.receipts.children if receipts[0] in shown(w.children[-1]))
    ui.tap(row.children[0])
    ui.wait(lambda: sum(r["scanned"] for r in dis.receipts) == 1, timeout=15, what="marked by hand")
    assert shown(line) == tr("Receipt {receipt} taken back.", lang, receipt=receipts[0])
    assert [r["receipt_no"] for r in dis.receipts if r["scanned"]] == [receipts[0]]
    ui.tap(dis.ids.settle)                           # one still out: named, with its amount, nothing settled
    want = tr("These deposit receipts are not back: {receipts} ({amount}). Settling voids them. Scan them, mark "
              "them as taken back, or tap Settle anyway to void them.", lang, receipts=receipts[1], amount="¥700.00")
    assert shown(line) == want
    assert dis.stage == "presettle"
    assert store.conn.execute("SELECT count(*) FROM hosp_settlements").fetchone()[0] == 0


def test_each_cashier_logs_in_by_name_and_the_supervisor_decides_by_their_own_pin(counter_bench):
    from pos.staff import hash_pin

    from .counter_support import start_counter

    bench = counter_bench
    bench.config.values["staff"]["users"] = [
        {"name": "王芳", "role": "cashier", "pin": hash_pin("2468", "s1")},
        {"name": "李明", "role": "cashier", "pin": hash_pin("1357", "s2")},
        {"name": "赵主管", "role": "supervisor", "pin": hash_pin("9999", "s3")},
    ]
    ui = start_counter(bench, language="zh-Hans", login=False, seed=False)
    try:
        _named_logins(ui)
    finally:
        from .kivy_harness import stop_app

        stop_app(ui)


def _named_logins(ui):
    from pos.hospital import demo

    from kiosk.counter.base import desk

    from .counter_support import press, type_into
    from .test_counter_indoubt import in_doubt_deposit

    login = ui.screen()
    ui.wait(lambda: len(login.ids.users.children) == 2, what="name buttons")

    def enter(pin):
        keys = {b.text: b for b in login.ids.pad.children}
        for digit in pin:
            ui.tap(keys[digit])
        ui.tap(login.ids.key_ok)

    enter("2468")                                       # no name chosen: asked for it
    assert shown(login.ids.message) == tr("Choose your name, then enter your PIN.", "zh-Hans")
    press(ui, "李明", root=login)
    enter("2468")                                       # 王芳's PIN is not 李明's
    ui.wait(lambda: login.message == "Wrong PIN. Please try again.", what="wrong PIN")
    assert ui.app.sm.current == "login"
    press(ui, "王芳", root=login)
    enter("2468")
    ui.wait(lambda: ui.app.sm.current == "counter_home", what="logged in as 王芳")
    ui.settle()
    assert ui.app.staff_name == "王芳"
    d = desk()
    assert d.cashier == "王芳" and d.operator.startswith("王芳@")
    demo.seed(d.hospital, d.site.gateway)
    no = demo.admit_demo_patient(d.hospital, 0, days=1)
    attempt = in_doubt_deposit(d, no, 50000)
    ui.app.go("counter_indoubt")
    ui.settle()
    scr = ui.screen()
    ui.wait(lambda: getattr(scr, "rows", None), what="queue")
    type_into(ui, scr.ids.supervisor, "9999")
    press(ui, "未扣款", root=scr)
    ui.wait(lambda: scr.pending, what="confirmation")
    ui.tap(scr.ids.confirm)
    ui.wait(lambda: not scr.rows and not scr.busy, timeout=15, what="resolved")
    assert ui.app.store.conn.execute("SELECT resolved_by FROM payment_supervisor_queue WHERE attempt_id = ?",
                                     (attempt,)).fetchone() == ("赵主管",)
