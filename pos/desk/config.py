"""The desk pack's section of the site configuration (``Pack.config``): ``[desk]``."""

from __future__ import annotations

from ..config import Key

__all__ = ["SECTIONS"]

SECTIONS = {"desk": {
    "categories": Key(str, "", "Desk category tree and teams (TOML); empty = assets/config/desk_categories.toml."),
    "site_name": Key(str, "", "The community's name on slips, archive copies and the desk's header (empty: site.name)."),
}}
