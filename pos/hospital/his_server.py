"""Server handlers of the HIS's commands (:mod:`pos.hospital.his_events`), over the same interface
as :mod:`pos.hospital.server`: beds are resource claims, charges are ledger lines."""

from __future__ import annotations

from .server import Bed, _ledger, bed_resource

__all__ = ["notice", "admitted", "transferred", "admit_cancelled", "charge"]

_charge = _ledger("charge", "his.charge", "charge_ref")


def charge(ctx, cmd):
    """A ledger line, and the same ``charge.line`` event a device's own charge makes (every device's
    pulled charges), besides ``his.charge`` (the registering device books it)."""
    status, result, events = _charge(ctx, cmd)
    return status, result, events + [("charge.line", cmd["payload"])] if status == "applied" else events


def notice(ctx, cmd):
    """``his.notice`` (kiosks take it as an open notice) and the ``admission.notice`` a notice recorded
    at a device makes (every device's pulled notices)."""
    return "applied", {}, [("his.notice", cmd["payload"]), ("admission.notice", cmd["payload"])]


def _claim(ctx, cmd, p, kind: str):
    events = [(kind, p)]
    if p.get("bed_no"):
        resource, start = bed_resource(p["ward_code"], p["bed_no"]), p.get("at") or ctx.now
        held_by = ctx.claim(resource, p["inpatient_no"], start, cmd["command_id"])
        if held_by is not None:
            return "rejected", {"reason": "bed_taken", "bed_id": Bed.name(resource), "held_by": held_by}, [
                Bed.conflict(resource, p["inpatient_no"], held_by)]
        events.append(Bed.changed(resource, p["inpatient_no"], "occupied", start))
    return "applied", {}, events


def _free(ctx, p, ward: str, bed: str, events: list) -> None:
    if ward and bed:
        resource, at = bed_resource(ward, bed), p.get("at") or ctx.now
        if ctx.release(resource, p["inpatient_no"], at):
            events.append(Bed.changed(resource, p["inpatient_no"], "free", at))


def admitted(ctx, cmd):
    return _claim(ctx, cmd, cmd["payload"], "his.admitted")


def transferred(ctx, cmd):
    p = cmd["payload"]
    freed: list = []
    _free(ctx, p, p.get("from_ward", ""), p.get("from_bed", ""), freed)
    status, result, events = _claim(ctx, cmd, p, "his.transferred")
    return status, result, events + freed


def admit_cancelled(ctx, cmd):
    p = cmd["payload"]
    events = [("his.admit_cancelled", p)]
    _free(ctx, p, p.get("ward_code", ""), p.get("bed_no", ""), events)
    return "applied", {}, events
