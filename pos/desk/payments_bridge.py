"""Booking an approved card payment of a paid special service (``Pack.posters``).

The payment journal (:mod:`pos.payments`) calls the poster of the purpose ``desk_service`` inside
the transaction that marks the attempt ``posted``: the order's payment is recorded and the order
moves on to its follow-up in that same transaction, so an approval is never left unbooked (the
journal's recovery posts an approval found after a crash the same way). The attempt's
``account`` is the order number; only the attempt ID is kept as the reference (never card data).
"""

from __future__ import annotations

import logging

from .service import PAY_PURPOSE

__all__ = ["POSTERS", "post_service"]

log = logging.getLogger(__name__)


def post_service(desk, tx, row: dict) -> None:
    if row["kind"] != "sale":
        # a refund or a reversal of a desk payment gives the money back to the card; the order
        # keeps its history (the finance staff see the journal's refund)
        log.warning("desk %s: card %s %s of %d fen posted; the order is not changed", row["account"], row["kind"],
                    row["attempt_id"], row["amount_fen"])
        return
    desk.record_payment_in(tx, row["account"], "card", int(row["amount_fen"]), "card",
                           row["attempt_id"])


POSTERS = {PAY_PURPOSE: post_service}
