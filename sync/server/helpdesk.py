"""Help requests: a kiosk's call for a person, shown on the IT page until someone acknowledges it.

A kiosk (or counter) emits ``help.requested`` with ``{device, screen, lang, at}``; the server keeps
it in its command log and passes it on in the event log. It is *open* until a ``help.acknowledged``
names it: ``{request_id, by}``, where ``request_id`` is the request's ``command_id``. The IT page
acknowledges through :func:`acknowledge` (recorded as the admin's command ``ack:<request_id>``, so
a second press returns the first answer); a counter may push the same kind itself.
"""

from __future__ import annotations

import json
import logging
import time

from pos.ids import utcnow_iso

from ..errors import ResolveError
from .commands import CommandInvalid, dumps, norm_time
from .service import ADMIN_DEVICE, COMMAND_COLUMNS, EVENT_COLUMNS

__all__ = ["REQUESTED", "ACKNOWLEDGED", "open_requests", "acknowledge", "WINDOW_S"]

log = logging.getLogger(__name__)

REQUESTED, ACKNOWLEDGED, CANCELLED = "help.requested", "help.acknowledged", "help.cancelled"
#: kinds that open a request: ``kiosk.help_requested`` is what kiosks emitted before ``help.requested``
REQUEST_KINDS = (REQUESTED, "kiosk.help_requested")
WINDOW_S = 7 * 86400         #: requests older than this are not shown as open any more


def _when(value) -> str:
    """A time as the server stores it (canonical UTC), so a request's time and the one an
    acknowledgement names compare however each device wrote it."""
    try:
        return norm_time(str(value))
    except CommandInvalid:
        return str(value)


def _closed(cur, since: str) -> tuple[set[str], set[tuple[str, str]]]:
    """What closes a request, from the acknowledgements and cancellations received since ``since``:
    request IDs (IT's page and API: ``request_id``; a kiosk's cancel: ``request``) and
    ``(device, requested at)`` pairs (a counter's acknowledgement, a kiosk's cancel)."""
    ids, pairs = set(), set()
    for device_id, payload in cur.execute(
            "SELECT device_id, payload FROM commands WHERE kind IN (?, ?) AND received_at >= ?",
            (ACKNOWLEDGED, CANCELLED, since)).fetchall():
        p = json.loads(payload)
        ids.update(str(p[k]) for k in ("request_id", "request") if p.get(k))
        if p.get("request_at"):
            pairs.add((str(p.get("device") or device_id), _when(p["request_at"])))
    return ids, pairs


def open_requests(cur, limit: int = 50) -> list[dict]:
    """The open help requests, oldest first: ``{request_id, device_id, screen, lang, at}``."""
    since = utcnow_iso(time.time() - WINDOW_S)
    ids, pairs = _closed(cur, since)
    out = []
    for cid, device_id, payload, received in cur.execute(
            "SELECT command_id, device_id, payload, received_at FROM commands WHERE kind IN (?, ?) "
            "AND received_at >= ? ORDER BY received_at", (*REQUEST_KINDS, since)).fetchall():
        p = json.loads(payload)
        if cid in ids or (str(p.get("device") or device_id), _when(p.get("at"))) in pairs:
            continue
        out.append({"request_id": cid, "device_id": device_id, "screen": p.get("screen", ""),
                    "lang": p.get("lang", ""), "at": p.get("at") or received})
    return out[:limit]


def acknowledge(backend, request_id: str, by) -> dict:
    """IT acknowledges an open help request: one ``help.acknowledged`` event, which kiosks and
    counters pull. Refused (:class:`ResolveError`) for an unknown request or without ``by``."""
    if not isinstance(by, str) or not by.strip():
        raise ResolveError(422, "by_required", "say who acknowledges it (by)")
    by = by.strip()
    if len(by) > 80:
        raise ResolveError(422, "too_long", "by is longer than 80 characters", limit=80)
    if not isinstance(request_id, str) or not 0 < len(request_id) <= 64:
        raise ResolveError(404, "not_found", "no such help request")
    ack_id = f"ack:{request_id}"
    now = utcnow_iso()
    with backend.tx() as cur:
        seq = backend.lock_counter(cur, "events", 0)          # the next number (taken below)
        done = cur.execute("SELECT result FROM commands WHERE command_id = ?", (ack_id,)).fetchone()
        if done:
            return {**json.loads(done[0]), "replayed": True}
        row = cur.execute("SELECT device_id, payload FROM commands WHERE command_id = ? AND kind IN (?, ?)",
                          (request_id, *REQUEST_KINDS)).fetchone()
        if row is None:
            raise ResolveError(404, "not_found", "no such help request")
        request = json.loads(row[1])
        payload = {"request_id": request_id, "device": row[0], "screen": request.get("screen", ""),
                   "requested_at": request.get("at", ""), "by": by, "at": now}
        cur.copy_rows("events", EVENT_COLUMNS, [(seq, ACKNOWLEDGED, dumps(payload), ADMIN_DEVICE, ack_id, now)])
        result = {**payload, "seqs": [seq]}
        cur.copy_rows("commands", COMMAND_COLUMNS, [(ack_id, ADMIN_DEVICE, 0, now, now, ACKNOWLEDGED, dumps(payload),
                                                     "applied", dumps(result), None, None, None)])
        cur.execute("UPDATE counters SET value = ? WHERE name = 'events'", (seq,))
    log.info("help request %s from %s acknowledged by %s", request_id, row[0], by)
    return {**result, "replayed": False}
