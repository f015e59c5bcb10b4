"""Every cash movement commits in the transaction of the domain change it pays for: when the
hospital refuses the change (after the drawer's movement was already written in that
transaction), the drawer's expected cash, its movements, the ledger and the outbox are as before.
Through the counter's own calls (CounterDesk), with the receipt printer and the ZVT terminal on
real sockets and the simulated insurance platform."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pos.hospital.errors import AmountMismatch, HospitalTransitionError
from pos.hospital.gateway import PersonInfo

from ._settlement import World
from .test_counter_money import Q, Y, world  # noqa: F401 - the counter's world (printer, terminal, platform)


def snapshot(w: World, no: str) -> tuple:
    """The drawer's expected cash, its movements, the stay's ledger and the outbox, as they stand."""
    conn = w.site.hospital.conn
    sh = w.site.cash.shift(w.desk.cashier)
    return (w.site.cash.expected_fen(sh["shift_id"]),
            conn.execute("SELECT count(*) FROM cash_movements").fetchone()[0],
            w.site.hospital.account(no),
            conn.execute("SELECT count(*) FROM outbox").fetchone()[0])


def scheduled_stay(w: World, deposit_fen: int, charge_yuan: int, method: str = "cash") -> str:
    """A stay with one deposit (cash or card) and one 甲 charge, its discharge scheduled."""
    d, h = w.desk, w.site.hospital
    idno = "110105198001010027"
    w.sim.add_member(PersonInfo("P27", "病人", idno, "employee"))
    no = d.register(d.record_notice("病人", idno, "W1", deposit_fen)["notice_no"], idno)["inpatient_no"]
    paid = d.deposit_cash(no, deposit_fen, deposit_fen) if method == "cash" else d.deposit_card(no, deposit_fen)
    assert paid.ok
    h.assign_bed(no, h.free_beds("W1")[0])
    h.confirm_identity(no, "護士長")
    w.fee("B01", "甲", None, None)
    h.add_charge(no, "B01", price_uyuan=charge_yuan * Y, qty_e4=Q)
    h.order_discharge(no, summary="好轉出院", ebill_no="EB-" + no)
    h.lock_charges(no, "護士長")
    h.schedule_discharge(no, "2026-12-08T10:00")
    return no


def settled_stay(w: World, deposit_fen: int, charge_yuan: int) -> tuple[str, dict]:
    """A stay with a cash deposit, one 甲 charge, settled at the counter."""
    no = scheduled_stay(w, deposit_fen, charge_yuan)
    return no, w.desk.settle(no)


def test_a_refused_collection_leaves_the_drawer_as_it_was(world):
    no, st = settled_stay(world, 10000, 5000)          # 100.00 deposit; the cash share is more
    owed = st["collect_fen"]
    assert owed > 0
    before = snapshot(world, no)
    with pytest.raises(AmountMismatch):                 # not what is owed: the hospital refuses
        world.desk.collect_cash(no, owed - 1, owed)
    assert snapshot(world, no) == before
    r = world.desk.collect_cash(no, owed, owed + 100)
    assert r.ok and r.change_fen == 100
    assert snapshot(world, no)[0] == before[0] + owed and world.site.hospital.discharge_state(no) == "balanced"


def test_a_refused_refund_after_settlement_leaves_the_drawer_as_it_was(world):
    no, st = settled_stay(world, 1_000_000, 500)
    due = st["refund_fen"]
    assert due > 0
    before = snapshot(world, no)
    with pytest.raises(AmountMismatch):                 # more than the surplus
        world.desk.refund_cash(no, due + 1)
    assert snapshot(world, no) == before
    world.desk.refund_cash(no, due)
    assert snapshot(world, no)[0] == before[0] - due and world.site.hospital.discharge_state(no) == "balanced"


def test_a_refused_deposit_never_reaches_the_drawer(world):
    no, st = settled_stay(world, 1_000_000, 500)        # settled: a deposit is refused (a collection is not)
    before = snapshot(world, no)
    with pytest.raises(HospitalTransitionError):
        world.desk.deposit_cash(no, 5000, 5000)
    assert snapshot(world, no) == before


def test_a_refused_settlement_books_nothing(world):
    """The platform's answer disagrees with our total: the settlement's record (ledger, receipts
    taken back, discharge state) is refused as one, and the platform's settlement is reversed."""
    d, h = world.desk, world.site.hospital
    no = scheduled_stay(world, 10000, 50)
    before = snapshot(world, no)
    settle = world.sim.settle

    def one_fen_more(msg_id, *a, **k):                 # the platform settles one fen more than the bill
        res = world.sim.settlements[msg_id] = replace(settle(msg_id, *a, **k), total_fen=5001, pooled_fen=0,
                                                      acct_fen=0, cash_fen=5001)
        return res

    world.sim.settle = one_fen_more
    with pytest.raises(AmountMismatch):
        d.settle(no)
    world.sim.settle = settle
    drawer, moves, account, _ = snapshot(world, no)
    assert (drawer, moves, account) == before[:3] and h.discharge_state(no) == "scheduled"
    assert [r[0] for r in h.conn.execute("SELECT state FROM hosp_receipts")] == ["issued"]
    assert all(s.cancelled for s in world.sim.settlements.values())            # reversed there
    assert d.settle(no)["total_fen"] == 5000                                      # then settled once


def test_a_card_refund_the_hospital_would_refuse_never_reaches_the_card(world):
    """The card's money moves at the terminal, outside our transaction: so the refund the ledger
    would refuse (more than the surplus) is refused before the terminal is asked, and nothing is
    approved, refunded or booked."""
    d, h = world.desk, world.site.hospital
    no = scheduled_stay(world, 300000, 500, "card")
    due = d.settle(no)["refund_fen"]
    assert 0 < due < 300000
    before = snapshot(world, no)
    terminal_before = len(world.terminal.ledger.entries())
    with pytest.raises(AmountMismatch):
        d.refund_card(no, due + 100)
    assert snapshot(world, no) == before and len(world.terminal.ledger.entries()) == terminal_before
    assert h.conn.execute("SELECT count(*) FROM payment_attempts WHERE kind IN ('refund', 'reversal')").fetchone()[0] == 0
    res = d.refund_card(no, due)                                                 # the surplus: fine
    assert res.status == "posted" and h.discharge_state(no) == "balanced"
