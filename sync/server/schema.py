"""Server schema migrations, one function per change, per dialect, recorded in ``server_migrations``.

The tables: ``devices`` (enrolled kiosks, their secret and health), ``enrol_codes`` (one-time),
``nonces`` (replay protection), ``commands`` (every command ever accepted, ``command_id`` UNIQUE
forever, with its stored result, and its first event: ``seq``, ``event_kind``, ``event_payload``
(NULL = the command's own payload)), ``events`` (the other events of the gapless global log kiosks
pull; ``payload`` NULL = the command's payload), ``counters``
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

def _backfill_bed_keys(cur) -> None:
    from .commands import bed_key
    rows = cur.execute("SELECT claim_id, bed_id FROM bed_claims").fetchall()
    cur.executemany("UPDATE bed_claims SET bed_key = ? WHERE claim_id = ?", [(bed_key(b), c) for c, b in rows])


# A command carries its first event in its own row (number, kind, and payload when the event's is not
# the command's own): no ``events`` row for most commands. Pulls read both (see service.read_events).
# Bed claims get ``bed_key``, a 64-bit hash of the bed computed by the server (commands.bed_key), which
# leads the exclusion constraint: btree_gist on a text column cost ~100 us per inserted claim (its node
# keys are text ranges that overlap, so the insert and the overlap check visit many pages), on an int8
# a third of that. ``bed_id WITH =`` stays in the constraint: a hash collision can never make two beds
# conflict. Claims are looked up with ``bed_key = ? AND bed_id = ?`` on both backends.
_M003_COMMON = [
    "ALTER TABLE commands ADD COLUMN seq BIGINT",
    "ALTER TABLE commands ADD COLUMN event_kind TEXT",
    "ALTER TABLE commands ADD COLUMN event_payload TEXT",
    "CREATE UNIQUE INDEX commands_seq ON commands (seq) WHERE seq IS NOT NULL",
    "ALTER TABLE bed_claims ADD COLUMN bed_key BIGINT",
    _backfill_bed_keys,
]

_M003_SQLITE = _M003_COMMON + [
    "CREATE INDEX bed_claims_key ON bed_claims (bed_key)",
    "DROP TRIGGER bed_claims_no_overlap",
    """CREATE TRIGGER bed_claims_no_overlap BEFORE INSERT ON bed_claims
       WHEN EXISTS (SELECT 1 FROM bed_claims c WHERE c.bed_key = NEW.bed_key AND c.bed_id = NEW.bed_id
                    AND (c.end_at IS NULL OR c.end_at > NEW.start_at)
                    AND (NEW.end_at IS NULL OR NEW.end_at > c.start_at))
       BEGIN SELECT RAISE(ABORT, 'bed_overlap'); END""",
]

_M003_POSTGRES = _M003_COMMON + [
    "ALTER TABLE bed_claims ALTER COLUMN bed_key SET NOT NULL",
    """ALTER TABLE bed_claims ADD CONSTRAINT bed_claims_no_overlap
       EXCLUDE USING gist (bed_key WITH =, bed_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&)""",
    "ALTER TABLE bed_claims DROP CONSTRAINT bed_claims_bed_id_tstzrange_excl",
]

#: dialect -> ordered [(name, [sql or fn(cur), ...])]; never edit a shipped entry, append a new one
MIGRATIONS = {
    "sqlite": [("m001_core", _COMMON), ("m002_beds_ledger", _SQLITE), ("m003_ingest", _M003_SQLITE)],
    "postgres": [("m001_core", _COMMON), ("m002_beds_ledger", _POSTGRES), ("m003_ingest", _M003_POSTGRES)],
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
            sql(cur) if callable(sql) else cur.execute(sql)
        cur.execute("INSERT INTO server_migrations (name, applied_at) VALUES (?, ?)", (name, utcnow_iso()))
        applied.append(name)
    return applied
