"""The club site pack (R- requirements): a dining club's private-room reception, in one manifest
(the contract is :mod:`pos.packs`; listed in ``pyproject.toml`` under ``onestop.packs``).

The club's runtime is not a kiosk front end: the box (:mod:`kiosk.club.box`) routes role calls
over the club's own MQTT broker (:mod:`sync.mqtt`), and each role has its own small screen
(:mod:`kiosk.club.screen`). Services here are the pure domain over the site's store.
"""

from __future__ import annotations

from pos.packs import Kind, Pack

from .kinds import KINDS

__all__ = ["PACK"]

PACK = Pack(
    name="club",
    summary="Private-room reception: role calls, reservations, room preparation, member cards, fapiao rules",
    store_migrations=("pos.club.schema",),
    config="pos.club.config:CONFIG",
    kinds=tuple(Kind(name, offline=True, payload=schema, times=tuple(
        f for f in schema.__struct_fields__ if f.endswith("_at"))) for name, schema in KINDS.items()),
    services={"club_calls": "pos.club.site:calls", "club_reservations": "pos.club.site:reservations",
              "club_cards": "pos.club.site:cards",
              "club": "pos.club.cashier:service"},
    commands=("kiosk.club.commands",),     # onestop club box | role | demo
    posters="pos.club.cashier:POSTERS",
)
