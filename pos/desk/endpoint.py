"""The desk's server endpoint for systems outside the platform (``Pack.endpoints``):
``POST /v1/packs/desk/intake``, signed like a device push (the monitoring centre and the repair
centre are enrolled devices; a forged, replayed or unsigned call is refused by the server before
this runs).

Body: ``{"alarms": [{alarm_id, point, alarm_type, at, building?, unit?, text?}, ...]}`` and/or
``{"orders": [{ref, unit, description, category?, at, party?, fee_related?, amount_fen?}, ...]}``
(the repair centre's own orders). Each alarm is one command whose ID is derived from the caller
and the alarm's ID, so a resent alarm is recognised, never counted twice; duplicates of one alarm
point are merged into the point's open order by the server (:func:`pos.desk.server.alarm`).
"""

from __future__ import annotations

import logging
import uuid

from .catalogue import load_catalogue
from .service import deadline_for

__all__ = ["intake", "MAX_ITEMS"]

MAX_ITEMS = 500
log = logging.getLogger(__name__)
_NS = uuid.UUID("6f1c7a52-5d0e-4c61-9a57-0d3e0b8c2f11")


def _cid(caller: str, what: str, ref: str) -> str:
    return str(uuid.uuid5(_NS, f"{caller}/{what}/{ref}"))


def _role_refused(caller: str, query, alarms: list, orders: list):
    """Only a device the admin enrolled for intake (``desk_intake_callers``), and only for what its
    role sends: the monitoring centre alarms, the repair centre orders. Else 403 and a log line."""
    rows = query("SELECT role FROM desk_intake_callers WHERE device_id = ?", (caller,)) if query else []
    role = rows[0][0] if rows else None
    want = ({"monitoring"} if alarms else set()) | ({"repair_centre"} if orders else set())
    if role is None:
        log.warning("desk intake refused: device %s is not enrolled for intake", caller)
        return 403, {"error": "not_intake_caller",
                     "detail": f"device {caller} is not enrolled for the desk's intake; the admin allows it on "
                               "the IT site (desk: intake callers)"}
    if want - {role}:
        log.warning("desk intake refused: device %s (role %s) sent %s", caller, role, ", ".join(sorted(want - {role})))
        return 403, {"error": "wrong_role",
                     "detail": f"device {caller} is enrolled for intake as {role}; "
                               f"{'alarms' if 'monitoring' in want - {role} else 'orders'} need the role "
                               f"{' and '.join(sorted(want - {role}))}"}
    return None


def intake(data, caller: str, submit, query=None):
    refused = _role_refused(caller, query, [], [])          # not enrolled for intake: refused before anything
    if refused is not None:
        return refused
    if not isinstance(data, dict):
        return 422, {"error": "invalid", "detail": "expected an object with 'alarms' and/or 'orders'"}
    alarms, orders = data.get("alarms") or [], data.get("orders") or []
    if not isinstance(alarms, list) or not isinstance(orders, list) or not (alarms or orders):
        return 422, {"error": "invalid", "detail": "'alarms' and 'orders' are lists; give at least one item"}
    if len(alarms) + len(orders) > MAX_ITEMS:
        return 413, {"error": "too_large", "detail": f"at most {MAX_ITEMS} items per call"}
    refused = _role_refused(caller, query, alarms, orders)
    if refused is not None:
        return refused
    cmds = []
    for a in alarms:
        if not isinstance(a, dict) or not isinstance(a.get("alarm_id"), str):
            return 422, {"error": "invalid", "detail": "each alarm needs an alarm_id string"}
        cmds.append({"command_id": _cid(caller, "alarm", a["alarm_id"]), "kind": "desk.alarm.received",
                     "payload": a})
    cat = load_catalogue()
    for o in orders:
        if not isinstance(o, dict) or not isinstance(o.get("ref"), str) or not isinstance(o.get("at"), str):
            return 422, {"error": "invalid", "detail": "each order needs ref and at strings"}
        no = f"{caller}-R{o['ref']}"[:64]
        p = {"order_no": no, "channel": "repair_centre", "at": o["at"], "unit": o.get("unit", ""),
             "building": o.get("building") or str(o.get("unit", "")).split("-")[0], "party": o.get("party", ""),
             "description": o.get("description", ""), "source_ref": o["ref"], "by": "repair_centre",
             "fee_related": bool(o.get("fee_related"))}
        c = cat.categories.get(o.get("category", ""))
        if c is not None:
            p.update(kind=c.kind, category=c.code, priority=c.priority, payable=c.payable, emergency=c.emergency,
                     deadline=deadline_for(o["at"], c.sla_hours), fee_related=p["fee_related"] or c.fee_related
                     or c.payable)
        cmds.append({"command_id": _cid(caller, "order", o["ref"]), "kind": "desk.order.imported", "payload": p})
        if p["fee_related"]:
            h = {"handoff_id": f"{no}-F", "order_no": no, "at": o["at"], "category": p.get("category", "")}
            amount = o.get("amount_fen", c.fee_fen if c else None)
            if amount is not None:
                h["amount_fen"] = amount
            cmds.append({"command_id": _cid(caller, "handoff", o["ref"]), "kind": "desk.finance.handoff",
                         "payload": h})
    out = submit(cmds)
    results = [{"status": r["status"], **r["result"]} for r in out["results"]]
    return 200, {"accepted": len(results), "results": results}
