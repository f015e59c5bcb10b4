"""Club tables: role calls, shifts and presence, resource claims, reservations and their
preparation checklists, member cards and their ledger. Times are UTC ISO 8601 (``…Z``), money
integer fen. No sqlite-utils writes here: migrations run inside one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

CALL_KINDS = ("arrival", "room_ready", "can_serve", "wine", "clear", "pay", "help", "prep", "prep_missing", "prompt")
CALL_STATES = ("open", "resounded", "escalated", "acked")
CALL_KINDS += ("car",)                    # service: "bring the car" to the valet (m103_service_call_kinds)


def _in(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def m001_calls(db: sqlite_utils.Database) -> None:
    db.execute(f"""
        CREATE TABLE club_calls (
            call_id     TEXT PRIMARY KEY,                 -- ULID (the sender's, for calls from a device)
            group_id    TEXT NOT NULL,                    -- one arrival = one group of calls, one per role
            room        TEXT NOT NULL,
            kind        TEXT NOT NULL CHECK (kind IN ({_in(CALL_KINDS)})),
            from_role   TEXT NOT NULL,
            from_device TEXT NOT NULL DEFAULT '',
            to_role     TEXT NOT NULL,                    -- who it was addressed to
            target_role TEXT NOT NULL,                    -- who it is with now (manager after escalation)
            seq         INTEGER NOT NULL,                 -- room sequence number when created
            rev         INTEGER NOT NULL,                 -- room sequence number of its last change
            state       TEXT NOT NULL CHECK (state IN ({_in(CALL_STATES)})),
            text        TEXT NOT NULL DEFAULT '',         -- what the screen says (e.g. the greeting)
            detail      TEXT NOT NULL DEFAULT '{{}}',     -- JSON: reservation, guests, amount ...
            created_at  TEXT NOT NULL,
            due_at      TEXT,                             -- next escalation step (NULL once acked)
            resounds    INTEGER NOT NULL DEFAULT 0,
            escalated_at TEXT,
            escalation_reason TEXT,                       -- no_ack | nobody_on_shift
            acked_by    TEXT,
            acked_role  TEXT,
            acked_device TEXT,
            acked_at    TEXT,
            UNIQUE (room, seq)
        )""")
    db.execute("CREATE INDEX club_calls_due ON club_calls (due_at) WHERE due_at IS NOT NULL")
    db.execute("CREATE INDEX club_calls_room_rev ON club_calls (room, rev)")
    db.execute("""
        CREATE TABLE club_call_acks (
            call_id TEXT NOT NULL REFERENCES club_calls (call_id),
            staff   TEXT NOT NULL,
            role    TEXT NOT NULL,
            device  TEXT NOT NULL,
            at      TEXT NOT NULL,
            first   INTEGER NOT NULL                  -- 1 for the ack that closed the call
        )""")
    db.execute("CREATE INDEX club_call_acks_call ON club_call_acks (call_id)")


def m002_shifts(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE club_shifts (
            shift_id   TEXT PRIMARY KEY,
            device     TEXT NOT NULL,
            staff      TEXT NOT NULL,
            role       TEXT NOT NULL,
            rooms      TEXT NOT NULL DEFAULT '[]',     -- JSON list; [] = every room
            started_at TEXT NOT NULL,
            ended_at   TEXT
        )""")
    db.execute("CREATE INDEX club_shifts_open ON club_shifts (role) WHERE ended_at IS NULL")
    db.execute("""
        CREATE TABLE club_presence (
            device TEXT PRIMARY KEY,
            role   TEXT NOT NULL DEFAULT '',
            staff  TEXT NOT NULL DEFAULT '',
            state  TEXT NOT NULL CHECK (state IN ('online', 'offline')),
            since  TEXT NOT NULL
        )""")


def m003_claims_and_reservations(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE club_claims (
            claim_id  TEXT PRIMARY KEY,
            resource  TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            ends_at   TEXT NOT NULL,
            live      INTEGER NOT NULL DEFAULT 1,
            holder    TEXT NOT NULL,                  -- what holds it (a reservation id)
            CHECK (ends_at > starts_at)
        )""")
    db.execute("CREATE INDEX club_claims_live ON club_claims (resource, starts_at) WHERE live = 1")
    db.execute("""
        CREATE TABLE club_reservations (
            res_id     TEXT PRIMARY KEY,
            room       TEXT NOT NULL,
            starts_at  TEXT NOT NULL,
            ends_at    TEXT NOT NULL,
            guests     INTEGER NOT NULL CHECK (guests > 0),
            member_no  TEXT NOT NULL DEFAULT '',
            guest_name TEXT NOT NULL DEFAULT '',
            title      TEXT NOT NULL DEFAULT '',      -- how a regular is greeted: 王總
            regular    INTEGER NOT NULL DEFAULT 0,
            requests   TEXT NOT NULL DEFAULT '',
            wines      TEXT NOT NULL DEFAULT '[]',    -- JSON list
            prep_lead_min INTEGER NOT NULL DEFAULT 30,
            state      TEXT NOT NULL CHECK (state IN ('booked', 'arrived', 'cancelled', 'no_show', 'closed')),
            claim_id   TEXT NOT NULL REFERENCES club_claims (claim_id),
            created_at TEXT NOT NULL,
            arrived_at TEXT,
            prep_sent_at TEXT,
            prep_alerted_at TEXT
        )""")
    db.execute("CREATE INDEX club_reservations_day ON club_reservations (starts_at)")
    db.execute("""
        CREATE TABLE club_checklist (
            res_id    TEXT NOT NULL REFERENCES club_reservations (res_id),
            item      TEXT NOT NULL,                  -- covers | tv_ac | fruit | towels | tableware
            qty       INTEGER NOT NULL DEFAULT 0,
            ticked_by TEXT,
            ticked_at TEXT,
            PRIMARY KEY (res_id, item)
        )""")


def m004_member_cards(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE club_cards (
            card_no    TEXT PRIMARY KEY,
            holder     TEXT NOT NULL,
            pin_hash   TEXT NOT NULL,                 -- scrypt:n:r:p:salt:hash (hex); never the PIN
            pin_failures INTEGER NOT NULL DEFAULT 0,
            locked_at  TEXT,
            created_at TEXT NOT NULL
        )""")
    # append-only: balances are sums, never stored
    db.execute("""
        CREATE TABLE club_card_entries (
            entry_id   TEXT PRIMARY KEY,
            card_no    TEXT NOT NULL REFERENCES club_cards (card_no),
            kind       TEXT NOT NULL CHECK (kind IN ('topup', 'spend', 'refund')),
            principal_fen INTEGER NOT NULL,           -- signed: + top-up, - spend
            bonus_fen  INTEGER NOT NULL,              -- signed
            ref        TEXT NOT NULL DEFAULT '',      -- bill number
            staff      TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX club_card_entries_card ON club_card_entries (card_no)")


def m005_fapiao_requests(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE club_fapiao_requests (
            order_no   TEXT PRIMARY KEY,              -- ULID: the provider's idempotent order number
            purpose    TEXT NOT NULL CHECK (purpose IN ('bill', 'topup')),
            ref        TEXT NOT NULL,                 -- the bill number or the top-up's ledger entry
            kind       TEXT NOT NULL CHECK (kind IN ('pc', 'bs')),
            amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
            excluded_fen INTEGER NOT NULL DEFAULT 0,  -- paid by member card: not on the fapiao
            buyer_name TEXT NOT NULL,
            buyer_tax_no TEXT NOT NULL DEFAULT '',
            state      TEXT NOT NULL CHECK (state IN ('intent', 'submitted', 'in_doubt', 'issued', 'failed')),
            attempts   INTEGER NOT NULL DEFAULT 0,
            invoice_no TEXT,
            pdf_url    TEXT,
            reason     TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    # one live request per bill or top-up: asking twice gives the same order back
    db.execute("CREATE UNIQUE INDEX club_fapiao_live ON club_fapiao_requests (purpose, ref) WHERE state != 'failed'")


def m006_service_prompts(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE club_prompt_marks (
            res_id  TEXT NOT NULL REFERENCES club_reservations (res_id),
            rule    TEXT NOT NULL,
            last_at TEXT NOT NULL,                  -- when this rule last prompted in this room
            PRIMARY KEY (res_id, rule)
        )""")


def m101_service_orders(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE club_orders (
            order_id  TEXT PRIMARY KEY,               -- ULID
            room      TEXT NOT NULL,
            res_id    TEXT REFERENCES club_reservations (res_id),
            state     TEXT NOT NULL CHECK (state IN ('open', 'closed')),
            opened_by TEXT NOT NULL DEFAULT '',
            opened_at TEXT NOT NULL,
            closed_at TEXT
        )""")
    db.execute("CREATE UNIQUE INDEX club_orders_open_room ON club_orders (room) WHERE state = 'open'")
    db.execute("""
        CREATE TABLE club_courses (
            order_id  TEXT NOT NULL REFERENCES club_orders (order_id),
            course    INTEGER NOT NULL CHECK (course BETWEEN 1 AND 9),
            state     TEXT NOT NULL CHECK (state IN ('held', 'fired', 'ready')),
            fired_by  TEXT,
            fired_at  TEXT,
            ready_by  TEXT,
            ready_at  TEXT,
            call_id   TEXT,                           -- the runner's can-serve call
            PRIMARY KEY (order_id, course)
        )""")
    # append-only: a void is a reversal line (negative qty, void_of), never a delete
    db.execute("""
        CREATE TABLE club_order_lines (
            line_id   TEXT PRIMARY KEY,               -- ULID
            order_id  TEXT NOT NULL REFERENCES club_orders (order_id),
            course    INTEGER NOT NULL,
            dish      TEXT NOT NULL,                  -- menu code
            station   TEXT NOT NULL CHECK (station IN ('kitchen', 'bar')),
            qty       INTEGER NOT NULL CHECK (qty != 0),
            unit_fen  INTEGER NOT NULL CHECK (unit_fen >= 0),
            note      TEXT NOT NULL DEFAULT '',
            void_of   TEXT REFERENCES club_order_lines (line_id),
            staff     TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            ticket_no TEXT,                           -- the station ticket that carried it (NULL: not sent yet)
            CHECK ((void_of IS NULL) = (qty > 0))
        )""")
    db.execute("CREATE INDEX club_order_lines_order ON club_order_lines (order_id, course)")
    db.execute("""
        CREATE TABLE club_tickets (
            ticket_no TEXT PRIMARY KEY,               -- <device>-<n>: the print job's ref
            order_id  TEXT NOT NULL REFERENCES club_orders (order_id),
            room      TEXT NOT NULL,
            course    INTEGER NOT NULL,
            station   TEXT NOT NULL CHECK (station IN ('kitchen', 'bar')),
            kind      TEXT NOT NULL CHECK (kind IN ('fire', 'add', 'void')),
            staff     TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        )""")
    # a phone's order actions, by its ULID: a message the broker delivers twice is done once
    db.execute("""
        CREATE TABLE club_order_requests (
            request   TEXT PRIMARY KEY,
            op        TEXT NOT NULL,
            result    TEXT NOT NULL,                  -- JSON: what the first one returned
            at        TEXT NOT NULL
        )""")


def m102_service_valet(db: sqlite_utils.Database) -> None:
    db.execute("""
        CREATE TABLE club_valet (
            tag_no     TEXT PRIMARY KEY,              -- <device>-<n>: the key tag's QR code
            res_id     TEXT REFERENCES club_reservations (res_id),
            room       TEXT NOT NULL,
            plate      TEXT NOT NULL DEFAULT '',
            state      TEXT NOT NULL CHECK (state IN ('parked', 'requested', 'returned')),
            parked_by  TEXT NOT NULL DEFAULT '',
            parked_at  TEXT NOT NULL,
            call_id    TEXT,                          -- the "bring the car" call
            requested_at TEXT,
            returned_by TEXT,
            returned_at TEXT,
            park_request TEXT UNIQUE,                 -- the phone's ULID for the park (sent again: one tag)
            return_request TEXT                       -- the phone's ULID for the scan at return
        )""")
    db.execute("CREATE INDEX club_valet_room ON club_valet (room, state)")


def m103_service_call_kinds(db: sqlite_utils.Database) -> None:
    """club_calls' kind CHECK widened to today's CALL_KINDS. SQLite cannot alter a CHECK, and a
    rebuild (new table, copy, drop) is not possible with foreign keys on inside the migration's
    transaction (the acks reference the table). A wider IN list changes no stored row, so the
    table's definition is edited in place, as SQLite's ALTER TABLE page describes for changes that
    do not touch the on-disk format (writable_schema, then a new schema_version); every row is
    checked against the new definition before the commit."""
    import re

    sql = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'club_calls'").fetchone()[0]
    new, n = re.subn(r"kind(\s+)TEXT NOT NULL CHECK \(kind IN \([^)]*\)\)",
                     lambda m: f"kind{m.group(1)}TEXT NOT NULL CHECK (kind IN ({_in(CALL_KINDS)}))", sql, count=1)
    if n != 1:
        raise RuntimeError("m103_service_call_kinds: club_calls has no kind CHECK to widen")
    version = db.execute("PRAGMA schema_version").fetchone()[0]
    db.execute("PRAGMA writable_schema = ON")
    try:
        db.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'club_calls'", [new])
        db.execute(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        db.execute("PRAGMA writable_schema = OFF")
    bad = db.execute(f"SELECT count(*) FROM club_calls WHERE kind NOT IN ({_in(CALL_KINDS)})").fetchone()[0]
    if bad or db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
        raise RuntimeError("m103_service_call_kinds: club_calls does not fit its new definition")


MIGRATIONS = [m001_calls, m002_shifts, m003_claims_and_reservations, m004_member_cards, m005_fapiao_requests,
              m006_service_prompts, m101_service_orders, m102_service_valet, m103_service_call_kinds]


def m201_cashier_bills(db: sqlite_utils.Database) -> None:
    # what the room ordered, when pos/club/orders.py is not there to say it (pos/club/bill.py)
    db.execute("""
        CREATE TABLE club_bill_items (
            item_id    TEXT PRIMARY KEY,
            res_id     TEXT NOT NULL REFERENCES club_reservations (res_id),
            name       TEXT NOT NULL,
            qty        INTEGER NOT NULL CHECK (qty > 0),
            unit_fen   INTEGER NOT NULL CHECK (unit_fen >= 0),
            course     TEXT NOT NULL DEFAULT '',
            added_at   TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX club_bill_items_res ON club_bill_items (res_id)")
    # a room's bill: its lines are frozen when the cashier opens it; payments are read from the
    # platform's ledgers (cash_movements, payment_attempts, club_card_entries) by bill number
    db.execute("""
        CREATE TABLE club_bills (
            bill_no    TEXT PRIMARY KEY,              -- device-prefixed number: never collides offline
            res_id     TEXT NOT NULL REFERENCES club_reservations (res_id),
            room       TEXT NOT NULL,
            total_fen  INTEGER NOT NULL CHECK (total_fen >= 0),
            state      TEXT NOT NULL CHECK (state IN ('open', 'confirmed', 'paid')),
            confirm    TEXT CHECK (confirm IN ('signature', 'printed')),
            signature  TEXT,                          -- PNG file name beside the store
            call_id    TEXT NOT NULL DEFAULT '',      -- the butler's "coming to pay" call
            cashier    TEXT NOT NULL DEFAULT '',
            opened_at  TEXT NOT NULL,
            confirmed_at TEXT,
            paid_at    TEXT
        )""")
    db.execute("CREATE UNIQUE INDEX club_bills_res ON club_bills (res_id)")
    db.execute("""
        CREATE TABLE club_bill_lines (
            bill_no    TEXT NOT NULL REFERENCES club_bills (bill_no),
            line_no    INTEGER NOT NULL,
            name       TEXT NOT NULL,
            qty        INTEGER NOT NULL,
            unit_fen   INTEGER NOT NULL,
            amount_fen INTEGER NOT NULL,
            course     TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (bill_no, line_no)
        )""")
    db.execute("""
        CREATE TABLE club_day_closes (
            close_id   TEXT PRIMARY KEY,
            day        TEXT NOT NULL,                 -- the site's local date
            cashier    TEXT NOT NULL,
            totals     TEXT NOT NULL,                 -- JSON, fen
            closed_at  TEXT NOT NULL
        )""")


MIGRATIONS.append(m201_cashier_bills)
