"""Tables of the payment journal, the supervisor queue and the cash drawer."""

from __future__ import annotations

import sqlite_utils

STATES = ("intent", "sent", "waiting_card", "approved", "declined", "aborted", "in_doubt",
          "unresolved", "posted", "reversed")
ACTIVE = ("intent", "sent", "waiting_card", "in_doubt")


def m001_payment_journal(db: sqlite_utils.Database) -> None:
    states = ", ".join(f"'{s}'" for s in STATES)
    db.execute(
        f"""
        CREATE TABLE payment_attempts (
            attempt_id     TEXT PRIMARY KEY,              -- UUIDv7
            kind           TEXT NOT NULL CHECK (kind IN ('sale','refund','reversal','preauth','booking')),
            amount_fen     INTEGER NOT NULL CHECK (amount_fen > 0),
            purpose        TEXT NOT NULL,
            account        TEXT NOT NULL,
            terminal       TEXT NOT NULL,                 -- terminal key (URL without options)
            terminal_url   TEXT NOT NULL,
            state          TEXT NOT NULL CHECK (state IN ({states})),
            original_id    TEXT REFERENCES payment_attempts (attempt_id),
            baseline_known INTEGER NOT NULL DEFAULT 0,    -- 1 when baseline_trace is the terminal's last trace
            baseline_trace TEXT,
            trace_no       TEXT,
            receipt_no     TEXT,
            terminal_id    TEXT,
            auth_code      TEXT,
            masked_pan     TEXT,                          -- at most first 6 + last 4 digits
            brand          TEXT,
            result_code    INTEGER,
            reason         TEXT,
            created_at     TEXT NOT NULL,
            updated_at     TEXT NOT NULL
        )
        """
    )
    active = ", ".join(f"'{s}'" for s in ACTIVE)
    # one transaction per terminal at a time, enforced by the database as well as by the lock
    db.execute(f"CREATE UNIQUE INDEX payment_one_active_per_terminal ON payment_attempts (terminal) "
               f"WHERE state IN ({active})")
    db.execute("CREATE INDEX payment_attempts_account ON payment_attempts (account, state)")
    db.execute("CREATE INDEX payment_attempts_original ON payment_attempts (original_id)")
    db.execute(
        """
        CREATE TABLE payment_events (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            attempt_id  TEXT NOT NULL REFERENCES payment_attempts (attempt_id),
            at          TEXT NOT NULL,
            from_state  TEXT,
            to_state    TEXT NOT NULL,
            detail      TEXT
        )
        """
    )
    db.execute("CREATE INDEX payment_events_attempt ON payment_events (attempt_id, id)")
    db.execute(
        """
        CREATE TABLE payment_terminals (
            terminal     TEXT PRIMARY KEY,
            url          TEXT NOT NULL,
            last_trace   TEXT,              -- NULL with known = 1: the terminal has no transaction yet
            known        INTEGER NOT NULL DEFAULT 0,
            terminal_id  TEXT,
            updated_at   TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE payment_supervisor_queue (
            id           INTEGER PRIMARY KEY AUTOINCREMENT,
            attempt_id   TEXT NOT NULL UNIQUE REFERENCES payment_attempts (attempt_id),
            account      TEXT NOT NULL,
            terminal     TEXT NOT NULL,
            amount_fen   INTEGER NOT NULL,
            reason       TEXT NOT NULL,
            created_at   TEXT NOT NULL,
            resolved_at  TEXT,
            resolution   TEXT CHECK (resolution IN ('charged', 'not_charged')),
            resolved_by  TEXT,
            note         TEXT
        )
        """
    )
    db.execute("CREATE INDEX payment_queue_open ON payment_supervisor_queue (account) WHERE resolved_at IS NULL")


def m002_cash(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE cash_shifts (
            shift_id      TEXT PRIMARY KEY,
            cashier       TEXT NOT NULL,
            opened_at     TEXT NOT NULL,
            float_fen     INTEGER NOT NULL CHECK (float_fen >= 0),
            closed_at     TEXT,
            expected_fen  INTEGER,
            counted_fen   INTEGER,
            difference_fen INTEGER,
            counts        TEXT                 -- JSON {denomination_fen: pieces}
        )
        """
    )
    db.execute("CREATE UNIQUE INDEX cash_one_open_shift ON cash_shifts (cashier) WHERE closed_at IS NULL")
    db.execute(
        """
        CREATE TABLE cash_movements (
            movement_id   TEXT PRIMARY KEY,
            shift_id      TEXT NOT NULL REFERENCES cash_shifts (shift_id),
            kind          TEXT NOT NULL CHECK (kind IN ('payment', 'refund', 'payout')),
            amount_fen    INTEGER NOT NULL CHECK (amount_fen > 0),
            tendered_fen  INTEGER,
            change_fen    INTEGER NOT NULL DEFAULT 0 CHECK (change_fen >= 0),
            account       TEXT NOT NULL,
            purpose       TEXT NOT NULL,
            receipt_no    TEXT NOT NULL UNIQUE,
            at            TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX cash_movements_shift ON cash_movements (shift_id)")


def m003_hot_indexes(db: sqlite_utils.Database) -> None:
    # Every payment looks for approved-but-not-posted attempts; a partial index keeps that a probe
    # of the few rows in the state, however many finished payments the table holds.
    db.execute("CREATE INDEX payment_attempts_approved ON payment_attempts (terminal) WHERE state = 'approved'")
    # the counter's shift and day totals read attempts by time; archiving reads finished ones by age
    db.execute("CREATE INDEX payment_attempts_created ON payment_attempts (created_at)")
    db.execute("CREATE INDEX payment_attempts_finished ON payment_attempts (updated_at) "
               "WHERE state IN ('declined', 'aborted', 'reversed', 'posted')")


MIGRATIONS = [m001_payment_journal, m002_cash, m003_hot_indexes]
