"""Schema migrations: functions, one per schema change, recorded by name in ``_migrations``.

Each feature keeps its migrations in a module of its own that exposes ``MIGRATIONS`` (a list of
functions taking a ``sqlite_utils.Database``). :data:`MIGRATION_MODULES` is the explicit,
ordered list of those modules; a migration's recorded name is ``<module>.<function>``, so
features can add migrations without renumbering each other. Never edit a migration that has
shipped: add a new one.
"""

from __future__ import annotations

import importlib
import logging
from typing import Callable

import sqlite_utils

from ..ids import utcnow_iso

log = logging.getLogger(__name__)

#: ordered; append new feature modules at the end
MIGRATION_MODULES = [
    "pos.store.schema_core",
]

Migration = Callable[[sqlite_utils.Database], None]


def all_migrations() -> list[tuple[str, Migration]]:
    out = []
    for modname in MIGRATION_MODULES:
        mod = importlib.import_module(modname)
        short = modname.rsplit(".", 1)[-1]
        for fn in mod.MIGRATIONS:
            out.append((f"{short}.{fn.__name__}", fn))
    return out


def apply_migrations(db: sqlite_utils.Database) -> list[str]:
    """Apply every migration not yet recorded, each in its own transaction. Returns the names applied."""
    conn = db.conn
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {r[0] for r in conn.execute("SELECT name FROM _migrations")}
    applied = []
    for name, fn in all_migrations():
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            fn(db)
            conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, utcnow_iso()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        log.info("store migration applied: %s", name)
        applied.append(name)
    return applied
