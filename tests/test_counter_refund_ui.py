"""Counter discharge screen: the surplus of card deposits goes back to the cards through the
virtual ZVT terminal (a whole deposit reversed, the rest refunded), touched as the cashier does."""

from __future__ import annotations

from kiosk.counter.base import desk

from .counter_support import counter_bench, prepare_discharge, shots  # noqa: F401
from .test_counter_discharge import open_discharge


def test_counter_refunds_the_surplus_to_the_cards(counter_bench, artifacts):
    bench = counter_bench
    ui = bench.start(language="zh-Hans")
    store, d = ui.app.store, desk()
    no = prepare_discharge(d, 1)                     # 王喆: ¥5,000 cash deposit, three days of charges
    d.site.cash.open_shift(d.cashier, 800000)        # the drawer has its float
    # the ward took two more deposits by card before the charges were locked
    d.hospital.unlock_charges(no, "護士長")
    assert d.deposit_card(no, 100000).ok and d.deposit_card(no, 200000).ok
    d.hospital.lock_charges(no, "護士長")
    d.hospital.schedule_discharge(no, d.hospital.today() + "T10:00")
    dis = open_discharge(ui, no)
    ui.tap(dis.ids.settle)
    ui.wait(lambda: dis.error, what="receipts warning")
    ui.tap(dis.ids.settle)
    ui.wait(lambda: dis.stage == "settled", timeout=15, what="settlement")
    due = dis.figures["refund_fen"]
    assert due > 300000 and dis.figures["card_refundable_fen"] == 300000 and not dis.ids.refund_card.disabled
    ui.tap(dis.ids.refund_card)
    ui.wait(lambda: not dis.busy and dis.figures["refund_fen"] == due - 300000, timeout=20, what="card refund")
    assert dis.error and dis.stage == "settled"       # the cards took 3,000.00; the rest is for cash
    ui.frames(2)
    assert dis.ids.refund_card.disabled and not dis.ids.refund.disabled, (dis.figures, dis.busy, dis.stage)
    ok = [e for e in bench.terminal.ledger.entries() if e.get("result") == "approved"]
    assert [(e["kind"], e["amount_fen"]) for e in ok][-2:] == [("reversal", 200000), ("reversal", 100000)]
    shots(ui, artifacts, "counter-discharge-card-refund")
    ui.tap(dis.ids.refund)
    ui.wait(lambda: dis.stage == "balanced", timeout=15, what="cash refund")
    assert store.conn.execute("SELECT amount_fen FROM cash_movements WHERE kind = 'refund'").fetchall() == \
        [(due - 300000,)]
    assert d.hospital.account(no)["ledger_balance_fen"] == 0
