"""Counter: search (typed and a scanned wristband), admission registration from a notice and from
a paper notice typed in, deposits by card (terminal over TCP) and in cash (change, drawer), with
the receipt and the wristband on the virtual printers."""

from __future__ import annotations

import json

from .counter_support import counter_bench, press, scan, shots, tap, texts, type_into  # noqa: F401
from .kivy_harness import assert_no_tofu


def outbox(store, kind):
    return [json.loads(r[0]) for r in store.conn.execute("SELECT payload FROM outbox WHERE kind = ?", (kind,))]


def search_for(ui, text):
    home = ui.app.screen("counter_home")
    type_into(ui, home.ids.search, text)
    ui.tap(home.ids.search_button)
    ui.wait(lambda: not home.busy and home.message, what="search")


def test_search_register_and_card_deposit(counter_bench, artifacts):
    bench = counter_bench
    lang = "zh-Hant"
    ui = bench.start(language=lang)
    store = ui.app.store
    shots(ui, artifacts, "counter-home")
    search_for(ui, "王喆")
    ui.wait(lambda: ui.screen().results, what=f"results ({ui.screen().message} {ui.screen().ids.search.text!r})")
    assert [r["kind"] for r in ui.screen().results] == ["notice"]
    shots(ui, artifacts, "counter-search")
    press(ui, {"zh-Hans": "登记", "zh-Hant": "登記", "en": "Register"}[lang])
    ui.settle()
    assert ui.app.sm.current == "counter_register"
    reg = ui.screen()
    ui.wait(lambda: hasattr(reg, "id_field") and reg.id_field.parent is not None, what="notice")
    shots(ui, artifacts, "counter-register")
    type_into(ui, reg.id_field, "440305199001010099")          # wrong ID: refused
    press(ui, {"zh-Hans": "登记", "zh-Hant": "登記", "en": "Register"}[lang], root=reg)
    ui.wait(lambda: reg.error, what="mismatch")
    assert store.conn.execute("SELECT count(*) FROM hosp_admissions").fetchone()[0] == 0
    type_into(ui, reg.id_field, "440305199001010026")
    press(ui, {"zh-Hans": "登记", "zh-Hant": "登記", "en": "Register"}[lang], root=reg)
    ui.wait(lambda: ui.app.sm.current == "counter_deposit", what=f"deposit screen ({reg.message} {reg.busy} "
            f"{reg.id_field.text!r})")
    ui.settle()
    dep = ui.screen()
    ui.wait(lambda: dep.ids.amount.text == "5000.00", what="suggested deposit")
    type_into(ui, dep.ids.amount, "3000")
    seen = set()
    dep.bind(message=lambda _w, m: seen.add(m))
    bench.terminal.script.push({"action": "approve", "pin_delay": 0.3})
    ui.tap(dep.ids.pay)
    ui.wait(lambda: dep.done or dep.error, timeout=20, what="card payment")
    assert dep.done, dep.message
    assert "Connecting to the card terminal" in seen and len(seen) >= 3, seen   # live terminal status
    # the PIN pad's prompts (04 FF), in the counter's language
    shown = {ui.app.t(m, ui.app.lang) for m in seen}
    assert {"請插卡、刷卡或揮卡", "請在刷卡機上輸入密碼", "正在處理，請稍候"} <= shown, shown
    no = dep.inpatient_no
    shots(ui, artifacts, "counter-deposit-card")
    # the terminal charged it, the ledger booked it, the receipt and wristband printed
    assert [c["amount_fen"] for c in bench.charges()] == [300000]
    led = store.conn.execute("SELECT kind, amount_fen, method, masked_pan FROM hosp_ledger").fetchall()
    assert led == [("deposit", 300000, "card", led[0][3])] and len(led[0][3].strip("*")) == 4   # last 4 only
    rcpt = store.conn.execute("SELECT receipt_no FROM hosp_receipts").fetchone()[0]
    bench.receipts.wait_docs(1)
    assert len(bench.receipt_texts()) == 1 and rcpt in bench.receipt_texts()[0] and "3,000.00" in bench.receipt_texts()[0]
    assert len(bench.bands.wait_docs(1)) == 1
    assert store.conn.execute("SELECT state FROM hosp_admissions WHERE inpatient_no = ?", (no,)).fetchone()[0] \
        == "wristband_printed"
    # typed in at the counter, the resident ID number gives the band its sex and age (never a guess)
    assert tuple(store.conn.execute("SELECT sex, birth_date FROM hosp_patients").fetchone()) == ("F", "1990-01-01")
    assert_no_tofu(ui.app.root)


def test_paper_notice_and_cash_deposit_with_change(counter_bench, artifacts):
    bench = counter_bench
    ui = bench.start(language="zh-Hans")
    store = ui.app.store
    press(ui, "办理入院")
    ui.settle()
    reg = ui.screen()
    ui.wait(lambda: hasattr(reg, "fields"), what="notice form")
    shots(ui, artifacts, "counter-paper-notice")
    type_into(ui, reg.fields["name"], "赵六")
    type_into(ui, reg.fields["id_number"], "110101199001011234")
    type_into(ui, reg.fields["deposit"], "1000")
    tap(ui, reg.ward_buttons["SURG"])
    press(ui, "保存", root=reg)
    ui.wait(lambda: reg.notice_no and hasattr(reg, "id_field") and reg.id_field.parent is not None or reg.error,
            what="notice")
    assert not reg.error, reg.message
    assert store.conn.execute("SELECT source, suggested_deposit_fen FROM hosp_notices WHERE notice_no = ?",
                              (reg.notice_no,)).fetchone() == ("counter", 100000)
    type_into(ui, reg.id_field, "110101199001011234")
    press(ui, "登记", root=reg)
    ui.wait(lambda: ui.app.sm.current == "counter_deposit", what="deposit")
    ui.settle()
    dep = ui.screen()
    ui.wait(lambda: dep.ids.amount.text == "1000.00", what="amount")
    ui.tap(dep.ids.by_cash)
    type_into(ui, dep.ids.tendered, "900")
    assert dep.change_fen == -1
    ui.tap(dep.ids.pay)
    ui.wait(lambda: dep.error, what="short tender refused")
    type_into(ui, dep.ids.tendered, "1050.50")
    assert dep.change_fen == 5050
    ui.tap(dep.ids.pay)
    ui.wait(lambda: dep.done or (dep.error and not dep.busy), timeout=15, what="cash deposit")
    assert dep.done, dep.message
    assert "50.50" in texts(dep)
    shots(ui, artifacts, "counter-deposit-cash")
    mv = store.conn.execute("SELECT kind, amount_fen, tendered_fen, change_fen FROM cash_movements").fetchall()
    assert mv == [("payment", 100000, 105050, 5050)]
    assert store.conn.execute("SELECT method, amount_fen FROM hosp_ledger").fetchall() == [("cash", 100000)]
    bench.receipts.wait_docs(2)
    receipts = bench.receipt_texts()
    assert len(receipts) == 1 and "壹仟元整" in receipts[0] and "现金" in receipts[0]
    assert sum(d.drawer_kicks for d in bench.receipts.docs) == 1          # the drawer opened once
    assert bench.charges() == []
    # scanning the new wristband at the home screen opens the patient
    no = dep.inpatient_no
    ui.tap(dep.ids.finish)
    ui.settle()
    press(ui, "返回")
    ui.settle()
    scan(ui, no)
    ui.wait(lambda: ui.app.sm.current == "counter_patient", what="patient by scan")
    ui.settle()
    pat = ui.screen()
    ui.wait(lambda: pat.info, what="patient page")
    assert pat.inpatient_no == no and "赵六" in texts(pat)
    shots(ui, artifacts, "counter-patient")


def test_no_idle_log_out_while_the_card_terminal_works(counter_bench):
    """The patient takes longer over the PIN than the counter's idle time: the cashier is not
    logged out under the payment, sees its outcome, and is logged out only once it is over."""
    from kiosk.counter.base import desk

    bench = counter_bench
    ui = bench.start(language="en")
    d = desk()
    notice = {n["name"]: n for n in d.notices()}["王喆"]
    no = d.register(notice["notice_no"], "440305199001010026")["inpatient_no"]
    ui.app.go("counter_deposit", inpatient_no=no)
    ui.settle()
    dep = ui.screen()
    ui.wait(lambda: dep.ids.amount.text, what="suggested deposit")
    type_into(ui, dep.ids.amount, "800")
    bench.terminal.script.push({"action": "approve", "pin_delay": 3})    # well under the bench's T4 of 5 s
    ui.app.set_idle_timeout(1.0)         # short from here on; the PIN takes three times as long
    ui.tap(dep.ids.pay)
    screens = set()
    ui.wait(lambda: screens.add(ui.app.sm.current) or dep.done or dep.error, timeout=30, what="card payment")
    assert dep.done, dep.message
    assert screens == {"counter_deposit"} and ui.app.staff_role          # never logged out meanwhile
    assert [c["amount_fen"] for c in bench.charges()] == [80000]
    ui.wait(lambda: ui.app.sm.current == "login", timeout=10, what="idle log-out once it is over")
