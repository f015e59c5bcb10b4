"""The store's tables for sync (a platform migration module of ``pos.store.migrations``).

``sync_state`` (key -> value: the pull cursor, the server URL, this device's secret) and
``sync_events`` (every event pulled, by global seq). What a device builds from the pulled events
lives in the site packs' own tables (``Pack.projections``).
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]


def m002_sync_tables(db) -> None:
    # IF NOT EXISTS: a store made before the site packs has them from sync.store_schema.m001_sync_cache
    db.execute("CREATE TABLE IF NOT EXISTS sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS sync_events (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, "
               "payload TEXT NOT NULL, server_time TEXT NOT NULL)")


MIGRATIONS = [m002_sync_tables]
