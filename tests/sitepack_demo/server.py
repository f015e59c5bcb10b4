"""The repair desk on the server: a booking claims ``tech:<name>`` over the visit's time range."""

from __future__ import annotations

LOOKUPS: dict = {}
TABLES = {"techdesk_bookings": ("visit_no", "technician", "device_id", "command_id")}


class Slot:
    label, holder = "technician", "visit_no"
    codes = {"taken": "slot_taken", "has": "has_slot", "required": "slot_required"}
    params = {"resource": "technician", "holder": "visit"}
    resolved_kind = "slot.conflict_resolved"
    command_kind = "admin.slot_conflict.resolved"

    @staticmethod
    def name(resource: str) -> str:
        return resource.partition(":")[2]

    @staticmethod
    def from_form(fields: dict) -> str:
        return f"tech:{fields['technician']}" if fields.get("technician") else ""

    @staticmethod
    def changed(resource, holder, state, at):
        return "slot.changed", {"technician": Slot.name(resource), "visit_no": holder, "state": state, "at": at}


RESOURCES = {"tech": Slot}


def slot_of(p: dict):
    return "claims", (f"tech:{p['technician']}", p["start_at"])


def visit_booked(ctx, cmd):
    p = cmd["payload"]
    held_by = ctx.claim(f"tech:{p['technician']}", p["visit_no"], p["start_at"], cmd["command_id"], end=p["end_at"])
    if held_by is not None:
        return "rejected", {"reason": "slot_taken", "held_by": held_by}, [("slot.conflict", {**p, "held_by": held_by})]
    ctx.defer("techdesk_bookings", (p["visit_no"], p["technician"], ctx.device_id, cmd["command_id"]))
    return "applied", {}, [("slot.taken", p)]


def visit_cancelled(ctx, cmd):
    p = cmd["payload"]
    if not ctx.cancel(f"tech:{p['technician']}", p["visit_no"]):
        return "rejected", {"reason": "no_such_visit"}, []
    return "applied", {}, [("slot.freed", p)]
