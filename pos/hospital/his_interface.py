"""The hospital's side of the HL7 v2 interface (``Pack.interfaces["hl7v2"]``): what the central
server's generic engine (``sync.server.his``: MLLP, MSH-10 idempotency, the hold queue, the outbound
queue) asks of the pack, as plain Python over its database cursor. Which message becomes which
command is :mod:`.his_inbound`, which command goes back as which message :mod:`.his_outbound`; here
are the HIS visits they share (``his_visits``), the checks refusing a whole message before anything
applies (a charge booked already, a bed held by another stay), and the following of the command log
(a kiosk's check-in for an HIS notice links the visit; deposits, refunds, settlements are queued)."""

from __future__ import annotations

import json

from .his_inbound import Held, HisMapping, Plan, Refused, component, header, load_mapping, parse
from .his_inbound import plan as _plan
from .his_outbound import OUTBOUND_KINDS, ack, outbound

__all__ = ["Refused", "Held", "parse", "component", "header", "ack", "load_mapping", "plan", "applied", "follow",
           "HisMapping", "LABELS"]

#: the IT page's interface section in the hospital's words (over the engine's, ``sync.server.his``)
LABELS = {"zh-Hans": {"visit": "住院号"}, "zh-Hant": {"visit": "住院號"}, "en": {"visit": "Visit"}}

_VISIT = ("visit", "notice_no", "patient_id", "inpatient_no", "state", "ward", "bed")


def visit(cur, key: str) -> dict | None:
    r = cur.execute(f"SELECT {', '.join(_VISIT)} FROM his_visits WHERE visit = ?", (key,)).fetchone()
    return None if r is None else dict(zip(_VISIT, r))


def plan(cur, msg, m: HisMapping, now: str, own_base: str) -> Plan:
    """The message's commands, refused as a whole (:class:`Refused`) when a handler would refuse one of
    them; ``own_base``: the command IDs of this message (its own replay is not a conflict)."""
    p = _plan(msg, m, lambda v: visit(cur, v), now)
    for kind, c in p.commands:
        if kind == "hospital.his.charge":
            r = cur.execute("SELECT command_id FROM ledger WHERE entry_id = ?", (c["charge_ref"],)).fetchone()
            if r and not r[0].startswith(own_base):      # not this message's replay
                raise Refused("AE", f"charge {c['charge_ref'][4:]} was booked already", "FT1")
        if kind in ("hospital.his.admitted", "hospital.his.transferred") and c.get("bed_no"):
            res = f"bed:{c['ward_code']}/{c['bed_no']}"
            held = cur.execute("SELECT holder FROM resource_claims WHERE resource = ? AND state = 'live' "
                               "AND end_at IS NULL AND holder != ?", (res, c["inpatient_no"])).fetchone()
            if held:
                raise Refused("AE", f"bed {c['ward_code']}/{c['bed_no']} is held by {held[0]}", "PV1")
    return p


def applied(cur, p: Plan, now: str) -> None:
    """After the plan's commands applied: the visit (and a patient merge) as the message left them."""
    if p.merge:
        cur.execute("UPDATE his_visits SET patient_id = ? WHERE patient_id = ?", (p.merge[1], p.merge[0]))
    if p.visit and p.visit_update:
        if visit(cur, p.visit) is None:
            u = {"notice_no": p.visit, "patient_id": "", "ward": "", "bed": "", **p.visit_update}
            cur.execute("INSERT INTO his_visits (visit, notice_no, patient_id, inpatient_no, state, ward, bed, "
                        "updated_at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?)",
                        (p.visit, u["notice_no"], u["patient_id"], u["state"], u["ward"], u["bed"], now))
        else:
            sets = ", ".join(f"{k} = ?" for k in p.visit_update)
            cur.execute(f"UPDATE his_visits SET {sets}, updated_at = ? WHERE visit = ?",
                        (*p.visit_update.values(), now, p.visit))


def follow(cur, m: HisMapping, after: int, now: str) -> tuple[int, list, list]:
    """The command log after ``after``: ``(last seq read, visits linked now, [(control_id, source_seq,
    msg_type, visit, body)] to queue for the HIS)``. An admission a kiosk registered for an HIS
    notice links its visit (what waited for the check-in can apply); a discharge frees the visit."""
    kinds = (*OUTBOUND_KINDS, "hospital.discharged")
    marks = ",".join("?" for _ in kinds)
    rows = cur.execute(f"SELECT seq, kind, payload, device_id FROM commands WHERE seq > ? AND "
                       f"kind IN ({marks}) AND status = 'applied' ORDER BY seq LIMIT 1000",
                       (after, *kinds)).fetchall()
    last, linked, queue = after, [], []
    for seq, kind, payload, _dev in rows:
        last = seq
        p = json.loads(payload)
        if kind == "hospital.discharged":
            cur.execute("UPDATE his_visits SET state = 'discharged', bed = '', updated_at = ? "
                        "WHERE inpatient_no = ?", (now, p["inpatient_no"]))
            continue
        if kind == "hospital.admission.registered" and p.get("notice_no"):
            if cur.execute("UPDATE his_visits SET inpatient_no = ?, updated_at = ? WHERE notice_no = ? "
                           "AND inpatient_no IS NULL", (p["inpatient_no"], now, p["notice_no"])).rowcount:
                linked.append(p["notice_no"])
            v = visit(cur, p["notice_no"])
        else:
            r = cur.execute("SELECT visit FROM his_visits WHERE inpatient_no = ?", (p.get("inpatient_no"),)).fetchone()
            v = visit(cur, r[0]) if r else None
        control = f"OS{seq}"
        built = outbound(m, kind, p, control, v, _patient(cur, p, v), now)
        if built is not None:
            queue.append((control, seq, *built))
    return last, linked, queue


def _patient(cur, p: dict, v: dict | None) -> dict:
    uid = p.get("patient_uid")
    if not uid:
        r = cur.execute("SELECT payload FROM commands WHERE kind = 'hospital.admission.registered' AND "
                        "status = 'applied' AND command_id IN (SELECT command_id FROM admissions WHERE "
                        "admission_id = ?)", (p.get("inpatient_no"),)).fetchone()
        uid = json.loads(r[0]).get("patient_uid") if r else None
    out = {"patient_id": (v or {}).get("patient_id") or ""}
    if uid:     # payloads are canonical JSON (sorted keys, no spaces): the uid is found as text
        for (payload,) in cur.execute("SELECT payload FROM commands WHERE kind = 'hospital.patient.identified' "
                                      "AND payload LIKE ? ORDER BY received_at DESC",
                                      (f'%"patient_uid":{json.dumps(uid)}%',)).fetchall():
            q = json.loads(payload)
            if q.get("patient_uid") == uid:
                out.update(name=q.get("name") or "", id_number=(q.get("identity") or {}).get("id_number") or "")
                break
    return out
