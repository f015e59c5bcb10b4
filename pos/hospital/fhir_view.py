"""A read-only FHIR R4 view of what the server knows of a hospital stay, built with ``fhir.resources``
models (its R4B package, the R4 technical correction: the resources used here are the same in R4),
so every resource is validated by the library as it is made.

A stay is named by the HIS inpatient number (its visit) or onestop's own inpatient number. Its
resources: Patient (from the kiosk's identification), Encounter (the admission), Coverage (the
insurance scheme), Account (the stay's account, deposits less refunds in its description),
ChargeItem (each charge line of the ledger), Invoice (each recorded settlement) and
PaymentReconciliation (each deposit, refund and collection). Money: integer fen -> CNY with two
decimals, exact (Decimal).
"""

from __future__ import annotations

import json
from decimal import Decimal

from fhir.resources.R4B.account import Account
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.chargeitem import ChargeItem
from fhir.resources.R4B.coverage import Coverage
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.invoice import Invoice
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.paymentreconciliation import PaymentReconciliation

__all__ = ["stay", "resource", "everything", "TYPES", "NotFound"]

SYS = "urn:onestop:"
TYPES = ("Patient", "Encounter", "Coverage", "Account", "ChargeItem", "Invoice", "PaymentReconciliation")


class NotFound(LookupError):
    pass


def _money(fen: int) -> dict:
    return {"value": Decimal(fen) / 100, "currency": "CNY"}


def _fid(text: str) -> str:
    """A FHIR id: [A-Za-z0-9-.]{1,64}."""
    return "".join(c if c.isalnum() and c.isascii() or c in "-." else "-" for c in text)[:64]


def _cmd(cur, kind: str, field: str, value: str):
    # payloads are canonical JSON (sorted keys, no spaces): the value is found as text, then checked
    text = json.dumps(value, ensure_ascii=False)
    for (payload,) in cur.execute("SELECT payload FROM commands WHERE kind = ? AND status = 'applied' AND payload "
                                  "LIKE ? ORDER BY received_at", (kind, f'%"{field}":{text}%')).fetchall():
        p = json.loads(payload)
        if p.get(field) == value:
            yield p


def stay(cur, key: str) -> dict:
    """Everything the server has of one stay, as plain data."""
    v = cur.execute("SELECT visit, notice_no, patient_id, inpatient_no, state, ward, bed FROM his_visits "
                    "WHERE visit = ? OR inpatient_no = ?", (key, key)).fetchone()
    visit = dict(zip(("visit", "notice_no", "patient_id", "inpatient_no", "state", "ward", "bed"), v)) if v else None
    no = (visit or {}).get("inpatient_no") or key
    adm = cur.execute("SELECT admission_id, patient, ward, admitted_at, discharge_scheduled_at, discharged_at "
                      "FROM admissions WHERE admission_id = ?", (no,)).fetchone()
    if adm is None and visit is None:
        raise NotFound(f"no stay {key!r}")
    reg = next(_cmd(cur, "hospital.admission.registered", "inpatient_no", no), {})
    patient_uid = (adm[1] if adm else "") or reg.get("patient_uid") or ""
    person = next(_cmd(cur, "hospital.patient.identified", "patient_uid", patient_uid), {}) if patient_uid else {}
    keys = [no] + ([visit["visit"]] if visit and visit["visit"] != no else [])
    marks = ",".join("?" for _ in keys)
    ledger = cur.execute(f"SELECT entry_id, entry_kind, amount_fen, item, method, created_at FROM ledger "
                         f"WHERE admission_id IN ({marks}) ORDER BY created_at, entry_id", keys).fetchall()
    charges = {}
    for ref, in [(r[0],) for r in ledger if r[1] == "charge"]:
        for kind in ("hospital.his.charge", "hospital.charge.added"):
            for p in _cmd(cur, kind, "charge_ref", ref):
                charges[ref] = p
    settlements = list(_cmd(cur, "hospital.settlement.recorded", "inpatient_no", no))
    return {"key": key, "inpatient_no": no, "visit": visit, "admission": adm, "registered": reg,
            "patient_uid": patient_uid or (visit or {}).get("patient_id") or no, "person": person,
            "ledger": ledger, "charges": charges, "settlements": settlements}


def _build(s: dict) -> list:
    no, visit, person = s["inpatient_no"], s["visit"], s["person"]
    pid, eid = _fid(s["patient_uid"]), _fid(no)
    ident = person.get("identity") or {}
    patient = Patient(id=pid, identifier=[i for i in (
        {"system": SYS + "patient", "value": s["patient_uid"]},
        visit and visit.get("patient_id") and {"system": SYS + "his-patient", "value": visit["patient_id"]},
        ident.get("id_number") and {"system": "urn:oid:2.16.156.10011.1.1", "value": ident["id_number"]}) if i],
        name=[{"text": person["name"]}] if person.get("name") else None,
        gender={"M": "male", "F": "female"}.get(person.get("sex") or "", None),
        birthDate=person.get("birth_date") or None)
    adm = s["admission"]
    discharged = adm and adm[5]
    period = {"start": (adm[3] if adm else None) or s["registered"].get("at")}
    if discharged:
        period["end"] = adm[5]
    period = {k: v for k, v in period.items() if v} or None
    status = "finished" if discharged else ("in-progress" if adm else "planned")
    enc = Encounter(id=eid, status=status, identifier=[i for i in (
        {"system": SYS + "inpatient-no", "value": no},
        visit and {"system": SYS + "his-visit", "value": visit["visit"]}) if i],
        **{"class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP",
                     "display": "inpatient encounter"}},
        subject={"reference": f"Patient/{pid}"}, period=period,
        location=[{"location": {"display": f"{(adm and adm[2]) or (visit or {}).get('ward', '')}"
                                           f"{'/' + visit['bed'] if visit and visit.get('bed') else ''}"}}])
    scheme = s["registered"].get("scheme") or (s["settlements"][-1].get("scheme") if s["settlements"] else "")
    cov = Coverage(id=f"{eid}-cov", status="active", beneficiary={"reference": f"Patient/{pid}"},
                   payor=[{"display": f"basic medical insurance: {scheme}" if scheme and scheme != "self_pay"
                           else "self pay"}],
                   type={"coding": [{"system": SYS + "scheme", "code": scheme or "self_pay"}]})
    sums = {"deposit": 0, "refund": 0, "collection": 0, "charge": 0}
    for _e, kind, amount, *_ in s["ledger"]:
        sums[kind] = sums.get(kind, 0) + amount
    acct = Account(id=f"{eid}-acct", status="inactive" if discharged else "active", name=f"住院 {no}",
                   subject=[{"reference": f"Patient/{pid}"}],
                   coverage=[{"coverage": {"reference": f"Coverage/{eid}-cov"}}],
                   description=f"deposits {sums['deposit']} fen, refunds {sums['refund']} fen, collections "
                               f"{sums['collection']} fen, charges {sums['charge']} fen")
    out = [patient, enc, cov, acct]
    for ref, p in s["charges"].items():
        code = {"coding": [{"system": SYS + "fee", "code": p.get("fee_code") or "?", "display": p.get("name")}]}
        out.append(ChargeItem(
            id=_fid(ref), status="billable", code=code, subject={"reference": f"Patient/{pid}"},
            context={"reference": f"Encounter/{eid}"}, account=[{"reference": f"Account/{eid}-acct"}],
            identifier=[{"system": SYS + "charge", "value": ref}],
            quantity={"value": Decimal(p.get("qty_milli") or 1000) / 1000},
            priceOverride=_money(p["amount_fen"]), occurrenceDateTime=p.get("service_date") or None))
    for st in s["settlements"]:
        out.append(Invoice(
            id=_fid(st["settlement_no"]), status="balanced", subject={"reference": f"Patient/{pid}"},
            account={"reference": f"Account/{eid}-acct"}, date=st.get("at"),
            identifier=[{"system": SYS + "settlement", "value": st["settlement_no"]}],
            lineItem=[{"chargeItemReference": {"reference": f"ChargeItem/{_fid(r)}"}} for r in s["charges"]],
            totalPriceComponent=[{"type": "base", "amount": _money(st["pooled_fen"]),
                                  "code": {"text": "insurance fund"}},
                                 {"type": "base", "amount": _money(st["selfpay_fen"]), "code": {"text": "self pay"}}],
            totalGross=_money(st["total_fen"]), totalNet=_money(st["selfpay_fen"])))
    for entry, kind, amount, _item, method, created in s["ledger"]:
        if kind not in ("deposit", "refund", "collection"):
            continue
        out.append(PaymentReconciliation(
            id=_fid(entry), status="active", created=created, paymentDate=created[:10],
            paymentAmount=_money(-amount if kind == "refund" else amount), outcome="complete",
            disposition=f"{kind} ({method})" if method else kind,
            identifier=[{"system": SYS + "ledger", "value": entry}]))
    return out


def everything(cur, key: str) -> Bundle:
    """The stay's resources in one ``collection`` Bundle ($everything-style)."""
    res = _build(stay(cur, key))
    return Bundle(type="collection", total=len(res),
                  entry=[{"fullUrl": f"{r.get_resource_type()}/{r.id}", "resource": r} for r in res])


def resource(cur, rtype: str, rid: str):
    """One resource by type and id. Patient/Encounter/Account/Coverage ids are derived from the stay;
    the others are found through their stay (the ledger row or settlement that names them)."""
    if rtype not in TYPES:
        raise NotFound(f"no resource type {rtype}")
    keys = []
    if rtype == "Encounter":
        keys = [rid]
    elif rtype in ("Account", "Coverage"):
        keys = [rid.rsplit("-", 1)[0]]
    elif rtype == "Patient":
        r = cur.execute("SELECT admission_id FROM admissions WHERE patient = ?", (rid,)).fetchone()
        keys = [r[0]] if r else []
    elif rtype in ("ChargeItem", "PaymentReconciliation"):
        r = cur.execute("SELECT admission_id FROM ledger WHERE entry_id = ?", (rid,)).fetchone()
        keys = [r[0]] if r else []
    elif rtype == "Invoice":
        for (payload,) in cur.execute("SELECT payload FROM commands WHERE kind = 'hospital.settlement.recorded' "
                                      "AND payload LIKE ?", (f'%"settlement_no":"{rid}"%',)).fetchall():
            p = json.loads(payload)
            if _fid(p.get("settlement_no", "")) == rid:
                keys = [p["inpatient_no"]]
    for key in keys:
        try:
            built = _build(stay(cur, key))
        except NotFound:
            continue
        for r in built:
            if r.get_resource_type() == rtype and (r.id == rid or rtype == "Encounter"):   # by either number
                return r
    raise NotFound(f"{rtype}/{rid} not found")
