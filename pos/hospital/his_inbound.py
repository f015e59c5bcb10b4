"""What an inbound HL7 v2.5 message from the HIS means to the hospital pack: the site's mapping
(:class:`HisMapping`, from ``assets/config/his.toml``) and :func:`plan`, which turns one parsed
message into the hospital commands it stands for, or refuses it.

Plain Python over python-hl7 (no pipes parsed by hand, no network): the server's HIS interface
(``sync.server.his``) calls it with what it knows of the visit and applies the commands in one
transaction. A refusal is :class:`Refused` (``AE``: the message is understood but cannot be
applied; ``AR``: it is not a message we take); a message whose predecessor has not arrived is
:class:`Held`.

The HIS's inpatient number (PV1-19, the visit number) is the notice number kiosks see and the
key of every later message of the stay.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

import hl7

from .. import money

__all__ = ["HisMapping", "load_mapping", "Refused", "Held", "Plan", "parse", "header", "component", "plan", "ts",
           "TYPES", "DEFAULT_PATH"]

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "assets" / "config" / "his.toml"

#: message types taken (MSH-9.1 ^ MSH-9.2)
TYPES = {("ADT", e) for e in ("A01", "A02", "A03", "A04", "A05", "A11", "A13", "A40")} | {("DFT", "P03")}


class Refused(Exception):
    """``code`` AE (understood, cannot be applied) or AR (rejected: not a message we take)."""

    def __init__(self, code: str, reason: str, segment: str = ""):
        super().__init__(reason)
        self.code, self.reason, self.segment = code, reason, segment


class Held(Exception):
    """The message's predecessor has not arrived: keep it, retry when a message of ``visit`` applies."""

    def __init__(self, visit: str, reason: str):
        super().__init__(reason)
        self.visit, self.reason = visit, reason


@dataclass(frozen=True)
class HisMapping:
    name: str = "his"
    application: str = "ONESTOP"
    facility: str = ""
    his_application: str = "HIS"
    his_facility: str = ""
    hold_timeout_s: float = 600.0
    max_bytes: int = 1 << 20
    id_number_type: str = "NI"
    patient_id_type: str = "PI"
    suggested_deposit_fen: int = 300000
    wards: dict = field(default_factory=dict)           # HIS ward -> onestop ward
    beds: dict = field(default_factory=dict)            # HIS ward -> {HIS bed -> onestop bed}
    fees: dict = field(default_factory=dict)            # HIS code -> {code, name, category}
    tz: str = "Asia/Shanghai"

    def ward(self, his_ward: str) -> str:
        if his_ward not in self.wards:
            raise Refused("AE", f"unknown ward {his_ward!r} (not in the site's HIS mapping)", "PV1")
        return self.wards[his_ward]

    def bed(self, his_ward: str, his_bed: str) -> str:
        return self.beds.get(his_ward, {}).get(his_bed, his_bed)

    def ward_code_of(self, onestop_ward: str) -> str:
        for k, v in self.wards.items():
            if v == onestop_ward:
                return k
        return onestop_ward

    def fee(self, his_code: str) -> dict:
        f = self.fees.get(his_code)
        if f is None:
            raise Refused("AE", f"unknown fee code {his_code!r} (not in the site's HIS mapping)", "FT1")
        if f.get("category") not in ("甲", "乙", "丙"):
            raise Refused("AE", f"fee code {his_code!r} has no 甲/乙/丙 category in the mapping", "FT1")
        return f

    def fee_code_of(self, onestop_code: str) -> str:
        for k, v in self.fees.items():
            if v["code"] == onestop_code:
                return k
        return onestop_code


def load_mapping(path: str | Path | None = None, tz: str = "Asia/Shanghai") -> HisMapping:
    with open(path or DEFAULT_PATH, "rb") as f:
        cfg = tomllib.load(f)
    i, ids = cfg.get("interface", {}), cfg.get("identifiers", {})
    fees = {str(k): dict(v) for k, v in cfg.get("fees", {}).items()}
    for k, v in fees.items():
        if v.get("category") not in ("甲", "乙", "丙") or not v.get("code"):
            raise ValueError(f"his mapping: fee {k!r} needs code and a category 甲, 乙 or 丙")
    return HisMapping(
        name=i.get("name", "his"), application=i.get("application", "ONESTOP"), facility=i.get("facility", ""),
        his_application=i.get("his_application", "HIS"), his_facility=i.get("his_facility", ""),
        hold_timeout_s=float(i.get("hold_timeout_s", 600)), max_bytes=int(i.get("max_bytes", 1 << 20)),
        id_number_type=ids.get("id_number", "NI"), patient_id_type=ids.get("patient_id", "PI"),
        suggested_deposit_fen=int(cfg.get("deposit", {}).get("suggested_fen", 300000)),
        wards={str(k): str(v) for k, v in cfg.get("wards", {}).items()},
        beds={str(w): {str(k): str(v) for k, v in b.items()} for w, b in cfg.get("beds", {}).items()},
        fees=fees, tz=tz)


@dataclass
class Plan:
    control_id: str
    msg_type: str                   # "ADT^A05", "DFT^P03"
    visit: str                      # the HIS inpatient number ('' for A04/A40)
    commands: list                  # [(kind, payload)]
    visit_update: dict              # what the server's visit row becomes (columns of his_visits)
    merge: tuple | None = None      # A40: (old patient id, new patient id)


# -- reading fields ---------------------------------------------------------------------------------
def parse(text: str) -> hl7.Message:
    """Parse an ER7 message (segments separated by CR; LF tolerated). Refused AR when it is not HL7."""
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r")
    if not text.startswith("MSH") or len(text) < 8:
        raise Refused("AR", "not an HL7 message: it must begin with an MSH segment", "MSH")
    try:
        msg = hl7.parse(text)
        msg.segment("MSH")
    except Exception as exc:
        raise Refused("AR", f"cannot parse the message: {exc}", "MSH") from None
    for seg in msg:
        name = str(seg[0])
        if len(name) != 3 or not name.isalnum() or not name[0].isalpha() or not name.isupper():
            raise Refused("AR", f"broken segment {name[:10]!r}", name[:3])
    return msg


def component(msg, seg: str, f: int, c: int = 1, r: int = 1, s=None) -> str:
    """A field's component (``s``: one segment instance, else the first ``seg``); '' when absent."""
    try:
        if s is not None:
            return str(s.extract_field(1, f, r, c))
        return str(msg.extract_field(seg, 1, f, r, c))
    except (KeyError, IndexError):
        return ""


def _need(msg, seg: str, f: int, what: str, c: int = 1) -> str:
    v = component(msg, seg, f, c).strip()
    if not v:
        raise Refused("AE", f"{seg}-{f} ({what}) is missing", seg)
    return v


def _has(msg, seg: str) -> bool:
    try:
        msg.segment(seg)
        return True
    except KeyError:
        return False


def _identifiers(msg) -> dict:
    """PID-3's repetitions by identifier type (CX.5) -> ID (CX.1)."""
    out, r = {}, 1
    while r <= 20:
        idv = component(msg, "PID", 3, 1, r)
        if not idv:
            break
        out.setdefault(component(msg, "PID", 3, 5, r), idv)
        r += 1
    return out


_DTM = re.compile(r"(\d{8}(?:\d{4}(?:\d{2})?)?)(?:\.\d{1,4})?([+-]\d{4})?")


def ts(value: str, tz: str) -> str | None:
    """An HL7 DTM (YYYYMMDD[HHMM[SS[.S+]]][+/-ZZZZ]; the site's local time without an offset) ->
    ISO 8601 UTC, or None when empty."""
    value = value.strip()
    if not value:
        return None
    m = _DTM.fullmatch(value)
    if m is None:
        raise Refused("AE", f"not an HL7 time: {value!r}")
    digits, offset = m.groups()
    fmt = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}[len(digits)]
    try:
        dt = datetime.strptime(digits + (offset or ""), fmt + ("%z" if offset else ""))
    except ValueError:
        raise Refused("AE", f"not an HL7 time: {value!r}") from None
    if not offset:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fen(text: str, what: str) -> int:
    """A money amount in yuan (HL7 MO: '45.00' or '45.00^CNY') -> exact fen; more than 2 decimals is refused."""
    try:
        d = Decimal(text.split("^")[0].strip())
    except InvalidOperation:
        raise Refused("AE", f"{what} is not an amount: {text!r}", "FT1") from None
    fen = d * 100
    if fen != fen.to_integral_value() or fen < 0:
        raise Refused("AE", f"{what} {text!r} is not a whole number of fen", "FT1")
    return int(fen)


def _milli(text: str) -> int:
    try:
        d = Decimal(text.strip() or "1")
    except InvalidOperation:
        raise Refused("AE", f"FT1-10 quantity is not a number: {text!r}", "FT1") from None
    m = d * 1000
    if m != m.to_integral_value() or m <= 0:
        raise Refused("AE", f"FT1-10 quantity must be positive with at most 3 decimals: {text!r}", "FT1")
    return int(m)


# -- the plan ---------------------------------------------------------------------------------------
def header(msg) -> tuple[str, str, str]:
    """(control id, message code, trigger event); AR when MSH-9 or MSH-10 is missing."""
    control = component(msg, "MSH", 10).strip()
    code, event = component(msg, "MSH", 9, 1).strip(), component(msg, "MSH", 9, 2).strip()
    if not control:
        raise Refused("AR", "MSH-10 (message control ID) is missing", "MSH")
    if len(control) > 64:
        raise Refused("AR", "MSH-10 (message control ID) is longer than 64 characters", "MSH")
    if not code or not event:
        raise Refused("AR", "MSH-9 (message type) is missing", "MSH")
    return control, code, event


def plan(msg, m: HisMapping, visits, now: str) -> Plan:
    """The commands ``msg`` stands for. ``visits(visit_no) -> dict | None``: the server's row of the
    visit (``state``: preadmit, admitted, discharge_ordered, discharged, cancelled; ``inpatient_no``:
    onestop's admission, when a kiosk registered it; ``ward``, ``bed``; ``patient_id``)."""
    control, code, event = header(msg)
    version = component(msg, "MSH", 12).strip()
    if version and not version.startswith("2."):
        raise Refused("AR", f"HL7 version {version!r} is not v2", "MSH")
    if (code, event) not in TYPES:
        raise Refused("AR", f"message type {code}^{event} is not taken by this interface", "MSH")
    if m.his_application and component(msg, "MSH", 3).strip() not in ("", m.his_application):
        raise Refused("AR", f"MSH-3 {component(msg, 'MSH', 3)!r} is not the configured HIS", "MSH")
    typ = f"{code}^{event}"
    at = ts(component(msg, "EVN", 2), m.tz) if _has(msg, "EVN") and component(msg, "EVN", 2) else None
    at = at or ts(component(msg, "MSH", 7), m.tz) or now
    if event == "A40":
        if not _has(msg, "MRG"):
            raise Refused("AE", "A40 needs an MRG segment", "MRG")
        new = _identifiers(msg).get(m.patient_id_type) or _need(msg, "PID", 3, "patient ID")
        old = _need(msg, "MRG", 1, "prior patient ID")
        return Plan(control, typ, "", [("hospital.his.patients_merged", {"from_patient": old, "to_patient": new,
                                                                         "at": at})], {}, merge=(old, new))
    if event == "A04":
        ids = _identifiers(msg)
        pid = ids.get(m.patient_id_type) or _need(msg, "PID", 3, "patient ID")
        return Plan(control, typ, "", [("hospital.his.patient_registered", {
            "patient_id": pid, "id_number": ids.get(m.id_number_type, ""), "patient_name": _name(msg), "at": at})], {})
    if code == "DFT":
        return _charges(msg, m, visits, control, typ, at)
    if not _has(msg, "PV1"):
        raise Refused("AE", f"{typ} needs a PV1 segment", "PV1")
    visit = _need(msg, "PV1", 19, "visit number (the HIS inpatient number)")
    v = visits(visit)
    his_ward, his_bed = component(msg, "PV1", 3, 1).strip(), component(msg, "PV1", 3, 3).strip()
    if event == "A05":
        if v is not None and v["state"] != "cancelled":
            raise Refused("AE", f"visit {visit} is pre-admitted already ({v['state']})", "PV1")
        ward = m.ward(his_ward or _need(msg, "PV1", 3, "assigned location"))
        ids = _identifiers(msg)
        idno = ids.get(m.id_number_type, "")
        if not idno:
            raise Refused("AE", f"PID-3 has no identifier of type {m.id_number_type} (the resident ID number)", "PID")
        name = _name(msg)
        if not name:
            raise Refused("AE", "PID-5 (patient name) is missing", "PID")
        deposit = m.suggested_deposit_fen
        if _has(msg, "ZDP") and component(msg, "ZDP", 1):
            deposit = _fen(component(msg, "ZDP", 1), "ZDP-1 suggested deposit")
        p = {"notice_no": visit, "source": "his", "patient_name": name, "id_number": idno, "ward_code": ward,
             "diagnosis": component(msg, "DG1", 4) if _has(msg, "DG1") else "",
             "doctor": _doctor(msg), "suggested_deposit_fen": deposit, "issued_at": at,
             "patient_id": ids.get(m.patient_id_type, "")}
        return Plan(control, typ, visit, [("hospital.his.notice", p)],
                    {"state": "preadmit", "ward": ward, "bed": "", "patient_id": p["patient_id"], "notice_no": visit})
    if v is None:
        raise Held(visit, f"{typ} for visit {visit} waits for its A05 (pre-admit)")
    _checked_in(v, typ, event)
    no = v.get("inpatient_no") or visit
    base = {"inpatient_no": no, "notice_no": visit, "at": at}
    if event == "A01":
        if v["state"] != "preadmit":
            raise Refused("AE", f"visit {visit} is {v['state']}: cannot admit", "PV1")
        ward = m.ward(his_ward or v["ward"])
        bed = m.bed(his_ward, his_bed) if his_bed else ""
        return Plan(control, typ, visit, [("hospital.his.admitted", {**base, "ward_code": ward, "bed_no": bed})],
                    {"state": "admitted", "ward": ward, "bed": bed})
    if event == "A02":
        if v["state"] == "preadmit":
            raise Held(visit, f"A02 for visit {visit} waits for its A01 (admit)")
        if v["state"] != "admitted":
            raise Refused("AE", f"visit {visit} is {v['state']}: cannot transfer", "PV1")
        ward = m.ward(his_ward or _need(msg, "PV1", 3, "new location"))
        bed = m.bed(his_ward, his_bed) if his_bed else ""
        return Plan(control, typ, visit, [("hospital.his.transferred", {
            **base, "ward_code": ward, "bed_no": bed, "from_ward": v["ward"], "from_bed": v["bed"]})],
            {"ward": ward, "bed": bed})
    if event == "A03":
        if v["state"] == "preadmit":
            raise Held(visit, f"A03 for visit {visit} waits for its A01 (admit)")
        if v["state"] != "admitted":
            raise Refused("AE", f"visit {visit} is {v['state']}: cannot order its discharge", "PV1")
        disposition = component(msg, "PV1", 36).strip()
        summary = f"PV1-36 {disposition}" if disposition else "HIS discharge order"
        return Plan(control, typ, visit, [("hospital.his.discharge_ordered", {
            **base, "summary": summary, "ebill_no": visit, "doctor": _doctor(msg),
            "discharge_at": ts(component(msg, "PV1", 45), m.tz)})], {"state": "discharge_ordered"})
    if event == "A11":
        if v["state"] not in ("admitted", "preadmit"):
            raise Refused("AE", f"visit {visit} is {v['state']}: cannot cancel its admission", "PV1")
        return Plan(control, typ, visit, [("hospital.his.admit_cancelled", {
            **base, "ward_code": v["ward"], "bed_no": v["bed"], "was": v["state"]})],
            {"state": "cancelled" if v["state"] == "preadmit" else "preadmit", "bed": ""})
    if event == "A13":
        if v["state"] != "discharge_ordered":
            raise Refused("AE", f"visit {visit} is {v['state']}: no discharge to cancel", "PV1")
        return Plan(control, typ, visit, [("hospital.his.discharge_cancelled", base)], {"state": "admitted"})
    raise Refused("AR", f"message type {typ} is not taken", "MSH")      # pragma: no cover (TYPES)


def _checked_in(v: dict, typ: str, event: str) -> None:
    """The bed, the discharge order and the charges belong to onestop's admission: until a kiosk or
    the counter has registered the patient for this notice (the server links the two), they wait."""
    if event in ("A01", "A02", "A03", "P03") and not v.get("inpatient_no") and v["state"] != "cancelled":
        raise Held(v["visit"], f"{typ} for visit {v['visit']} waits for the patient's check-in at onestop")


def _name(msg) -> str:
    fam, giv = component(msg, "PID", 5, 1).strip(), component(msg, "PID", 5, 2).strip()
    return fam + giv


def _doctor(msg) -> str:
    if not _has(msg, "PV1"):
        return ""
    return (component(msg, "PV1", 7, 2) + component(msg, "PV1", 7, 3)).strip() or component(msg, "PV1", 7, 1).strip()


def _charges(msg, m: HisMapping, visits, control: str, typ: str, at: str) -> Plan:
    if not _has(msg, "PV1"):
        raise Refused("AE", "DFT^P03 needs a PV1 segment", "PV1")
    visit = _need(msg, "PV1", 19, "visit number (the HIS inpatient number)")
    lines = [s for s in msg if str(s[0]) == "FT1"]
    if not lines:
        raise Refused("AE", "DFT^P03 without an FT1 segment", "FT1")
    v = visits(visit)
    if v is None:
        raise Held(visit, f"charges for visit {visit} wait for its A05 (pre-admit)")
    if v["state"] in ("discharged", "cancelled"):
        raise Refused("AE", f"charge for a {v['state']} stay: visit {visit}", "FT1")
    _checked_in(v, typ, "P03")
    no = v["inpatient_no"]
    cmds, refs = [], set()
    for n, s in enumerate(lines, 1):
        ref = component(msg, "FT1", 2, s=s).strip()
        if not ref:
            raise Refused("AE", f"FT1 #{n}: FT1-2 (transaction ID) is missing", "FT1")
        if ref in refs:
            raise Refused("AE", f"FT1 #{n}: transaction {ref} twice in one message", "FT1")
        refs.add(ref)
        kind = component(msg, "FT1", 6, s=s).strip() or "CG"
        if kind != "CG":
            raise Refused("AE", f"FT1 #{n}: transaction type {kind!r} is not taken (only CG, a charge)", "FT1")
        code = component(msg, "FT1", 7, s=s).strip()
        if not code:
            raise Refused("AE", f"FT1 #{n}: FT1-7 (transaction code) is missing", "FT1")
        fee = m.fee(code)
        qty = _milli(component(msg, "FT1", 10, s=s))
        price_text = component(msg, "FT1", 12, s=s).strip()
        if not price_text:
            raise Refused("AE", f"FT1 #{n}: FT1-12 (unit price) is missing", "FT1")
        price = _fen(price_text, f"FT1 #{n}: FT1-12 unit price")
        amount = money.amount_fen(price, qty)
        total = component(msg, "FT1", 11, s=s).strip()
        if total and _fen(total, f"FT1 #{n}: FT1-11 extended amount") != amount:
            raise Refused("AE", f"FT1 #{n}: FT1-11 {total} is not FT1-10 × FT1-12 ({amount} fen)", "FT1")
        day = ts(component(msg, "FT1", 4, s=s), m.tz) or at
        local = datetime.fromisoformat(day.replace("Z", "+00:00")).astimezone(ZoneInfo(m.tz)).date().isoformat()
        cmds.append(("hospital.his.charge", {
            "inpatient_no": no, "notice_no": visit, "charge_ref": f"HIS-{ref}", "fee_code": fee["code"],
            "his_code": code, "name": fee["name"], "category": fee["category"], "qty_milli": qty,
            "unit_price_fen": price, "amount_fen": amount, "service_date": local,
            "department": component(msg, "FT1", 13, s=s).strip(), "at": at}))
    return Plan(control, typ, visit, cmds, {})
