"""Counter: shift close by touch - the cash counted against what is expected, the card total
against the virtual terminal's end-of-day, and the printed shift report."""

from __future__ import annotations

from kiosk.counter.base import desk

from .counter_support import counter_bench, press, shots, type_into  # noqa: F401


def test_shift_close_counts_cash_and_checks_the_terminal(counter_bench, artifacts):
    bench = counter_bench
    ui = bench.start(language="zh-Hant")
    store, d = ui.app.store, desk()
    d.site.cash.open_shift(d.cashier, 50000)                 # ¥500 float
    by_name = {n["name"]: n for n in d.notices()}
    a = d.register(by_name["张三"]["notice_no"], "11010119800505001X")
    d.deposit_cash(a["inpatient_no"], 100000, 100000)
    b = d.register(by_name["王喆"]["notice_no"], "440305199001010026")
    assert d.deposit_card(b["inpatient_no"], 250000).ok
    press(ui, "交班")
    ui.settle()
    scr = ui.screen()
    ui.wait(lambda: scr.status, what="shift status")
    assert scr.status["expected_fen"] == 150000 and scr.status["card_fen"] == 250000
    type_into(ui, scr.fields[10000], "14")                  # 14 x ¥100
    type_into(ui, scr.fields[5000], "1")                    # 1 x ¥50: ¥1,450, ¥50 short
    assert scr.counted_fen == 145000
    shots(ui, artifacts, "counter-shift")
    ui.tap(scr.ids.close)
    ui.wait(lambda: scr.report or scr.error, timeout=20, what="shift closed")
    assert scr.report, scr.message
    row = store.conn.execute("SELECT expected_fen, counted_fen, difference_fen FROM cash_shifts").fetchone()
    assert row == (150000, 145000, -5000)
    assert scr.report["eod"]["total_fen"] == 250000 and scr.report["eod"]["ok"]
    rep = [t for t in bench.receipt_texts() if "交班報表" in t]
    assert len(rep) == 1 and "1,450.00" in rep[0] and "2,500.00" in rep[0] and "-50.00" in rep[0]
    shots(ui, artifacts, "counter-shift-closed")
