"""Booking approved card payments in the hospital ledger.

The payment journal (``pos.payments``) calls a *poster* for the payment's purpose inside the same
transaction that marks the attempt ``posted``. So an approval is booked exactly once: if the
process dies before that transaction commits, recovery finds the attempt approved-but-unposted
and posts it again; the ledger entry and the journal state commit together or not at all.

The payment's ``account`` is the inpatient number.
"""

from __future__ import annotations

from .records import Payment
from .reversals import card_refund_posted_in

__all__ = ["POSTERS", "post_deposit", "post_collection", "card_payment"]


def card_payment(row: dict) -> Payment:
    """The ledger's view of a journal row: amount, the terminal's trace/receipt as the reference,
    and only the last four digits of the card."""
    masked = row.get("masked_pan") or ""
    digits = "".join(ch for ch in masked if ch.isdigit())
    ref = "/".join(x for x in (row.get("terminal_id"), row.get("trace_no"), row.get("receipt_no")) if x)
    return Payment(amount_fen=int(row["amount_fen"]), method="card", reference=ref or row["attempt_id"],
                   masked_pan=("****" + digits[-4:]) if digits else "")


#: journal kinds that take money from the card / give it back to the card
_MONEY_IN = ("sale", "booking")
_MONEY_OUT = ("refund", "reversal")


def _post(hospital, tx, row: dict, take_in) -> None:
    """Money in is booked as the purpose says; money back to the card (a refund or a reversal of
    such a payment, which the journal posts under the original purpose) is a ledger refund."""
    if row["kind"] in _MONEY_IN:
        take_in(tx, row["account"], card_payment(row))
    elif row["kind"] in _MONEY_OUT:
        out = hospital.refund_in(tx, row["account"], card_payment(row))
        card_refund_posted_in(hospital, tx, row, out["entry_no"])    # a whole deposit back: its receipt is void
    # a pre-authorisation holds money but books nothing until its booking


def post_deposit(hospital, tx, row: dict) -> None:
    _post(hospital, tx, row, hospital.record_deposit_in)


def post_collection(hospital, tx, row: dict) -> None:
    _post(hospital, tx, row, hospital.collect_in)


#: purpose -> poster(hospital, tx, journal_row)
POSTERS = {
    "deposit": post_deposit,
    "collection": post_collection,
}
