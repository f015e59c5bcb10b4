"""The command registry: ``kind -> Handler`` (field spec + apply function).

A handler validates a payload (:func:`validate`, before anything is stored) and applies it inside
the ingest transaction (``apply(ctx, cmd) -> (status, result, events)``), where ``status`` is
``applied`` or ``rejected`` and ``events`` are ``(kind, payload)`` pairs for the global log.
Fields listed in ``own_ids`` are IDs the kiosk created offline: they must start with the pushing
device's prefix (``<device_id>-``, after a series such as ``ZY``), so a device can never write under another device's IDs.

Add a kind by writing an apply function and one :data:`HANDLERS` entry.
"""

from __future__ import annotations

import functools
import hashlib
import json
import json.encoder
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable


__all__ = ["Handler", "HANDLERS", "PREFETCH", "COLUMNS", "validate", "CommandInvalid", "ForeignId", "norm_time", "DEVICE_MADE",
           "bed_key"]

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
    fields: dict = field(default_factory=dict)     # name -> (type, required)
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
    out = dict(payload)
    for name, (typ, required) in handler.fields.items():
        value = payload.get(name)
        if value is None or (not required and value == ""):
            if required:
                raise CommandInvalid(f"{kind}: missing {name}")
            out.pop(name, None)
            continue
        if typ is str:
            if not isinstance(value, str) or not value or len(value) > 200:
                raise CommandInvalid(f"{kind}: {name} must be a non-empty string of at most 200 characters")
        elif typ is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise CommandInvalid(f"{kind}: {name} must be an integer")
            if not (-10**15 < value < 10**15):
                raise CommandInvalid(f"{kind}: {name} out of range")
    for name in handler.times:
        if name in out:
            if not isinstance(out[name], str):
                raise CommandInvalid(f"{kind}: {name} must be a time")
            out[name] = norm_time(out[name])
    if handler.own_ids:
        own = _own_prefix(device_id)
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
def _own_prefix(device_id: str) -> re.Pattern:
    """This device's IDs: ``<device_id>-...``; a human-facing number may put its series letters first:
    ZY<device>-000123 (住院号)."""
    return re.compile(rf"^(?:{SERIES_PREFIXES})?{re.escape(device_id)}-")


# -- apply functions -----------------------------------------------------------------------
def _event_name(kind: str) -> str:
    return kind[len("hospital."):] if kind.startswith("hospital.") else kind


def _record(event_kind: str | None = None):
    """Server keeps no derived state for this kind: the event log carries it to every kiosk."""
    def apply(ctx, cmd):
        return "applied", {}, [(event_kind or _event_name(cmd["kind"]), cmd["payload"])]
    return apply


def _admission_registered(ctx, cmd):
    p = cmd["payload"]
    if p["inpatient_no"] in ctx.admissions:
        return "rejected", {"reason": "duplicate_inpatient_no"}, []
    ctx.admissions.add(p["inpatient_no"])
    ctx.defer("admissions", (p["inpatient_no"], ctx.device_id, p.get("patient_uid", ""), p.get("ward_code", ""),
                             p.get("at") or ctx.now, None, None, cmd["command_id"]))
    return "applied", {}, [("admission.registered", p)]


def bed_key(bed_id: str) -> int:
    """A signed 64-bit hash of a bed: the leading column of the bed-claim exclusion constraint (an int8 is
    far cheaper in a GiST index than text). Claims are found by ``bed_key = ? AND bed_id = ?``."""
    return int.from_bytes(hashlib.blake2b(bed_id.encode(), digest_size=8).digest(), "big", signed=True)


def _bed_assigned(ctx, cmd):
    p = cmd["payload"]
    bed_id, inpatient_no, start = f"{p['ward_code']}/{p['bed_no']}", p["inpatient_no"], p.get("at") or ctx.now
    claims = ctx.claims.setdefault(bed_id, [])
    clash = [c for c in claims if c[1] is None or c[1] > start]        # a new claim is [start, open)
    if clash:
        held_by = clash[-1][2]
        ctx.defer("bed_conflicts", (cmd["command_id"], bed_id, inpatient_no, ctx.device_id, start, held_by,
                                    cmd["command_id"], ctx.now, None, None))
        return "rejected", {"reason": "bed_taken", "bed_id": bed_id, "held_by": held_by}, [
            ("bed.conflict", {"bed_id": bed_id, "inpatient_no": inpatient_no, "held_by": held_by})]
    claims.append([start, None, inpatient_no])
    ctx.defer("bed_claims", (cmd["command_id"], bed_id, inpatient_no, ctx.device_id, start, None, cmd["command_id"],
                             bed_key(bed_id)))
    return "applied", {}, [("bed.changed", {"bed_id": bed_id, "inpatient_no": inpatient_no, "state": "occupied",
                                            "at": start})]


def _ledger(entry_kind: str, event_kind: str, id_field: str = "entry_no"):
    def apply(ctx, cmd):
        p = cmd["payload"]
        if p[id_field] in ctx.entries:
            return "rejected", {"reason": "duplicate_entry"}, []
        ctx.entries.add(p[id_field])
        ctx.defer("ledger", (p[id_field], p["inpatient_no"], entry_kind, p["amount_fen"],
                             p.get("fee_code") or p.get("receipt_no", ""), p.get("method", ""), ctx.device_id,
                             p.get("at") or cmd["created_at"], cmd["command_id"]))
        return "applied", {}, [(event_kind, p)]
    return apply


def _discharge_scheduled(ctx, cmd):
    p = cmd["payload"]
    ctx.flush()
    ctx.cur.execute("UPDATE admissions SET discharge_scheduled_at = ? WHERE admission_id = ?",
                    (p["scheduled_for"], p["inpatient_no"]))
    note = {} if ctx.cur.rowcount else {"note": "admission not known to the server yet"}
    return "applied", note, [("discharge.scheduled", p)]


def _discharged(ctx, cmd):
    p = cmd["payload"]
    at = p.get("at") or ctx.now
    ctx.flush()
    ctx.cur.execute("UPDATE admissions SET discharged_at = ? WHERE admission_id = ?", (at, p["inpatient_no"]))
    note = {} if ctx.cur.rowcount else {"note": "admission not known to the server yet"}
    events = [("discharged", p)]
    if p.get("ward_code") and p.get("bed_no"):
        bed_id = f"{p['ward_code']}/{p['bed_no']}"
        ctx.cur.execute("UPDATE bed_claims SET end_at = ? WHERE bed_key = ? AND bed_id = ? AND admission_id = ? "
                        "AND end_at IS NULL AND start_at < ?", (at, bed_key(bed_id), bed_id, p["inpatient_no"], at))
        if ctx.cur.rowcount:
            for c in ctx.claims.get(bed_id, []):
                if c[2] == p["inpatient_no"] and c[1] is None and c[0] < at:
                    c[1] = at
            events.append(("bed.changed", {"bed_id": bed_id, "inpatient_no": p["inpatient_no"], "state": "free",
                                           "at": at}))
    return "applied", note, events


_S, _I = str, int
_MONEY = {"inpatient_no": (_S, True), "entry_no": (_S, True), "receipt_no": (_S, False), "amount_fen": (_I, True),
          "method": (_S, False), "at": (_S, False)}
_CHARGE = {"inpatient_no": (_S, True), "charge_ref": (_S, True), "amount_fen": (_I, True), "fee_code": (_S, False),
           "qty_milli": (_I, False), "unit_price_fen": (_I, False)}
_AT = ("at",)

#: kind -> Handler: the hospital kinds of docs/domain.md (``pos.hospital.events.KINDS``).
#: letter series a device may put before its prefix in a number it issues (ZY = inpatient number)
SERIES_PREFIXES = "ZY"

#: record-only kinds from the kiosk's own journals (see the comment in HANDLERS)
DEVICE_ACTIVITY = (
    "kiosk.service_started", "kiosk.help_requested", "help.requested", "help.acknowledged", "help.cancelled",
    "print.queued", "print.printed", "print.failed", "print.reprint_requested",
    *(f"payment.{state}" for state in ("intent", "sent", "waiting_card", "approved", "declined", "aborted",
                                       "in_doubt", "unresolved", "posted", "reversed")),
    "payment.supervisor_queued", "payment.end_of_day",
    "cash.received", "cash.shift_opened", "cash.shift_closed",
)



HANDLERS: dict[str, Handler] = {
    "hospital.notice.recorded": Handler(_record("admission.notice"), {"notice_no": (_S, True)}),
    "hospital.patient.identified": Handler(_record(), {"patient_uid": (_S, True)}),
    "hospital.admission.identity_checked": Handler(_record(), {"admission_uid": (_S, True)}),
    "hospital.admission.registered": Handler(_admission_registered,
                                             {"inpatient_no": (_S, True), "patient_uid": (_S, False),
                                              "ward_code": (_S, False), "at": (_S, False)},
                                             own_ids=("inpatient_no",), times=_AT),
    "hospital.deposit.recorded": Handler(_ledger("deposit", "deposit.posted"), _MONEY,
                                         own_ids=("entry_no", "receipt_no"), times=_AT),
    "hospital.green_channel.opened": Handler(_record(), {"inpatient_no": (_S, True)}),
    "hospital.green_item.closed": Handler(_record(), {"inpatient_no": (_S, True)}),
    "hospital.wristband.printed": Handler(_record(), {"inpatient_no": (_S, True)}),
    "hospital.identity.confirmed": Handler(_record(), {"inpatient_no": (_S, True)}),
    "hospital.charge.added": Handler(_ledger("charge", "charge.line", "charge_ref"), _CHARGE,
                                     own_ids=("?charge_ref",)),
    "hospital.charge.reversed": Handler(_ledger("charge", "charge.line", "charge_ref"), _CHARGE,
                                        own_ids=("?charge_ref",)),
    "hospital.daily_list.printed": Handler(_record(), {"inpatient_no": (_S, True)}),
    "hospital.discharge.ordered": Handler(_record(), {"inpatient_no": (_S, True)}),
    "hospital.discharge.scheduled": Handler(_discharge_scheduled, {"inpatient_no": (_S, True),
                                                                   "scheduled_for": (_S, True)}),
    "hospital.settlement_list.printed": Handler(_record(), {"inpatient_no": (_S, True)}),
    "hospital.bed.assigned": Handler(_bed_assigned, {"inpatient_no": (_S, True), "ward_code": (_S, True),
                                                     "bed_no": (_S, True), "at": (_S, False)}, times=_AT),
    "hospital.charges.locked": Handler(_record(), {"inpatient_no": (_S, True)}),
    "hospital.charges.unlocked": Handler(_record(), {"inpatient_no": (_S, True)}),
    "hospital.settlement.intent": Handler(_record(), {"inpatient_no": (_S, True), "settlement_no": (_S, True)},
                                          own_ids=("settlement_no",)),
    "hospital.settlement.recorded": Handler(_record(), {"inpatient_no": (_S, True), "settlement_no": (_S, True)}),
    "hospital.settlement.failed": Handler(_record(), {"inpatient_no": (_S, True)}),
    "hospital.settlement.cancelling": Handler(_record(), {"inpatient_no": (_S, True)}),
    "hospital.settlement.cancelled": Handler(_record(), {"inpatient_no": (_S, True)}),
    "hospital.refund.paid": Handler(_ledger("refund", "refund.posted"), _MONEY, own_ids=("entry_no", "receipt_no"),
                                    times=_AT),
    "hospital.collection.received": Handler(_ledger("collection", "collection.posted"), _MONEY,
                                            own_ids=("entry_no", "receipt_no"), times=_AT),
    "hospital.discharged": Handler(_discharged, {"inpatient_no": (_S, True), "ward_code": (_S, False),
                                                 "bed_no": (_S, False), "at": (_S, False)}, times=_AT),

    # Device activity the kiosk and counter journal locally (help calls, print jobs, the payment
    # journal's state changes, cash): the server keeps them in its command and event logs for the
    # IT page and audit, and derives no state from them.
    **{kind: Handler(_record(), {}) for kind in DEVICE_ACTIVITY},
}


def _entry(field_name):
    return ("entries", lambda p: p[field_name])


#: kind -> (what to look up before applying a batch, key from payload): one query per batch, not per command
PREFETCH = {
    "hospital.admission.registered": ("admissions", lambda p: p["inpatient_no"]),
    "hospital.deposit.recorded": _entry("entry_no"),
    "hospital.refund.paid": _entry("entry_no"),
    "hospital.collection.received": _entry("entry_no"),
    "hospital.charge.added": _entry("charge_ref"),
    "hospital.charge.reversed": _entry("charge_ref"),
    "hospital.bed.assigned": ("beds", lambda p: f"{p['ward_code']}/{p['bed_no']}"),
}

#: column order of the rows handlers defer, per table
COLUMNS = {
    "admissions": ("admission_id", "device_id", "patient", "ward", "admitted_at", "discharge_scheduled_at",
                   "discharged_at", "command_id"),
    "bed_conflicts": ("conflict_id", "bed_id", "admission_id", "device_id", "start_at", "held_by", "command_id",
                      "created_at", "resolved_at", "resolution"),
    "bed_claims": ("claim_id", "bed_id", "admission_id", "device_id", "start_at", "end_at", "command_id", "bed_key"),
    "ledger": ("entry_id", "admission_id", "entry_kind", "amount_fen", "item", "method", "device_id", "created_at",
               "command_id"),
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
