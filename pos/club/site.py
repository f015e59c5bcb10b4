"""Service factories for the pack manifest: ``factory(site)`` over the site's store and its
``[club]`` configuration section (:mod:`pos.club.config`)."""

from __future__ import annotations

from .calls import CallBook
from .cards import MemberCards
from .reservations import Reservations

__all__ = ["calls", "reservations", "cards"]


def calls(site) -> CallBook:
    return CallBook(site.store, ack_timeout=float(site.config.get("club", "ack_timeout")))


def reservations(site) -> Reservations:
    return Reservations(site.store, calls(site), tz=site.config.get("site", "timezone"),
                        venue=site.config.get("club", "venue"))


def cards(site) -> MemberCards:
    return MemberCards(site.store)
