"""The green channel (綠色通道, H-A6) beyond its opening: an unidentified emergency patient admitted
under a temporary identity and merged later with the real one, each open item with a due date, an
overdue flag and the record of each chase (催繳), and the discharge block with its supervisor
override (an aggregate of :class:`pos.hospital.service.HospitalService`; the opening of the channel
at registration and the item's close stay in :mod:`pos.hospital.deposits`).

A temporary identity is a patient row with no ``hosp_identities`` row and a temporary number
(``hosp_temp_patients``): its name is shown as 无名氏 / 無名氏 / Unknown plus that number
(:func:`temp_name`). A merge moves the stays of one patient onto another and is refused when both
patients carry an ID (``merge_both_identified``): two identified people are never one person by a
cashier's tap. Each merge, chase and override is an append-only row and an outbox command, so the
server and the other devices know of it.
"""

from __future__ import annotations

import datetime as dt

from pos.ids import uuid7

from ..rows import row, rows
from .deposits import GREEN_KINDS
from .errors import BadInput, HospitalError, HospitalNotFound
from .ledger import arrears_fen, ledger_sums
from .workflows import ADMISSION, NOTICE

__all__ = ["Green", "MIGRATIONS", "CHASE_METHODS", "TEMP_NAMES", "temp_name", "green_items_block"]

#: how a chase was made
CHASE_METHODS = ("phone", "in_person", "sms")

#: the temporary name of an unidentified patient, per language (the number follows)
TEMP_NAMES = {"zh-Hans": "无名氏", "zh-Hant": "無名氏", "en": "Unknown"}

#: days an item may stay open when nobody names a due date
DEFAULT_DUE_DAYS = 3


def temp_name(temp_no: str, lang: str = "zh-Hans") -> str:
    base = TEMP_NAMES.get(lang, TEMP_NAMES["zh-Hans"])
    return f"{base} {temp_no}" if lang == "en" else f"{base}{temp_no}"


def m401_green_items(db) -> None:
    """Due dates, chases, temporary identities, merges and discharge overrides of the green channel."""
    x = db.execute
    x("ALTER TABLE hosp_green_items ADD COLUMN due_on TEXT")
    x("ALTER TABLE hosp_green_items ADD COLUMN opened_by TEXT NOT NULL DEFAULT ''")
    x("ALTER TABLE hosp_green_items ADD COLUMN closed_by TEXT NOT NULL DEFAULT ''")
    x("""CREATE TABLE hosp_green_chases (
        id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES hosp_green_items(id),
        staff TEXT NOT NULL, method TEXT NOT NULL CHECK (method IN ('phone','in_person','sms')),
        answer TEXT NOT NULL, at TEXT NOT NULL)""")
    x("CREATE INDEX hosp_green_chases_item ON hosp_green_chases (item_id, id)")
    x("""CREATE TABLE hosp_temp_patients (
        patient_id INTEGER PRIMARY KEY REFERENCES hosp_patients(id), temp_no TEXT NOT NULL UNIQUE,
        est_age INTEGER CHECK (est_age BETWEEN 0 AND 130), staff TEXT NOT NULL, at TEXT NOT NULL)""")
    x("""CREATE TABLE hosp_patient_merges (
        id INTEGER PRIMARY KEY, from_uid TEXT NOT NULL, to_uid TEXT NOT NULL, staff TEXT NOT NULL,
        at TEXT NOT NULL)""")
    x("""CREATE TABLE hosp_green_overrides (
        id INTEGER PRIMARY KEY, admission_id INTEGER NOT NULL REFERENCES hosp_admissions(id),
        supervisor TEXT NOT NULL, reason TEXT NOT NULL, items TEXT NOT NULL, at TEXT NOT NULL)""")
    for table in ("hosp_green_chases", "hosp_patient_merges", "hosp_green_overrides"):
        for op in ("UPDATE", "DELETE"):
            x(f"""CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
                  BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")


MIGRATIONS = [m401_green_items]


def open_items(conn, admission_id: int) -> list[str]:
    return [r[0] for r in conn.execute("SELECT kind FROM hosp_green_items WHERE admission_id = ? AND state = 'open' "
                                       "ORDER BY id", (admission_id,))]


def green_items_block(svc, tx, a: dict) -> None:
    """Refuse to close the stay ``a`` while one of its green-channel items is open, unless a
    supervisor overrode it (:meth:`Green.override_block`) after the last item was opened. The
    deposit item is settled by the discharge's own balancing (多退少補: the account is balanced
    before the stay can close) and closes here; papers still missing block."""
    if "deposit" in open_items(tx, a["id"]):
        svc._close_item(tx, a, "deposit", quiet=True)
    items = open_items(tx, a["id"])
    if not items:
        return
    last = tx.execute("SELECT max(opened_at) FROM hosp_green_items WHERE admission_id = ?", (a["id"],)).fetchone()[0]
    ok = tx.execute("SELECT 1 FROM hosp_green_overrides WHERE admission_id = ? AND at >= ?",
                    (a["id"], last)).fetchone()
    if ok is None:
        raise HospitalError(f"{a['inpatient_no']}: green-channel items open {items}", code="green_items_open")


class Green:
    def __init__(self, h):
        self.h = h

    def _due(self, due_on: str | None) -> str:
        if due_on in (None, ""):
            return (dt.date.fromisoformat(self.h.today()) + dt.timedelta(days=DEFAULT_DUE_DAYS)).isoformat()
        try:
            return dt.date.fromisoformat(due_on).isoformat()
        except (TypeError, ValueError):
            raise BadInput(f"due date {due_on!r} is not a date", code="bad_date") from None

    # -- the unidentified patient --------------------------------------------------------------
    def admit_unidentified(self, *, ward_code: str, sex: str, est_age: int, staff: str,
                           suggested_deposit_fen: int = 0, diagnosis: str = "",
                           due_on: str | None = None) -> dict:
        """An emergency patient with no ID: a temporary identity (无名氏 + number), registered at
        once under the green channel with the deposit, ID and insurance card items open."""
        if sex not in ("M", "F", "U"):
            raise BadInput(f"sex {sex!r}: M, F or U")
        if not isinstance(est_age, int) or not 0 <= est_age <= 130:
            raise BadInput(f"estimated age {est_age!r}: 0 to 130 years")
        if not staff:
            raise BadInput("the admitting staff member must be named")
        if not isinstance(suggested_deposit_fen, int) or suggested_deposit_fen < 0:
            raise BadInput("suggested deposit must be fen, 0 or more", code="bad_amount")
        self.h.ward(ward_code)
        due = self._due(due_on)
        with self.h.store.transaction() as tx:
            temp_no = tx.next_number("temp_patient", width=4)
            at = self.h.now()
            name = temp_name(temp_no)
            pid = tx.insert("hosp_patients", {"uid": str(uuid7()), "name": name, "sex": sex, "birth_date": None,
                                              "created_at": at})
            patient = self.h._patient(tx, pid)
            tx.insert("hosp_temp_patients", {"patient_id": pid, "temp_no": temp_no, "est_age": est_age,
                                             "staff": staff, "at": at})
            notice_no = tx.next_number("notice")
            nid = tx.insert("hosp_notices", {"notice_no": notice_no, "source": "counter", "patient_name": name,
                                             "id_number": "", "ward_code": ward_code, "diagnosis": diagnosis,
                                             "doctor": "", "suggested_deposit_fen": suggested_deposit_fen,
                                             "issued_at": at, "state": "used"})
            tx.insert("hosp_transitions", {"entity": "notice", "entity_id": nid, "from_state": NOTICE.initial,
                                           "to_state": "used", "event": "use", "at": at})
            number = "ZY" + tx.next_number("inpatient")
            aid = tx.insert("hosp_admissions", {
                "uid": str(uuid7()), "inpatient_no": number, "patient_id": pid, "notice_id": nid,
                "ward_code": ward_code, "scheme": "self_pay", "state": ADMISSION.initial, "admitted_at": at})
            a = row(tx, "SELECT * FROM hosp_admissions WHERE id = ?", (aid,))
            self.h._move(tx, ADMISSION, "admission", a, "register")
            self.h._move(tx, ADMISSION, "admission", a, "open_green_channel")
            tx.execute("UPDATE hosp_admissions SET green_channel = 1 WHERE id = ?", (aid,))
            tx.emit("hospital.patient.temp_admitted", {"patient_uid": patient["uid"], "temp_no": temp_no,
                                                       "sex": sex, "est_age": est_age, "staff": staff, "at": at})
            tx.emit("hospital.admission.registered", {
                "admission_uid": a["uid"], "inpatient_no": number, "patient_uid": patient["uid"],
                "notice_no": notice_no, "ward_code": ward_code, "scheme": "self_pay", "at": at})
            kinds = ["deposit", "id_document", "insurance_card"]
            for k in kinds:
                tx.insert("hosp_green_items", {"admission_id": aid, "kind": k, "state": "open", "opened_at": at,
                                               "due_on": due, "opened_by": staff})
            if suggested_deposit_fen:
                self.h._ledger(tx, aid, "arrears", suggested_deposit_fen)
            tx.emit("hospital.green_channel.opened", {"inpatient_no": number, "items": kinds, "due_on": due,
                                                      "arrears_fen": suggested_deposit_fen, "at": at})
        return {**self.h.admission(number), "temp_no": temp_no, "name": name}

    def temp_patient(self, inpatient_no: str, conn=None) -> dict | None:
        """``{temp_no, est_age, sex}`` when the stay's patient is (still) a temporary identity."""
        return row(conn or self.h.conn, "SELECT t.temp_no, t.est_age, p.sex FROM hosp_temp_patients t "
                   "JOIN hosp_patients p ON p.id = t.patient_id JOIN hosp_admissions a ON a.patient_id = p.id "
                   "WHERE a.inpatient_no = ?", (inpatient_no,))

    def merge_patients(self, from_uid: str, to_uid: str, staff: str, tx=None) -> dict:
        """Move every stay of patient ``from_uid`` onto ``to_uid`` and record who, when, from and to.
        Refused when both carry an ID (``merge_both_identified``)."""
        if tx is None:
            with self.h.store.transaction() as tx:
                return self.merge_patients(from_uid, to_uid, staff, tx)
        if not staff:
            raise BadInput("the merging staff member must be named")
        src = row(tx, "SELECT * FROM hosp_patients WHERE uid = ?", (from_uid,))
        dst = row(tx, "SELECT * FROM hosp_patients WHERE uid = ?", (to_uid,))
        if src is None or dst is None:
            raise HospitalNotFound(f"no patient {from_uid if src is None else to_uid!r}")
        if src["id"] == dst["id"]:
            raise BadInput("a patient cannot be merged with itself")
        ids = [tx.execute("SELECT count(*) FROM hosp_identities WHERE patient_id = ?", (p["id"],)).fetchone()[0]
               for p in (src, dst)]
        if all(ids):
            raise HospitalError(f"patients {from_uid} and {to_uid} both have an ID", code="merge_both_identified")
        at = self.h.now()
        moved = [r[0] for r in tx.execute("SELECT inpatient_no FROM hosp_admissions WHERE patient_id = ? "
                                          "ORDER BY id", (src["id"],))]
        tx.execute("UPDATE hosp_admissions SET patient_id = ? WHERE patient_id = ?", (dst["id"], src["id"]))
        tx.execute("UPDATE hosp_identities SET patient_id = ? WHERE patient_id = ?", (dst["id"], src["id"]))
        tx.execute("DELETE FROM hosp_temp_patients WHERE patient_id = ?", (src["id"],))
        tx.insert("hosp_patient_merges", {"from_uid": from_uid, "to_uid": to_uid, "staff": staff, "at": at})
        tx.emit("hospital.patient.merged", {"from_uid": from_uid, "to_uid": to_uid, "inpatient_nos": moved,
                                            "staff": staff, "at": at})
        return {"from_uid": from_uid, "to_uid": to_uid, "inpatient_nos": moved, "staff": staff, "at": at}

    def merge_identity(self, inpatient_no: str, record, staff: str) -> dict:
        """The ID card of a patient admitted as 无名氏 was read: the temporary identity is merged
        into the person the card names (a patient this hospital knows, or a new one), the stay
        takes the card's identity and scheme, and the ID item closes."""
        rec = self.h.resolve_identity(record)
        with self.h.store.transaction() as tx:
            a = self.h.admission(inpatient_no, tx)
            src = self.h._patient(tx, a["patient_id"])
            known = row(tx, "SELECT patient_id FROM hosp_identities WHERE id_number = ? ORDER BY id LIMIT 1",
                        (rec.id_number,))
            if known and known["patient_id"] == src["id"]:
                raise BadInput(f"{inpatient_no}: already identified by this ID", code="already_confirmed")
            if tx.execute("SELECT count(*) FROM hosp_identities WHERE patient_id = ?", (src["id"],)).fetchone()[0]:
                raise HospitalError(f"{inpatient_no}: the patient has an ID already and the card names another",
                                    code="merge_both_identified")
            dst, iid = self.h._link_patient(tx, rec)
            out = self.merge_patients(src["uid"], dst["uid"], staff, tx)
            tx.execute("UPDATE hosp_admissions SET identity_id = ?, scheme = ? WHERE id = ?",
                       (iid, rec.scheme, a["id"]))
            self.h._close_item(tx, a, "id_document", quiet=True)
            self._mark_closed_by(tx, a["id"], "id_document", staff)
        return {**out, "name": dst["name"] or rec.name}

    # -- the open items ------------------------------------------------------------------------
    def open_item(self, inpatient_no: str, kind: str, staff: str, due_on: str | None = None) -> dict:
        """The counter opens one item (deposit, ID, insurance card, outpatient record) on a stay."""
        if kind not in GREEN_KINDS:
            raise BadInput(f"unknown green-channel item {kind!r}; known: {GREEN_KINDS}")
        if not staff:
            raise BadInput("the staff member must be named")
        due = self._due(due_on)
        with self.h.store.transaction() as tx:
            a = self.h.admission(inpatient_no, tx)
            if a["state"] == "discharged":
                raise BadInput(f"{inpatient_no}: discharged; no new item", code="invalid_transition")
            if row(tx, "SELECT id FROM hosp_green_items WHERE admission_id = ? AND kind = ?", (a["id"], kind)):
                raise BadInput(f"{inpatient_no}: item {kind} exists already", code="green_item_exists")
            at = self.h.now()
            tx.insert("hosp_green_items", {"admission_id": a["id"], "kind": kind, "state": "open", "opened_at": at,
                                           "due_on": due, "opened_by": staff})
            tx.execute("UPDATE hosp_admissions SET green_channel = 1 WHERE id = ?", (a["id"],))
            tx.emit("hospital.green_item.opened", {"inpatient_no": inpatient_no, "kind": kind, "due_on": due,
                                                   "staff": staff, "at": at})
        return {"inpatient_no": inpatient_no, "kind": kind, "due_on": due}

    def close_item(self, inpatient_no: str, kind: str, staff: str) -> None:
        """An item was brought in (the deposit only once nothing is owed)."""
        if not staff:
            raise BadInput("the staff member must be named")
        self.h.close_green_item(inpatient_no, kind)
        with self.h.store.transaction() as tx:
            self._mark_closed_by(tx, self.h.admission(inpatient_no, tx)["id"], kind, staff)

    def _mark_closed_by(self, tx, admission_id: int, kind: str, staff: str) -> None:
        tx.execute("UPDATE hosp_green_items SET closed_by = ? WHERE admission_id = ? AND kind = ? AND state = 'done'",
                   (staff, admission_id, kind))

    def record_chase(self, inpatient_no: str, kind: str, *, staff: str, method: str, answer: str) -> dict:
        """One chase of an open item (催繳): who, how (phone, in person, SMS) and what was answered."""
        if method not in CHASE_METHODS:
            raise BadInput(f"chase method {method!r}; known: {CHASE_METHODS}")
        if not staff or not answer.strip():
            raise BadInput("a chase needs the staff member and the answer", code="chase_incomplete")
        with self.h.store.transaction() as tx:
            a = self.h.admission(inpatient_no, tx)
            item = row(tx, "SELECT * FROM hosp_green_items WHERE admission_id = ? AND kind = ?", (a["id"], kind))
            if item is None or item["state"] != "open":
                raise HospitalNotFound(f"{inpatient_no}: no open green-channel item {kind!r}")
            at = self.h.now()
            tx.insert("hosp_green_chases", {"item_id": item["id"], "staff": staff, "method": method,
                                            "answer": answer.strip(), "at": at})
            tx.emit("hospital.green_item.chased", {"inpatient_no": inpatient_no, "kind": kind, "staff": staff,
                                                   "method": method, "answer": answer.strip(), "at": at})
        return {"inpatient_no": inpatient_no, "kind": kind, "staff": staff, "method": method,
                "answer": answer.strip(), "at": at}

    def green_items(self, inpatient_no: str, conn=None) -> list[dict]:
        """Every item of the stay, open or done, with its due date, ``overdue`` and its chases."""
        conn = conn or self.h.conn
        a = self.h.admission(inpatient_no, conn)
        today = self.h.today()
        out = rows(conn, "SELECT id, kind, state, opened_at, due_on, opened_by, closed_at, closed_by "
                         "FROM hosp_green_items WHERE admission_id = ? ORDER BY id", (a["id"],))
        for it in out:
            it["overdue"] = it["state"] == "open" and bool(it["due_on"]) and it["due_on"] < today
            it["chases"] = rows(conn, "SELECT staff, method, answer, at FROM hosp_green_chases WHERE item_id = ? "
                                      "ORDER BY id", (it.pop("id"),))
        return out

    def green_board(self, ward_code: str | None = None) -> list[dict]:
        """Every open item, discharged stays included (the reminders go on after discharge), with
        the patient's name, the stay's state, ``overdue``, the number of chases and the last
        answer, and what the stay still owes (``arrears_fen``); the overdue
        first, then by due date. ``ward_code`` keeps one ward's patients (the station's view)."""
        sql = ("SELECT a.id AS admission_id, a.inpatient_no, a.state AS stay_state, a.ward_code, p.name, g.kind, g.due_on, g.opened_at, "
               "t.temp_no, (SELECT count(*) FROM hosp_green_chases c WHERE c.item_id = g.id) AS chases, "
               "(SELECT c.answer FROM hosp_green_chases c WHERE c.item_id = g.id ORDER BY c.id DESC LIMIT 1) "
               "AS last_answer FROM hosp_green_items g JOIN hosp_admissions a ON a.id = g.admission_id "
               "JOIN hosp_patients p ON p.id = a.patient_id LEFT JOIN hosp_temp_patients t ON t.patient_id = p.id "
               "WHERE g.state = 'open'" + (" AND a.ward_code = ?" if ward_code else ""))
        out = rows(self.h.conn, sql, (ward_code,) if ward_code else ())
        today = self.h.today()
        for r in out:
            r["overdue"] = bool(r["due_on"]) and r["due_on"] < today
            aid = r.pop("admission_id")
            r["arrears_fen"] = arrears_fen(ledger_sums(self.h.conn, aid))
        out.sort(key=lambda r: (not r["overdue"], r["due_on"] or "9999", r["opened_at"], r["inpatient_no"], r["kind"]))
        return out

    def override_block(self, inpatient_no: str, supervisor: str, reason: str, cashier: str = "") -> dict:
        """A supervisor lets the stay close with items open (they stay open and are chased after)."""
        if not supervisor or not reason.strip():
            raise BadInput("an override needs the supervisor and a reason", code="approval_needed")
        if cashier and supervisor == cashier:
            raise BadInput("the supervisor must be another person than the cashier", code="approval_needed")
        with self.h.store.transaction() as tx:
            a = self.h.admission(inpatient_no, tx)
            items = open_items(tx, a["id"])
            if not items:
                raise BadInput(f"{inpatient_no}: no open item to override")
            at = self.h.now()
            tx.insert("hosp_green_overrides", {"admission_id": a["id"], "supervisor": supervisor,
                                               "reason": reason.strip(), "items": ",".join(items), "at": at})
            tx.emit("hospital.green.overridden", {"inpatient_no": inpatient_no, "supervisor": supervisor,
                                                  "reason": reason.strip(), "items": items, "at": at})
        return {"inpatient_no": inpatient_no, "items": items, "supervisor": supervisor, "at": at}

    def owed_fen(self, inpatient_no: str) -> int:
        return arrears_fen(ledger_sums(self.h.conn, self.h.admission(inpatient_no)["id"]))
