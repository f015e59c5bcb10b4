"""The hospital pack's tables on the central server (``Pack.server_migrations``), per dialect.

``admissions`` (what the server knows of each admission: scheduled discharge, discharge) and
``ledger`` (append-only: updates and deletes are refused by a trigger). Beds are not a table of
their own: a bed is a generic resource claim (``bed:<ward>/<bed no>`` in ``resource_claims``).
A database made before the site packs has these tables already (from the platform's old m001/m002)
and its bed claims in ``bed_claims``/``bed_conflicts``: m001 keeps what exists, m002 moves the claims.
"""

from __future__ import annotations

from ..claims import resource_key as _key

__all__ = ["MIGRATIONS"]

_TABLES = [
    """CREATE TABLE IF NOT EXISTS admissions (
        admission_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, patient TEXT NOT NULL, ward TEXT NOT NULL DEFAULT '',
        admitted_at TEXT NOT NULL, discharge_scheduled_at TEXT, discharged_at TEXT, command_id TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS ledger (
        entry_id TEXT PRIMARY KEY, admission_id TEXT NOT NULL, entry_kind TEXT NOT NULL, amount_fen BIGINT NOT NULL,
        item TEXT NOT NULL DEFAULT '', method TEXT NOT NULL DEFAULT '', device_id TEXT NOT NULL,
        created_at TEXT NOT NULL, command_id TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS ledger_admission ON ledger (admission_id)",
]

_SQLITE = _TABLES + [
    """CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON ledger
       BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON ledger
       BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END""",
]

_POSTGRES = _TABLES + [
    """CREATE OR REPLACE FUNCTION onestop_append_only() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'ledger is append-only'; END $$""",
    """CREATE OR REPLACE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
       FOR EACH ROW EXECUTE FUNCTION onestop_append_only()""",
]


def _move_claims(exists_sql: str):
    def move(cur) -> None:
        if not cur.execute(exists_sql, ("bed_claims",)).fetchone()[0]:
            return
        rows = cur.execute("SELECT claim_id, bed_id, admission_id, device_id, start_at, end_at, command_id "
                           "FROM bed_claims").fetchall()
        cur.executemany("INSERT INTO resource_claims (claim_id, resource, resource_key, holder, device_id, start_at, "
                        "end_at, state, command_id) VALUES (?, ?, ?, ?, ?, ?, ?, 'live', ?)",
                        [(c, f"bed:{b}", _key(f"bed:{b}"), a, d, s, e, cmd) for c, b, a, d, s, e, cmd in rows])
        cur.execute("INSERT INTO claim_conflicts (conflict_id, resource, holder, device_id, start_at, held_by, "
                    "command_id, created_at, resolved_at, resolution) SELECT conflict_id, 'bed:' || bed_id, "
                    "admission_id, device_id, start_at, held_by, command_id, created_at, resolved_at, resolution "
                    "FROM bed_conflicts")
        cur.execute("DROP TABLE bed_claims")
        cur.execute("DROP TABLE bed_conflicts")
    return move


#: the bed conflict queue as the IT page reads it: the hospital's claims of the platform's queue
_CONFLICT_VIEW = ("CREATE VIEW bed_conflicts AS SELECT conflict_id, substr(resource, 5) AS bed_id, "
                  "holder AS admission_id, device_id, start_at, held_by, command_id, created_at, resolved_at, "
                  "resolution FROM claim_conflicts WHERE substr(resource, 1, 4) = 'bed:'")


MIGRATIONS = {
    "sqlite": [("m001_tables", _SQLITE),
               ("m002_claims", [_move_claims("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"),
                                _CONFLICT_VIEW])],
    "postgres": [("m001_tables", _POSTGRES),
                 ("m002_claims", [_move_claims("SELECT count(*) FROM pg_tables WHERE tablename = ?"),
                                  _CONFLICT_VIEW])],
}
