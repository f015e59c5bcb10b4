"""The club's tables in the local store.

A club box opens its store with the club's migration modules whatever the site's pack selection
(:func:`pos.store.migrations.apply_migrations` with ``extra``): the platform's bookkeeping
(``_migrations``, one transaction per function, recorded by full name) applies them once, and a
hospital kiosk's store never gets them unless its site runs the club pack.
"""

from __future__ import annotations

from pos.store import Store
from pos.store.migrations import apply_migrations

__all__ = ["MIGRATION_MODULES", "apply_pack_migrations", "open_club_store"]

MIGRATION_MODULES = ["pos.club.schema"]


def apply_pack_migrations(store: Store, modules: list[str]) -> list[str]:
    """Apply ``modules``' pending migrations to an open store (under its write lock)."""
    with store._write_lock:
        return apply_migrations(store, modules)


def open_club_store(path, device_id: str | None = None) -> Store:
    store = Store(path, device_id=device_id, device_prefix="C")
    apply_pack_migrations(store, MIGRATION_MODULES)
    return store
