"""Refunds to the cards the deposits came from, for the counter and the kiosk.

:func:`plan` spreads an amount over the stay's card deposits (newest first, never more than is
left of each); :func:`refund_to_cards` runs the plan through the payment journal: a whole
payment is first *reversed* (ZVT reversal, valid until the terminal's end-of-day) and, if the
terminal refuses that, *refunded*; a part is refunded. The journal posts each one as a ledger
refund in the transaction that marks it posted (``payments_bridge``), so nothing is booked twice
and nothing is lost in a crash. It stops at the first card that does not approve: what is left
is reported, and the cashier may choose to pay it in cash.
"""

from __future__ import annotations

import logging

from drivers.errors import DeviceError, PaymentError
from dataclasses import dataclass, field

from .ledger import rows
from .records import Payment

__all__ = ["CardRefund", "card_deposits", "plan", "check_refund", "refund_to_cards"]

log = logging.getLogger(__name__)


@dataclass
class CardRefund:
    status: str                         # posted | partial | declined | in_doubt | none
    requested_fen: int
    refunded_fen: int = 0
    parts: list = field(default_factory=list)      # (attempt_id, amount_fen, operation, status)
    reason: str = ""
    outcomes: list = field(default_factory=list)   # the journal's PaymentOutcome of each operation

    @property
    def left_fen(self) -> int:
        return self.requested_fen - self.refunded_fen


def card_deposits(payments, inpatient_no: str) -> list[dict]:
    """Posted card deposits of the stay with what is left to refund on each, newest first."""
    out = []
    for r in rows(payments.store.conn, "SELECT attempt_id, amount_fen, masked_pan, terminal_url, created_at "
                  "FROM payment_attempts WHERE account = ? AND purpose = 'deposit' AND kind IN ('sale', 'booking') "
                  "AND state = 'posted' AND terminal NOT LIKE 'qr+%' "     # QR payments go back through their wallet
                  "ORDER BY created_at DESC, attempt_id DESC", (inpatient_no,)):
        left = payments.journal.refundable(r["attempt_id"])
        if left > 0:
            out.append(dict(r, left_fen=left))
    return out


def plan(payments, inpatient_no: str, amount_fen: int) -> list[tuple[str, int]]:
    """(attempt_id, amount) parts covering ``amount_fen`` as far as the cards allow."""
    parts, need = [], amount_fen
    for dep in card_deposits(payments, inpatient_no):
        if need <= 0:
            break
        take = min(need, dep["left_fen"])
        parts.append((dep["attempt_id"], take))
        need -= take
    return parts


class _DryRun(Exception):
    pass


def check_refund(hospital, inpatient_no: str, amount_fen: int) -> None:
    """Raise what booking a refund of ``amount_fen`` would raise (too much, wrong state), and
    change nothing: the card's money moves at the terminal, before the transaction that books it,
    so a refund the ledger refuses must be refused before the terminal is asked."""
    try:
        with hospital.store.transaction(durable=False) as tx:
            hospital.refund_in(tx, inpatient_no, Payment(amount_fen, "card"))
            raise _DryRun                                # rolled back: nothing is booked
    except _DryRun:
        pass


def refund_to_cards(payments, inpatient_no: str, amount_fen: int, parts=None, on_status=None, *,
                    hospital=None) -> CardRefund:
    """Refund ``amount_fen`` to the stay's cards (``parts`` or :func:`plan`); with ``hospital``,
    first checked against the ledger (:func:`check_refund`)."""
    if hospital is not None:
        check_refund(hospital, inpatient_no, amount_fen)
    parts = plan(payments, inpatient_no, amount_fen) if parts is None else parts
    res = CardRefund("none" if not parts else "posted", amount_fen)
    for attempt_id, part in parts:
        sale = payments.journal.get(attempt_id)
        whole = part == sale["amount_fen"] and payments.journal.refundable(attempt_id) == part
        out, op = None, "refund"
        try:
            if whole:
                op = "reversal"
                out = payments.reverse(attempt_id, on_status=on_status)
                if out.status != "posted" and out.public_status == "declined":
                    log.info("reversal of %s declined (%s); refunding instead", attempt_id, out.reason)
                    res.outcomes.append(out)
                    out, op = None, "refund"
            if out is None:
                out = payments.refund(attempt_id, part, on_status=on_status)
        except (DeviceError, PaymentError) as exc:      # nothing reached the card, or it is in the journal
            log.error("card refund %s of %s for %s failed: %s", part, attempt_id, inpatient_no, exc)
            res.status = "partial" if res.refunded_fen else "failed"
            res.reason = str(exc)
            return res
        res.outcomes.append(out)
        res.parts.append((attempt_id, part, op, out.status))
        if out.status != "posted":
            res.status = "in_doubt" if out.public_status == "in_doubt" else (
                "partial" if res.refunded_fen else "declined")
            res.reason = out.reason
            return res
        res.refunded_fen += part
    if parts and res.refunded_fen < amount_fen:
        res.status = "partial"
        res.reason = "the card deposits do not cover the whole refund"
    return res
