"""The hospital pack's part of the central server: command handlers, what they look up, the tables
they write, and how a bed is a generic resource claim.

Handlers are ``apply(ctx, cmd) -> (status, result, [(event_kind, payload)])`` and run inside the
server's ingest transaction (``sync.server.service.Ctx``): ``ctx.seen[lookup]`` holds the keys of
:data:`LOOKUPS` that exist already, ``ctx.defer(table, row)`` queues a row of :data:`TABLES`,
``ctx.claim(resource, holder, start, command_id)`` claims a resource under the platform's one
exclusion rule (returns who holds it when it is taken) and ``ctx.release(resource, holder, at)``
ends a claim. This module is plain Python over that interface: it imports nothing of the server.
"""

from __future__ import annotations

from .server_admin import ADMIN_LABELS, admin_conflict, admin_overview  # noqa: F401 - the IT page hooks

__all__ = ["LOOKUPS", "TABLES", "RESOURCES", "admin_overview", "admin_conflict", "admission_registered", "deposit", "refund", "collection",
           "charge_line", "discharge_scheduled", "bed_assigned", "discharged"]

#: lookup name -> (table, key column): keys the handlers need to know exist, fetched once per batch
LOOKUPS = {"admissions": ("admissions", "admission_id"), "entries": ("ledger", "entry_id")}

#: table -> column order of the rows handlers defer
TABLES = {
    "admissions": ("admission_id", "device_id", "patient", "ward", "admitted_at", "discharge_scheduled_at",
                   "discharged_at", "command_id"),
    "ledger": ("entry_id", "admission_id", "entry_kind", "amount_fen", "item", "method", "device_id", "created_at",
               "command_id"),
}


def bed_resource(ward_code: str, bed_no: str) -> str:
    return f"bed:{ward_code}/{bed_no}"


class Bed:
    """A bed as a resource claim: ``bed:<ward>/<bed no>``, held by an inpatient number. What the
    platform's claim code needs to speak of it: the events kiosks pull, the names used in results
    and on the IT page (``label``: the resource's field in payloads, ``holder``: the holder's; the
    error codes and their message parameters, labels of ``sync.server.admin``)."""

    label, holder = "bed_id", "inpatient_no"
    codes = {"taken": "bed_taken", "has": "has_bed", "required": "bed_required"}
    params = {"resource": "bed", "holder": "admission"}
    resolved_kind = "bed.conflict_resolved"
    command_kind = "admin.bed_conflict.resolved"

    @staticmethod
    def name(resource: str) -> str:
        return resource.partition(":")[2]

    @staticmethod
    def from_form(fields: dict) -> str:
        """The resource an IT-page assignment names (``ward_code`` and ``bed_no``), or ''."""
        ward, bed = (fields.get("ward_code") or "").strip(), (fields.get("bed_no") or "").strip()
        if len(ward) > 100 or len(bed) > 100:
            raise ValueError("ward_code and bed_no are at most 100 characters")
        return bed_resource(ward, bed) if ward and bed else ""

    @staticmethod
    def changed(resource: str, holder: str, state: str, at: str) -> tuple[str, dict]:
        return "bed.changed", {"bed_id": Bed.name(resource), "inpatient_no": holder, "state": state, "at": at}

    @staticmethod
    def conflict(resource: str, holder: str, held_by: str) -> tuple[str, dict]:
        return "bed.conflict", {"bed_id": Bed.name(resource), "inpatient_no": holder, "held_by": held_by}


#: resource type (the text before ':') -> its events (see the platform's claims)
RESOURCES = {"bed": Bed}


# -- the IT page: pos.hospital.server_admin (admin_overview, admin_conflict, imported above) ----------


# -- prefetch keys -------------------------------------------------------------------------------
def admission_key(p: dict):
    return "admissions", p["inpatient_no"]


def entry_key(p: dict):
    return "entries", p["entry_no"]


def charge_key(p: dict):
    return "entries", p["charge_ref"]


def bed_claim(p: dict):
    return "claims", (bed_resource(p["ward_code"], p["bed_no"]), p.get("at"))


# -- handlers ------------------------------------------------------------------------------------
def admission_registered(ctx, cmd):
    p = cmd["payload"]
    if p["inpatient_no"] in ctx.seen["admissions"]:
        return "rejected", {"reason": "duplicate_inpatient_no"}, []
    ctx.seen["admissions"].add(p["inpatient_no"])
    ctx.defer("admissions", (p["inpatient_no"], ctx.device_id, p.get("patient_uid", ""), p.get("ward_code", ""),
                             p.get("at") or ctx.now, None, None, cmd["command_id"]))
    return "applied", {}, [("admission.registered", p)]


def _ledger(entry_kind: str, event_kind: str, id_field: str = "entry_no"):
    def apply(ctx, cmd):
        p = cmd["payload"]
        if p[id_field] in ctx.seen["entries"]:
            return "rejected", {"reason": "duplicate_entry"}, []
        ctx.seen["entries"].add(p[id_field])
        ctx.defer("ledger", (p[id_field], p["inpatient_no"], entry_kind, p["amount_fen"],
                             p.get("fee_code") or p.get("receipt_no", ""), p.get("method", ""), ctx.device_id,
                             p.get("at") or cmd["created_at"], cmd["command_id"]))
        return "applied", {}, [(event_kind, p)]
    return apply


deposit = _ledger("deposit", "deposit.posted")
refund = _ledger("refund", "refund.posted")
collection = _ledger("collection", "collection.posted")
charge_line = _ledger("charge", "charge.line", "charge_ref")


def discharge_scheduled(ctx, cmd):
    p = cmd["payload"]
    ctx.flush()
    ctx.cur.execute("UPDATE admissions SET discharge_scheduled_at = ? WHERE admission_id = ?",
                    (p["scheduled_for"], p["inpatient_no"]))
    note = {} if ctx.cur.rowcount else {"note": "admission not known to the server yet"}
    return "applied", note, [("discharge.scheduled", p)]


def bed_assigned(ctx, cmd):
    p = cmd["payload"]
    resource, holder, start = bed_resource(p["ward_code"], p["bed_no"]), p["inpatient_no"], p.get("at") or ctx.now
    held_by = ctx.claim(resource, holder, start, cmd["command_id"])
    if held_by is not None:
        return "rejected", {"reason": "bed_taken", "bed_id": resource.partition(":")[2], "held_by": held_by}, [
            Bed.conflict(resource, holder, held_by)]
    return "applied", {}, [Bed.changed(resource, holder, "occupied", start)]


def discharged(ctx, cmd):
    p = cmd["payload"]
    at = p.get("at") or ctx.now
    ctx.flush()
    ctx.cur.execute("UPDATE admissions SET discharged_at = ? WHERE admission_id = ?", (at, p["inpatient_no"]))
    note = {} if ctx.cur.rowcount else {"note": "admission not known to the server yet"}
    events = [("discharged", p)]
    if p.get("ward_code") and p.get("bed_no"):
        resource = bed_resource(p["ward_code"], p["bed_no"])
        if ctx.release(resource, p["inpatient_no"], at):
            events.append(Bed.changed(resource, p["inpatient_no"], "free", at))
    return "applied", note, events
