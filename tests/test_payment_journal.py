"""The payment journal and its recovery, against the simulated terminal over TCP and over a pty."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from drivers.errors import PaymentBlocked, TerminalBusy
from drivers.payment import NotSent
from pos.errors import InvalidTransition
from pos.payments import InvalidAmount, PaymentService
from pos.payments.journal import TRANSITIONS

from .zvt_sim_helpers import TRANSPORTS, charges, sim_terminal


class Crash(BaseException):
    """Stands for the process dying at a step (nothing after it runs)."""


def crash_at(step):
    def probe(name):
        if name == step:
            raise Crash(step)
    return probe


@pytest.fixture(params=TRANSPORTS)
def env(request, tmp_path, store):
    with sim_terminal(tmp_path / "sim", request.param) as (sim, url):
        yield sim, store, url


def outbox_kinds(store):
    return [r[0] for r in store.conn.execute("SELECT kind FROM outbox ORDER BY device_seq")]


def test_payment_states_outbox_and_poster(env):
    sim, store, url = env
    posted = []
    svc = PaymentService(store, posters={"deposit": lambda tx, row: posted.append(row["attempt_id"])})
    out = svc.pay(50000, terminal_url=url, account="ZY-001")
    assert out.as_json()["status"] == "approved" and out.status == "posted"
    assert [t for _, t in svc.journal.events(out.attempt_id)] == ["intent", "sent", "waiting_card", "approved", "posted"]
    assert posted == [out.attempt_id]
    kinds = outbox_kinds(store)
    assert kinds == ["payment.intent", "payment.sent", "payment.waiting_card", "payment.approved", "payment.posted"]
    row = svc.journal.get(out.attempt_id)
    assert (row["trace_no"], row["receipt_no"], row["masked_pan"]) == ("000001", "0001", "621234******1232")


def test_declined_and_aborted(env):
    sim, store, url = env
    sim.script.push("decline", "abort")
    svc = PaymentService(store)
    assert svc.pay(100, terminal_url=url, account="A").status == "declined"
    assert svc.pay(100, terminal_url=url, account="A").status == "aborted"
    assert charges(sim) == []
    assert "payment.declined" in outbox_kinds(store) and "payment.aborted" in outbox_kinds(store)


def test_amounts_of_zero_or_less_are_refused(env):
    sim, store, url = env
    svc = PaymentService(store)
    for bad in (0, -5, 1.5, True):
        with pytest.raises(InvalidAmount):
            svc.pay(bad, terminal_url=url, account="A")
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction() as tx:
            tx.execute("INSERT INTO payment_attempts (attempt_id, kind, amount_fen, purpose, account, terminal, "
                       "terminal_url, state, created_at, updated_at) VALUES ('x','sale',0,'p','a','t','u','intent','n','n')")
    assert sim.ledger.entries() == []


def test_lost_completion_recovered_at_once_never_resent(env):
    sim, store, url = env
    sim.script.push({"action": "approve", "lose_completion": True})
    svc = PaymentService(store)
    out = svc.pay(7000, terminal_url=url, account="A")
    assert out.status == "posted"
    states = [t for _, t in svc.journal.events(out.attempt_id)]
    assert "in_doubt" in states and states[-2:] == ["approved", "posted"]
    assert [e["amount_fen"] for e in charges(sim)] == [7000]     # charged once


def test_crash_after_approval_before_recording_is_posted_on_restart(env):
    sim, store, url = env
    svc = PaymentService(store)
    svc.probe = crash_at("result")
    with pytest.raises(Crash):
        svc.pay(12345, terminal_url=url, account="A")
    (row,) = svc.journal.pending()
    assert row["state"] == "waiting_card"
    svc2 = PaymentService(store)
    report = svc2.recover()
    assert report[0]["action"] == "approved" and report[0]["state"] == "posted"
    assert svc2.journal.get(row["attempt_id"])["trace_no"] == charges(sim)[0]["trace_no"]


def test_crash_before_sending_is_aborted_not_charged(env):
    sim, store, url = env
    svc = PaymentService(store)
    svc.probe = crash_at("sent")
    with pytest.raises(Crash):
        svc.pay(500, terminal_url=url, account="A")
    report = PaymentService(store).recover()
    assert report[0]["action"] == "aborted"
    assert charges(sim) == []


def test_crash_at_intent_is_aborted(env):
    sim, store, url = env
    svc = PaymentService(store)
    svc.probe = crash_at("intent")
    with pytest.raises(Crash):
        svc.pay(500, terminal_url=url, account="A")
    # the next payment recovers first, then goes ahead
    out = PaymentService(store).pay(600, terminal_url=url, account="A")
    assert out.status == "posted"
    assert [r["state"] for r in PaymentService(store).journal.rows()] == ["aborted", "posted"]


def test_undeterminable_blocks_account_until_supervisor_resolves(env):
    sim, store, url = env
    from drivers.registry import open_device

    svc = PaymentService(store)
    svc.probe = crash_at("result")
    with pytest.raises(Crash):
        svc.pay(2000, terminal_url=url, account="ZY-9")
    other = open_device(url, "payment_terminal")      # someone uses the terminal outside onestop
    other.authorise(999)
    other.close()
    svc = PaymentService(store)
    report = svc.recover()
    assert report[0]["action"] == "unresolved"
    queue = svc.supervisor_queue()
    assert [q["account"] for q in queue] == ["ZY-9"]
    with pytest.raises(PaymentBlocked):
        svc.pay(100, terminal_url=url, account="ZY-9")
    assert svc.pay(100, terminal_url=url, account="ZY-10").status == "posted"   # others go on
    with pytest.raises(ValueError):
        svc.resolve(queue[0]["attempt_id"], "maybe", supervisor="Li")
    out = svc.resolve(queue[0]["attempt_id"], "charged", supervisor="Li")
    assert out.status == "posted"
    assert svc.supervisor_queue() == []
    assert svc.pay(100, terminal_url=url, account="ZY-9").status == "posted"


def test_unreachable_terminal_keeps_in_doubt_and_refuses_new_payments(tmp_path, store):
    with sim_terminal(tmp_path / "sim", "tcp") as (sim, url):
        svc = PaymentService(store, busy_wait=0.2)
        svc.probe = crash_at("waiting_card")
        with pytest.raises(Crash):
            svc.pay(3000, terminal_url=url, account="A")
    # the terminal is gone now
    svc = PaymentService(store, busy_wait=0.2)
    report = svc.recover()
    assert report[0]["action"] == "pending"
    with pytest.raises(TerminalBusy):
        svc.pay(100, terminal_url=url, account="B")
    assert [r["state"] for r in svc.journal.rows()] == ["in_doubt"]


def test_unreachable_terminal_new_payment_is_aborted_not_sent(store):
    svc = PaymentService(store)
    with pytest.raises(NotSent):
        svc.pay(100, terminal_url="zvt+tcp://127.0.0.1:1?timeout=0.3", account="A")
    assert [r["state"] for r in svc.journal.rows()] == ["aborted"]


def test_one_transaction_per_terminal(env):
    sim, store, url = env
    sim.script.push({"action": "approve", "pin_delay": 0.3})     # shorter than T4 (0.6 s)
    svc = PaymentService(store, lock_wait=0.05)
    results = {}

    def first():
        results["first"] = svc.pay(1000, terminal_url=url, account="A").status

    t = threading.Thread(target=first)
    t.start()
    while not svc.journal.rows():
        time.sleep(0.005)
    with pytest.raises(TerminalBusy):
        svc.pay(2000, terminal_url=url, account="B")
    t.join()
    assert results["first"] == "posted"
    assert [e["amount_fen"] for e in charges(sim)] == [1000]


def test_database_allows_one_active_attempt_per_terminal(store):
    svc = PaymentService(store)
    svc.journal.create_intent(kind="sale", amount_fen=1, purpose="p", account="a", terminal="t", terminal_url="t")
    with pytest.raises(TerminalBusy):
        svc.journal.create_intent(kind="sale", amount_fen=2, purpose="p", account="b", terminal="t", terminal_url="t")


def test_refund_reversal_rules(env):
    sim, store, url = env
    svc = PaymentService(store)
    sale = svc.pay(10000, terminal_url=url, account="A")
    with pytest.raises(InvalidAmount):
        svc.refund(sale.attempt_id, 10001)
    r1 = svc.refund(sale.attempt_id, 4000)
    assert r1.status == "posted" and r1.kind == "refund"
    with pytest.raises(InvalidAmount):
        svc.refund(sale.attempt_id, 6001)
    with pytest.raises(InvalidTransition):
        svc.reverse(sale.attempt_id)            # partly refunded: refund the rest instead
    sale2 = svc.pay(2500, terminal_url=url, account="A")
    rev = svc.reverse(sale2.attempt_id)
    assert rev.status == "posted" and svc.journal.get(sale2.attempt_id)["state"] == "reversed"
    with pytest.raises(InvalidAmount):
        svc.refund(sale2.attempt_id, 1)         # nothing left on a reversed payment
    with pytest.raises(InvalidTransition):
        svc.reverse(sale2.attempt_id)


def test_preauth_and_booking(env):
    sim, store, url = env
    svc = PaymentService(store)
    hold = svc.preauthorise(80000, terminal_url=url, account="ZY-3")
    assert hold.status == "posted"
    with pytest.raises(InvalidAmount):
        svc.book(hold.attempt_id, 90000)
    booked = svc.book(hold.attempt_id, 65000)
    assert booked.status == "posted"
    assert [e["kind"] for e in charges(sim)] == ["preauth", "booking"]


def test_recovery_policy_reverse(env):
    sim, store, url = env
    svc = PaymentService(store)
    svc.probe = crash_at("result")
    with pytest.raises(Crash):
        svc.pay(4400, terminal_url=url, account="A")
    svc = PaymentService(store, recovered_approval="reverse")
    svc.recover()
    rows = svc.journal.rows()
    assert [(r["kind"], r["state"]) for r in rows] == [("sale", "reversed"), ("reversal", "posted")]
    assert [e["kind"] for e in charges(sim)] == ["sale", "reversal"]


def test_end_of_day(env):
    sim, store, url = env
    svc = PaymentService(store)
    svc.pay(1000, terminal_url=url, account="A")
    svc.pay(2000, terminal_url=url, account="A")
    res = svc.end_of_day(url)
    assert res["ok"] and res["total_fen"] == 3000 and res["count"] == 2
    assert "payment.end_of_day" in outbox_kinds(store)


def test_status_messages_reach_the_screen(env):
    sim, store, url = env
    sim.script.push({"action": "approve", "pin_delay": 0.05})
    seen = []
    PaymentService(store).pay(100, terminal_url=url, account="A", on_status=lambda m: seen.append(m.message_id))
    assert seen[:3] == ["Connecting to the card terminal", "Insert, swipe or tap your card",
                        "Enter your PIN on the card terminal"]


def test_transition_table_has_no_way_out_of_final_states():
    for final in ("declined", "aborted", "reversed"):
        assert TRANSITIONS[final] == ()
    assert "intent" not in {s for targets in TRANSITIONS.values() for s in targets}


@pytest.mark.parametrize("no_trace", [{"action": "decline", "bare": True}, "host_error"])
def test_result_without_trace_makes_the_baseline_learnt_again(env, no_trace):
    """A decline sent as a bare 06 1E, or a host refusal, uses up a trace number we never see.
    The next interrupted payment must be judged against the terminal's real position, not the
    stale one: it is recovered (charged once), not left unresolved."""
    sim, store, url = env
    svc = PaymentService(store)
    assert svc.pay(1000, terminal_url=url, account="A").status == "posted"            # trace 1
    sim.script.push(no_trace)
    first = svc.pay(2000, terminal_url=url, account="A")
    assert first.status == "declined" and svc.journal.get(first.attempt_id)["trace_no"] is None
    assert sim.ledger.entries()[-1]["trace_no"] == "000002"                           # used up, unseen
    assert svc.journal.terminal_baseline(svc.journal.get(first.attempt_id)["terminal"])[0] is False
    sim.script.push({"action": "approve", "lose_completion": True})                   # trace 3, lost
    out = svc.pay(3000, terminal_url=url, account="B")
    row = svc.journal.get(out.attempt_id)
    assert (row["baseline_known"], row["baseline_trace"]) == (1, "000002")
    assert out.status == "posted", row["reason"]
    assert svc.supervisor_queue() == []
    assert [e["amount_fen"] for e in charges(sim)] == [1000, 3000]
