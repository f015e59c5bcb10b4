"""ULIDs for club rows: 26 Crockford base32 characters, 48-bit Unix milliseconds then 80 bits.

The bits are those of :func:`pos.ids.uuid7` (time first, monotonic within the process), written
in the ULID alphabet, so a ULID sorts by creation time as text and two offline devices never
collide (74 random bits per millisecond).
"""

from __future__ import annotations

from pos.ids import uuid7

__all__ = ["ulid", "ulid_ms"]

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid() -> str:
    n = uuid7().int
    return "".join(CROCKFORD[(n >> (5 * i)) & 31] for i in range(25, -1, -1))


def ulid_ms(value: str) -> int:
    """The creation time of a ULID, in Unix milliseconds."""
    n = 0
    for ch in value.upper():
        n = n * 32 + CROCKFORD.index(ch)
    return n >> 80
