"""Schema migrations: functions, one per schema change, recorded by name in ``_migrations``.

Each feature keeps its migrations in a module of its own that exposes ``MIGRATIONS`` (a list of
functions taking a ``sqlite_utils.Database``). :data:`MIGRATION_MODULES` is the platform's
explicit, ordered list of those modules; each active site pack then adds its own
(``Pack.store_migrations``, see :mod:`pos.packs`). A migration's recorded name is
``<full.module.name>.<function>``, so features can add migrations without renumbering each other.
Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Callable

from ..ids import utcnow_iso

if TYPE_CHECKING:
    import sqlite_utils

log = logging.getLogger(__name__)

#: the platform's, ordered; append new feature modules at the end (a site's go in its pack)
MIGRATION_MODULES = [
    "pos.store.schema_core",
    "pos.store.schema_sync",
    "pos.payments.schema",
    "pos.store.schema_printing",
]

Migration = Callable[["sqlite_utils.Database"], None]


def all_migrations(extra: list[str] | tuple = ()) -> list[tuple[str, Migration]]:
    """The platform's migrations, the active packs', then those of ``extra`` modules not among them."""
    from ..packs import store_migration_modules

    modules = MIGRATION_MODULES + store_migration_modules()
    out = []
    for modname in modules + [m for m in extra if m not in modules]:
        mod = importlib.import_module(modname)
        for fn in mod.MIGRATIONS:
            out.append((f"{modname}.{fn.__name__}", fn))
    return out


def apply_migrations(store, extra: list[str] | tuple = ()) -> list[str]:
    """Apply every migration not yet recorded, each in its own transaction. Returns the names applied.
    ``extra``: migration modules a process needs beyond the active packs' (a pack's own tool, such as
    the club box, opening a store whatever the site's pack selection).

    ``store`` is a :class:`pos.store.Store`; its sqlite-utils ``db`` is only created when a
    migration is pending."""
    conn = store.conn
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {r[0] for r in conn.execute("SELECT name FROM _migrations")}
    applied = []
    for name, fn in all_migrations(extra):
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            fn(store.db)
            conn.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, utcnow_iso()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        log.info("store migration applied: %s", name)
        applied.append(name)
    return applied
