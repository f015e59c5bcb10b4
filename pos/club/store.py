"""The club's tables in the local store.

Until the platform's site-pack contract lands, the pack applies its own migration modules with
the store's own bookkeeping (``_migrations``, one transaction per function, recorded by full
name), so a hospital kiosk's store never gets club tables and a club box's store gets them once.
"""

from __future__ import annotations

import importlib
import logging

from pos.ids import utcnow_iso
from pos.store import Store

__all__ = ["MIGRATION_MODULES", "apply_pack_migrations", "open_club_store"]

log = logging.getLogger(__name__)

MIGRATION_MODULES = ["pos.club.schema"]


def apply_pack_migrations(store: Store, modules: list[str]) -> list[str]:
    conn = store.conn
    done = {r[0] for r in conn.execute("SELECT name FROM _migrations")}
    applied = []
    with store._write_lock:
        for modname in modules:
            for fn in importlib.import_module(modname).MIGRATIONS:
                name = f"{modname}.{fn.__name__}"
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


def open_club_store(path, device_id: str | None = None) -> Store:
    store = Store(path, device_id=device_id, device_prefix="C")
    apply_pack_migrations(store, MIGRATION_MODULES)
    return store
