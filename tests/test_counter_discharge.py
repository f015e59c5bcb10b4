"""Counter discharge settlement: the pre-settlement, receipts taken back by scanning, settle, the
cash refund (counter, 1280x800) or a card collection (bedside tablet, portrait 800x1280), the
settlement list on the virtual printer, the discharge."""

from __future__ import annotations

from kiosk.counter.base import desk

from .counter_support import counter_bench, prepare_discharge, press, scan, shots, tap, texts  # noqa: F401


def open_discharge(ui, no):
    ui.app.go("counter_patient", inpatient_no=no)
    ui.settle()
    pat = ui.screen()
    ui.wait(lambda: pat.info, what="patient")
    press(ui, {"zh-Hans": "出院结算", "zh-Hant": "出院結算", "en": "Discharge settlement"}[ui.app.lang], root=pat)
    ui.settle()
    dis = ui.screen()
    ui.wait(lambda: dis.stage == "presettle", what="pre-settlement")
    return dis


def test_counter_settlement_refund_in_cash(counter_bench, artifacts):
    bench = counter_bench
    ui = bench.start(language="zh-Hans")
    store, d = ui.app.store, desk()
    no = prepare_discharge(d, 1)                     # 王喆, ¥5,000 deposit, three days of charges
    d.site.cash.open_shift(d.cashier, 800000)        # the drawer has its float
    receipts = [r["receipt_no"] for r in d.receipts(no)]
    dis = open_discharge(ui, no)
    f = dis.figures
    assert f["pooled_fen"] + f["selfpay_fen"] == f["total_fen"] > 0 and f["deposits_fen"] == 500000
    assert f["refund_fen"] == 500000 - f["selfpay_fen"] > 0 and f["collect_fen"] == 0
    shots(ui, artifacts, "counter-discharge-presettle")
    scan(ui, "NOT-A-RECEIPT")
    ui.wait(lambda: dis.error and not dis.busy, what="unknown receipt refused")
    scan(ui, receipts[0])
    ui.wait(lambda: all(r["scanned"] for r in dis.receipts), what="receipt scanned")
    ui.tap(dis.ids.settle)
    ui.wait(lambda: dis.stage == "settled", timeout=15, what="settlement")
    st = store.conn.execute("SELECT state, pooled_fen, selfpay_fen FROM hosp_settlements").fetchone()
    assert st == ("recorded", f["pooled_fen"], f["selfpay_fen"])
    assert store.conn.execute("SELECT state FROM hosp_receipts").fetchall() == [("taken_back",)]
    shots(ui, artifacts, "counter-discharge-settled")
    ui.tap(dis.ids.refund)
    ui.wait(lambda: dis.stage == "balanced", timeout=15, what="refund")
    assert store.conn.execute("SELECT kind, amount_fen FROM cash_movements WHERE kind = 'refund'").fetchall() == \
        [("refund", f["refund_fen"])]
    ui.tap(dis.ids.finish)
    ui.wait(lambda: dis.stage == "done", timeout=15, what="discharge")
    assert store.conn.execute("SELECT state FROM hosp_admissions WHERE inpatient_no = ?", (no,)).fetchone() == \
        ("discharged",)
    lists = [t for t in bench.receipt_texts() if "结算清单" in t]
    assert len(lists) == 1 and no in lists[0] and "应退金额" in lists[0] and receipts[0] in lists[0]
    assert bench.charges() == []
    shots(ui, artifacts, "counter-discharge-done")


def test_bedside_settlement_collects_by_card(counter_bench, artifacts):
    bench = counter_bench
    ui = bench.start(language="zh-Hant", size=(480, 800))
    store, d = ui.app.store, desk()
    no = prepare_discharge(d, 3, extra=[("D901", 10000)])   # 张𠀀: ¥1,000 deposit, ten bottles of 丙 items
    dis = open_discharge(ui, no)
    assert dis.figures["collect_fen"] > 0
    assert dis.ids.split.orientation == "vertical"       # stacked on the portrait tablet
    shots(ui, artifacts, "bedside-discharge-presettle")
    ui.tap(dis.ids.settle)                                    # receipt not scanned: asked to confirm
    ui.wait(lambda: dis.error, what="receipts warning")
    assert dis.stage == "presettle"
    ui.tap(dis.ids.settle)
    ui.wait(lambda: dis.stage == "settled", timeout=15, what="settlement")
    due = dis.figures["collect_fen"]
    ui.tap(dis.ids.collect)
    ui.settle()
    dep = ui.screen()
    assert ui.app.sm.current == "counter_deposit" and dep.purpose == "collection"
    ui.wait(lambda: dep.patient, what="patient")
    shots(ui, artifacts, "bedside-collect")
    ui.tap(dep.ids.pay)
    ui.wait(lambda: dep.done or dep.error, timeout=20, what="card collection")
    assert dep.done, dep.message
    assert [c["amount_fen"] for c in bench.charges()] == [due]
    assert store.conn.execute("SELECT kind, amount_fen, method FROM hosp_ledger WHERE kind = 'collection'"
                              ).fetchall() == [("collection", due, "card")]
    ui.tap(dep.ids.finish)
    ui.settle()
    dis = ui.screen()
    ui.wait(lambda: dis.stage == "balanced", what="balanced")
    ui.tap(dis.ids.finish)
    ui.wait(lambda: dis.stage == "done", timeout=15, what="discharge")
    assert any("結算清單" in t and "應補金額" in t for t in bench.receipt_texts())
    shots(ui, artifacts, "bedside-discharge-done")
