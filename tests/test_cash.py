"""Cash at the counter: tendered, change, drawer kick, shift count; all offline through the outbox."""

from __future__ import annotations

import pytest

from pos.errors import DomainError, NotFound
from pos.payments import CashDrawer, InsufficientTender


def outbox(store):
    return [(r["kind"], r["payload"]) for r in store.outbox_pending(1000)]


def test_take_cash_gives_change_and_kicks_after_commit(store):
    seen = []

    def kick():
        # the movement is committed before the drawer opens
        seen.append(store.conn.execute("SELECT count(*) FROM cash_movements").fetchone()[0])

    drawer = CashDrawer(store, kick=kick)
    drawer.open_shift("cashier-1", float_fen=20000)
    rec = drawer.take("cashier-1", 123450, 130000, account="ZY-1", purpose="deposit")
    assert rec.change_fen == 6550 and rec.drawer_opened
    assert seen == [1]
    assert rec.receipt_no.startswith("KTEST-")
    kinds = [k for k, _ in outbox(store)]
    assert kinds == ["cash.shift_opened", "cash.received"]
    assert outbox(store)[1][1]["amount_fen"] == 123450


def test_not_enough_cash_and_bad_amounts(store):
    drawer = CashDrawer(store)
    drawer.open_shift("c", 0)
    with pytest.raises(InsufficientTender):
        drawer.take("c", 1000, 999, account="A")
    for bad in (0, -1, 10.5):
        with pytest.raises(DomainError):
            drawer.take("c", bad, 1000, account="A")
    assert store.conn.execute("SELECT count(*) FROM cash_movements").fetchone()[0] == 0


def test_drawer_failure_does_not_lose_the_money(store):
    def broken():
        raise OSError("printer offline")

    drawer = CashDrawer(store, kick=broken)
    drawer.open_shift("c", 0)
    rec = drawer.take("c", 500, 500, account="A")
    assert rec.drawer_opened is False and rec.change_fen == 0
    assert store.conn.execute("SELECT amount_fen FROM cash_movements").fetchone()[0] == 500


def test_shift_count_and_difference(store):
    drawer = CashDrawer(store)
    with pytest.raises(NotFound):
        drawer.take("c", 100, 100, account="A")
    drawer.open_shift("c", 10000)
    with pytest.raises(DomainError):
        drawer.open_shift("c", 0)
    drawer.take("c", 50000, 50000, account="A")
    drawer.take("c", 2350, 5000, account="B")
    drawer.pay_out("c", 1200, account="A", purpose="deposit surplus")
    with pytest.raises(DomainError):
        drawer.pay_out("c", 10 ** 9, account="A")
    expected = 10000 + 50000 + 2350 - 1200
    counted = {10000: 6, 1000: 1, 50: 3}             # 611.50 yuan in the drawer
    res = drawer.count("c", counted)
    assert res.expected_fen == expected
    assert res.counted_fen == 61150 and res.difference_fen == 61150 - expected
    with pytest.raises(NotFound):
        drawer.count("c", {})                          # the shift is closed
    with pytest.raises(DomainError):
        CashDrawer(store).count("x", {300: 1})
    assert [k for k, _ in outbox(store)][-1] == "cash.shift_closed"


def test_cash_is_taken_with_no_server(store):
    """Offline-first: nothing here talks to the network; the outbox holds it for sync."""
    drawer = CashDrawer(store)
    drawer.open_shift("c", 0)
    for i in range(5):
        drawer.take("c", 1000 + i, 2000, account=f"ZY-{i}")
    pending = [p for k, p in outbox(store) if k == "cash.received"]
    assert [p["amount_fen"] for p in pending] == [1000, 1001, 1002, 1003, 1004]
    assert len({p["receipt_no"] for p in pending}) == 5


def test_cash_taken_while_the_shift_is_counted_lands_in_an_open_shift(store):
    """One screen takes cash while another closes the shift: no movement ever lands in a shift
    after its count, so each closed shift's expected cash is its float plus its own movements."""
    import threading

    drawer = CashDrawer(store)
    errors = []
    for round_no in range(20):
        drawer.open_shift("c", 10000)
        go = threading.Barrier(2)

        def take():
            go.wait()
            for _ in range(15):
                try:
                    drawer.take("c", 100, 100, account=f"A{round_no}")
                except NotFound:
                    errors.append("closed")

        t = threading.Thread(target=take)
        t.start()
        go.wait()
        drawer.count("c", {10000: 1})
        t.join()
    rows = store.conn.execute(
        "SELECT s.expected_fen, s.float_fen + coalesce(sum(m.amount_fen), 0) FROM cash_shifts s "
        "LEFT JOIN cash_movements m ON m.shift_id = s.shift_id GROUP BY s.shift_id").fetchall()
    assert len(rows) == 20
    assert [r[0] for r in rows] == [r[1] for r in rows]
    taken = store.conn.execute("SELECT count(*) FROM cash_movements").fetchone()[0]
    assert taken + len(errors) == 20 * 15          # every take either landed or was refused
