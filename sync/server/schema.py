"""Server schema migrations, one function per change, per dialect, recorded in ``server_migrations``.

The tables: ``devices`` (enrolled kiosks, their secret and health), ``enrol_codes`` (one-time),
``nonces`` (replay protection), ``commands`` (every command ever accepted, ``command_id`` UNIQUE
forever, with its stored result), ``events`` (the gapless global log kiosks pull; ``payload`` NULL = the command's payload), ``counters``
(single-row sequence counters), ``admissions``, ``bed_claims`` (no two active claims of one bed
overlap: an exclusion constraint on PostgreSQL, a trigger on SQLite), ``bed_conflicts`` (the
nurse's queue) and ``ledger`` (append-only: updates and deletes are refused by a trigger).
"""

from __future__ import annotations

__all__ = ["apply_schema", "MIGRATIONS"]

_COMMON = [
    """CREATE TABLE devices (
        device_id TEXT PRIMARY KEY, secret TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
        enrolled_at TEXT NOT NULL, revoked_at TEXT, last_seen TEXT, last_device_time TEXT,
        skew_s DOUBLE PRECISION, queue_depth INTEGER, health TEXT, last_seq_pulled BIGINT)""",
    """CREATE TABLE enrol_codes (
        code TEXT PRIMARY KEY, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
        used_at TEXT, used_by TEXT)""",
    """CREATE TABLE nonces (device_id TEXT NOT NULL, nonce TEXT NOT NULL, seen_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (device_id, nonce))""",
    """CREATE TABLE commands (
        command_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, device_seq BIGINT NOT NULL,
        created_at TEXT NOT NULL, received_at TEXT NOT NULL, kind TEXT NOT NULL, payload TEXT NOT NULL,
        status TEXT NOT NULL, result TEXT NOT NULL)""",
    """CREATE TABLE events (
        seq BIGINT PRIMARY KEY, kind TEXT NOT NULL, payload TEXT, device_id TEXT NOT NULL,
        command_id TEXT NOT NULL, server_time TEXT NOT NULL)""",
    "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
    "INSERT INTO counters (name, value) VALUES ('events', 0)",
    """CREATE TABLE admissions (
        admission_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, patient TEXT NOT NULL, ward TEXT NOT NULL DEFAULT '',
        admitted_at TEXT NOT NULL, discharge_scheduled_at TEXT, discharged_at TEXT, command_id TEXT NOT NULL)""",
    """CREATE TABLE bed_conflicts (
        conflict_id TEXT PRIMARY KEY, bed_id TEXT NOT NULL, admission_id TEXT NOT NULL, device_id TEXT NOT NULL,
        start_at TEXT NOT NULL, held_by TEXT NOT NULL, command_id TEXT NOT NULL, created_at TEXT NOT NULL,
        resolved_at TEXT, resolution TEXT)""",
    """CREATE TABLE ledger (
        entry_id TEXT PRIMARY KEY, admission_id TEXT NOT NULL, entry_kind TEXT NOT NULL, amount_fen BIGINT NOT NULL,
        item TEXT NOT NULL DEFAULT '', method TEXT NOT NULL DEFAULT '', device_id TEXT NOT NULL,
        created_at TEXT NOT NULL, command_id TEXT NOT NULL)""",
    "CREATE INDEX ledger_admission ON ledger (admission_id)",
]

_SQLITE = [
    """CREATE TABLE bed_claims (
        claim_id TEXT PRIMARY KEY, bed_id TEXT NOT NULL, admission_id TEXT NOT NULL, device_id TEXT NOT NULL,
        start_at TEXT NOT NULL, end_at TEXT, command_id TEXT NOT NULL)""",
    """CREATE TRIGGER bed_claims_no_overlap BEFORE INSERT ON bed_claims
       WHEN EXISTS (SELECT 1 FROM bed_claims c WHERE c.bed_id = NEW.bed_id
                    AND (c.end_at IS NULL OR c.end_at > NEW.start_at)
                    AND (NEW.end_at IS NULL OR NEW.end_at > c.start_at))
       BEGIN SELECT RAISE(ABORT, 'bed_overlap'); END""",
    """CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
       BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END""",
    """CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
       BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END""",
]

_POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    """CREATE TABLE bed_claims (
        claim_id TEXT PRIMARY KEY, bed_id TEXT NOT NULL, admission_id TEXT NOT NULL, device_id TEXT NOT NULL,
        start_at TIMESTAMPTZ NOT NULL, end_at TIMESTAMPTZ, command_id TEXT NOT NULL,
        EXCLUDE USING gist (bed_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&))""",
    """CREATE FUNCTION onestop_append_only() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'ledger is append-only'; END $$""",
    """CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
       FOR EACH ROW EXECUTE FUNCTION onestop_append_only()""",
]

#: dialect -> ordered [(name, [sql, ...])]; never edit a shipped entry, append a new one
MIGRATIONS = {
    "sqlite": [("m001_core", _COMMON), ("m002_beds_ledger", _SQLITE)],
    "postgres": [("m001_core", _COMMON), ("m002_beds_ledger", _POSTGRES)],
}


def apply_schema(cur, dialect: str) -> list[str]:
    """Apply missing migrations inside the caller's transaction. Returns the names applied."""
    cur.execute("CREATE TABLE IF NOT EXISTS server_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {r[0] for r in cur.execute("SELECT name FROM server_migrations").fetchall()}
    from pos.ids import utcnow_iso
    applied = []
    for name, statements in MIGRATIONS[dialect]:
        if name in done:
            continue
        for sql in statements:
            cur.execute(sql)
        cur.execute("INSERT INTO server_migrations (name, applied_at) VALUES (?, ?)", (name, utcnow_iso()))
        applied.append(name)
    return applied
