"""Notices, identification and registration, the wristband and the nurse's identity check
(H-A1..H-A3, H-A5, H-A6; an aggregate of :class:`pos.hospital.service.HospitalService`).

Each method runs in one store transaction and emits its outbox command in it. ``self.h`` is the
hospital service: the shared helpers (transitions, numbers, the ledger) and the other aggregates.
"""

from __future__ import annotations

import logging

from dataclasses import replace
from pos.ids import uuid7

from ..rows import row
from .errors import BadInput, GatewayRejected, GatewayUnavailable, HospitalError, HospitalNotFound, HospitalTransitionError
from .gateway import CERT_EVOUCHER, CERT_ID_NUMBER
from .policy import SCHEMES
from .records import IdentityRecord, identity_from
from .workflows import ADMISSION, NOTICE

__all__ = ["Admissions"]

log = logging.getLogger(__name__)

#: admission states in which the wristband exists already (printing again is a reprint)
_WRISTBAND_DONE = ("wristband_printed", "bed_assigned", "identity_confirmed")


class Admissions:
    def __init__(self, h):
        self.h = h

    def record_notice(self, *, patient_name: str, id_number: str, ward_code: str, suggested_deposit_fen: int,
                      diagnosis: str = "", doctor: str = "", source: str = "counter",
                      notice_no: str | None = None) -> dict:
        if not patient_name or not id_number:
            raise BadInput("a notice needs the patient's name and ID number")
        if not isinstance(suggested_deposit_fen, int) or suggested_deposit_fen < 0:
            raise BadInput("suggested deposit must be fen, 0 or more", code="bad_amount")
        self.h.ward(ward_code)
        with self.h.store.transaction() as tx:
            no = notice_no or tx.next_number("notice")
            issued = self.h.now()
            tx.insert("hosp_notices", {"notice_no": no, "source": source, "patient_name": patient_name,
                                       "id_number": id_number, "ward_code": ward_code, "diagnosis": diagnosis,
                                       "doctor": doctor, "suggested_deposit_fen": suggested_deposit_fen,
                                       "issued_at": issued, "state": "open"})
            tx.emit("hospital.notice.recorded", {
                "notice_no": no, "source": source, "patient_name": patient_name, "id_number": id_number,
                "ward_code": ward_code, "diagnosis": diagnosis, "doctor": doctor,
                "suggested_deposit_fen": suggested_deposit_fen, "issued_at": issued})
        return self.h.notice(no)

    def notice(self, notice_no: str) -> dict:
        r = row(self.h.conn, "SELECT * FROM hosp_notices WHERE notice_no = ?", (notice_no,))
        if r is None:
            raise HospitalNotFound(f"no notice {notice_no!r}")
        return r

    def resolve_identity(self, record) -> IdentityRecord:
        """Turn a card read into an :class:`IdentityRecord` with an ID number and a scheme.

        An e-voucher token is resolved by the platform (1101, credential type 01). A scheme that
        the card did not say is asked of the platform; an uninsured person is ``self_pay``. When
        the platform cannot be reached the scheme stays as read ("" → ``self_pay``, and the
        platform's answer at settlement wins).
        """
        rec = identity_from(record)
        changes: dict = {}
        gw = self.h.gateway
        try:
            if rec.token and gw is not None:
                info = gw.person_info(CERT_EVOUCHER, rec.token)
                changes = {"id_number": info.id_number, "name": rec.name or info.name, "scheme": info.scheme,
                           "member_id": info.member_id}
            elif rec.scheme not in SCHEMES and gw is not None:
                info = gw.person_info(CERT_ID_NUMBER, rec.id_number)
                changes = {"scheme": info.scheme, "member_id": rec.member_id or info.member_id}
        except GatewayRejected:
            if rec.token and not rec.id_number:
                raise                                   # an e-voucher the platform does not know
            changes = {"scheme": "self_pay"}
        except GatewayUnavailable as exc:
            if rec.token and not rec.id_number:
                raise
            log.warning("platform unreachable while identifying %s: %s", rec.source, exc)
        out = replace(rec, **changes)
        if not out.id_number:
            raise BadInput("an identity needs an ID number")
        if out.scheme not in SCHEMES:
            out = replace(out, scheme="self_pay")
        return out

    def find_notice_for_identity(self, record) -> dict | None:
        """The newest open notice for the person a card identified (by ID number), or None."""
        rec = self.h.resolve_identity(record)
        return row(self.h.conn, "SELECT * FROM hosp_notices WHERE id_number = ? AND state = 'open' "
                              "ORDER BY issued_at DESC, id DESC LIMIT 1", (rec.id_number,))

    def cancel_notice(self, notice_no: str) -> None:
        with self.h.store.transaction() as tx:
            n = row(tx, "SELECT * FROM hosp_notices WHERE notice_no = ?", (notice_no,))
            if n is None:
                raise HospitalNotFound(f"no notice {notice_no!r}")
            self.h._move(tx, NOTICE, "notice", n, "cancel", code="notice_not_open")

    def _link_patient(self, tx, rec: IdentityRecord) -> tuple[dict, int]:
        ident = row(tx, "SELECT * FROM hosp_identities WHERE id_number = ? ORDER BY id LIMIT 1", (rec.id_number,))
        if ident:
            patient = row(tx, "SELECT * FROM hosp_patients WHERE id = ?", (ident["patient_id"],))
        else:
            pid = tx.insert("hosp_patients", {"uid": str(uuid7()), "name": rec.name, "sex": rec.sex,
                                              "birth_date": rec.birth_date, "created_at": self.h.now()})
            patient = row(tx, "SELECT * FROM hosp_patients WHERE id = ?", (pid,))
        if not patient["name"] and rec.name:
            tx.execute("UPDATE hosp_patients SET name = ? WHERE id = ?", (rec.name, patient["id"]))
        same = row(tx, "SELECT id FROM hosp_identities WHERE source = ? AND id_number = ? AND card_number = ?",
                   (rec.source, rec.id_number, rec.card_number))
        if same:
            return patient, same["id"]
        iid = tx.insert("hosp_identities", {
            "patient_id": patient["id"], "source": rec.source, "id_number": rec.id_number,
            "card_number": rec.card_number, "scheme": rec.scheme, "member_id": rec.member_id, "created_at": self.h.now()})
        tx.emit("hospital.patient.identified", {
            "patient_uid": patient["uid"], "name": patient["name"], "sex": patient["sex"],
            "birth_date": patient["birth_date"],
            "identity": {"source": rec.source, "id_number": rec.id_number, "card_number": rec.card_number,
                         "scheme": rec.scheme, "member_id": rec.member_id}})
        return patient, iid

    def check_identity(self, notice_no: str, record) -> dict:
        """Step 1 (notice → identity_checked): the card's ID must match the notice."""
        rec = self.h.resolve_identity(record)
        with self.h.store.transaction() as tx:
            n = row(tx, "SELECT * FROM hosp_notices WHERE notice_no = ?", (notice_no,))
            if n is None:
                raise HospitalNotFound(f"no notice {notice_no!r}")
            if n["state"] != "open":
                raise HospitalTransitionError(f"notice {notice_no} is {n['state']}", code="notice_not_open")
            if n["id_number"] != rec.id_number:
                raise HospitalError(f"notice {notice_no} is for another ID number", code="notice_identity_mismatch")
            existing = row(tx, "SELECT * FROM hosp_admissions WHERE notice_id = ?", (n["id"],))
            if existing:
                return existing
            patient, iid = self.h._link_patient(tx, rec)
            uid = str(uuid7())
            at = self.h.now()
            aid = tx.insert("hosp_admissions", {
                "uid": uid, "patient_id": patient["id"], "notice_id": n["id"], "ward_code": n["ward_code"],
                "scheme": rec.scheme, "identity_id": iid, "state": ADMISSION.initial, "admitted_at": at})
            tx.emit("hospital.admission.identity_checked", {
                "admission_uid": uid, "patient_uid": patient["uid"], "notice_no": notice_no,
                "scheme": rec.scheme, "at": at})
            return row(tx, "SELECT * FROM hosp_admissions WHERE id = ?", (aid,))

    def register(self, admission_uid: str) -> dict:
        """Step 2 (→ registered): issue the inpatient number (unique across offline devices)."""
        with self.h.store.transaction() as tx:
            a = row(tx, "SELECT * FROM hosp_admissions WHERE uid = ?", (admission_uid,))
            if a is None:
                raise HospitalNotFound(f"no admission {admission_uid!r}")
            self.h._move(tx, ADMISSION, "admission", a, "register")
            n = row(tx, "SELECT * FROM hosp_notices WHERE id = ?", (a["notice_id"],))
            self.h._move(tx, NOTICE, "notice", n, "use", code="notice_not_open")
            number = "ZY" + tx.next_number("inpatient")
            tx.execute("UPDATE hosp_admissions SET inpatient_no = ? WHERE id = ?", (number, a["id"]))
            p = self.h._patient(tx, a["patient_id"])
            tx.emit("hospital.admission.registered", {
                "admission_uid": a["uid"], "inpatient_no": number, "patient_uid": p["uid"],
                "notice_no": n["notice_no"], "ward_code": a["ward_code"], "scheme": a["scheme"], "at": self.h.now()})
        return self.h.admission(number)

    def register_admission(self, notice_no: str, record) -> dict:
        """Check the identity against the notice and register, as the counter does in one go."""
        a = self.h.check_identity(notice_no, record)
        return self.h.register(a["uid"]) if a["state"] == "identity_checked" else a

    def print_wristband(self, inpatient_no: str) -> dict:
        """Mark the wristband printed; returns what goes on it (and the slip 'go to ward X, floor Y')."""
        with self.h.store.transaction() as tx:
            a = self.h.admission(inpatient_no, tx)
            if a["state"] not in _WRISTBAND_DONE:            # a reprint is not a transition
                self.h._move(tx, ADMISSION, "admission", a, "print_wristband")
                tx.emit("hospital.wristband.printed", {"inpatient_no": inpatient_no, "at": self.h.now()})
            p = self.h._patient(tx, a["patient_id"])
            w = row(tx, "SELECT * FROM hosp_wards WHERE code = ?", (a["ward_code"],))
        return {"inpatient_no": inpatient_no, "name": p["name"], "sex": p["sex"], "birth_date": p["birth_date"],
                "ward_code": w["code"], "ward_name": w["name"], "building": w["building"], "floor": w["floor"],
                "barcode": inpatient_no}

    def confirm_identity(self, inpatient_no: str, nurse: str) -> dict:
        """人證合一: the nurse confirms the person in the bed is the person on the ID. A confirmation
        resolves an earlier refusal; a second confirmation is refused (``already_confirmed``)."""
        if not nurse:
            raise BadInput("the confirming nurse must be named")
        with self.h.store.transaction() as tx:
            a = self.h.admission(inpatient_no, tx)
            if self.identity_check(inpatient_no, tx).get("outcome") == "confirmed":
                raise BadInput(f"{inpatient_no}: identity already confirmed", code="already_confirmed")
            self.h._move(tx, ADMISSION, "admission", a, "confirm_identity")
            at = self.h.now()
            tx.insert("hosp_identity_checks", {"admission_id": a["id"], "outcome": "confirmed", "staff": nurse,
                                               "at": at})
            tx.emit("hospital.identity.confirmed", {"inpatient_no": inpatient_no, "nurse": nurse, "at": at})
        return self.h.admission(inpatient_no)

    def refuse_identity(self, inpatient_no: str, nurse: str, reason: str) -> dict:
        """人證合一 refused: the person does not match the ID. Recorded with the nurse, the time and
        the reason; the stay's charges and discharge wait until a confirmation (``identity_refused``)."""
        if not nurse or not reason.strip():
            raise BadInput("a refusal needs the nurse and a reason")
        with self.h.store.transaction() as tx:
            a = self.h.admission(inpatient_no, tx)
            if self.identity_check(inpatient_no, tx).get("outcome") == "confirmed":
                raise BadInput(f"{inpatient_no}: identity already confirmed", code="already_confirmed")
            if a["state"] != "bed_assigned":
                raise HospitalTransitionError(f"{inpatient_no}: no identity check in state {a['state']}")
            at = self.h.now()
            tx.insert("hosp_identity_checks", {"admission_id": a["id"], "outcome": "refused",
                                               "reason": reason.strip(), "staff": nurse, "at": at})
            tx.emit("hospital.identity.refused", {"inpatient_no": inpatient_no, "nurse": nurse,
                                                  "reason": reason.strip(), "at": at})
        return self.identity_check(inpatient_no)

    def identity_check(self, inpatient_no: str, conn=None) -> dict:
        """The newest identity check of the stay (``outcome``, ``reason``, ``staff``, ``at``), or {}."""
        r = row(conn or self.h.conn, "SELECT c.outcome, c.reason, c.staff, c.at FROM hosp_identity_checks c "
                                     "JOIN hosp_admissions a ON a.id = c.admission_id WHERE a.inpatient_no = ? "
                                     "ORDER BY c.id DESC LIMIT 1", (inpatient_no,))
        return r or {}

    def id_facts(self, inpatient_no: str) -> dict:
        """What the ID card said, for the check at the ward: name, sex, birth date and the ID
        number masked to its last four characters."""
        r = row(self.h.conn, "SELECT p.name, p.sex, p.birth_date, i.id_number FROM hosp_admissions a "
                             "JOIN hosp_patients p ON p.id = a.patient_id "
                             "LEFT JOIN hosp_identities i ON i.id = a.identity_id WHERE a.inpatient_no = ?",
                  (inpatient_no,))
        if r is None:
            raise HospitalNotFound(f"no admission {inpatient_no!r}")
        idno = r.pop("id_number") or ""
        r["id_masked"] = "*" * max(0, len(idno) - 4) + idno[-4:]
        return r
