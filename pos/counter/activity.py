"""What the counter's home screen lists: this device's recent activity as readable lines (ID
numbers masked), and the kiosks' open help requests.

A help request is open while the newest ``help.*`` event of that kiosk is ``help.requested``: the
counter sees the kiosks' requests in the events it pulls from the server (``sync_events``) and its
own in its outbox; ``help.acknowledged`` (from any counter) or ``help.cancelled`` (from the
kiosk) closes it.
"""

from __future__ import annotations

import json
import re

from ..ids import utcnow_iso

__all__ = ["ACTIVITY", "mask_ids", "activity_line", "recent_activity", "open_help_requests", "acknowledge_help",
           "record_reprint_reason"]

#: outbox kind -> (msgid, payload fields it names); the msgid's {placeholders} are those fields
#: (``amount`` is the payload's ``amount_fen`` as money). Kinds not listed are not shown.
ACTIVITY = {
    "hospital.notice.recorded": ("Admission notice {notice_no} recorded", ("notice_no",)),
    "hospital.admission.registered": ("Admission {inpatient_no} registered", ("inpatient_no",)),
    "hospital.deposit.recorded": ("Deposit {amount} for {inpatient_no}", ("amount", "inpatient_no")),
    "hospital.collection.received": ("Collected {amount} from {inpatient_no}", ("amount", "inpatient_no")),
    "hospital.refund.paid": ("Refunded {amount} to {inpatient_no}", ("amount", "inpatient_no")),
    "hospital.green_channel.opened": ("Green channel opened for {inpatient_no}", ("inpatient_no",)),
    "hospital.wristband.printed": ("Wristband printed for {inpatient_no}", ("inpatient_no",)),
    "hospital.settlement.recorded": ("Discharge settled for {inpatient_no}", ("inpatient_no",)),
    "hospital.discharged": ("{inpatient_no} discharged", ("inpatient_no",)),
    "hospital.patient.identified": ("Patient {name} identified", ("name",)),
    "cash.received": ("Cash received {amount}", ("amount",)),
    "cash.shift_opened": ("Shift opened, float {amount}", ("amount",)),
    "cash.shift_closed": ("Shift closed", ()),
    "print.failed": ("A print job failed: reprint it from Reprints", ()),
    "payment.in_doubt": ("A card payment is in doubt: see Payments in doubt", ()),
    "help.requested": ("Help requested at kiosk {device}", ("device",)),
    "help.acknowledged": ("Help request of kiosk {device} acknowledged", ("device",)),
    "help.cancelled": ("Help request of kiosk {device} cancelled", ("device",)),
}
_ID_NUMBER = re.compile(r"(?<!\d)(\d{4})\d{7,10}(\d{3}[\dXx])(?![\dXx])")


def mask_ids(text: str) -> str:
    """Resident ID numbers (15 or 18 characters) shown as ``1101**********001X``."""
    return _ID_NUMBER.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 8) + m.group(2), text)


def activity_line(kind: str, payload: dict, money) -> tuple[str, dict] | None:
    """(msgid, values) for one outbox row, or None for a kind the cashier need not read."""
    spec = ACTIVITY.get(kind)
    if spec is None:
        return None
    msgid, fields = spec
    values = {}
    for f in fields:
        if f == "amount":
            values[f] = money(int(payload.get("amount_fen") or payload.get("float_fen") or 0))
        else:
            values[f] = mask_ids(str(payload.get(f, "") or "-"))
    return msgid, values


def recent_activity(conn, money, limit: int = 12) -> list[tuple[str, str, dict]]:
    """(created_at UTC, msgid, values) of this device's newest readable outbox rows."""
    kinds = tuple(ACTIVITY)
    rows = conn.execute(
        f"SELECT created_at, kind, payload FROM outbox WHERE kind IN ({','.join('?' * len(kinds))}) "
        "ORDER BY device_seq DESC LIMIT ?", (*kinds, limit)).fetchall()
    out = []
    for created, kind, payload in rows:
        line = activity_line(kind, json.loads(payload), money)
        if line is not None:
            out.append((created, *line))
    return out


def _help_events(conn) -> list[dict]:
    rows = list(conn.execute("SELECT kind, payload FROM outbox WHERE kind LIKE 'help.%'"))
    try:
        rows += list(conn.execute("SELECT kind, payload FROM sync_events WHERE kind LIKE 'help.%'"))
    except Exception as exc:  # a store without the sync tables (sync never set up) has only its own
        if "no such table" not in str(exc):
            raise
    return [dict(json.loads(p), kind=k) for k, p in rows]


def open_help_requests(conn) -> list[dict]:
    """The kiosks' open help requests, oldest first: {device, screen, lang, at}."""
    latest: dict[str, dict] = {}
    for ev in _help_events(conn):
        dev = ev.get("device")
        if not dev:
            continue
        when = ev.get("request_at") if ev["kind"] != "help.requested" else ev.get("at")
        key = (when or "", ev["kind"] != "help.requested")      # a close after its request
        cur = latest.get(dev)
        if cur is None or key >= cur["_key"]:
            latest[dev] = dict(ev, _key=key)
    open_ = [e for e in latest.values() if e["kind"] == "help.requested"]
    return sorted(({k: e.get(k) for k in ("device", "screen", "lang", "at")} for e in open_), key=lambda e: e["at"] or "")


def record_reprint_reason(store, job_id: str, reason: str, by: str) -> str:
    """Why a copy is printed, kept with the journal's job (``print.reprint_requested``)."""
    with store.transaction() as tx:
        return tx.emit("print.reprint_requested", {"job_id": job_id, "reason": reason, "by": by, "at": utcnow_iso()})


def acknowledge_help(store, request: dict, by: str) -> str:
    """``help.acknowledged`` for ``request`` (one of :func:`open_help_requests`)."""
    with store.transaction() as tx:
        return tx.emit("help.acknowledged", {"device": request["device"], "request_at": request["at"], "by": by,
                                             "at": utcnow_iso()})
