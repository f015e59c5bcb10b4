"""Archiving moves what is past the retention out of the hot tables, loses nothing, and survives a
crash between its two transactions."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from drivers.sim.printer import VirtualPrinter
from pos.documents import deposit_receipt
from pos.payments import PaymentService
from pos.printing import PrintJournal
from pos.store.archive import ARCHIVED_LAYOUT, archive, archive_path
from tests._print_samples import RECEIPT, SITE

from .zvt_sim_helpers import sim_terminal

LATER = datetime.now(timezone.utc) + timedelta(days=100)     # "now" for the archiver: 100 days on


def _count(conn, table, where="1"):
    return conn.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]


@pytest.fixture
def filled(tmp_path, store, artifacts):
    """A store with two approved card payments (one partly refunded), a declined one, a print job,
    and their outbox rows, every outbox row acknowledged."""
    with sim_terminal(tmp_path / "sim", "tcp") as (sim, url), \
            VirtualPrinter(out_dir=artifacts / "printer-archive") as vp:
        svc = PaymentService(store)
        sale = svc.pay(5000, terminal_url=url, account="ZY-1")
        svc.refund(sale.attempt_id, 1000)
        other = svc.pay(7000, terminal_url=url, account="ZY-2")
        sim.script.push("decline")
        svc.pay(100, terminal_url=url, account="ZY-3")
        pj = PrintJournal(store, devices={"receipt_printer": f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80"})
        job = pj.print("deposit_receipt", deposit_receipt(SITE, RECEIPT), ref=RECEIPT.receipt_no)
        assert job.ok
        pending = [c["command_id"] for c in store.outbox_pending(1000)]
        store.outbox_ack({cid: {"ok": True} for cid in pending})
        yield store, svc, pj, sale, other, job, url


def test_nothing_moves_inside_the_retention(filled):
    store, *_ = filled
    assert archive(store, 90) == {"outbox": 0, "payment_attempts": 0, "print_layouts": 0}


def test_old_rows_move_and_stay_readable(filled):
    store, svc, pj, sale, other, job, url = filled
    n_attempts = _count(store.conn, "payment_attempts")
    n_events = _count(store.conn, "payment_events")
    n_outbox = _count(store.conn, "outbox")
    layout = pj.get(job.job_id)["layout"]
    moved = archive(store, 90, now=LATER)
    assert moved == {"outbox": n_outbox, "payment_attempts": n_attempts, "print_layouts": 1}
    assert _count(store.conn, "main.payment_attempts") == 0 and _count(store.conn, "main.payment_events") == 0
    assert _count(store.conn, "main.outbox") == 0
    arch = sqlite3.connect(archive_path(store))
    assert _count(arch, "payment_attempts") == n_attempts and _count(arch, "payment_events") == n_events
    assert _count(arch, "outbox") == n_outbox
    # the job's row stays; its layout comes back from the archive for a reprint
    assert store.conn.execute("SELECT layout FROM print_jobs WHERE job_id = ?", (job.job_id,)).fetchone()[0] \
        == ARCHIVED_LAYOUT
    assert pj.get(job.job_id)["layout"] == layout
    # a new payment on the same terminal still works (its baseline is in payment_terminals)
    assert svc.pay(300, terminal_url=url, account="ZY-4").status == "posted"
    assert archive(store, 90)["payment_attempts"] == 0          # the new one is inside the retention


def test_a_sale_with_a_recent_refund_stays_with_it(filled):
    store, svc, pj, sale, other, job, url = filled
    refund_id = store.conn.execute("SELECT attempt_id FROM payment_attempts WHERE kind = 'refund'").fetchone()[0]
    store.conn.execute("UPDATE payment_attempts SET updated_at = ? WHERE attempt_id = ?",
                       (LATER.strftime("%Y-%m-%dT%H:%M:%S.000000Z"), refund_id))
    archive(store, 90, now=LATER)
    left = {r[0] for r in store.conn.execute("SELECT attempt_id FROM main.payment_attempts")}
    assert left == {sale.attempt_id, refund_id}
    assert svc.journal.refundable(sale.attempt_id) == 4000


def test_pending_outbox_and_unacknowledged_stay(tmp_path, store):
    with store.transaction() as tx:
        tx.emit("test.kept", {"n": 1})
    assert archive(store, 90, now=LATER)["outbox"] == 0
    assert store.outbox_depth() == 1


def test_crash_between_copy_and_delete_loses_nothing(filled, monkeypatch):
    store, *_ = filled
    n_outbox = _count(store.conn, "outbox")
    import pos.store.archive as arch_mod

    real = arch_mod._move

    def copy_only(store_, conn, copy, delete):
        real(store_, conn, copy, [])
        raise SystemExit("crash")           # the process dies after the copy committed

    monkeypatch.setattr(arch_mod, "_move", copy_only)
    with pytest.raises(SystemExit):
        archive(store, 90, now=LATER)
    monkeypatch.setattr(arch_mod, "_move", real)
    assert _count(store.conn, "main.outbox") == n_outbox          # still in the store
    archive(store, 90, now=LATER)                                  # the next start finishes the move
    assert _count(store.conn, "main.outbox") == 0
    arch = sqlite3.connect(archive_path(store))
    assert _count(arch, "outbox") == n_outbox
    kinds = [json.loads(r[0])["state"] for r in arch.execute(
        "SELECT payload FROM outbox WHERE kind LIKE 'payment.%' AND kind != 'payment.supervisor_queued'")]
    assert "posted" in kinds
