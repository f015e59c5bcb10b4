"""Generic resource claims (a hospital bed, a dining room for an evening, a technician's time slot):
what the central server and the packs share. A resource is ``<type>:<name>`` (``bed:W3/15``); the
server keeps claims in ``resource_claims`` under one exclusion rule (no two live claims of one
resource overlap in time)."""

from __future__ import annotations

import hashlib

__all__ = ["resource_key"]


def resource_key(resource: str) -> int:
    """A signed 64-bit hash of a resource: the leading column of the claim exclusion constraint (an int8 is
    far cheaper in a GiST index than text). Claims are found by ``resource_key = ? AND resource = ?``."""
    return int.from_bytes(hashlib.blake2b(resource.encode(), digest_size=8).digest(), "big", signed=True)
