"""Kiosk-side tables for sync (a migration module listed in ``pos.store.migrations``).

``sync_state`` (key -> value: the pull cursor, the server URL, this device's secret),
``sync_events`` (every event pulled, by global seq), ``sync_beds`` (bed -> current admission, from
``bed.changed`` events) for the staff screens.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]


def m001_sync_cache(db) -> None:
    db.execute("CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("CREATE TABLE sync_events (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, payload TEXT NOT NULL, "
               "server_time TEXT NOT NULL)")
    db.execute("CREATE TABLE sync_beds (bed_id TEXT PRIMARY KEY, admission_id TEXT, state TEXT NOT NULL, at TEXT)")


MIGRATIONS = [m001_sync_cache]
