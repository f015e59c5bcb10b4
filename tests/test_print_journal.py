"""The print journal over real sockets to the virtual printer: no print lost, none printed twice
unless marked as a reprint; paper out in the middle of a job; crash recovery."""

from __future__ import annotations

import json

import pytest

from drivers.sim.printer import VirtualPrinter
from pos.documents import deposit_receipt, wristband
from pos.errors import InvalidTransition
from pos.printing import PrintJournal
from tests._print_samples import RECEIPT, SITE, WRISTBAND


@pytest.fixture
def vp(artifacts):
    with VirtualPrinter(out_dir=artifacts / "printer-journal") as p:
        yield p


def _journal(store, vp, profile="TM-T88V"):
    return PrintJournal(store, window="3",
                        devices={"receipt_printer": f"escpos+tcp://127.0.0.1:{vp.port}?profile={profile}",
                                 "label_printer": f"zpl+tcp://127.0.0.1:{vp.port}"})


def _events(store, kind):
    return [json.loads(r[0]) for r in store.conn.execute(
        "SELECT payload FROM outbox WHERE kind = ? ORDER BY device_seq", (kind,))]


def _complete_receipts(vp):
    return [d for d in vp.docs if getattr(d, "cut", False)]


def test_print_records_before_sending_and_emits(store, vp):
    j = _journal(store, vp)
    job_id = j.submit("deposit_receipt", deposit_receipt(SITE, RECEIPT), ref=RECEIPT.receipt_no)
    assert j.get(job_id)["state"] == "queued" and vp.docs == []        # recorded, nothing sent yet
    out = j.run(job_id)
    assert out.ok and out.user_message == "Please take your receipt."
    job = j.get(job_id)
    assert job["state"] == "printed" and job["attempts"] == 1 and job["printed_at"].endswith("Z")
    assert [e["job_id"] for e in _events(store, "print.queued")] == [job_id]
    printed = _events(store, "print.printed")
    assert printed == [dict(printed[0], job_id=job_id, kind="deposit_receipt", ref="KTEST-000001", copy_no=0,
                            reprint_of=None)]
    assert len(vp.wait_docs(1)) == 1


def test_paper_out_mid_job_kept_message_then_completes_once(store, vp, artifacts):
    j = _journal(store, vp, "cn80")
    vp.paper_out_after = 300           # the receipt is ~1 kB: paper runs out a few lines in
    out = j.print("deposit_receipt", deposit_receipt(SITE, RECEIPT), ref=RECEIPT.receipt_no)
    assert not out.ok and out.state == "failed"
    assert out.user_message == "Please collect your receipt at window 3."
    assert "PaperOut" in out.technician and "kept in the journal" in out.technician
    job = j.get(out.job_id)
    assert job["state"] == "failed" and "paper out" in job["last_error"] and not job["uncertain"]
    assert _events(store, "print.failed")[0]["partial"] is True
    torn = vp.wait_docs(1)
    assert len(torn) == 1 and not torn[0].cut                   # only a torn stub came out
    assert "预交金收款收据" in torn[0].text and "壹仟元整" not in torn[0].text
    assert [p["job_id"] for p in j.pending()] == [out.job_id]

    vp.set_state(paper_out=False)                               # paper loaded
    assert len(vp.docs) == 1                                    # the host cleared the buffer: no resume
    again = j.retry(out.job_id)
    assert again.ok and j.get(out.job_id)["attempts"] == 2
    assert len(_complete_receipts(vp)) == 1                     # exactly one complete receipt
    with pytest.raises(InvalidTransition, match="already printed"):
        j.retry(out.job_id)
    assert len(_complete_receipts(vp)) == 1 and j.pending() == []

    copy = j.reprint(out.job_id)                                # only a marked reprint prints again
    assert copy.ok
    docs = vp.wait_docs(3)
    complete = [d for d in docs if d.cut]
    assert len(complete) == 2
    assert j.get(copy.job_id)["reprint_of"] == out.job_id and j.get(copy.job_id)["copy_no"] == 1
    assert j.copies_printed(out.job_id) == 2
    copy_layout = j.get(copy.job_id)["layout"]
    assert copy_layout["copy"] is True and copy_layout["blocks"][0]["text"] == "** 副本 COPY #1 **"


def test_without_buffer_clear_a_real_printer_would_resume(vp):
    """The simulator models what makes the clear necessary: held data prints when paper returns."""
    import socket

    from drivers.escpos.profiles import get_profile
    from drivers.escpos.render import render_escpos

    data = render_escpos(deposit_receipt(SITE, RECEIPT).to_dict(), get_profile("cn80"))
    vp.paper_out_after = 200
    with socket.create_connection(("127.0.0.1", vp.port)) as s:
        s.sendall(data)
        s.sendall(b"\x10\x04\x04")
        assert s.recv(1)[0] & 0x60                               # paper end reported
    vp.wait_docs(1)
    vp.set_state(paper_out=False)
    docs = vp.wait_docs(2)
    assert not docs[0].cut and docs[1].cut and "壹仟元整" in docs[1].text


def test_paper_out_before_job_nothing_sent_then_retry(store, vp):
    j = _journal(store, vp, "cn80")
    vp.set_state(paper_out=True)
    out = j.print("deposit_receipt", deposit_receipt(SITE, RECEIPT), ref=RECEIPT.receipt_no)
    assert out.state == "failed" and out.user_message == "Please collect your receipt at window 3."
    assert vp.docs == [] and vp.held == []
    assert _events(store, "print.failed")[0]["partial"] is False
    vp.set_state(paper_out=False)
    assert j.retry(out.job_id).ok
    assert len(vp.wait_docs(1)) == 1


def test_wristband_failure_message(store, vp):
    j = _journal(store, vp)
    vp.set_state(cover_open=True)
    out = j.print("wristband", wristband(SITE, WRISTBAND), role="label_printer", ref=WRISTBAND.inpatient_no)
    assert out.state == "failed" and out.user_message == "Please collect your wristband at window 3."
    assert "CoverOpen" in out.technician
    vp.set_state(cover_open=False)
    assert j.retry(out.job_id).ok
    assert vp.wait_docs(1)[0].qr_codes == ["ZY2026000123"]


def test_unreachable_printer_keeps_job(store):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    j = PrintJournal(store, window="3", devices={"receipt_printer": f"escpos+tcp://127.0.0.1:{port}"})
    out = j.print("deposit_receipt", deposit_receipt(SITE, RECEIPT))
    assert out.state == "failed" and "PrinterOffline" in out.technician
    assert j.get(out.job_id)["state"] == "failed"


def test_no_printer_configured(store):
    out = PrintJournal(store).print("deposit_receipt", deposit_receipt(SITE, RECEIPT))
    assert out.state == "failed" and "no printer configured" in out.technician


def test_crash_while_printing_becomes_uncertain(store, vp):
    j = _journal(store, vp, "cn80")
    job_id = j.submit("deposit_receipt", deposit_receipt(SITE, RECEIPT), ref=RECEIPT.receipt_no)
    j._claim(job_id)                                            # the process dies after claiming
    restarted = _journal(store, vp, "cn80")
    assert restarted.recover() == [job_id]
    job = restarted.get(job_id)
    assert job["state"] == "failed" and job["uncertain"] == 1
    assert restarted.pending() == []
    with pytest.raises(InvalidTransition, match="may have printed"):
        restarted.retry(job_id)
    with pytest.raises(InvalidTransition):
        restarted.run(job_id)
    assert vp.docs == []
    copy = restarted.reprint(job_id)
    assert copy.ok and "副本 COPY #1" in vp.wait_docs(1)[0].text


def test_reprint_numbering_and_find(store, vp):
    j = _journal(store, vp, "cn80")
    first = j.print("deposit_receipt", deposit_receipt(SITE, RECEIPT), ref=RECEIPT.receipt_no)
    c1 = j.reprint(first.job_id)
    c2 = j.reprint(c1.job_id)                                   # a copy of a copy counts from the original
    assert j.get(c2.job_id)["copy_no"] == 2 and j.get(c2.job_id)["reprint_of"] == first.job_id
    docs = vp.wait_docs(3)
    assert "副本" not in docs[0].text and "副本 COPY #1" in docs[1].text and "副本 COPY #2" in docs[2].text
    assert j.find(first.job_id[:30])["job_id"] == first.job_id
    assert [r["job_id"] for r in j.journal(10)][0] == c2.job_id


def test_reprints_tapped_at_once_take_turns_and_get_their_own_numbers(store, vp):
    """A double tap on Reprint: two workers reprint the same receipt at the same moment. The jobs
    take turns on the printer (never two connections open at once) and are COPY #1 and #2."""
    import threading

    j = _journal(store, vp, "cn80")
    first = j.print("deposit_receipt", deposit_receipt(SITE, RECEIPT), ref=RECEIPT.receipt_no)
    vp.wait_docs(1)
    go, outs = threading.Barrier(4), []

    def tap():
        go.wait()
        outs.append(j.reprint(first.job_id))

    threads = [threading.Thread(target=tap) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(j.get(o.job_id)["copy_no"] for o in outs) == [1, 2, 3, 4]
    assert all(o.ok for o in outs)
    docs = vp.wait_docs(5)
    assert sorted(t for d in docs[1:] for t in ("#1", "#2", "#3", "#4") if f"副本 COPY {t}" in d.text) \
        == ["#1", "#2", "#3", "#4"]


def test_jobs_sent_at_once_to_one_serial_printer_all_print_whole(store):
    """Four jobs at once on one serial receipt printer (a pty with the ESC/POS decoder of the
    virtual printer behind it): they take turns, so all four print, each one whole. Without the
    turn-taking the port's exclusive open refused three of them."""
    import os
    import select
    import threading
    import time

    from drivers.escpos.status import PrinterState, encode_status
    from drivers.sim.escpos_decode import EscposDecoder
    from drivers.sim.ptys import raw_pty

    master, slave, path = raw_pty()
    p, o, r = encode_status(PrinterState())
    docs, stop = [], threading.Event()
    dec = EscposDecoder(status=lambda n: {1: p, 2: o, 4: r}.get(n, 0x12), on_doc=docs.append)

    def printer():
        while not stop.is_set():
            if select.select([master], [], [], 0.05)[0]:
                reply = dec.feed(os.read(master, 65536))
                if reply:
                    os.write(master, reply)

    t = threading.Thread(target=printer, daemon=True)
    t.start()
    try:
        j = PrintJournal(store, window="3", devices={"receipt_printer": f"escpos+serial://{path}?profile=cn80"})
        go, outs = threading.Barrier(4), []

        def job(n):
            go.wait()
            outs.append(j.print("deposit_receipt", deposit_receipt(SITE, RECEIPT), ref=f"R{n}"))

        jobs = [threading.Thread(target=job, args=(n,)) for n in range(4)]
        for th in jobs:
            th.start()
        for th in jobs:
            th.join(60)
        assert [o.state for o in outs] == ["printed"] * 4, [o.technician for o in outs]
        deadline = time.monotonic() + 10
        while len([d for d in docs if d.cut]) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        whole = [d for d in docs if d.cut]
        assert len(whole) == 4
        assert all(d.text.count(RECEIPT.receipt_no) == 1 and "壹仟" in d.text for d in whole)
    finally:
        stop.set()
        t.join(2)
        os.close(master)
        os.close(slave)


def test_driver_bug_mid_send_is_uncertain_not_resent(store):
    class Broken:
        def print_layout(self, layout):
            raise RuntimeError("driver bug after some bytes went out")

        def close(self):
            pass

    j = PrintJournal(store, window="3", opener=lambda url, role: Broken(),
                     devices={"receipt_printer": "escpos+tcp://127.0.0.1:9"})
    out = j.print("deposit_receipt", deposit_receipt(SITE, RECEIPT))
    assert out.state == "failed" and out.user_message == "Please collect your receipt at window 3."
    assert j.get(out.job_id)["uncertain"] == 1
    with pytest.raises(InvalidTransition):
        j.retry(out.job_id)


def test_a_serial_printer_held_by_another_program_keeps_the_job(store):
    """The receipt printer's serial port is open in another program: the job fails with a clear
    line, not a byte goes into the other program's job, and the job stays queued for a retry."""
    import os
    import select

    import serial

    from drivers.sim.ptys import raw_pty

    master, slave, path = raw_pty()
    other = serial.serial_for_url(path, exclusive=True)
    try:
        j = PrintJournal(store, window="3", devices={"receipt_printer": f"escpos+serial://{path}?profile=cn80"})
        out = j.print("deposit_receipt", deposit_receipt(SITE, RECEIPT), ref=RECEIPT.receipt_no)
        assert out.state == "failed" and "in use by another program" in out.technician
        assert out.user_message == "Please collect your receipt at window 3."
        assert select.select([master], [], [], 0.2)[0] == []            # not a byte went out
        assert [p["job_id"] for p in j.pending()] == [out.job_id]       # kept, and safe to retry
    finally:
        other.close()
        os.close(master)
        os.close(slave)
