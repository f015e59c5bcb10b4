"""Archiving: keep the kiosk's hot tables the size of the last few weeks, whatever its age.

Rows past ``store.archive_days`` move to an archive database next to the store
(``<store>.archive.sqlite``, same columns, no indexes but the primary key):

* acknowledged outbox rows (``state = 'acked'``; the server has them; rejected ones stay);
* finished payment attempts (declined, aborted, reversed, posted; an open pre-authorisation is
  posted but stays) with their state-change rows, when nothing newer still points at them
  (a refund of a sale moves with its sale) and no supervisor entry names them;
* the layouts of printed jobs: the job row stays in the journal (it is small and is the record),
  its layout moves; :func:`archived_layout` gives it back for a reprint.

Each batch is copied in one transaction and removed from the store in a second one, so a crash
in between leaves a row in both places, never in neither; the next run finishes the move
(``INSERT OR IGNORE``). SQLite's commits across attached databases are not atomic in WAL mode,
which is why it is two transactions and not one.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta, timezone

from ..ids import utcnow_iso

__all__ = ["archive", "archive_path", "archived_layout", "ARCHIVED_LAYOUT"]

log = logging.getLogger(__name__)

#: what a printed job's ``layout`` column holds once its layout has moved to the archive
ARCHIVED_LAYOUT = ""

FINISHED = "('declined', 'aborted', 'reversed', 'posted')"


def archive_path(store) -> str:
    return f"{store.path}.archive.sqlite"


def _cutoff(days: float, now: datetime | None) -> str:
    now = now or datetime.now(timezone.utc)
    return (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")


def _attach(conn: sqlite3.Connection, path: str) -> None:
    if not any(r[1] == "archive" for r in conn.execute("PRAGMA database_list")):
        conn.execute("ATTACH DATABASE ? AS archive", (path,))
    for table in ("outbox", "payment_attempts", "payment_events"):
        conn.execute(f"CREATE TABLE IF NOT EXISTS archive.{table} AS SELECT * FROM main.{table} WHERE 0")
    conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS archive.outbox_id ON outbox (command_id)")
    conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS archive.payment_attempts_id ON payment_attempts (attempt_id)")
    conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS archive.payment_events_id ON payment_events (id)")
    conn.execute("CREATE TABLE IF NOT EXISTS archive.print_layouts (job_id TEXT PRIMARY KEY, layout TEXT NOT NULL)")


def _move(store, conn, copy: list[tuple[str, tuple]], delete: list[tuple[str, tuple]]) -> None:
    with store.transaction() as tx:
        for sql, params in copy:
            tx.execute(sql, params)
    with store.transaction() as tx:
        for sql, params in delete:
            tx.execute(sql, params)


def _finished_payments(conn: sqlite3.Connection, cutoff: str, limit: int) -> list[str]:
    """Finished attempts older than the cutoff that can leave together (nothing left behind refers
    to one of them)."""
    rows = conn.execute(
        f"SELECT attempt_id, original_id FROM payment_attempts INDEXED BY payment_attempts_finished "
        f"WHERE state IN {FINISHED} AND updated_at < ? "
        "AND NOT (kind = 'preauth' AND state = 'posted') "
        "AND attempt_id NOT IN (SELECT attempt_id FROM payment_supervisor_queue) "
        "ORDER BY updated_at LIMIT ?", (cutoff, limit)).fetchall()
    ids = {r[0] for r in rows}
    while True:           # drop any whose referrers (refunds, bookings, reversals) are not leaving too
        keep = {aid for (aid,) in conn.execute(
            "SELECT DISTINCT original_id FROM payment_attempts INDEXED BY payment_attempts_original "
            "WHERE original_id IN (SELECT value FROM json_each(?))", (_json(ids),))}
        stay = {aid for aid in keep
                if conn.execute("SELECT 1 FROM payment_attempts WHERE original_id = ? AND attempt_id NOT IN "
                                "(SELECT value FROM json_each(?)) LIMIT 1", (aid, _json(ids))).fetchone()}
        if not stay:
            return sorted(ids)
        ids -= stay


def _json(ids) -> str:
    import json

    return json.dumps(sorted(ids))


def archive(store, days: float = 90, *, now: datetime | None = None, batch: int = 5000) -> dict[str, int]:
    """Move what is older than ``days`` into the archive database. Returns the counts moved."""
    moved = {"outbox": 0, "payment_attempts": 0, "print_layouts": 0}
    if store.path == ":memory:":
        return moved
    cutoff = _cutoff(days, now)
    conn = store.conn
    with store._write_lock:
        _attach(conn, archive_path(store))
    while True:
        ids = [r[0] for r in conn.execute(
            "SELECT command_id FROM outbox INDEXED BY outbox_acked WHERE state = 'acked' AND acked_at < ? "
            "ORDER BY acked_at LIMIT ?", (cutoff, batch))]
        if not ids:
            break
        sel = (_json(ids),)
        _move(store, conn,
              [("INSERT OR IGNORE INTO archive.outbox SELECT * FROM main.outbox "
                "WHERE command_id IN (SELECT value FROM json_each(?))", sel)],
              [("DELETE FROM main.outbox WHERE command_id IN (SELECT value FROM json_each(?))", sel)])
        moved["outbox"] += len(ids)
    while True:
        ids = _finished_payments(conn, cutoff, batch)
        if not ids:
            break
        sel = (_json(ids),)
        _move(store, conn,
              [("INSERT OR IGNORE INTO archive.payment_attempts SELECT * FROM main.payment_attempts "
                "WHERE attempt_id IN (SELECT value FROM json_each(?))", sel),
               ("INSERT OR IGNORE INTO archive.payment_events SELECT * FROM main.payment_events "
                "WHERE attempt_id IN (SELECT value FROM json_each(?))", sel)],
              [("DELETE FROM main.payment_events WHERE attempt_id IN (SELECT value FROM json_each(?))", sel),
               ("DELETE FROM main.payment_attempts WHERE attempt_id IN (SELECT value FROM json_each(?))", sel)])
        moved["payment_attempts"] += len(ids)
    while True:
        ids = [r[0] for r in conn.execute(
            "SELECT job_id FROM print_jobs INDEXED BY print_jobs_layout_kept WHERE state = 'printed' "
            "AND layout != '' AND created_at < ? LIMIT ?", (cutoff, batch))]
        if not ids:
            break
        sel = (_json(ids),)
        _move(store, conn,
              [("INSERT OR IGNORE INTO archive.print_layouts SELECT job_id, layout FROM main.print_jobs "
                "WHERE job_id IN (SELECT value FROM json_each(?))", sel)],
              [("UPDATE main.print_jobs SET layout = ?, updated_at = ? WHERE job_id IN "
                "(SELECT value FROM json_each(?)) AND job_id IN (SELECT job_id FROM archive.print_layouts)",
                (ARCHIVED_LAYOUT, utcnow_iso(), sel[0]))])
        moved["print_layouts"] += len(ids)
    if any(moved.values()):
        log.info("archived to %s (older than %s): %s", archive_path(store), cutoff, moved)
    return moved


def archived_layout(store, job_id: str) -> str | None:
    """A printed job's layout JSON from the archive, or None when it is not there."""
    conn = store.conn
    with store._write_lock:
        _attach(conn, archive_path(store))
    row = conn.execute("SELECT layout FROM archive.print_layouts WHERE job_id = ?", (job_id,)).fetchone()
    return row[0] if row else None
