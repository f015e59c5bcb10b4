"""The desk pack's services, built by :class:`pos.site.Site` on first use (``Pack.services``)."""

from __future__ import annotations

__all__ = ["desk_service"]


def desk_service(site):
    from .service import DeskService

    return DeskService.from_config(site.store, site.config)
