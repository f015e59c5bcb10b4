"""The ZVT driver against the simulated terminal, over TCP and over a pty (real wire format)."""

from __future__ import annotations

import pytest

from drivers.errors import BadDeviceURL, PaymentInDoubt, TerminalBusy
from drivers.payment import NotSent, PaymentTerminal
from drivers.registry import check_url, open_device, probe
from drivers.sim.zvt_terminal import TEST_CARDS

from .zvt_sim_helpers import TRANSPORTS, charges, sim_terminal


@pytest.fixture(params=TRANSPORTS)
def terminal(request, tmp_path):
    with sim_terminal(tmp_path / "sim", request.param) as (sim, url):
        term = open_device(url, "payment_terminal")
        yield sim, term, url
        term.close()


def test_is_a_payment_terminal(terminal):
    assert isinstance(terminal[1], PaymentTerminal)


def test_payment_approved_with_status_messages(terminal):
    sim, term, _ = terminal
    seen = []
    res = term.authorise(50000, on_status=lambda msg: seen.append(msg.message_id))
    assert res.outcome == "approved" and res.amount_fen == 50000
    assert res.trace_no == "000001" and res.receipt_no == "0001" and res.terminal_id == "52500001"
    assert res.auth_code == "A00001"
    assert res.masked_pan == "621234******1232" and res.brand == "UnionPay"
    assert seen[0] == "Insert, swipe or tap your card"
    assert not any(c["pan"] in "\n".join(res.receipt_lines) for c in TEST_CARDS)
    assert [e["amount_fen"] for e in charges(sim)] == [50000]


def test_no_intermediate_status_for_a_register_that_did_not_ask(terminal):
    """Registered with config byte 86 (no bit 08), a terminal keeps its PIN-pad prompts to itself."""
    from drivers.zvt import messages as m
    sim, term, _ = terminal
    term._open()
    term._simple(m.registration(config_byte=0x86))
    seen = []
    sim.script.push({"action": "approve", "pin_delay": 0.05})
    assert term.authorise(700, on_status=lambda msg: seen.append(msg.message_id)).outcome == "approved"
    assert seen == []
    term._simple(m.registration())          # bit 08 again: insert card, enter PIN, please wait
    sim.script.push({"action": "approve", "pin_delay": 0.05})
    term.authorise(800, on_status=lambda msg: seen.append(msg.message_id))
    assert seen == [m.MSG_INSERT, m.MSG_PIN, m.MSG_WAIT]


def test_decline_and_abort_charge_nothing(terminal):
    sim, term, _ = terminal
    sim.script.push("decline", "abort")
    d = term.authorise(100)
    assert d.outcome == "declined" and d.result_code == 0x05
    a = term.authorise(200)
    assert a.outcome == "aborted"
    assert charges(sim) == []


def test_refund_reversal_preauth_booking_end_of_day(terminal):
    sim, term, _ = terminal
    sale = term.authorise(30000)
    ref = term.refund(5000)
    assert ref.outcome == "approved" and ref.kind == "refund"
    rev = term.reverse(sale.receipt_no)
    assert rev.outcome == "approved" and rev.amount_fen == 30000
    again = term.reverse(sale.receipt_no)
    assert again.outcome == "declined"            # already reversed
    hold = term.preauthorise(80000)
    booked = term.book(hold.receipt_no, 60000)
    assert booked.outcome == "approved" and booked.amount_fen == 60000
    eod = term.end_of_day()
    assert eod.ok and eod.count == 2              # refund 50.00 and booking 600.00 (the sale was reversed)
    assert sim.ledger.entries()[-1]["total_fen"] == 60000 - 5000


def test_last_receipt_repeats_the_last_transaction(terminal):
    sim, term, _ = terminal
    assert term.last_receipt() is None
    term.authorise(1234)
    last = term.last_receipt()
    assert (last.trace_no, last.amount_fen, last.outcome) == ("000001", 1234, "approved")


def test_lost_completion_is_in_doubt(terminal):
    sim, term, _ = terminal
    sim.script.push({"action": "approve", "lose_completion": True})
    with pytest.raises(PaymentInDoubt):
        term.authorise(700)
    assert [e["amount_fen"] for e in charges(sim)] == [700]


def test_garbage_after_approval_is_in_doubt(terminal):
    sim, term, _ = terminal
    sim.script.push({"action": "approve", "garbage": True})
    with pytest.raises(PaymentInDoubt):
        term.authorise(701)


def test_slow_intermediate_status_restarts_t4(terminal):
    sim, term, _ = terminal
    # 4 statuses 0.8 s apart: 3.2 s in all, longer than T4 (2 s), yet no timeout
    sim.script.push({"action": "approve", "slow_status": [4, 0.8], "pin_delay": 0.2})
    seen = []
    res = term.authorise(900, on_status=lambda s: seen.append(s.code))
    assert res.outcome == "approved"
    assert seen.count(0x0E) == 4 and 0x01 in seen


def test_status_enquiry_and_probe(terminal):
    _, term, url = terminal
    assert term.enquire()["terminal_id"] == "52500001"
    assert probe(url, "payment_terminal").state.value == "busy"        # we hold it open
    term.close()
    assert probe(url, "payment_terminal").state.value == "connected"


def test_zero_amount_refused_before_sending(terminal):
    sim, term, _ = terminal
    with pytest.raises(ValueError):
        term.authorise(0)
    assert sim.ledger.entries() == []


def test_serial_nak_and_bad_crc_are_retransmitted(tmp_path):
    with sim_terminal(tmp_path / "sim", "pty") as (sim, url):
        sim.script.push({"action": "approve", "nak_first": True, "bad_crc": True})
        term = open_device(url, "payment_terminal")
        try:
            assert term.authorise(4200).outcome == "approved"
            assert term._link.session.stats["retransmits"] >= 1
            assert term._link.session.stats["naks_sent"] >= 1
        finally:
            term.close()


def test_drop_after_approval_tcp(tmp_path):
    with sim_terminal(tmp_path / "sim", "tcp") as (sim, url):
        sim.script.push({"action": "approve", "drop_after_approval": True})
        term = open_device(url, "payment_terminal")
        with pytest.raises(PaymentInDoubt):
            term.authorise(333)
        assert [e["amount_fen"] for e in charges(sim)] == [333]


def test_busy_terminal_refuses_second_register(tmp_path):
    with sim_terminal(tmp_path / "sim", "tcp") as (sim, url):
        sim.busy.acquire()                      # a transaction is running on the terminal
        try:
            with pytest.raises((TerminalBusy, NotSent)):
                open_device(url, "payment_terminal").authorise(100)
        finally:
            sim.busy.release()


def test_unreachable_terminal_is_not_sent():
    term = open_device("zvt+tcp://127.0.0.1:1?timeout=0.5", "payment_terminal")
    with pytest.raises(NotSent):
        term.authorise(100)
    assert probe("zvt+tcp://127.0.0.1:1", "payment_terminal").state.value == "disconnected"


def test_url_grammar():
    check_url("zvt+tcp://10.0.0.5:20007?timeout=60", "payment_terminal")
    check_url("zvt+serial:///dev/ttyUSB0?baud=9600", "payment_terminal")
    with pytest.raises(BadDeviceURL, match="allowed"):
        check_url("zvt+tcp://10.0.0.5?speed=1")
    with pytest.raises(BadDeviceURL):
        open_device("zvt+serial://ttyUSB0", "payment_terminal")
    with pytest.raises(BadDeviceURL):
        check_url("zvt+tcp://10.0.0.5", "receipt_printer")


def test_a_terminal_stopped_mid_dialogue_never_answers_for_the_next_pty(tmp_path):
    """Stopping a simulated pty terminal while it waits out a long PIN entry, then opening another
    one: the first terminal's thread must not read the frames meant for the second (the kernel
    reuses descriptor numbers at once, so closing the pty under a running thread made the next
    terminal miss its first command)."""
    import threading
    import time

    from drivers.sim.zvt_terminal import PtyFrontEnd, SimTerminal

    from .zvt_sim_helpers import FAST

    first = SimTerminal(tmp_path / "first")
    first.script.push({"action": "approve", "pin_delay": 30})
    front = PtyFrontEnd(first).start()
    term = open_device(f"{front.url}?timeout=60&ack_timeout=2", "payment_terminal")   # a patient register
    outcome = []
    payer = threading.Thread(target=lambda: outcome.append(_try(term.authorise, 100)), daemon=True)
    payer.start()
    deadline = time.monotonic() + 10
    while first.script._read() and time.monotonic() < deadline:   # the terminal took the script
        time.sleep(0.02)
    time.sleep(0.2)                                                 # ... and sits in the PIN wait
    front.stop()
    assert not front.thread.is_alive()     # it has let go of its pty before anyone opens another
    second = SimTerminal(tmp_path / "second")
    front2 = PtyFrontEnd(second).start()
    try:
        term2 = open_device(f"{front2.url}?{FAST}", "payment_terminal")
        try:
            assert term2.authorise(200).outcome == "approved"
        finally:
            term2.close()
        assert [e["amount_fen"] for e in charges(second)] == [200]
        assert charges(first) == []
    finally:
        front2.stop()
        payer.join(15)
        term.close()
    assert outcome and outcome[0] != "approved"


def _try(fn, *args):
    try:
        return fn(*args).outcome
    except Exception as exc:  # the first terminal went away mid-dialogue: any clear error will do
        return type(exc).__name__


def test_a_terminal_busy_for_a_moment_is_asked_again(tmp_path):
    """A terminal finishing its last transaction refuses the next command as busy; the register asks
    again (a refused command was not started) and the payment goes through exactly once."""
    import threading

    with sim_terminal(tmp_path / "sim", "tcp") as (sim, url):
        sim.busy.acquire()                      # still printing the last receipt
        threading.Timer(0.5, sim.busy.release).start()
        term = open_device(f"{url}&busy_wait=10", "payment_terminal")
        try:
            assert term.authorise(4200).outcome == "approved"
        finally:
            term.close()
        assert [e["amount_fen"] for e in charges(sim)] == [4200]
        sim.busy.acquire()                      # busy for longer than the register waits
        try:
            quick = open_device(f"{url}&busy_wait=0.3", "payment_terminal")
            with pytest.raises(TerminalBusy):
                quick.authorise(100)
            quick.close()
        finally:
            sim.busy.release()
        assert [e["amount_fen"] for e in charges(sim)] == [4200]


def test_a_serial_terminal_held_by_another_program_is_busy_and_charges_nothing(tmp_path):
    """Another program (a second kiosk process, `onestop pay`) has the terminal's port open: this
    one says busy before sending a byte, instead of talking over that program's payment."""
    import serial

    with sim_terminal(tmp_path / "sim", "pty") as (sim, url):
        port = url.split("://", 1)[1].split("?", 1)[0]
        other = serial.serial_for_url(port, exclusive=True)
        try:
            term = open_device(url, "payment_terminal")
            with pytest.raises(TerminalBusy, match="in use by another program"):
                term.authorise(100)
            assert probe(url, "payment_terminal").state.value == "busy"
        finally:
            other.close()
        assert charges(sim) == []
        term = open_device(url, "payment_terminal")
        assert term.authorise(100).approved
        term.close()
        assert len(charges(sim)) == 1
