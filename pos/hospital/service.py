"""The facade the UI calls: admission, deposits, green channel, beds, charges and daily lists.

``HospitalService(store, policy, gateway)``. Every command runs in one store transaction, checks
its transition against the workflow tables, and emits its outbox command in that transaction.
Commands that need the server (``events.NEEDS_SERVER``) are refused while ``online()`` is false.
Discharge and settlement live in :mod:`pos.hospital.discharge`; its functions are bound here as
methods, so the UI sees one object.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import replace
import zoneinfo
from typing import Callable, Iterable

from pos.ids import utcnow_iso, uuid7

from . import discharge as _dis
from . import reversals as _rev
from . import money
from .daily import LOOKUP_SQL, DailyList, build_daily_list
from .errors import (BadInput, BedOccupied, ChargesLocked, HospitalError, HospitalNotFound,
                     HospitalTransitionError, NeedsServer)
from .events import NEEDS_SERVER
from .fsm import Machine
from .errors import GatewayRejected, GatewayUnavailable
from .gateway import CERT_EVOUCHER, CERT_ID_NUMBER, InsuranceGateway
from .ledger import arrears_fen, ledger_sums, row, rows
from .policy import SCHEMES, Policy, line_amount_fen, load_policy
from .records import IdentityRecord, Payment, identity_from
from .workflows import ADMISSION, GREEN_ITEM, NOTICE

__all__ = ["HospitalService", "TABLES"]

log = logging.getLogger(__name__)

#: workflow entity -> table holding its ``state``
TABLES = {"notice": "hosp_notices", "admission": "hosp_admissions", "green_item": "hosp_green_items",
          "discharge": "hosp_discharges", "receipt": "hosp_receipts", "settlement": "hosp_settlements"}

GREEN_KINDS = ("deposit", "id_document", "insurance_card", "outpatient_record")
#: discharge states in which the charges may still change
_OPEN_FOR_CHARGES = (None, "ordered")
#: admission states in which the wristband exists already (printing again is a reprint)
_WRISTBAND_DONE = ("wristband_printed", "bed_assigned", "identity_confirmed")


class HospitalService:
    def __init__(self, store, policy: Policy | None = None, gateway: InsuranceGateway | None = None, *,
                 level: str = "tertiary", low_balance_fen: int = 50000,
                 online: Callable[[], bool] | None = None, tz: str = "Asia/Shanghai",
                 clock: Callable[[], float] = time.time):
        self.store = store
        self.policy = policy or load_policy()
        self.gateway = gateway
        self.level = level
        self.low_balance_fen = low_balance_fen
        self.online = online or (lambda: True)
        self.tz = tz
        self.clock = clock                          # seconds since the epoch (tests pin it)
        self.policy.rule("self_pay", level)          # fail early on a bad level

    @classmethod
    def from_config(cls, store, config, gateway=None, online=None) -> "HospitalService":
        path = config.get("hospital", "insurance_policy") or None
        return cls(store, load_policy(path), gateway, level=config.get("hospital", "hospital_level"),
                   low_balance_fen=config.get("hospital", "low_balance_fen"), online=online,
                   tz=config.get("site", "timezone"))

    # -- helpers ---------------------------------------------------------------------------
    @property
    def conn(self):
        return self.store.conn

    def now(self) -> str:
        return utcnow_iso(self.clock())

    def today(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), zoneinfo.ZoneInfo(self.tz)).date().isoformat()

    def _need_server(self, kind: str) -> None:
        assert kind in NEEDS_SERVER, kind
        if not self.online():
            raise NeedsServer(f"{kind} needs the server and the device is offline")

    def _move(self, tx, machine: Machine, entity: str, rec: dict, event: str, code: str | None = None) -> str:
        """Apply one checked transition to ``rec`` (a row with id and state) and log it."""
        new = machine.next(rec["state"], event, code)
        cur = tx.execute(f"UPDATE {TABLES[entity]} SET state = ? WHERE id = ? AND state = ?",
                         (new, rec["id"], rec["state"]))
        if cur.rowcount != 1:
            raise HospitalTransitionError(f"{entity} {rec['id']} changed under us (expected {rec['state']})")
        tx.insert("hosp_transitions", {"entity": entity, "entity_id": rec["id"], "from_state": rec["state"],
                                       "to_state": new, "event": event, "at": self.now()})
        rec["state"] = new
        return new

    def admission(self, key: str, conn=None) -> dict:
        """An admission by inpatient number (or admission uid)."""
        r = row(conn or self.conn, "SELECT * FROM hosp_admissions WHERE inpatient_no = ? OR uid = ?", (key, key))
        if r is None:
            raise HospitalNotFound(f"no admission {key!r}")
        return r

    def _discharge_row(self, conn, admission_id: int) -> dict | None:
        return row(conn, "SELECT * FROM hosp_discharges WHERE admission_id = ?", (admission_id,))

    def _patient(self, conn, patient_id: int) -> dict:
        return row(conn, "SELECT * FROM hosp_patients WHERE id = ?", (patient_id,))

    def _issue_receipt(self, tx, admission_id: int, ledger_id: int, kind: str, amount: int) -> str:
        no = tx.next_number("receipt")
        tx.insert("hosp_receipts", {"receipt_no": no, "admission_id": admission_id, "ledger_id": ledger_id,
                                    "kind": kind, "amount_fen": amount, "state": "issued", "issued_at": self.now()})
        return no

    def _ledger(self, tx, admission_id: int, kind: str, amount: int, pay: Payment | None = None,
                settlement_id: int | None = None) -> tuple[int, str]:
        entry_no = tx.next_number("ledger")
        lid = tx.insert("hosp_ledger", {
            "admission_id": admission_id, "entry_no": entry_no, "kind": kind, "amount_fen": amount,
            "method": pay.method if pay else "", "reference": pay.reference if pay else "",
            "masked_pan": pay.masked_pan if pay else "", "settlement_id": settlement_id, "created_at": self.now()})
        return lid, entry_no

    # -- wards and beds --------------------------------------------------------------------
    def add_ward(self, code: str, name: str, floor: int, building: str = "", beds: Iterable[str] = ()) -> None:
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO hosp_wards (code, name, building, floor) VALUES (?, ?, ?, ?)",
                       (code, name, building, floor))
            for b in beds:
                tx.insert("hosp_beds", {"ward_code": code, "bed_no": str(b)})

    def ward(self, code: str) -> dict:
        r = row(self.conn, "SELECT * FROM hosp_wards WHERE code = ?", (code,))
        if r is None:
            raise HospitalNotFound(f"no ward {code!r}")
        return r

    def free_beds(self, ward_code: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT b.bed_no FROM hosp_beds b WHERE b.ward_code = ? AND NOT EXISTS (SELECT 1 FROM hosp_admissions a "
            "WHERE a.bed_id = b.id AND a.state != 'discharged') ORDER BY b.bed_no", (ward_code,))]

    def add_fee_item(self, code: str, name: str, category: str, spec: str = "", unit: str = "", *,
                     price_cap_uyuan: int | None = None, selfpay_permille: int | None = None) -> None:
        """A catalogue item; ``price_cap_uyuan`` is its price cap (限價), ``selfpay_permille`` the
        乙 share paid first when it differs from the region's default."""
        if category not in ("甲", "乙", "丙"):
            raise BadInput(f"category must be 甲, 乙 or 丙, got {category!r}")
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO hosp_fee_items (code, name, spec, unit, category, price_cap_uyuan, "
                       "selfpay_permille) VALUES (?, ?, ?, ?, ?, ?, ?) "
                       "ON CONFLICT(code) DO UPDATE SET name = excluded.name, spec = excluded.spec, "
                       "unit = excluded.unit, category = excluded.category, price_cap_uyuan = "
                       "excluded.price_cap_uyuan, selfpay_permille = excluded.selfpay_permille",
                       (code, name, spec, unit, category, price_cap_uyuan, selfpay_permille))

    # -- notices (入院通知) ------------------------------------------------------------------
    def record_notice(self, *, patient_name: str, id_number: str, ward_code: str, suggested_deposit_fen: int,
                      diagnosis: str = "", doctor: str = "", source: str = "counter",
                      notice_no: str | None = None) -> dict:
        if not patient_name or not id_number:
            raise BadInput("a notice needs the patient's name and ID number")
        if not isinstance(suggested_deposit_fen, int) or suggested_deposit_fen < 0:
            raise BadInput("suggested deposit must be fen, 0 or more", code="bad_amount")
        self.ward(ward_code)
        with self.store.transaction() as tx:
            no = notice_no or tx.next_number("notice")
            issued = self.now()
            tx.insert("hosp_notices", {"notice_no": no, "source": source, "patient_name": patient_name,
                                       "id_number": id_number, "ward_code": ward_code, "diagnosis": diagnosis,
                                       "doctor": doctor, "suggested_deposit_fen": suggested_deposit_fen,
                                       "issued_at": issued, "state": "open"})
            tx.emit("hospital.notice.recorded", {
                "notice_no": no, "source": source, "patient_name": patient_name, "id_number": id_number,
                "ward_code": ward_code, "diagnosis": diagnosis, "doctor": doctor,
                "suggested_deposit_fen": suggested_deposit_fen, "issued_at": issued})
        return self.notice(no)

    def notice(self, notice_no: str) -> dict:
        r = row(self.conn, "SELECT * FROM hosp_notices WHERE notice_no = ?", (notice_no,))
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
        gw = self.gateway
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
        rec = self.resolve_identity(record)
        return row(self.conn, "SELECT * FROM hosp_notices WHERE id_number = ? AND state = 'open' "
                              "ORDER BY issued_at DESC, id DESC LIMIT 1", (rec.id_number,))

    def cancel_notice(self, notice_no: str) -> None:
        with self.store.transaction() as tx:
            n = row(tx, "SELECT * FROM hosp_notices WHERE notice_no = ?", (notice_no,))
            if n is None:
                raise HospitalNotFound(f"no notice {notice_no!r}")
            self._move(tx, NOTICE, "notice", n, "cancel", code="notice_not_open")

    # -- admission ---------------------------------------------------------------------------
    def _link_patient(self, tx, rec: IdentityRecord) -> tuple[dict, int]:
        ident = row(tx, "SELECT * FROM hosp_identities WHERE id_number = ? ORDER BY id LIMIT 1", (rec.id_number,))
        if ident:
            patient = row(tx, "SELECT * FROM hosp_patients WHERE id = ?", (ident["patient_id"],))
        else:
            pid = tx.insert("hosp_patients", {"uid": str(uuid7()), "name": rec.name, "sex": rec.sex,
                                              "birth_date": rec.birth_date, "created_at": self.now()})
            patient = row(tx, "SELECT * FROM hosp_patients WHERE id = ?", (pid,))
        if not patient["name"] and rec.name:
            tx.execute("UPDATE hosp_patients SET name = ? WHERE id = ?", (rec.name, patient["id"]))
        same = row(tx, "SELECT id FROM hosp_identities WHERE source = ? AND id_number = ? AND card_number = ?",
                   (rec.source, rec.id_number, rec.card_number))
        if same:
            return patient, same["id"]
        iid = tx.insert("hosp_identities", {
            "patient_id": patient["id"], "source": rec.source, "id_number": rec.id_number,
            "card_number": rec.card_number, "scheme": rec.scheme, "member_id": rec.member_id, "created_at": self.now()})
        tx.emit("hospital.patient.identified", {
            "patient_uid": patient["uid"], "name": patient["name"], "sex": patient["sex"],
            "birth_date": patient["birth_date"],
            "identity": {"source": rec.source, "id_number": rec.id_number, "card_number": rec.card_number,
                         "scheme": rec.scheme, "member_id": rec.member_id}})
        return patient, iid

    def check_identity(self, notice_no: str, record) -> dict:
        """Step 1 (notice → identity_checked): the card's ID must match the notice."""
        rec = self.resolve_identity(record)
        with self.store.transaction() as tx:
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
            patient, iid = self._link_patient(tx, rec)
            uid = str(uuid7())
            at = self.now()
            aid = tx.insert("hosp_admissions", {
                "uid": uid, "patient_id": patient["id"], "notice_id": n["id"], "ward_code": n["ward_code"],
                "scheme": rec.scheme, "identity_id": iid, "state": ADMISSION.initial, "admitted_at": at})
            tx.emit("hospital.admission.identity_checked", {
                "admission_uid": uid, "patient_uid": patient["uid"], "notice_no": notice_no,
                "scheme": rec.scheme, "at": at})
            return row(tx, "SELECT * FROM hosp_admissions WHERE id = ?", (aid,))

    def register(self, admission_uid: str) -> dict:
        """Step 2 (→ registered): issue the inpatient number (unique across offline devices)."""
        with self.store.transaction() as tx:
            a = row(tx, "SELECT * FROM hosp_admissions WHERE uid = ?", (admission_uid,))
            if a is None:
                raise HospitalNotFound(f"no admission {admission_uid!r}")
            self._move(tx, ADMISSION, "admission", a, "register")
            n = row(tx, "SELECT * FROM hosp_notices WHERE id = ?", (a["notice_id"],))
            self._move(tx, NOTICE, "notice", n, "use", code="notice_not_open")
            number = "ZY" + tx.next_number("inpatient")
            tx.execute("UPDATE hosp_admissions SET inpatient_no = ? WHERE id = ?", (number, a["id"]))
            p = self._patient(tx, a["patient_id"])
            tx.emit("hospital.admission.registered", {
                "admission_uid": a["uid"], "inpatient_no": number, "patient_uid": p["uid"],
                "notice_no": n["notice_no"], "ward_code": a["ward_code"], "scheme": a["scheme"], "at": self.now()})
        return self.admission(number)

    def register_admission(self, notice_no: str, record) -> dict:
        """Check the identity against the notice and register, as the counter does in one go."""
        a = self.check_identity(notice_no, record)
        return self.register(a["uid"]) if a["state"] == "identity_checked" else a

    def _check_open_items(self, tx, a: dict, sums: dict) -> None:
        n = row(tx, "SELECT suggested_deposit_fen FROM hosp_notices WHERE id = ?", (a["notice_id"],))
        if sums["deposit"] >= n["suggested_deposit_fen"]:
            self._close_item(tx, a, "deposit", quiet=True)

    def record_deposit(self, inpatient_no: str, payment: Payment | dict) -> dict:
        """A deposit (預交金) paid in cash, or by card already captured by the terminal. Offline-safe."""
        pay = payment if isinstance(payment, Payment) else Payment(**payment)
        with self.store.transaction() as tx:
            return self.record_deposit_in(tx, inpatient_no, pay)

    def record_deposit_in(self, tx, inpatient_no: str, pay: Payment) -> dict:
        """:meth:`record_deposit` inside the caller's transaction (the card-payment journal posts
        an approved deposit this way, in the transaction that marks the payment posted)."""
        a = self.admission(inpatient_no, tx)
        if a["state"] in ("identity_checked", "discharged"):
            raise HospitalTransitionError(f"admission {inpatient_no} is {a['state']}")
        d = self._discharge_row(tx, a["id"])
        if d and d["state"] not in ("ordered", "charges_locked", "scheduled"):
            raise HospitalTransitionError(f"{inpatient_no}: settled; take the shortfall as a collection")
        if a["state"] == "registered":
            self._move(tx, ADMISSION, "admission", a, "pay_deposit")
        lid, entry_no = self._ledger(tx, a["id"], "deposit", pay.amount_fen, pay)
        receipt_no = self._issue_receipt(tx, a["id"], lid, "deposit", pay.amount_fen)
        at = self.now()
        tx.emit("hospital.deposit.recorded", {
            "inpatient_no": inpatient_no, "entry_no": entry_no, "receipt_no": receipt_no,
            "amount_fen": pay.amount_fen, "method": pay.method, "reference": pay.reference,
            "masked_pan": pay.masked_pan, "at": at})
        self._check_open_items(tx, a, ledger_sums(tx, a["id"]))
        return {"receipt_no": receipt_no, "entry_no": entry_no, "amount_fen": pay.amount_fen, "at": at,
                "inpatient_no": inpatient_no}

    def open_green_channel(self, inpatient_no: str, missing: Iterable[str] = ("deposit",)) -> list[str]:
        """綠色通道: admit with no deposit; track the missing items and the arrears (催繳)."""
        kinds = list(dict.fromkeys(missing))
        if bad := [k for k in kinds if k not in GREEN_KINDS]:
            raise BadInput(f"unknown green-channel items {bad}; known: {GREEN_KINDS}")
        if "deposit" not in kinds:
            kinds.insert(0, "deposit")
        with self.store.transaction() as tx:
            a = self.admission(inpatient_no, tx)
            self._move(tx, ADMISSION, "admission", a, "open_green_channel")
            tx.execute("UPDATE hosp_admissions SET green_channel = 1 WHERE id = ?", (a["id"],))
            at = self.now()
            for k in kinds:
                tx.insert("hosp_green_items", {"admission_id": a["id"], "kind": k, "state": "open", "opened_at": at})
            n = row(tx, "SELECT suggested_deposit_fen FROM hosp_notices WHERE id = ?", (a["notice_id"],))
            if n["suggested_deposit_fen"]:
                self._ledger(tx, a["id"], "arrears", n["suggested_deposit_fen"])
            tx.emit("hospital.green_channel.opened", {"inpatient_no": inpatient_no, "items": kinds,
                                                      "arrears_fen": n["suggested_deposit_fen"], "at": at})
        return kinds

    def _close_item(self, tx, a: dict, kind: str, quiet: bool = False) -> None:
        item = row(tx, "SELECT * FROM hosp_green_items WHERE admission_id = ? AND kind = ?", (a["id"], kind))
        if item is None or (quiet and item["state"] != "open"):
            if quiet:
                return
            raise HospitalNotFound(f"{a['inpatient_no']}: no green-channel item {kind!r}")
        self._move(tx, GREEN_ITEM, "green_item", item, "close")
        at = self.now()
        tx.execute("UPDATE hosp_green_items SET closed_at = ? WHERE id = ?", (at, item["id"]))
        tx.emit("hospital.green_item.closed", {"inpatient_no": a["inpatient_no"], "kind": kind, "at": at})

    def close_green_item(self, inpatient_no: str, kind: str) -> None:
        """The papers were brought in. (The deposit item closes itself when deposits reach the notice's.)"""
        with self.store.transaction() as tx:
            a = self.admission(inpatient_no, tx)
            if kind == "deposit":
                sums = ledger_sums(tx, a["id"])
                if arrears_fen(sums) > 0:
                    raise HospitalError(f"{inpatient_no}: deposit still owed {arrears_fen(sums)}", code="balance_open")
            self._close_item(tx, a, kind)

    def reminders(self) -> list[dict]:
        """The 催繳 list for the counter: every open green-channel item, oldest first."""
        out = rows(self.conn, """
            SELECT a.id AS admission_id, a.inpatient_no, p.name, a.ward_code, g.kind, g.opened_at
            FROM hosp_green_items g JOIN hosp_admissions a ON a.id = g.admission_id
            JOIN hosp_patients p ON p.id = a.patient_id
            WHERE g.state = 'open' AND a.state != 'discharged' ORDER BY g.opened_at, g.id""")
        for r in out:
            r["arrears_fen"] = arrears_fen(ledger_sums(self.conn, r.pop("admission_id")))
        return out

    def print_wristband(self, inpatient_no: str) -> dict:
        """Mark the wristband printed; returns what goes on it (and the slip 'go to ward X, floor Y')."""
        with self.store.transaction() as tx:
            a = self.admission(inpatient_no, tx)
            if a["state"] not in _WRISTBAND_DONE:            # a reprint is not a transition
                self._move(tx, ADMISSION, "admission", a, "print_wristband")
                tx.emit("hospital.wristband.printed", {"inpatient_no": inpatient_no, "at": self.now()})
            p = self._patient(tx, a["patient_id"])
            w = row(tx, "SELECT * FROM hosp_wards WHERE code = ?", (a["ward_code"],))
        return {"inpatient_no": inpatient_no, "name": p["name"], "sex": p["sex"], "birth_date": p["birth_date"],
                "ward_code": w["code"], "ward_name": w["name"], "building": w["building"], "floor": w["floor"],
                "barcode": inpatient_no}

    def assign_bed(self, inpatient_no: str, bed_no: str, ward_code: str | None = None) -> dict:
        """The ward's charge nurse assigns a bed (server: two devices must not give the same bed)."""
        self._need_server("hospital.bed.assigned")
        with self.store.transaction() as tx:
            a = self.admission(inpatient_no, tx)
            ward = ward_code or a["ward_code"]
            bed = row(tx, "SELECT * FROM hosp_beds WHERE ward_code = ? AND bed_no = ?", (ward, str(bed_no)))
            if bed is None:
                raise HospitalNotFound(f"no bed {bed_no} in ward {ward}")
            holder = row(tx, "SELECT inpatient_no FROM hosp_admissions WHERE bed_id = ? AND state != 'discharged' "
                             "AND id != ?", (bed["id"], a["id"]))
            if holder:
                raise BedOccupied(f"bed {ward}-{bed_no} is held by {holder['inpatient_no']}")
            self._move(tx, ADMISSION, "admission", a, "assign_bed")
            tx.execute("UPDATE hosp_admissions SET bed_id = ?, ward_code = ? WHERE id = ?", (bed["id"], ward, a["id"]))
            tx.emit("hospital.bed.assigned", {"inpatient_no": inpatient_no, "ward_code": ward,
                                              "bed_no": bed["bed_no"], "at": self.now()})
        return self.admission(inpatient_no)

    def confirm_identity(self, inpatient_no: str, nurse: str) -> dict:
        """人證合一: the nurse confirms the person in the bed is the person on the ID."""
        if not nurse:
            raise BadInput("the confirming nurse must be named")
        with self.store.transaction() as tx:
            a = self.admission(inpatient_no, tx)
            self._move(tx, ADMISSION, "admission", a, "confirm_identity")
            tx.emit("hospital.identity.confirmed", {"inpatient_no": inpatient_no, "nurse": nurse, "at": self.now()})
        return self.admission(inpatient_no)

    # -- charges and the daily list ----------------------------------------------------------
    def _charges_open(self, tx, a: dict) -> None:
        if a["state"] in ("identity_checked", "discharged"):
            raise HospitalTransitionError(f"{a['inpatient_no'] or a['uid']}: no charges in state {a['state']}")
        d = self._discharge_row(tx, a["id"])
        if (d and d["state"]) not in _OPEN_FOR_CHARGES:
            raise ChargesLocked(f"{a['inpatient_no']}: charges locked (discharge {d['state']})")

    def _charge_payload(self, inpatient_no, c: dict, fee: dict) -> dict:
        return {"inpatient_no": inpatient_no, "charge_ref": c["ref"] or f"{self.store.device_id}-C{c['id']}",
                "fee_code": c["fee_code"], "name": fee["name"], "spec": fee["spec"],
                "unit_price_fen": c["unit_price_fen"], "qty_milli": c["qty_milli"], "amount_fen": c["amount_fen"],
                "category": c["category"], "service_date": c["service_date"], "department": c["department"]}

    def add_charge(self, inpatient_no: str, fee_code: str, qty_milli: int | None = None, *,
                   unit_price_fen: int | None = None, price_uyuan: int | None = None, qty_e4: int | None = None,
                   service_date: str | None = None, department: str = "", ref: str | None = None,
                   name: str | None = None, spec: str = "", unit: str = "", category: str | None = None) -> dict:
        """A charge line from the ward. Quantity in thousandths (or ``qty_e4``, ten-thousandths as
        the platform has it), price in fen (or ``price_uyuan``, micro-yuan); the amount is
        price × quantity rounded half away from zero to the fen.

        A fee code not yet in the catalogue is added when ``name`` and ``category`` come with it
        (charges from the HIS carry them)."""
        if qty_e4 is None and qty_milli is not None and not isinstance(qty_milli, bool) and isinstance(qty_milli, int):
            qty_e4 = qty_milli * 10
        if price_uyuan is None and isinstance(unit_price_fen, int) and not isinstance(unit_price_fen, bool):
            price_uyuan = unit_price_fen * 10_000
        if not isinstance(qty_e4, int) or isinstance(qty_e4, bool) or qty_e4 <= 0:
            raise BadInput(f"quantity must be a positive integer of thousandths, got {qty_milli!r}")
        if not isinstance(price_uyuan, int) or isinstance(price_uyuan, bool) or price_uyuan < 0:
            raise BadInput(f"unit price must be fen, got {unit_price_fen!r}", code="bad_amount")
        unit_price_fen = money.mul_div_round(price_uyuan, 1, 10_000)
        qty_milli = max(1, money.mul_div_round(qty_e4, 1, 10))
        day = service_date or self.today()
        dt.date.fromisoformat(day)
        with self.store.transaction() as tx:
            a = self.admission(inpatient_no, tx)
            self._charges_open(tx, a)
            fee = row(tx, "SELECT * FROM hosp_fee_items WHERE code = ?", (fee_code,))
            if fee is None and name and category in ("甲", "乙", "丙"):
                fee = {"code": fee_code, "name": name, "spec": spec, "unit": unit, "category": category}
                tx.insert("hosp_fee_items", fee)
            if fee is None:
                raise HospitalNotFound(f"unknown fee code {fee_code!r}")
            c = {"admission_id": a["id"], "service_date": day, "fee_code": fee_code, "unit_price_fen": unit_price_fen,
                 "qty_milli": qty_milli, "amount_fen": line_amount_fen(price_uyuan, qty_e4),
                 "price_uyuan": price_uyuan, "qty_e4": qty_e4,
                 "category": fee["category"], "department": department, "reverses_id": None, "ref": ref,
                 "recorded_at": self.now()}
            c["id"] = tx.insert("hosp_charges", c)
            tx.emit("hospital.charge.added", self._charge_payload(inpatient_no, c, fee))
        return c

    def reverse_charge(self, inpatient_no: str, charge_id: int, department: str = "") -> dict:
        """A reversal line (negative quantity and amount) linked to the original; once per line."""
        with self.store.transaction() as tx:
            a = self.admission(inpatient_no, tx)
            self._charges_open(tx, a)
            orig = row(tx, "SELECT * FROM hosp_charges WHERE id = ? AND admission_id = ?", (charge_id, a["id"]))
            if orig is None or orig["reverses_id"] is not None:
                raise HospitalNotFound(f"{inpatient_no}: no charge {charge_id} to reverse")
            if row(tx, "SELECT id FROM hosp_charges WHERE reverses_id = ?", (charge_id,)):
                raise HospitalTransitionError(f"charge {charge_id} is already reversed")
            c = dict(orig, id=None, qty_milli=-orig["qty_milli"], amount_fen=-orig["amount_fen"],
                     qty_e4=-orig["qty_e4"] if orig["qty_e4"] is not None else None,
                     reverses_id=charge_id, ref=None, recorded_at=self.now(), department=department or orig["department"])
            del c["id"]
            c["id"] = tx.insert("hosp_charges", c)
            fee = row(tx, "SELECT * FROM hosp_fee_items WHERE code = ?", (orig["fee_code"],))
            p = self._charge_payload(inpatient_no, c, fee)
            p["reverses_ref"] = orig["ref"] or f"{self.store.device_id}-C{charge_id}"
            tx.emit("hospital.charge.reversed", p)
        return c

    def daily_list(self, inpatient_no: str, day: str | None = None) -> DailyList:
        """The daily fee list for any day of the stay (read only; see :meth:`print_daily_list`)."""
        adm = self.conn.execute(LOOKUP_SQL, (inpatient_no,)).fetchone()
        if adm is None:                                  # maybe an admission uid
            adm = self.conn.execute(LOOKUP_SQL, (self.admission(inpatient_no)["inpatient_no"],)).fetchone()
        return build_daily_list(self.conn, adm, day or self.today(), threshold_fen=self.low_balance_fen, tz=self.tz)

    def print_daily_list(self, inpatient_no: str, day: str | None = None) -> DailyList:
        dl = self.daily_list(inpatient_no, day)
        with self.store.transaction() as tx:
            tx.emit("hospital.daily_list.printed", {"inpatient_no": inpatient_no, "day": dl.day,
                                                    "total_fen": dl.day_total_fen,
                                                    "running_total_fen": dl.running_total_fen, "as_of": self.now()})
        return dl

    # -- discharge and settlement: functions of pos.hospital.discharge bound as methods ----------
    order_discharge = _dis.order_discharge
    lock_charges = _dis.lock_charges
    unlock_charges = _dis.unlock_charges
    schedule_discharge = _dis.schedule_discharge
    pre_settle = _dis.pre_settle
    settle = _dis.settle
    settlement = _dis.settlement
    cancel_settlement = _dis.cancel_settlement
    refund = _dis.refund
    refund_in = _dis.refund_in
    collect = _dis.collect
    collect_in = _dis.collect_in
    print_settlement_list = _dis.print_settlement_list
    discharge = _dis.discharge
    discharge_state = _dis.discharge_state
    account = _dis.account
    recover = _dis.recover
    approve_reversal = _rev.approve_reversal
    reverse_cash_in = _rev.reverse_cash_in
    _record_settlement = _dis._record_settlement
