"""Deposit reversal (沖銷) and receipt voiding, with a supervisor's approval.

A deposit taken in error (wrong patient, wrong amount, a card charged twice) is reversed during
the stay, before settlement: a supervisor approves it (:func:`approve_reversal`, an
``approved`` row naming the supervisor, the cashier and the reason); then the money goes back
the way it came - cash from the drawer in the same transaction (:func:`reverse_cash_in`), or a
card through the terminal, the payment journal posting the refund and completing the reversal
in the transaction that marks the card refund posted (:func:`card_refund_posted_in`). The
deposit's ledger entry stays (the ledger is append-only); an opposite ``refund`` entry and the
receipt's ``voided`` state undo it, and the printed receipt says so. A reversed deposit may be
paid again: that is a new deposit with a new receipt.
"""

from __future__ import annotations

from .errors import HospitalError, HospitalNotFound, HospitalTransitionError
from .ledger import row
from .records import Payment
from .workflows import RECEIPT

__all__ = ["approve_reversal", "reverse_cash_in", "card_refund_posted_in", "reversal_of"]


def _receipt(tx, receipt_no: str) -> dict:
    r = row(tx, "SELECT r.*, l.method, l.reference, l.amount_fen AS paid_fen, a.inpatient_no FROM hosp_receipts r "
                "JOIN hosp_ledger l ON l.id = r.ledger_id JOIN hosp_admissions a ON a.id = r.admission_id "
                "WHERE r.receipt_no = ?", (receipt_no,))
    if r is None:
        raise HospitalNotFound(f"no receipt {receipt_no!r}")
    return r


def reversal_of(conn, receipt_no: str) -> dict | None:
    return row(conn, "SELECT * FROM hosp_reversals WHERE receipt_no = ? AND state != 'failed' ORDER BY id DESC",
               (receipt_no,))


def approve_reversal(svc, receipt_no: str, *, supervisor: str, cashier: str, reason: str) -> dict:
    """A supervisor (not the cashier) approves reversing one deposit receipt."""
    supervisor, cashier, reason = (supervisor or "").strip(), (cashier or "").strip(), (reason or "").strip()
    if not supervisor or not reason:
        raise HospitalError("a reversal needs the approving supervisor and the reason", code="bad_input")
    if supervisor == cashier:
        raise HospitalError("the supervisor who approves a reversal cannot be the cashier", code="approval_needed")
    svc._need_server("hospital.deposit.reversal_approved")
    with svc.store.transaction() as tx:
        r = _receipt(tx, receipt_no)
        if r["kind"] != "deposit" or r["state"] != "issued":
            raise HospitalTransitionError(f"receipt {receipt_no} ({r['kind']}, {r['state']}) cannot be reversed")
        d = row(tx, "SELECT state FROM hosp_discharges WHERE admission_id = ?", (r["admission_id"],))
        if d and d["state"] != "ordered":
            raise HospitalTransitionError(f"{r['inpatient_no']}: no reversal once the charges are locked")
        if reversal_of(tx, receipt_no):
            raise HospitalTransitionError(f"receipt {receipt_no} already has a reversal")
        at = svc.now()
        rid = tx.insert("hosp_reversals", {
            "admission_id": r["admission_id"], "receipt_no": receipt_no, "deposit_ledger_id": r["ledger_id"],
            "amount_fen": r["amount_fen"], "method": r["method"], "supervisor": supervisor, "cashier": cashier,
            "reason": reason, "state": "approved", "approved_at": at})
        tx.emit("hospital.deposit.reversal_approved", {
            "inpatient_no": r["inpatient_no"], "receipt_no": receipt_no, "amount_fen": r["amount_fen"],
            "method": r["method"], "supervisor": supervisor, "cashier": cashier, "reason": reason, "at": at})
    return row(svc.conn, "SELECT * FROM hosp_reversals WHERE id = ?", (rid,))


def _complete(svc, tx, rev: dict, refund_ledger_id: int) -> None:
    r = _receipt(tx, rev["receipt_no"])
    svc._move(tx, RECEIPT, "receipt", r, "void")
    at = svc.now()
    tx.execute("UPDATE hosp_reversals SET state = 'done', refund_ledger_id = ?, done_at = ? WHERE id = ?",
               (refund_ledger_id, at, rev["id"]))
    tx.emit("hospital.deposit.reversed", {"inpatient_no": r["inpatient_no"], "receipt_no": rev["receipt_no"],
                                          "amount_fen": rev["amount_fen"], "supervisor": rev["supervisor"],
                                          "reason": rev["reason"], "at": at})


def _refund_entry_id(tx, entry_no: str) -> int:
    return row(tx, "SELECT id FROM hosp_ledger WHERE entry_no = ?", (entry_no,))["id"]


def reverse_cash_in(svc, tx, receipt_no: str, cash_reference: str) -> dict:
    """An approved reversal paid back in cash, in the caller's transaction (with the drawer's movement)."""
    rev = reversal_of(tx, receipt_no)
    if rev is None or rev["state"] != "approved":
        raise HospitalError(f"receipt {receipt_no}: no approved reversal", code="approval_needed")
    r = _receipt(tx, receipt_no)
    out = svc.refund_in(tx, r["inpatient_no"], Payment(rev["amount_fen"], "cash", reference=cash_reference))
    _complete(svc, tx, rev, _refund_entry_id(tx, out["entry_no"]))
    return out


def card_refund_posted_in(svc, tx, journal_row: dict, entry_no: str) -> None:
    """The payment journal posted a card refund or reversal (``journal_row``) as ledger entry
    ``entry_no``: when it gives back the whole of a card deposit, that deposit's receipt is void
    (completing an approved reversal, if one was asked for) - it must never be 'taken back'."""
    orig_id = journal_row.get("original_id")
    if not orig_id:
        return
    orig = row(tx, "SELECT * FROM payment_attempts WHERE attempt_id = ?", (orig_id,))
    if orig is None or orig["purpose"] != "deposit":
        return
    back = tx.execute("SELECT coalesce(sum(amount_fen), 0) FROM payment_attempts WHERE original_id = ? "
                      "AND kind IN ('refund', 'reversal') AND state = 'posted'", (orig_id,)).fetchone()[0]
    if journal_row["state"] != "posted":
        back += journal_row["amount_fen"]             # this one is being posted in this transaction
    if back < orig["amount_fen"]:
        return                                         # a part: the receipt is still taken back later
    from .payments_bridge import card_payment

    ref = card_payment(orig).reference
    rec = row(tx, "SELECT r.* FROM hosp_receipts r JOIN hosp_ledger l ON l.id = r.ledger_id "
                  "WHERE l.reference = ? AND l.kind = 'deposit' AND r.state = 'issued' ORDER BY r.id DESC",
              (ref,))
    if rec is None:
        return
    rev = reversal_of(tx, rec["receipt_no"])
    if rev is not None and rev["state"] == "approved":
        _complete(svc, tx, rev, _refund_entry_id(tx, entry_no))
    else:
        svc._move(tx, RECEIPT, "receipt", rec, "void")
