"""The desk pack's tables on the central server (``Pack.server_migrations``).

``desk_orders`` (the server's copy of each order: what its handlers decide transitions against),
``desk_transitions`` (append-only: one row per applied transition, with its time in UTC text and
Unix seconds, so reports compute on either database the same way), ``desk_alarms`` (every alarm
received, merged or not), ``desk_finance`` (the finance hand-off queue), ``desk_conflicts`` (edits
the server refused: an order it had closed), ``desk_archive`` (the office copies: PDF/A bytes and
their SHA-256; the owner's copy queued and its printing and filing recorded).
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]


def _tables(blob: str) -> list[str]:
    return [
        """CREATE TABLE IF NOT EXISTS desk_orders (
            order_no TEXT PRIMARY KEY, channel TEXT NOT NULL, unit TEXT NOT NULL, building TEXT NOT NULL,
            party TEXT NOT NULL, kind TEXT, category TEXT NOT NULL, priority INTEGER, deadline TEXT,
            payable INTEGER NOT NULL, fee_related INTEGER NOT NULL, emergency INTEGER NOT NULL,
            team TEXT, assignee TEXT, cause_code TEXT, reopen_count INTEGER NOT NULL DEFAULT 0,
            alarm_count INTEGER NOT NULL DEFAULT 0, source_ref TEXT NOT NULL, state TEXT NOT NULL,
            version INTEGER NOT NULL, received_at TEXT NOT NULL, received_s BIGINT NOT NULL, device_id TEXT NOT NULL,
            order_json TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS desk_orders_point ON desk_orders (source_ref, state)",
        """CREATE TABLE IF NOT EXISTS desk_transitions (
            command_id TEXT PRIMARY KEY, order_no TEXT NOT NULL, event TEXT NOT NULL, from_state TEXT NOT NULL,
            to_state TEXT NOT NULL, at TEXT NOT NULL, at_s BIGINT NOT NULL, by_whom TEXT NOT NULL,
            assignee TEXT, rating TEXT, amount_fen BIGINT, cause_code TEXT, device_id TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS desk_transitions_order ON desk_transitions (order_no, at)",
        """CREATE TABLE IF NOT EXISTS desk_alarms (
            alarm_id TEXT PRIMARY KEY, point TEXT NOT NULL, alarm_type TEXT NOT NULL, order_no TEXT NOT NULL,
            merged INTEGER NOT NULL, at TEXT NOT NULL, device_id TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS desk_finance (
            handoff_id TEXT PRIMARY KEY, order_no TEXT NOT NULL, amount_fen BIGINT, category TEXT NOT NULL,
            created_at TEXT NOT NULL, device_id TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS desk_conflicts (
            command_id TEXT PRIMARY KEY, order_no TEXT NOT NULL, event TEXT NOT NULL, from_state TEXT NOT NULL,
            server_state TEXT NOT NULL, reason TEXT NOT NULL, device_id TEXT NOT NULL, created_at TEXT NOT NULL,
            payload TEXT NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS desk_archive (
            order_no TEXT PRIMARY KEY, state TEXT NOT NULL, queued_at TEXT NOT NULL, rendered_at TEXT,
            sha256 TEXT, pdf {blob}, owner_state TEXT NOT NULL DEFAULT 'waiting', owner_printed_at TEXT,
            owner_received_by TEXT, owner_filed_at TEXT)""",
    ]


_SQLITE = _tables("BLOB") + [
    """CREATE TRIGGER IF NOT EXISTS desk_transitions_no_update BEFORE UPDATE ON desk_transitions
       BEGIN SELECT RAISE(ABORT, 'desk_transitions is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS desk_transitions_no_delete BEFORE DELETE ON desk_transitions
       BEGIN SELECT RAISE(ABORT, 'desk_transitions is append-only'); END""",
]

_POSTGRES = _tables("BYTEA") + [
    """CREATE OR REPLACE FUNCTION desk_append_only() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'desk_transitions is append-only'; END $$""",
    """CREATE OR REPLACE TRIGGER desk_transitions_append_only BEFORE UPDATE OR DELETE ON desk_transitions
       FOR EACH ROW EXECUTE FUNCTION desk_append_only()""",
]

#: the finance queue's state on the server (open, charged, cancelled) and what a paid service was paid with
_M301 = ["ALTER TABLE desk_finance ADD COLUMN state TEXT NOT NULL DEFAULT 'open'",
         "ALTER TABLE desk_finance ADD COLUMN paid_fen BIGINT", "ALTER TABLE desk_finance ADD COLUMN pay_method TEXT",
         "ALTER TABLE desk_finance ADD COLUMN payment_ref TEXT", "ALTER TABLE desk_finance ADD COLUMN paid_at TEXT"]


def _m302(blob: str) -> list[str]:
    """The monthly report's analysis and the manager's sign-off (the signed report's figures and PDF
    kept as signed); the outside systems enrolled for the intake endpoint, with their role."""
    return [
        f"""CREATE TABLE IF NOT EXISTS desk_reports (
            month TEXT PRIMARY KEY, analysis TEXT NOT NULL DEFAULT '', analysis_by TEXT NOT NULL DEFAULT '',
            analysis_at TEXT, signed_by TEXT, signed_at TEXT, report_json TEXT, pdf {blob}, sha256 TEXT)""",
        """CREATE TABLE IF NOT EXISTS desk_intake_callers (
            device_id TEXT PRIMARY KEY, role TEXT NOT NULL, granted_at TEXT NOT NULL)""",
    ]


MIGRATIONS = {"sqlite": [("m001_tables", _SQLITE), ("m301_finance_payments", _M301),
                         ("m302_reports_and_intake_callers", _m302("BLOB"))],
              "postgres": [("m001_tables", _POSTGRES), ("m301_finance_payments", _M301),
                           ("m302_reports_and_intake_callers", _m302("BYTEA"))]}
