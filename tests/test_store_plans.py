"""Every hot query of the kiosk store uses an index: checked with SQLite's own planner
(``EXPLAIN QUERY PLAN``) on the statements the code runs, so a reworded query or a dropped index
fails here instead of slowing a kiosk down after a year."""

from __future__ import annotations

import sqlite3

import pytest

from pos.payments.journal import ACTIVE_SQL


class Recorder:
    """Collects the SQL a piece of code sends (sqlite3's trace callback)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn, self.sql = conn, []
        conn.set_trace_callback(self.sql.append)

    def close(self):
        self.conn.set_trace_callback(None)


def plan(conn, sql, params=()):
    return [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]


def _uses(conn, sql, params, index):
    steps = plan(conn, sql, params)
    assert any(f"INDEX {index}" in s for s in steps), (sql, steps)
    assert not any(s.startswith("SCAN") and "INDEX" not in s for s in steps), (sql, steps)
    return steps


@pytest.mark.parametrize("sql, params, index", [
    # the partial index's WHERE term repeated literally: bound parameters would defeat it
    (f"SELECT * FROM payment_attempts WHERE {ACTIVE_SQL} AND terminal = ? ORDER BY +created_at, +attempt_id",
     ("zvt+tcp://t",), "payment_one_active_per_terminal"),
    (f"SELECT * FROM payment_attempts WHERE {ACTIVE_SQL} ORDER BY +created_at, +attempt_id", (),
     "payment_one_active_per_terminal"),
    ("SELECT * FROM payment_attempts WHERE state = 'approved' ORDER BY +created_at, +attempt_id", (),
     "payment_attempts_approved"),
    ("SELECT * FROM payment_supervisor_queue WHERE account = ? AND resolved_at IS NULL", ("ZY-1",),
     "payment_queue_open"),
    ("SELECT coalesce(sum(amount_fen), 0) FROM payment_attempts WHERE original_id = ? AND kind = 'refund' "
     "AND state NOT IN ('declined', 'aborted')", ("x",), "payment_attempts_original"),
    ("SELECT job_id, created_at FROM print_jobs ORDER BY created_at DESC, job_id DESC LIMIT ?", (50,),
     "print_jobs_newest"),
    ("SELECT job_id FROM print_jobs WHERE state = ? ORDER BY created_at DESC, job_id DESC LIMIT ?",
     ("failed", 50), "print_jobs_state_newest"),
    ("SELECT command_id FROM outbox WHERE state = 'pending' ORDER BY device_seq LIMIT ?", (100,),
     "outbox_pending"),
])
def test_hot_query_uses_its_index(store, sql, params, index):
    _uses(store.conn, sql, params, index)


def test_bound_state_list_would_miss_the_partial_index(store):
    """Why ACTIVE_SQL spells the states out: the same query with parameters scans the table."""
    steps = plan(store.conn, "SELECT * FROM payment_attempts WHERE state IN (?, ?, ?, ?) AND terminal = ?",
                 ("intent", "sent", "waiting_card", "in_doubt", "t"))
    assert not any("payment_one_active_per_terminal" in s for s in steps)


def test_the_journal_and_print_code_send_indexed_queries(store):
    """The statements the journal and the print journal really send, replayed through the planner."""
    from pos.payments.journal import Journal
    from pos.printing import PrintJournal

    rec = Recorder(store.conn)
    try:
        j = Journal(store)
        j.pending("zvt+tcp://t")
        j.pending()
        j.approved()
        j.blocked("ZY-1")
        PrintJournal(store).journal(50)
        PrintJournal(store).journal(50, "failed")
        store.outbox_pending()
    finally:
        rec.close()
    selects = [s for s in rec.sql if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) >= 7
    for sql in selects:
        steps = plan(store.conn, sql.replace("?", "NULL"))
        assert not any(s.startswith("SCAN") and "INDEX" not in s for s in steps), (sql, steps)


def test_archiving_queries_use_their_indexes(store, tmp_path):
    """Archiving names its indexes (INDEXED BY): a dropped index makes it fail, not crawl."""
    from pos.store.archive import archive

    rec = Recorder(store.conn)
    try:
        archive(store, 30)
    finally:
        rec.close()
    used = " ".join(rec.sql)
    for index in ("outbox_acked", "payment_attempts_finished", "print_jobs_layout_kept"):
        assert f"INDEXED BY {index}" in used
        assert store.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?",
                                  (index,)).fetchone()
