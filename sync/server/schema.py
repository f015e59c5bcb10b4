"""Server schema migrations, one function per change, per dialect, recorded in ``server_migrations``.

The tables: ``devices`` (enrolled kiosks, their secret and health), ``enrol_codes`` (one-time),
``nonces`` (replay protection), ``commands`` (every command ever accepted, ``command_id`` UNIQUE
forever, with its stored result, and its first event: ``seq``, ``event_kind``, ``event_payload``
(NULL = the command's own payload)), ``events`` (the other events of the gapless global log kiosks
pull; ``payload`` NULL = the command's payload), ``counters``
(single-row sequence counters), ``resource_claims`` (generic claims of a resource over a time
range under one exclusion rule) and ``claim_conflicts`` (claims refused, waiting on the IT page).
A site pack adds its own tables (``Pack.server_migrations``; the hospital pack's are in
``pos.hospital.server_schema``).
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
]

# Generic resource claims: a hospital bed, a dining room for an evening, a technician's time slot. A
# claim holds ``resource`` for ``holder`` over [start_at, end_at) (end NULL = open); one exclusion
# rule for every pack: no two *live* claims of one resource overlap (an exclusion constraint on
# PostgreSQL, triggers on SQLite); a cancelled claim (state 'cancelled') no longer counts.
# ``resource_key`` is a 64-bit hash of the resource (commands.resource_key) that leads the
# constraint: btree_gist on a text column cost ~100 us per inserted claim, on an int8 a third of
# that; ``resource WITH =`` stays in the constraint, so a hash collision never makes two resources
# conflict. Claims are looked up with ``resource_key = ? AND resource = ?`` on both backends.
# ``claim_conflicts`` is the queue of claims refused because the resource was taken (resolved on
# the IT page). ``commands`` carries its first event in its own row (number, kind, and payload when
# the event's is not the command's own): no ``events`` row for most commands.
_CLAIMS = """CREATE TABLE resource_claims (
        claim_id TEXT PRIMARY KEY, resource TEXT NOT NULL, resource_key BIGINT NOT NULL, holder TEXT NOT NULL,
        device_id TEXT NOT NULL, start_at {time} NOT NULL, end_at {time}, state TEXT NOT NULL DEFAULT 'live',
        command_id TEXT NOT NULL{exclude})"""
_CONFLICTS = """CREATE TABLE claim_conflicts (
        conflict_id TEXT PRIMARY KEY, resource TEXT NOT NULL, holder TEXT NOT NULL, device_id TEXT NOT NULL,
        start_at TEXT NOT NULL, held_by TEXT NOT NULL, command_id TEXT NOT NULL, created_at TEXT NOT NULL,
        resolved_at TEXT, resolution TEXT)"""
_OVERLAP = """WHEN NEW.state = 'live' AND EXISTS (
           SELECT 1 FROM resource_claims c WHERE c.resource_key = NEW.resource_key AND c.resource = NEW.resource
           AND c.state = 'live' AND c.claim_id != NEW.claim_id
           AND (c.end_at IS NULL OR c.end_at > NEW.start_at) AND (NEW.end_at IS NULL OR NEW.end_at > c.start_at))
       BEGIN SELECT RAISE(ABORT, 'claim_overlap'); END"""
_INGEST = [
    "ALTER TABLE commands ADD COLUMN seq BIGINT",
    "ALTER TABLE commands ADD COLUMN event_kind TEXT",
    "ALTER TABLE commands ADD COLUMN event_payload TEXT",
    "CREATE UNIQUE INDEX commands_seq ON commands (seq) WHERE seq IS NOT NULL",
]
_M004_SQLITE = [
    _CLAIMS.format(time="TEXT", exclude=""),
    "CREATE INDEX resource_claims_key ON resource_claims (resource_key)",
    "CREATE INDEX resource_claims_holder ON resource_claims (holder)",
    f"CREATE TRIGGER resource_claims_no_overlap BEFORE INSERT ON resource_claims {_OVERLAP}",
    f"CREATE TRIGGER resource_claims_no_overlap_update BEFORE UPDATE OF state, start_at, end_at ON resource_claims "
    f"{_OVERLAP}",
    _CONFLICTS,
]
_M004_POSTGRES = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    _CLAIMS.format(time="TIMESTAMPTZ", exclude=""",
        CONSTRAINT resource_claims_no_overlap EXCLUDE USING gist
            (resource_key WITH =, resource WITH =, tstzrange(start_at, end_at, '[)') WITH &&) WHERE (state = 'live')"""),
    "CREATE INDEX resource_claims_holder ON resource_claims (holder)",
    _CONFLICTS,
]

# m002 (a site's tables) moved into the site packs' own server migrations; a database that has it
# recorded keeps its tables, which the pack's migrations adopt.
#: dialect -> ordered [(name, [sql or fn(cur), ...])]; never edit a shipped entry, append a new one
MIGRATIONS = {
    "sqlite": [("m001_core", _COMMON), ("m003_ingest", _INGEST), ("m004_claims", _M004_SQLITE)],
    "postgres": [("m001_core", _COMMON), ("m003_ingest", _INGEST), ("m004_claims", _M004_POSTGRES)],
}


def apply_schema(cur, dialect: str) -> list[str]:
    """Apply missing migrations inside the caller's transaction: the platform's, then each active site
    pack's (``pos.packs.server_migrations``, recorded as ``<pack>.<name>``). Returns the names applied."""
    from pos.packs import server_migrations

    cur.execute("CREATE TABLE IF NOT EXISTS server_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {r[0] for r in cur.execute("SELECT name FROM server_migrations").fetchall()}
    from pos.ids import utcnow_iso
    applied = []
    for name, statements in MIGRATIONS[dialect] + server_migrations(dialect):
        if name in done:
            continue
        for sql in statements:
            sql(cur) if callable(sql) else cur.execute(sql)
        cur.execute("INSERT INTO server_migrations (name, applied_at) VALUES (?, ?)", (name, utcnow_iso()))
        applied.append(name)
    return applied
