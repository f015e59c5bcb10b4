"""Identifiers that offline devices create without talking to anyone, and never collide.

* ``uuid7()`` - time-ordered UUIDs (RFC 9562) for command and attempt IDs.
* ``device_id`` - every store gets one on first open; every human-facing number a device issues
  (receipt, inpatient number) carries it as a prefix, plus a per-device sequence kept in the
  store, so two kiosks that were offline at the same time cannot issue the same number.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid

__all__ = ["uuid7", "new_device_id", "utcnow_iso", "DEVICE_ID_ALPHABET"]

DEVICE_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1: read aloud at a counter

_lock = threading.Lock()
_last_ms = 0
_last_rand = 0


def uuid7() -> uuid.UUID:
    """A UUIDv7: 48-bit Unix milliseconds, then random bits; monotonic within this process."""
    global _last_ms, _last_rand
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            rand = _last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 6  # 74 random bits
        _last_ms, _last_rand = ms, rand
    rand &= (1 << 74) - 1
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76                       # version
    value |= ((rand >> 62) & 0xFFF) << 64    # rand_a (12 bits)
    value |= 0b10 << 62                      # variant
    value |= rand & ((1 << 62) - 1)          # rand_b (62 bits)
    return uuid.UUID(int=value)


def new_device_id(prefix: str = "K") -> str:
    """A short device ID such as ``K7QX4``: a role letter and four random symbols (32^4 ≈ 1M)."""
    return prefix + "".join(secrets.choice(DEVICE_ID_ALPHABET) for _ in range(4))


def utcnow_iso(ts: float | None = None) -> str:
    """UTC time as ISO 8601 with a ``Z`` (what the store keeps)."""
    ts = time.time() if ts is None else ts
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1e6) % 1_000_000:06d}Z"
