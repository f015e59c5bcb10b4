"""Discharge and settlement (H-D1..H-D7): order → lock → schedule → settle → refund/collect →
settlement list → discharged, at the counter or at the bedside.

These functions are methods of :class:`pos.hospital.service.HospitalService` (bound there; their
first argument is the service). Settlement is crash-safe on the platform's generic journal
(:mod:`pos.journal`, :mod:`.settlement_journal`): an ``intent`` row with the message ID is
committed before the gateway is called, and :func:`recover` completes or reverses whatever the
gateway did that we did not record.
"""

from __future__ import annotations

import json
import logging
from typing import NamedTuple

from pos.ids import uuid7

from .errors import (AmountMismatch, GatewayRejected, GatewayUnavailable, HospitalError, HospitalNotFound,
                     BadInput, HospitalTransitionError, RefundTooLarge)
from .gateway import FeeLine, SettleResult
from .green import green_items_block
from ..rows import row, rows
from .ledger import charges_total, ledger_balance, ledger_sums
from .policy import Insured, Setl, deposit_due
from .records import Payment
from . import settlement_journal
from .workflows import ADMISSION, DISCHARGE, RECEIPT, SETTLEMENT

__all__ = ["PreSettlement", "order_discharge", "lock_charges", "unlock_charges", "schedule_discharge", "request_discharge",
           "pre_settle", "settle", "cancel_settlement", "refund", "collect", "print_settlement_list",
           "discharge", "recover", "account", "discharge_state", "settlement", "SETTLE_LOOKUP_SQL", "LINES_SQL"]

log = logging.getLogger(__name__)


class PreSettlement(NamedTuple):
    """試算: the split the patient would get now, and what that means for the deposit."""
    split: Setl
    deposits_fen: int             # deposits + collections - refunds so far
    refund_due_fen: int
    collect_due_fen: int
    source: str                   # 'platform:2303' (the platform's pre-settlement) or 'local' (our tables)
    reason: str = ""              # why the figures are local (uninsured, offline, …)

    @property
    def acct_fen(self) -> int:
        return self.split.acct_pay

    @property
    def cash_fen(self) -> int:
        return self.split.psn_cash_pay


def _dis(svc, tx, a: dict) -> dict:
    d = row(tx, "SELECT * FROM hosp_discharges WHERE admission_id = ?", (a["id"],))
    if d is None:
        raise HospitalTransitionError(f"{a['inpatient_no']}: no discharge order yet")
    return d


def discharge_state(svc, inpatient_no: str) -> str | None:
    a = svc.admission(inpatient_no)
    d = row(svc.conn, "SELECT state FROM hosp_discharges WHERE admission_id = ?", (a["id"],))
    return d and d["state"]


def order_discharge(svc, inpatient_no: str, *, summary: str, ebill_no: str, doctor: str = "") -> dict:
    """H-D1: the doctor's discharge order with the summary and the electronic bill number."""
    if not summary or not ebill_no:
        raise HospitalError("a discharge order needs the summary and the e-bill number", code="bad_input")
    with svc.store.transaction() as tx:
        a = svc.admission(inpatient_no, tx)
        svc._identity_not_refused(tx, a)
        if not ADMISSION.can(a["state"], "discharge"):
            raise HospitalTransitionError(f"{inpatient_no}: cannot order discharge in state {a['state']}")
        if row(tx, "SELECT id FROM hosp_discharges WHERE admission_id = ?", (a["id"],)):
            raise HospitalTransitionError(f"{inpatient_no}: discharge already ordered")
        at = svc.now()
        tx.insert("hosp_discharges", {"admission_id": a["id"], "summary": summary, "ebill_no": ebill_no,
                                      "doctor": doctor, "state": DISCHARGE.initial, "ordered_at": at})
        tx.emit("hospital.discharge.ordered", {"inpatient_no": inpatient_no, "summary": summary,
                                               "ebill_no": ebill_no, "doctor": doctor, "at": at})
    return {"inpatient_no": inpatient_no, "state": DISCHARGE.initial}


def lock_charges(svc, inpatient_no: str, nurse: str) -> int:
    """H-D2: the nurse has reviewed the charges; no charge may change after this. Returns the total."""
    svc._need_server("hospital.charges.locked")
    with svc.store.transaction() as tx:
        a = svc.admission(inpatient_no, tx)
        d = _dis(svc, tx, a)
        svc._move(tx, DISCHARGE, "discharge", d, "lock_charges")
        total = charges_total(tx, a["id"])
        tx.emit("hospital.charges.locked", {"inpatient_no": inpatient_no, "nurse": nurse,
                                            "charges_total_fen": total, "at": svc.now()})
    return total


def unlock_charges(svc, inpatient_no: str, nurse: str, reason: str = "") -> None:
    """The charge nurse reopens the locked charges (the ward asks her for ``reason``)."""
    svc._need_server("hospital.charges.unlocked")
    with svc.store.transaction() as tx:
        a = svc.admission(inpatient_no, tx)
        d = _dis(svc, tx, a)
        svc._move(tx, DISCHARGE, "discharge", d, "unlock_charges")
        tx.emit("hospital.charges.unlocked", {"inpatient_no": inpatient_no, "nurse": nurse, "reason": reason,
                                              "at": svc.now()})


def schedule_discharge(svc, inpatient_no: str, scheduled_for: str) -> dict:
    """H-D3: tell the patient and the cashier in advance. Returns the notice for both. The date is
    checked first (:func:`check_discharge_date`: not in the past in the site's time zone, not
    before the charge lock), so no caller can schedule a day that has gone."""
    scheduled_for = check_discharge_date(svc, inpatient_no, scheduled_for)
    with svc.store.transaction() as tx:
        a = svc.admission(inpatient_no, tx)
        d = _dis(svc, tx, a)
        svc._move(tx, DISCHARGE, "discharge", d, "schedule")
        tx.execute("UPDATE hosp_discharges SET scheduled_for = ? WHERE id = ?", (scheduled_for, d["id"]))
        tx.emit("hospital.discharge.scheduled", {"inpatient_no": inpatient_no, "scheduled_for": scheduled_for,
                                                 "notify": ["patient", "cashier"], "at": svc.now()})
        p = svc._patient(tx, a["patient_id"])
    return {"inpatient_no": inpatient_no, "name": p["name"], "scheduled_for": scheduled_for,
            "notify": ["patient", "cashier"], "charges_total_fen": charges_total(svc.conn, a["id"])}


def _future_day(svc, inpatient_no: str, when: str):
    """``when`` (``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM``, site time) as a date, not before today in
    the site's time zone; raises BadInput ``bad_date`` or ``date_past``."""
    import datetime as _dt

    try:
        day = _dt.date.fromisoformat(when.strip()[:10])
        if len(when.strip()) > 10:
            _dt.datetime.fromisoformat(when.strip())
    except (ValueError, AttributeError):
        raise BadInput(f"not a date: {when!r}", code="bad_date") from None
    if day < _dt.date.fromisoformat(svc.today()):
        raise BadInput(f"{inpatient_no}: {when} is in the past", code="date_past")
    return day


def check_discharge_date(svc, inpatient_no: str, scheduled_for: str) -> str:
    """H-D3 at the ward: the scheduled discharge (``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM``, site
    time) is not before today and not before the day the charges were locked. Returns the date;
    raises BadInput ``bad_date``, ``date_past`` or ``date_before_lock``."""
    import datetime as _dt
    import zoneinfo

    day = _future_day(svc, inpatient_no, scheduled_for)
    a = svc.admission(inpatient_no)
    d = svc._discharge_row(svc.conn, a["id"])
    locked = d and svc.conn.execute("SELECT max(at) FROM hosp_transitions WHERE entity = 'discharge' AND "
                                    "entity_id = ? AND to_state = 'charges_locked'", (d["id"],)).fetchone()[0]
    if locked:
        lock_day = _dt.datetime.fromisoformat(locked.replace("Z", "+00:00")).astimezone(
            zoneinfo.ZoneInfo(svc.tz)).date()
        if day < lock_day:
            raise BadInput(f"{inpatient_no}: {scheduled_for} is before the lock ({lock_day})", code="date_before_lock")
    return scheduled_for.strip()


def request_discharge(svc, inpatient_no: str, wanted_for: str | None = None) -> dict:
    """H-D3: the patient asks at the kiosk for a scheduled discharge (``wanted_for``: the day they
    would like, site time, not in the past; or None). The request is offline-safe
    (``hospital.discharge.requested``); every ward station pulls it and shows it until the
    discharge is scheduled. The admission is this device's own or one it pulled; one that is
    discharged or already scheduled is refused."""
    from . import views

    a = row(svc.conn, "SELECT * FROM hosp_admissions WHERE inpatient_no = ?", (inpatient_no,))
    known = views.pulled_admission(svc.conn, inpatient_no)
    if a is None and known is None:
        raise HospitalNotFound(f"no admission {inpatient_no!r}")
    d = a and svc._discharge_row(svc.conn, a["id"])
    if (a and a["state"] == "discharged") or (known and known["discharged_at"]):
        raise HospitalTransitionError(f"{inpatient_no}: already discharged")
    if (d and d["scheduled_for"]) or (known and known["scheduled_for"]):
        raise HospitalTransitionError(f"{inpatient_no}: the discharge is scheduled already")
    if wanted_for:
        wanted_for = _future_day(svc, inpatient_no, wanted_for).isoformat()
    from .projections import record_discharge_request

    name = svc._patient(svc.conn, a["patient_id"])["name"] if a else None
    req = {"inpatient_no": inpatient_no, "ward_code": (a or known)["ward_code"] or None, "wanted_for": wanted_for or None,
           "name": name, "at": svc.now()}
    with svc.store.transaction() as tx:
        tx.emit("hospital.discharge.requested", req)
        record_discharge_request(tx, req)              # this device shows it before its own event comes back
    return req


def _identity(svc, conn, a: dict) -> dict:
    return row(conn, "SELECT * FROM hosp_identities WHERE id = ?", (a["identity_id"],)) or {}


def _person(svc, id_number: str | None):
    """The platform's view of the patient (1101): scheme, member ID, year-to-date use; None if self-pay."""
    if svc.gateway is None or not id_number:
        return None
    try:
        return svc.gateway.person_info("02", id_number)
    except GatewayRejected:
        return None                                  # not insured: self-pay


#: the statements pre_settle runs (the bench times them bare as its baseline), with LINES_SQL, LEDGER_SQL
SETTLE_LOOKUP_SQL = ("SELECT a.id, a.scheme, i.id_number FROM hosp_admissions a "
                     "LEFT JOIN hosp_identities i ON i.id = a.identity_id WHERE a.inpatient_no = ?")
#: the stay's lines, in :class:`pos.hospital.policy.Line` order first (the engine reads the rows as they come)
LINES_SQL = ("SELECT c.ref, c.category, c.price_uyuan, c.qty_e4, f.price_cap_uyuan, f.selfpay_permille, c.amount_fen, "
             "c.id, c.fee_code, c.qty_milli, c.service_date FROM hosp_charges c "
             "JOIN hosp_fee_items f ON f.code = c.fee_code WHERE c.admission_id = ? ORDER BY c.id")


def _fee_lines(rows, device_id: str) -> list[FeeLine]:
    """The stay's 2301 details: the platform's price and quantity, the item's price cap and share."""
    return [FeeLine(ref or f"{device_id}-C{cid}", code, cat, amount, qty_milli, day, price, qty_e4, cap, prop)
            for ref, cat, price, qty_e4, cap, prop, amount, cid, code, qty_milli, day in rows]


def _local(svc, scheme: str, rows, info) -> Setl:
    """Our own tables: the person's year-to-date when the platform gave it, else 0 (offline)."""
    who = info.insured() if info is not None else Insured(scheme)
    return svc.policy.settle(svc.level, rows, who, day=svc.today(), keep_lines=False)


def _net_deposits(conn, aid: int) -> int:
    sums = ledger_sums(conn, aid)
    return sums["deposit"] + sums["collection"] - sums["refund"]


def pre_settle(svc, inpatient_no: str) -> PreSettlement:
    """試算. For an insured patient the platform's own pre-settlement (2301 upload, then 2303);
    for an uninsured patient, or when the platform cannot be reached, our tables
    (``source='local'`` with the reason; offline the year-to-date figures are taken as 0)."""
    conn = svc.conn
    found = conn.execute(SETTLE_LOOKUP_SQL, (inpatient_no,)).fetchone()
    no = inpatient_no
    if found is None:
        no = svc.admission(inpatient_no)["inpatient_no"]
        found = conn.execute(SETTLE_LOOKUP_SQL, (no,)).fetchone()
    aid, scheme, id_number = found
    rows = conn.execute(LINES_SQL, (aid,)).fetchall()
    s, source, reason = None, "local", ""
    try:
        info = _person(svc, id_number)
        if svc.gateway is None:
            reason = "no insurance platform is configured"
        elif info is None:
            reason, scheme = "uninsured: the whole bill is out of policy", "self_pay"
        else:
            lines = _fee_lines(rows, svc.store.device_id)
            svc.gateway.upload_fees(str(uuid7()), no, info.member_id, lines)
            res = svc.gateway.pre_settle(str(uuid7()), no, info.member_id, sum(fl.amount_fen for fl in lines))
            s, source = Setl.from_setlinfo(res.breakdown), res.source or "platform:2303"
    except GatewayUnavailable as exc:
        log.warning("pre-settlement of %s from the local tables: %s", inpatient_no, exc)
        reason = f"platform unreachable: {exc}"
    if s is None:
        s = _local(svc, scheme, rows, None)
    deposits = _net_deposits(conn, aid)
    refund_due, collect_due = deposit_due(deposits, s.psn_cash_pay)
    return PreSettlement(s, deposits, refund_due, collect_due, source, reason)


def settle(svc, inpatient_no: str, *, bedside: bool = False, session_id: str | None = None) -> dict:
    """H-D4/H-D5: settle with the insurance platform; takes back the deposit receipts.

    Runs on the generic journal (:mod:`pos.hospital.settlement_journal`): the intent with its
    message ID is committed before the platform is called, a reply in doubt is asked for by that
    message ID (the platform's 5203 query), and an intent left by a crash is resolved before a new one.
    Returns the settlement with ``refund_due_fen`` or ``collect_due_fen`` (never both non-zero).
    """
    svc._need_server("hospital.settlement.intent")
    if bedside and not session_id:
        raise HospitalError("a bedside settlement needs the mobile counter session", code="bad_input")
    a = svc.admission(inpatient_no)
    j = settlement_journal.journal(svc)
    for left in j.unfinished("admission_id = ? AND state = 'intent'", (a["id"],)):
        if _resolve(svc, left) == "completed":          # an earlier attempt did settle: done
            return settlement(svc, left["settlement_no"])
    ident: dict = {}

    def intent(tx) -> dict:
        a = svc.admission(inpatient_no, tx)
        ident.update(_identity(svc, tx, a))
        d = _dis(svc, tx, a)
        DISCHARGE.next(d["state"], "settle")
        if row(tx, "SELECT id FROM hosp_settlements WHERE admission_id = ? "
               "AND state IN ('intent','recorded','cancelling')", (a["id"],)):
            raise HospitalTransitionError(f"{inpatient_no}: a settlement is already open")
        return {"settlement_no": tx.next_number("settlement"), "msg_id": str(uuid7()), "admission_id": a["id"],
                "state": SETTLEMENT.initial, "scheme": a["scheme"], "total_fen": charges_total(tx, a["id"]),
                "bedside": int(bedside), "session_id": session_id, "created_at": svc.now()}

    st = j.begin(intent, also=lambda tx, st: {
        "inpatient_no": inpatient_no, "total_fen": st["total_fen"], "bedside": bedside, "session_id": session_id,
        "at": st["created_at"]})

    def call(st: dict) -> SettleResult:
        info = _person(svc, ident.get("id_number"))
        stay = svc.conn.execute(LINES_SQL, (a["id"],)).fetchall()
        if info is None:                                   # uninsured: all out of policy, all cash
            s = _local(svc, "self_pay", stay, None)
            return SettleResult(st["msg_id"], "", "", s.total_fen, s.pooled_fen, s.selfpay_fen, s.setlinfo(),
                                acct_fen=0, cash_fen=s.psn_cash_pay, source="local")
        lines = _fee_lines(stay, svc.store.device_id)
        svc.gateway.upload_fees(str(uuid7()), inpatient_no, info.member_id, lines)
        return svc.gateway.settle(st["msg_id"], inpatient_no, info.member_id, st["total_fen"])

    def record(st: dict, result: SettleResult) -> None:
        try:
            svc._record_settlement(st, result)
        except AmountMismatch:
            _resolve(svc, st)                              # the platform disagrees: reverse it there
            raise

    j.attempt(st["settlement_no"], call, record=record, resolve=lambda st: _resolve(svc, st),
              fail=lambda st, exc: _fail(svc, st, str(exc)),
              in_doubt=(GatewayUnavailable,), refused=(GatewayRejected,))
    return settlement(svc, st["settlement_no"])


def settlement(svc, settlement_no: str) -> dict:
    st = row(svc.conn, "SELECT * FROM hosp_settlements WHERE settlement_no = ?", (settlement_no,))
    if st is None:
        raise HospitalNotFound(f"no settlement {settlement_no!r}")
    st["breakdown"] = json.loads(st["breakdown"]) if st["breakdown"] else {}
    bal = ledger_balance(ledger_sums(svc.conn, st["admission_id"]))
    st["refund_due_fen"], st["collect_due_fen"] = (max(bal, 0), max(-bal, 0)) if st["state"] == "recorded" else (0, 0)
    return st


def _record_settlement(svc, st: dict, result: SettleResult) -> None:
    """Second half of a settlement: the platform's result, the ledger's settle entry, the receipts
    taken back and the discharge settled, in the journal's one transaction."""
    if result.total_fen != st["total_fen"] or not result.consistent():
        raise AmountMismatch(f"platform total {result.total_fen} vs ours {st['total_fen']} "
                             f"(funds {result.pooled_fen} + account {result.acct_fen} + cash {result.cash_fen})")
    at = svc.now()

    def book(tx, cur: dict) -> dict:
        a = row(tx, "SELECT * FROM hosp_admissions WHERE id = ?", (cur["admission_id"],))
        # the deposit pays only the cash share: the personal account paid its part at the platform
        if result.cash_fen:
            svc._ledger(tx, a["id"], "settle", result.cash_fen, settlement_id=cur["id"])
        taken = []
        for r in rows(tx, "SELECT * FROM hosp_receipts WHERE admission_id = ? AND state = 'issued' ORDER BY id",
                      (a["id"],)):
            svc._move(tx, RECEIPT, "receipt", r, "take_back")
            tx.execute("UPDATE hosp_receipts SET taken_back_at = ? WHERE id = ?", (at, r["id"]))
            taken.append(r["receipt_no"])
        d = row(tx, "SELECT * FROM hosp_discharges WHERE admission_id = ?", (a["id"],))
        svc._move(tx, DISCHARGE, "discharge", d, "settle")
        tx.execute("UPDATE hosp_discharges SET bedside = ?, session_id = ? WHERE id = ?",
                   (cur["bedside"], cur["session_id"], d["id"]))
        bal = ledger_balance(ledger_sums(tx, a["id"]))
        if bal == 0:
            svc._move(tx, DISCHARGE, "discharge", d, "balance")
        return {"inpatient_no": a["inpatient_no"], "setl_id": result.setl_id, "scheme": cur["scheme"],
                "total_fen": result.total_fen, "pooled_fen": result.pooled_fen, "selfpay_fen": result.selfpay_fen,
                "acct_fen": result.acct_fen, "cash_fen": result.cash_fen, "source": result.source,
                "breakdown": result.breakdown, "refund_due_fen": max(bal, 0), "collect_due_fen": max(-bal, 0),
                "receipts_taken_back": taken, "bedside": bool(cur["bedside"]), "session_id": cur["session_id"],
                "at": at}

    settlement_journal.journal(svc).transition(st["settlement_no"], "recorded", {
        "pooled_fen": result.pooled_fen, "selfpay_fen": result.selfpay_fen, "acct_fen": result.acct_fen,
        "cash_fen": result.cash_fen, "source": result.source,
        "breakdown": json.dumps(result.breakdown, ensure_ascii=False), "setl_id": result.setl_id,
        "completed_at": at}, also=book)


def _fail(svc, st: dict, reason: str) -> None:
    settlement_journal.journal(svc).transition(
        st["settlement_no"], "failed", {"note": reason[:500], "completed_at": svc.now()}, detail=reason[:200],
        also=lambda tx, cur: {"inpatient_no": _inpatient_no(tx, cur), "reason": reason, "at": svc.now()})


def _inpatient_no(conn, st: dict) -> str:
    return row(conn, "SELECT inpatient_no FROM hosp_admissions WHERE id = ?", (st["admission_id"],))["inpatient_no"]


def _resolve(svc, st: dict) -> str:
    """Settle one ``intent`` left in doubt by asking the platform about its message ID: record
    what it settled if it still matches the charges, else reverse it there; nothing settled is
    a failed intent. Returns 'completed', 'reversed' or 'failed'."""
    res = svc.gateway.query(st["msg_id"]) if svc.gateway else None
    if res is None or res.cancelled:
        _fail(svc, st, "the platform has no live settlement for this message")
        return "failed"
    a = row(svc.conn, "SELECT * FROM hosp_admissions WHERE id = ?", (st["admission_id"],))
    d = row(svc.conn, "SELECT state FROM hosp_discharges WHERE admission_id = ?", (a["id"],))
    if res.total_fen == charges_total(svc.conn, a["id"]) == st["total_fen"] and d and d["state"] == "scheduled":
        svc._record_settlement(st, res)
        log.info("recovered settlement %s of %s: completed", st["settlement_no"], a["inpatient_no"])
        return "completed"
    svc.gateway.cancel_settlement(str(uuid7()), st["msg_id"])
    _fail(svc, st, "reversed at the platform: the settlement no longer matched the charges")
    log.warning("recovered settlement %s of %s: reversed", st["settlement_no"], a["inpatient_no"])
    return "reversed"


def _recover_one(svc, st: dict) -> str:
    if st["state"] == "intent":
        return _resolve(svc, st)
    _finish_cancel(svc, st["settlement_no"])
    return "cancelled"


def recover(svc) -> dict[str, str]:
    """On start-up: complete, reverse or fail every settlement left as an ``intent``, and finish
    every cancellation left ``cancelling``. Returns settlement_no -> outcome ('in_doubt' while
    the platform cannot be reached)."""
    return settlement_journal.journal(svc).recover(lambda st: _recover_one(svc, st),
                                                   unavailable=(GatewayUnavailable,))


def cancel_settlement(svc, inpatient_no: str, reason: str) -> None:
    """Reverse a recorded settlement at the platform (by original message ID) before the money moves.

    Crash-safe like :func:`settle`: the ``cancelling`` state is committed before the platform's
    reversal, and :func:`recover` repeats the (idempotent) reversal and finishes the record.
    """
    svc._need_server("hospital.settlement.cancelled")
    a = svc.admission(inpatient_no)
    st = row(svc.conn, "SELECT * FROM hosp_settlements WHERE admission_id = ? AND state = 'recorded'", (a["id"],))
    if st is None:
        raise HospitalTransitionError(f"{inpatient_no}: no recorded settlement to cancel")
    cancel_id = str(uuid7())

    def check(tx, cur: dict) -> dict:
        DISCHARGE.next(_dis(svc, tx, a)["state"], "cancel_settlement")
        return {"inpatient_no": inpatient_no, "cancel_msg_id": cancel_id, "reason": reason, "at": svc.now()}

    settlement_journal.journal(svc).transition(st["settlement_no"], "cancelling",
                                               {"cancel_msg_id": cancel_id, "note": reason}, also=check)
    _finish_cancel(svc, st["settlement_no"])


def _finish_cancel(svc, settlement_no: str) -> None:
    j = settlement_journal.journal(svc)
    st = j.get(settlement_no)
    if svc.gateway is not None and st["setl_id"]:
        svc.gateway.cancel_settlement(st["cancel_msg_id"], st["msg_id"])     # idempotent at the platform

    def unbook(tx, cur: dict) -> dict:
        a = row(tx, "SELECT * FROM hosp_admissions WHERE id = ?", (cur["admission_id"],))
        d = row(tx, "SELECT * FROM hosp_discharges WHERE admission_id = ?", (a["id"],))
        svc._move(tx, DISCHARGE, "discharge", d, "cancel_settlement")
        # append-only: the settle entry is undone by an opposite 'unsettle' entry
        undo = cur["cash_fen"] if cur["cash_fen"] is not None else cur["selfpay_fen"]
        if undo:
            svc._ledger(tx, a["id"], "unsettle", undo, settlement_id=cur["id"])
        return {"inpatient_no": a["inpatient_no"], "cancel_msg_id": cur["cancel_msg_id"], "reason": cur["note"],
                "at": svc.now()}

    j.transition(settlement_no, "cancelled", also=unbook)


def refund(svc, inpatient_no: str, amount_fen: int, method: str = "cash", reference: str = "") -> dict:
    """Refund money to the patient. After settlement at most the surplus (多退), in one or several
    parts (one per card the deposits came from); the discharge is balanced when all of it is back.
    During the stay at most the deposit not yet used by the charges."""
    svc._need_server("hospital.refund.paid")
    pay = Payment(amount_fen, method, reference)
    with svc.store.transaction() as tx:
        return refund_in(svc, tx, inpatient_no, pay)


def refund_in(svc, tx, inpatient_no: str, pay: Payment) -> dict:
    """:func:`refund` inside the caller's transaction (the card-payment journal's poster)."""
    amount_fen, method, reference = pay.amount_fen, pay.method, pay.reference
    a = svc.admission(inpatient_no, tx)
    if a["state"] in ("identity_checked", "registered", "discharged"):
        raise HospitalTransitionError(f"{inpatient_no}: no refund in state {a['state']}")
    d = row(tx, "SELECT * FROM hosp_discharges WHERE admission_id = ?", (a["id"],))
    sums = ledger_sums(tx, a["id"])
    due = None
    if d and d["state"] == "settled":
        due = ledger_balance(sums)
        if due <= 0:
            raise HospitalTransitionError(f"{inpatient_no}: nothing to refund ({-due} is owed instead)")
        if amount_fen > due:
            # the surplus may go back in parts (to each card the deposits came from), never more
            raise AmountMismatch(f"{inpatient_no}: refund {amount_fen} but only {due} is due")
    elif d and d["state"] not in ("ordered",):
        raise HospitalTransitionError(f"{inpatient_no}: no refund while discharge is {d['state']}")
    else:
        avail = sums["deposit"] + sums["collection"] - sums["refund"] - charges_total(tx, a["id"])
        if amount_fen > avail:
            raise RefundTooLarge(f"{inpatient_no}: refund {amount_fen} > available {avail}")
    st_id = None
    if due is not None:       # after settlement: the refund of the surplus belongs to it
        st_id = row(tx, "SELECT id FROM hosp_settlements WHERE admission_id = ? AND state = 'recorded'",
                    (a["id"],))["id"]
    _, entry_no = svc._ledger(tx, a["id"], "refund", amount_fen, pay, settlement_id=st_id)
    at = svc.now()
    tx.emit("hospital.refund.paid", {"inpatient_no": inpatient_no, "entry_no": entry_no, "receipt_no": "",
                                     "amount_fen": amount_fen, "method": method, "reference": reference, "at": at})
    if due is not None and amount_fen == due:       # the whole surplus is back: balanced
        svc._move(tx, DISCHARGE, "discharge", d, "balance")
    return {"entry_no": entry_no, "amount_fen": amount_fen, "at": at}


def collect(svc, inpatient_no: str, payment: Payment | dict) -> dict:
    """Collect the shortfall after settlement (少補); the amount must be exactly what is owed."""
    svc._need_server("hospital.collection.received")
    pay = payment if isinstance(payment, Payment) else Payment(**payment)
    with svc.store.transaction() as tx:
        return collect_in(svc, tx, inpatient_no, pay)


def collect_in(svc, tx, inpatient_no: str, pay: Payment) -> dict:
    """:func:`collect` inside the caller's transaction (the card-payment journal's poster)."""
    a = svc.admission(inpatient_no, tx)
    d = _dis(svc, tx, a)
    if d["state"] != "settled":
        raise HospitalTransitionError(f"{inpatient_no}: nothing to collect while discharge is {d['state']}")
    owed = -ledger_balance(ledger_sums(tx, a["id"]))
    if owed <= 0:
        raise HospitalTransitionError(f"{inpatient_no}: nothing is owed (refund {-owed} due instead)")
    if pay.amount_fen != owed:
        raise AmountMismatch(f"{inpatient_no}: collect {pay.amount_fen} but {owed} is owed")
    st = row(tx, "SELECT id FROM hosp_settlements WHERE admission_id = ? AND state = 'recorded'", (a["id"],))
    lid, entry_no = svc._ledger(tx, a["id"], "collection", pay.amount_fen, pay, settlement_id=st["id"])
    receipt_no = svc._issue_receipt(tx, a["id"], lid, "collection", pay.amount_fen)
    at = svc.now()
    tx.emit("hospital.collection.received", {
        "inpatient_no": inpatient_no, "entry_no": entry_no, "receipt_no": receipt_no,
        "amount_fen": pay.amount_fen, "method": pay.method, "reference": pay.reference,
        "masked_pan": pay.masked_pan, "at": at})
    svc._move(tx, DISCHARGE, "discharge", d, "balance")
    return {"entry_no": entry_no, "receipt_no": receipt_no, "amount_fen": pay.amount_fen, "at": at}


def account(svc, inpatient_no: str) -> dict:
    """The money picture of one stay, all derived from the ledger and the charges."""
    a = svc.admission(inpatient_no)
    sums = ledger_sums(svc.conn, a["id"])
    total = charges_total(svc.conn, a["id"])
    return {"inpatient_no": inpatient_no, "charges_total_fen": total, **{f"{k}_fen": v for k, v in sums.items()},
            "ledger_balance_fen": ledger_balance(sums),
            "available_fen": sums["deposit"] + sums["collection"] - sums["refund"] - total}


def print_settlement_list(svc, inpatient_no: str) -> dict:
    """H-D6: the free settlement list (結算清單), Chinese-first document data. Reprints are allowed."""
    with svc.store.transaction() as tx:
        a = svc.admission(inpatient_no, tx)
        d = _dis(svc, tx, a)
        svc._move(tx, DISCHARGE, "discharge", d, "print_list")
        st = row(tx, "SELECT * FROM hosp_settlements WHERE admission_id = ? AND state = 'recorded'", (a["id"],))
        tx.emit("hospital.settlement_list.printed", {"inpatient_no": inpatient_no,
                                                     "settlement_no": st["settlement_no"], "at": svc.now()})
        p = svc._patient(tx, a["patient_id"])
        sums = ledger_sums(tx, a["id"])
    return {"title": "住院結算清單", "inpatient_no": inpatient_no, "name": p["name"], "scheme": a["scheme"],
            "settlement_no": st["settlement_no"], "total_fen": st["total_fen"], "pooled_fen": st["pooled_fen"],
            "selfpay_fen": st["selfpay_fen"], "breakdown": json.loads(st["breakdown"] or "{}"),
            "deposits_fen": sums["deposit"], "refunded_fen": sums["refund"], "collected_fen": sums["collection"],
            "bedside": bool(st["bedside"])}


def discharge(svc, inpatient_no: str) -> dict:
    """The last step: the admission is discharged and the bed is free."""
    svc._need_server("hospital.discharged")
    with svc.store.transaction() as tx:
        a = svc.admission(inpatient_no, tx)
        d = _dis(svc, tx, a)
        green_items_block(svc, tx, a)          # H-A6: open green-channel items, unless overridden
        svc._move(tx, DISCHARGE, "discharge", d, "discharge")
        svc._move(tx, ADMISSION, "admission", a, "discharge")
        at = svc.now()
        tx.execute("UPDATE hosp_discharges SET discharged_at = ? WHERE id = ?", (at, d["id"]))
        tx.execute("UPDATE hosp_admissions SET discharged_at = ? WHERE id = ?", (at, a["id"]))
        bed = row(tx, "SELECT * FROM hosp_beds WHERE id = ?", (a["bed_id"],)) or {}
        tx.emit("hospital.discharged", {"inpatient_no": inpatient_no, "ward_code": a["ward_code"],
                                        "bed_no": bed.get("bed_no"), "bedside": bool(d["bedside"]),
                                        "session_id": d["session_id"], "at": at})
    return {"inpatient_no": inpatient_no, "state": "discharged", "bedside": bool(d["bedside"])}
