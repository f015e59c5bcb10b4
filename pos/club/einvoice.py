"""Fapiao requests to an e-invoice provider: an intent stored before anything is sent, an
idempotent order number, and status polling; nothing is lost and nothing is issued twice.

    intent ──submit accepted──▶ submitted ──status 2──▶ issued
      │                           └──status 22──▶ failed (with the provider's reason)
      └──no answer (timeout, lost reply)──▶ in_doubt ──submit again, same order number──▶ …

A request in doubt is submitted again with the same order number: the provider either takes it
(it never arrived) or answers "duplicate order number" (it did), and then it is polled. A failed
request may be asked again (a new order number). The amount comes from :mod:`.fapiao`: the
member-card part of a bill is left out, a bill paid wholly by member card is refused before any
request exists, a top-up carries its principal on a 普票. A 专票 needs the buyer's tax number.

This module decides; the provider adapter (:mod:`kiosk.club.einvoice`) talks to the provider.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Callable

from pos.ids import utcnow_iso

from .errors import ClubError, ClubNotFound
from .fapiao import FapiaoQuote, Payment, bill_fapiao, topup_fapiao
from .ids import ulid

__all__ = ["FapiaoRequests", "OPEN_STATES"]

OPEN_STATES = ("intent", "submitted", "in_doubt")
_COLS = ("order_no", "purpose", "ref", "kind", "amount_fen", "excluded_fen", "buyer_name", "buyer_tax_no", "state",
         "attempts", "invoice_no", "pdf_url", "reason", "created_at", "updated_at")
#: (state, event) -> state
MACHINE = {
    ("intent", "accepted"): "submitted", ("intent", "no_answer"): "in_doubt", ("intent", "rejected"): "failed",
    ("in_doubt", "accepted"): "submitted", ("in_doubt", "duplicate"): "submitted",
    ("in_doubt", "no_answer"): "in_doubt", ("in_doubt", "rejected"): "failed",
    ("submitted", "issuing"): "submitted", ("submitted", "issued"): "issued", ("submitted", "failed"): "failed",
    ("submitted", "unknown"): "in_doubt",
}


class FapiaoRequests:
    def __init__(self, store, clock: Callable[[], float] = time.time):
        self.store = store
        self.clock = clock

    def for_bill(self, bill_ref: str, payments: list[Payment], buyer_name: str, buyer_tax_no: str = "",
                 kind: str = "pc") -> dict:
        return self._request("bill", bill_ref, bill_fapiao(payments, kind), buyer_name, buyer_tax_no)

    def for_topup(self, entry_id: str, principal_fen: int, bonus_fen: int, buyer_name: str,
                  buyer_tax_no: str = "", kind: str = "pc") -> dict:
        return self._request("topup", entry_id, topup_fapiao(principal_fen, bonus_fen, kind), buyer_name,
                             buyer_tax_no)

    def _request(self, purpose: str, ref: str, quote: FapiaoQuote, buyer_name: str, buyer_tax_no: str) -> dict:
        buyer_name, buyer_tax_no = (buyer_name or "").strip(), (buyer_tax_no or "").strip()
        if not buyer_name or not ref:
            raise ClubError("a fapiao needs the buyer's title (a company or a person) and what it is for")
        if quote.kind == "bs" and not buyer_tax_no:
            raise ClubError("a special VAT fapiao (专票) needs the buyer's tax number")
        now = utcnow_iso(self.clock())
        with self.store.transaction() as tx:
            live = tx.execute("SELECT order_no FROM club_fapiao_requests WHERE purpose = ? AND ref = ? "
                              "AND state != 'failed'", (purpose, ref)).fetchone()
            if live:                                  # asked twice: the same order
                return self._get(tx.conn, live[0])
            order_no = ulid()
            try:
                tx.insert("club_fapiao_requests", {
                    "order_no": order_no, "purpose": purpose, "ref": ref, "kind": quote.kind,
                    "amount_fen": quote.amount_fen, "excluded_fen": quote.excluded_fen, "buyer_name": buyer_name,
                    "buyer_tax_no": buyer_tax_no, "state": "intent", "created_at": now, "updated_at": now})
            except sqlite3.IntegrityError as exc:
                raise ClubError(f"fapiao request for {purpose} {ref}: {exc}") from exc
            return self._get(tx.conn, order_no)

    def _get(self, conn, order_no: str) -> dict:
        r = conn.execute(f"SELECT {', '.join(_COLS)} FROM club_fapiao_requests WHERE order_no = ?",
                         (order_no,)).fetchone()
        if r is None:
            raise ClubNotFound(f"no fapiao request {order_no}")
        return dict(zip(_COLS, r))

    def get(self, order_no: str) -> dict:
        return self._get(self.store.conn, order_no)

    def open(self) -> list[dict]:
        rows = self.store.conn.execute(
            f"SELECT order_no FROM club_fapiao_requests WHERE state IN ({', '.join('?' * len(OPEN_STATES))}) "
            "ORDER BY created_at", OPEN_STATES).fetchall()
        return [self.get(r[0]) for r in rows]

    def record(self, order_no: str, event: str, *, invoice_no: str = "", pdf_url: str = "", reason: str = "") -> dict:
        """Move a request on: ``accepted``/``duplicate``/``no_answer``/``rejected`` after a submit,
        ``issuing``/``issued``/``failed``/``unknown`` after a status query."""
        with self.store.transaction() as tx:
            row = self._get(tx.conn, order_no)
            try:
                new = MACHINE[(row["state"], event)]
            except KeyError:
                raise ClubError(f"fapiao {order_no}: {event!r} in state {row['state']!r}",
                                code="bad_transition") from None
            attempts = row["attempts"] + (1 if event in ("accepted", "duplicate", "no_answer", "rejected") else 0)
            tx.execute("UPDATE club_fapiao_requests SET state = ?, attempts = ?, invoice_no = coalesce(?, invoice_no), "
                       "pdf_url = coalesce(?, pdf_url), reason = coalesce(?, reason), updated_at = ? WHERE order_no = ?",
                       (new, attempts, invoice_no or None, pdf_url or None, reason or None,
                        utcnow_iso(self.clock()), order_no))
            if new == "issued":
                tx.emit("club.fapiao.issued", {"order_no": order_no, "purpose": row["purpose"], "ref": row["ref"],
                                               "kind": row["kind"], "amount_fen": row["amount_fen"],
                                               "invoice_no": invoice_no})
            return self._get(tx.conn, order_no)
