"""HL7 v2.5 messages the hospital pack sends the HIS, built with python-hl7's containers (values are
escaped by the library): ACKs to inbound messages, DFT^P03 for deposits, refunds, collections and
settlement results, and ADT^A01 when onestop registered an admission the HIS did not start (the
green channel, or a counter notice). Money is integer fen, sent as yuan with two decimals (exact).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import hl7

from .his_inbound import HisMapping

__all__ = ["ack", "outbound", "OUTBOUND_KINDS", "yuan"]

#: outbox kinds that make a message to the HIS
OUTBOUND_KINDS = ("hospital.deposit.recorded", "hospital.refund.paid", "hospital.collection.received",
                  "hospital.settlement.recorded", "hospital.admission.registered")

_FACTORY = hl7.Message("\r", [], esc="\\", separators="\r|~^&")


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _dtm(iso: str | None, tz: str) -> str:
    dt = datetime.fromisoformat(iso.replace("Z", "+00:00")) if iso else datetime.now(timezone.utc)
    return dt.astimezone(ZoneInfo(tz)).strftime("%Y%m%d%H%M%S%z")


def _esc(value: str) -> str:
    """python-hl7's escaping of the separators; text outside ASCII is sent as it is (MSH-18 UTF-8),
    not as \\X..\\ hex (which the library would make of it)."""
    runs = re.findall(r"[\x00-\x7f]+|[^\x00-\x7f]+", value)
    return "".join(_FACTORY.escape(r) if r.isascii() else r for r in runs)


def _seg(name: str, fields: dict):
    """A segment from {field: value} or {(field, component): value}; values escaped."""
    s = _FACTORY.create_segment([_FACTORY.create_field([name])])
    for key, value in sorted(fields.items(), key=lambda kv: kv[0] if isinstance(kv[0], tuple) else (kv[0], 1)):
        f, c = key if isinstance(key, tuple) else (key, 1)
        if value not in (None, ""):
            s.assign_field(_esc(str(value)), f, 1, c)
    return s


def _msh(m: HisMapping, code: str, event: str, structure: str, control_id: str, at: str | None):
    s = _seg("MSH", {3: m.application, 4: m.facility, 5: m.his_application, 6: m.his_facility,
                     7: _dtm(at, m.tz), (9, 1): code, (9, 2): event, (9, 3): structure, 10: control_id, 11: "P",
                     12: "2.5", 18: "UNICODE UTF-8"})
    s.assign_field("|", 1)
    s.assign_field("^~\\&", 2)
    return s


def _text(segments) -> str:
    return str(_FACTORY.create_message(segments))


def ack(m: HisMapping, code: str, control_id: str, ack_id: str, event: str = "", reason: str = "",
        segment: str = "", now: str | None = None) -> str:
    """An ACK: MSA-1 ``code``, MSA-2 the message's control ID, MSA-3 and ERR the reason."""
    segs = [_msh(m, "ACK", event, "ACK", ack_id, now), _seg("MSA", {1: code, 2: control_id, 3: reason[:80]})]
    if code != "AA":
        err = {(3, 1): "207" if code == "AE" else "200", (3, 2): "Application internal error" if code == "AE"
               else "Unsupported message type", (3, 3): "HL70357", 4: "E", 8: reason[:250]}
        if segment:
            err[(2, 1)] = segment
        segs.append(_seg("ERR", err))
    return _text(segs)


def _pid(p: dict) -> object:
    f = {1: "1", (5, 1): p.get("name") or "UNKNOWN"}
    reps = []
    if p.get("patient_id"):
        reps.append((p["patient_id"], p.get("patient_id_type", "PI")))
    if p.get("id_number"):
        reps.append((p["id_number"], p.get("id_number_type", "NI")))
    s = _seg("PID", f)
    for i, (value, typ) in enumerate(reps or [("UNKNOWN", "PI")], 1):
        s.assign_field(_esc(value), 3, i, 1)
        s.assign_field(typ, 3, i, 5)
    return s


def _pv1(m: HisMapping, visit: str, ward: str) -> object:
    return _seg("PV1", {1: "1", 2: "I", (3, 1): m.ward_code_of(ward) if ward else "", 19: visit})


def _ft1(n: int, ref: str, at: str, m: HisMapping, typ: str, code: str, label: str, fen: int, note: str = ""):
    return _seg("FT1", {1: str(n), 2: ref, 4: _dtm(at, m.tz), 6: typ, (7, 1): code, (7, 2): label,
                        (7, 3): "ONESTOP", 8: note, 10: "1", (11, 1): yuan(fen), (11, 2): "CNY"})


def outbound(m: HisMapping, kind: str, p: dict, control_id: str, visit: dict | None, patient: dict | None,
             now: str) -> tuple[str, str, str] | None:
    """(message type, visit, ER7 text) for an outbox command, or None when the HIS is not told.
    ``visit``: the server's HIS visit of the admission (None: onestop's own admission);
    ``patient``: name, id_number, patient_id."""
    at = p.get("at") or now
    pat = dict(patient or {}, id_number_type=m.id_number_type, patient_id_type=m.patient_id_type)
    if visit:
        pat.setdefault("patient_id", visit.get("patient_id"))
    if kind == "hospital.admission.registered":
        if visit is not None:
            return None                     # the HIS started it: it knows
        segs = [_msh(m, "ADT", "A01", "ADT_A01", control_id, now), _seg("EVN", {2: _dtm(at, m.tz)}), _pid(pat),
                _pv1(m, p["inpatient_no"], p.get("ward_code") or "")]
        return "ADT^A01", p["inpatient_no"], _text(segs)
    visit_no = visit["visit"] if visit else p["inpatient_no"]
    ward = (visit or {}).get("ward") or ""
    head = [_msh(m, "DFT", "P03", "DFT_P03", control_id, now), _seg("EVN", {1: "P03", 2: _dtm(at, m.tz)}), _pid(pat),
            _pv1(m, visit_no, ward)]
    if kind in ("hospital.deposit.recorded", "hospital.collection.received", "hospital.refund.paid"):
        typ, code, label = {"hospital.deposit.recorded": ("PY", "DEPOSIT", "住院押金"),
                            "hospital.collection.received": ("PY", "COLLECT", "出院補繳"),
                            "hospital.refund.paid": ("CD", "REFUND", "押金退還")}[kind]
        fen = p["amount_fen"] if typ == "PY" else -p["amount_fen"]
        return "DFT^P03", visit_no, _text(head + [_ft1(1, p["entry_no"], at, m, typ, code, label, fen,
                                                       p.get("method") or "")])
    if kind == "hospital.settlement.recorded":
        no = p["settlement_no"]
        lines = [_ft1(1, f"{no}-T", at, m, "PY", "SETTLE", "結算總額", p["total_fen"], p.get("setl_id") or ""),
                 _ft1(2, f"{no}-F", at, m, "PY", "FUND", "統籌支付", p["pooled_fen"], p.get("scheme") or ""),
                 _ft1(3, f"{no}-S", at, m, "PY", "SELF", "個人自付", p["selfpay_fen"])]
        return "DFT^P03", visit_no, _text(head + lines)
    return None
