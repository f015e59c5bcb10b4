"""Core tables: device metadata, per-device sequences, the outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils


def m001_meta_and_sequences(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("CREATE TABLE sequences (series TEXT PRIMARY KEY, value INTEGER NOT NULL)")


def m002_outbox(db: sqlite_utils.Database) -> None:
    # No sqlite-utils writes here: its insert helpers commit, and migrations run in one transaction.
    db.execute(
        """
        CREATE TABLE outbox (
            command_id TEXT PRIMARY KEY,          -- UUIDv7, unique forever
            device_id  TEXT NOT NULL,
            device_seq INTEGER NOT NULL,
            created_at TEXT NOT NULL,             -- UTC ISO 8601 (device clock)
            kind       TEXT NOT NULL,
            payload    TEXT NOT NULL,             -- JSON
            state      TEXT NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'acked', 'rejected')),
            attempts   INTEGER NOT NULL DEFAULT 0,
            acked_at   TEXT,
            result     TEXT,                      -- JSON returned by the server
            UNIQUE (device_id, device_seq)
        )
        """
    )
    db.execute("CREATE INDEX outbox_pending ON outbox (state, device_seq)")


def m003_outbox_acked(db: sqlite_utils.Database) -> None:
    # archiving moves acknowledged rows by age
    db.execute("CREATE INDEX outbox_acked ON outbox (acked_at) WHERE state = 'acked'")


MIGRATIONS = [m001_meta_and_sequences, m002_outbox, m003_outbox_acked]
