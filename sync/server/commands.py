"""The command registry: ``kind -> Handler`` (payload schema + apply function), built from the
active site packs' declared kinds (``pos.packs``: ``Pack.kinds``) and the platform's own.

A handler validates a payload (:func:`validate`, before anything is stored) and applies it inside
the ingest transaction (``apply(ctx, cmd) -> (status, result, events)``), where ``status`` is
``applied`` or ``rejected`` and ``events`` are ``(kind, payload)`` pairs for the global log.
Fields listed in ``own_ids`` are IDs the kiosk created offline: they must start with the pushing
device's prefix (``<device_id>-``, after a series such as ``ZY``), so a device can never write under another device's IDs.

Add a kind in its pack: one ``pos.packs.Kind`` (with its payload schema and, when the server
derives state from it, an apply function in the pack's server module).
"""

from __future__ import annotations

import functools
import importlib
import json
import json.encoder
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from pos import packs
from pos.claims import resource_key
from pos.packs import PayloadInvalid, check_payload


__all__ = ["Handler", "HANDLERS", "PREFETCH", "COLUMNS", "CLAIM_COLUMNS", "validate", "CommandInvalid", "ForeignId",
           "norm_time", "DEVICE_MADE", "registry", "resource_key"]

#: a reference a device made itself: ``<device_id>-C<n>`` (see docs/domain.md)
DEVICE_MADE = re.compile(r"^[A-Z0-9]{2,32}-C\d+$")


class CommandInvalid(ValueError):
    """A malformed command: the batch is refused with 422, nothing stored."""


class ForeignId(ValueError):
    """An ID owned by another device: the batch is refused with 403, nothing stored."""


_CANONICAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def norm_time(value: str) -> str:
    """Any ISO 8601 time with a zone -> ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC), so texts compare as times."""
    if isinstance(value, str) and _CANONICAL.match(value):
        try:
            datetime.fromisoformat(value[:-1])      # still a real date
            return value
        except ValueError as exc:
            raise CommandInvalid(f"not an ISO 8601 time: {value!r}") from exc
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError) as exc:
        raise CommandInvalid(f"not an ISO 8601 time: {value!r}") from exc
    if dt.tzinfo is None:
        raise CommandInvalid(f"time without a zone: {value!r}")
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Handler:
    apply: Callable
    schema: type | None = None                     # a msgspec.Struct the payload converts to (pos.packs.check_payload)
    own_ids: tuple = ()
    times: tuple = ()


def validate(kind: str, payload, device_id: str) -> dict:
    handler = HANDLERS.get(kind)
    if handler is None:
        raise KeyError(kind)
    if not isinstance(payload, dict):
        raise CommandInvalid(f"{kind}: payload must be an object")
    if len(payload) > 64:
        raise CommandInvalid(f"{kind}: payload has too many keys")
    try:
        out = check_payload(kind, payload)
    except PayloadInvalid as exc:
        raise CommandInvalid(str(exc)) from None
    out = dict(out) if out is payload else out
    for name in handler.times:
        if name in out:
            if not isinstance(out[name], str):
                raise CommandInvalid(f"{kind}: {name} must be a time")
            out[name] = norm_time(out[name])
    if handler.own_ids:
        own = _own_prefix(device_id, registry().series)
        for name in handler.own_ids:
            optional = name.startswith("?")
            name = name.lstrip("?")
            value = out.get(name)
            if value is None:
                continue
            if optional and not DEVICE_MADE.match(value):
                continue                    # e.g. a charge reference issued by the HIS
            if not own.match(value):
                raise ForeignId(f"{kind}: {name} {value!r} does not carry this device's prefix {device_id}-")
    return out


@functools.lru_cache(maxsize=1024)
def _own_prefix(device_id: str, series: str) -> re.Pattern:
    """This device's IDs: ``<device_id>-...``; a human-facing number may put a pack's series letters
    first (``Pack.series``; the hospital's inpatient number is ZY<device>-000123)."""
    return re.compile(rf"^(?:{series})?{re.escape(device_id)}-" if series else rf"^{re.escape(device_id)}-")


# -- the registry, from the site packs -------------------------------------------------------
def _record(event_kind: str):
    """Server keeps no derived state for this kind: the event log carries it to every kiosk."""
    def apply(ctx, cmd):
        return "applied", {}, [(event_kind, cmd["payload"])]
    return apply


@dataclass(frozen=True)
class Registry:
    """Everything ingest needs of the active packs (``pos.packs``), built once per pack selection."""
    handlers: dict            # kind -> Handler
    prefetch: dict            # kind -> fn(payload) -> (lookup, key)
    lookups: dict             # lookup name -> (table, key column)
    columns: dict             # table -> column order of deferred rows
    resources: dict           # resource type -> its events (``changed``, ``conflict``, ``resolved``, ``from_form``)
    snapshot: dict            # event kind -> key field (projections whose state is the last event per key)
    series: str               # regex alternation of the packs' number series letters ("" = none)


@functools.lru_cache(maxsize=4)
def _registry(selection: tuple) -> Registry:
    handlers, prefetch, lookups, resources, snapshot, series = {}, {}, {}, {}, {}, set()
    columns = dict(CLAIM_COLUMNS)
    for k in packs.kinds().values():
        apply = packs.resolve(k.apply) if k.apply else _record(k.event or k.name.partition(".")[2])
        handlers[k.name] = Handler(apply, k.payload, k.own_ids, k.times)
        if k.prefetch:
            prefetch[k.name] = packs.resolve(k.prefetch)
    for p in packs.active():
        if p.server:
            mod = importlib.import_module(p.server)
            lookups.update(getattr(mod, "LOOKUPS", {}))
            columns.update(getattr(mod, "TABLES", {}))
            resources.update(getattr(mod, "RESOURCES", {}))
        for pr in p.projections:
            if pr.latest_by:
                snapshot[pr.latest_by[0]] = pr.latest_by[1]
        series.update(p.series)
    return Registry(handlers, prefetch, lookups, columns, resources, snapshot,
                    "|".join(re.escape(x) for x in sorted(series)))


_current: tuple = (None, None)         # (the pack selection, its registry)


def registry() -> Registry:
    """The registry of the packs this process runs now (rebuilt only when ``pos.packs.enable`` changes them)."""
    global _current
    selection = packs.enabled()
    if _current[0] is not selection:
        _current = (selection, _registry(selection))
    return _current[1]


class _Live(dict):
    """A read-only view of the current registry's mapping ``name`` (for ``HANDLERS`` and the like)."""

    def __init__(self, name: str):
        super().__init__()
        self._name = name

    def _map(self) -> dict:
        return getattr(registry(), self._name)

    def __getitem__(self, key):
        return self._map()[key]

    def __contains__(self, key):
        return key in self._map()

    def __iter__(self):
        return iter(self._map())

    def __len__(self):
        return len(self._map())

    def get(self, key, default=None):
        return self._map().get(key, default)

    def keys(self):
        return self._map().keys()

    def items(self):
        return self._map().items()

    def values(self):
        return self._map().values()


#: kind -> Handler, kind -> prefetch, table -> columns: of the active packs (see :func:`registry`)
HANDLERS, PREFETCH, COLUMNS = _Live("handlers"), _Live("prefetch"), _Live("columns")

#: the platform's claim tables (``resource_claims``, ``claim_conflicts``: sync.server.schema m004)
CLAIM_COLUMNS = {
    "resource_claims": ("claim_id", "resource", "resource_key", "holder", "device_id", "start_at", "end_at", "state",
                        "command_id"),
    "claim_conflicts": ("conflict_id", "resource", "holder", "device_id", "start_at", "held_by", "command_id",
                        "created_at", "resolved_at", "resolution"),
}


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
# The C encoder behind _ENCODER, made once: JSONEncoder.encode builds a new one on every call, which is
# a third of the cost for the small objects stored here (payloads, results), a thousand per batch.
# No circular-reference check: what is encoded here came from JSON.
_C_ENCODER = json.encoder.c_make_encoder and json.encoder.c_make_encoder(
    None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", True, False, True)


def dumps(obj) -> str:
    """Canonical JSON text (sorted keys, no spaces), as ``json.dumps(obj, ensure_ascii=False,
    sort_keys=True, separators=(",", ":"))``."""
    if _C_ENCODER is None or isinstance(obj, str):
        return _ENCODER.encode(obj)
    return "".join(_C_ENCODER(obj, 0))
