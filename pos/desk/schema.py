"""The desk's tables in the device store (``Pack.store_migrations``).

``desk_orders``: this device's view of every work order (its own, and those pulled from the
server: alarms, other desks); ``desk_events``: the append-only history of each order (a trigger
refuses updates and deletes), one row per transition, the local audit trail; ``desk_finance``:
the finance hand-off queue; ``desk_rr``: the round-robin position per team; ``desk_conflicts``:
what the server decided against an edit from this device.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]


def m001_desk(db) -> None:
    x = db.execute
    x("""CREATE TABLE desk_orders (
        order_no TEXT PRIMARY KEY, channel TEXT NOT NULL, unit TEXT NOT NULL DEFAULT '',
        building TEXT NOT NULL DEFAULT '', party TEXT NOT NULL DEFAULT '', party_role TEXT NOT NULL DEFAULT '',
        kind TEXT, category TEXT NOT NULL DEFAULT '', priority INTEGER, deadline TEXT,
        payable INTEGER NOT NULL DEFAULT 0, fee_related INTEGER NOT NULL DEFAULT 0,
        emergency INTEGER NOT NULL DEFAULT 0, description TEXT NOT NULL DEFAULT '', photos TEXT NOT NULL DEFAULT '[]',
        team TEXT, assignee TEXT, cause_code TEXT, reopen_count INTEGER NOT NULL DEFAULT 0,
        alarm_count INTEGER NOT NULL DEFAULT 0, source_ref TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL, version INTEGER NOT NULL DEFAULT 0, received_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        seq INTEGER NOT NULL DEFAULT 0)""")
    x("CREATE INDEX desk_orders_state ON desk_orders (state, deadline)")
    x("CREATE INDEX desk_orders_unit ON desk_orders (unit)")
    x("""CREATE TABLE desk_events (
        id INTEGER PRIMARY KEY, order_no TEXT NOT NULL, event TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL,
        at TEXT NOT NULL, by TEXT NOT NULL DEFAULT '', data TEXT NOT NULL DEFAULT '{}', source TEXT NOT NULL)""")
    x("CREATE INDEX desk_events_order ON desk_events (order_no, id)")
    x("""CREATE TRIGGER desk_events_no_update BEFORE UPDATE ON desk_events
         BEGIN SELECT RAISE(ABORT, 'desk_events is append-only'); END""")
    x("""CREATE TRIGGER desk_events_no_delete BEFORE DELETE ON desk_events
         BEGIN SELECT RAISE(ABORT, 'desk_events is append-only'); END""")
    x("""CREATE TABLE desk_finance (
        handoff_id TEXT PRIMARY KEY, order_no TEXT NOT NULL, amount_fen INTEGER CHECK (amount_fen >= 0),
        category TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT 'open', created_at TEXT NOT NULL)""")
    x("CREATE TABLE desk_rr (team TEXT PRIMARY KEY, next INTEGER NOT NULL)")
    x("""CREATE TABLE desk_conflicts (
        order_no TEXT NOT NULL, event TEXT NOT NULL, server_state TEXT NOT NULL, reason TEXT NOT NULL,
        seq INTEGER PRIMARY KEY)""")


def m301_desk_payments(db) -> None:
    """What a paid special service was paid with: the fen, card or cash, and the journal attempt or
    the cash receipt number (never card data)."""
    for col in ("paid_fen INTEGER CHECK (paid_fen >= 0)", "pay_method TEXT", "payment_ref TEXT", "paid_at TEXT"):
        db.execute(f"ALTER TABLE desk_finance ADD COLUMN {col}")


MIGRATIONS = [m001_desk, m301_desk_payments]
