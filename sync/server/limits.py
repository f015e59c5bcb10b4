"""Bounds on what a device sends beside its commands: the push's ``device`` metadata.

``device`` is ``{"queue_depth": int, "health": {role: status}}``. Anything else is refused with
the batch (422, nothing stored), so what is stored always fits its column and reads back: the IT
page shows every device whatever one of them sends.
"""

from __future__ import annotations

__all__ = ["MetaInvalid", "check_device_meta", "MAX_QUEUE_DEPTH", "MAX_HEALTH_KEYS", "MAX_HEALTH_KEY",
           "MAX_HEALTH_VALUE", "MAX_DEVICE_TIME"]

MAX_QUEUE_DEPTH = 2**31 - 1      # fits an INTEGER column on either database
MAX_HEALTH_KEYS = 32
MAX_HEALTH_KEY = 40
MAX_HEALTH_VALUE = 200
MAX_DEVICE_TIME = 64             # characters of the X-Onestop-Device-Time header


class MetaInvalid(ValueError):
    """The ``device`` metadata of a push is malformed; the text says which field."""


def check_device_meta(meta) -> dict:
    """The metadata, checked: a dict with at most ``queue_depth`` and ``health``."""
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise MetaInvalid("'device' must be an object")
    unknown = sorted(str(k)[:40] for k in meta if k not in ("queue_depth", "health"))
    if unknown:
        raise MetaInvalid(f"'device' has unknown fields: {', '.join(unknown[:5])}")
    qd = meta.get("queue_depth")
    if qd is not None and (isinstance(qd, bool) or not isinstance(qd, int) or not 0 <= qd <= MAX_QUEUE_DEPTH):
        raise MetaInvalid(f"device.queue_depth must be an integer from 0 to {MAX_QUEUE_DEPTH}")
    health = meta.get("health")
    if health is not None:
        if not isinstance(health, dict):
            raise MetaInvalid("device.health must be an object {role: status}")
        if len(health) > MAX_HEALTH_KEYS:
            raise MetaInvalid(f"device.health has more than {MAX_HEALTH_KEYS} entries")
        for key, value in health.items():
            if not 1 <= len(key) <= MAX_HEALTH_KEY:
                raise MetaInvalid(f"device.health keys must be 1-{MAX_HEALTH_KEY} characters")
            if value is not None and not isinstance(value, (str, bool, int)):
                raise MetaInvalid(f"device.health[{key[:40]!r}] must be a string, a number, true/false or null")
            if isinstance(value, str) and len(value) > MAX_HEALTH_VALUE:
                raise MetaInvalid(f"device.health[{key[:40]!r}] is longer than {MAX_HEALTH_VALUE} characters")
            if isinstance(value, int) and not isinstance(value, bool) and not -10**15 < value < 10**15:
                raise MetaInvalid(f"device.health[{key[:40]!r}] is out of range")
    return {"queue_depth": qd, "health": health}
