"""Self-service discharge at the kiosk (H-D4, H-D5, H-D6).

    identify ──► review ──► settled ──► (paying ──► printing) | (refunding ──► printing) | printing ──► done
        ├► not_admitted
        └► not_ready          (the discharge is not scheduled, or the charges are not locked)

* **review**: the pre-settlement (試算): insurance part, self-pay part, deposits, refund or due.
* **settle**: the insurance settlement; the deposit receipts are taken back (they are void now).
* The shortfall is collected on the card (少補); the surplus goes back to the card the deposit was
  paid with (多退). When the deposit was not paid by card, or a card refund is not possible, the
  kiosk sends the patient to the counter, where the cashier refunds in cash.
* **printing**: the settlement list (結算清單); then the stay is discharged.
"""

from __future__ import annotations

import logging

from pos.hospital.card_refunds import refund_to_cards

from ..hospital import views
from .base import Flow
from .lookup import identify_stay
from .payment_step import charge

log = logging.getLogger(__name__)

__all__ = ["DischargeFlow", "NOT_READY"]

NOT_READY = "Your discharge is not ready yet. Please ask the nurse station or go to window {window}."
REFUND_AT_COUNTER = "Please collect your refund at window {window}."
REFUND_TERMINAL_FAILED = "The card terminal could not be reached, so the refund could not go back to your card."
REFUND_NOT_APPROVED = "The card terminal did not approve the refund to your card."
REFUND_NO_CARD = "Your deposit was not paid by card, so it is refunded in cash."


class DischargeFlow(Flow):
    initial = "identify"
    TRANSITIONS = {
        "identify": ("review", "not_admitted", "not_ready"),
        "review": ("settled",),
        "settled": ("paying", "refunding", "printing", "refund_at_counter"),
        "paying": ("printing", "declined", "in_doubt", "device_fault"),
        "declined": ("paying",),
        "refunding": ("printing", "refund_at_counter"),
        "printing": ("done",),
    }

    def __init__(self, site, *, operator_id: str, lang: str = "zh-Hans"):
        super().__init__()
        self.site, self.operator_id, self.lang = site, operator_id, lang
        self.admission: dict | None = None
        self.pre = None
        self.settlement: dict | None = None
        self.amount_fen = 0
        self.payment = None
        self.receipt_no = ""
        self.refunded = None
        self.refunds: list = []
        self.void_receipts: list[str] = []
        self.print_problems: list[str] = []
        self.problem = ""
        self.refund_left_fen = 0          # what the counter still has to refund
        self.refund_reason = ""           # msgid: why it did not go back to the card

    @property
    def inpatient_no(self) -> str:
        return self.admission["inpatient_no"]

    def identified(self, identity=None, inpatient_no: str | None = None) -> str:
        h = self.site.hospital
        if not identify_stay(self, identity, inpatient_no):
            return self.state
        if h.discharge_state(self.inpatient_no) != "scheduled":
            self.problem = NOT_READY
            self.move("not_ready")
        else:
            self.pre = h.pre_settle(self.inpatient_no)
            self.move("review")
        return self.state

    def settle(self) -> dict:
        self.expect("review")
        h = self.site.hospital
        self.settlement = h.settle(self.inpatient_no)
        a = h.admission(self.inpatient_no)
        self.void_receipts = views.taken_back_receipts(h.conn, a["id"])
        self.move("settled")
        return self.settlement

    @property
    def refund_due_fen(self) -> int:
        return int(self.settlement.get("refund_due_fen") or 0) if self.settlement else 0

    @property
    def collect_due_fen(self) -> int:
        return int(self.settlement.get("collect_due_fen") or 0) if self.settlement else 0

    def balance(self, on_status=None):
        """Collect the shortfall or refund the surplus to the original card."""
        self.expect("settled", "declined")
        if self.collect_due_fen > 0:
            self.amount_fen = self.collect_due_fen
            return charge(self, "collection", on_status)
        if self.refund_due_fen > 0:
            return self._refund_to_card(on_status)
        self.move("printing")
        return None

    def _refund_to_card(self, on_status):
        """Give the surplus back to the cards the deposits were paid with, newest first, never more
        than is left of each payment. What cannot go back to a card is refunded at the counter."""
        self.move("refunding")
        res = refund_to_cards(self.site.payments, self.inpatient_no, self.refund_due_fen, on_status=on_status,
                              hospital=self.site.hospital)
        self.refunds = res.outcomes
        left = res.left_fen
        if left > 0:
            last = res.outcomes[-1] if res.outcomes else None
            if res.status == "failed" or (res.reason and (last is None or last.status == "posted")):
                self.refund_reason = REFUND_TERMINAL_FAILED      # the terminal never answered
            elif last is not None and last.status != "posted":
                self.refund_reason = REFUND_NOT_APPROVED
            else:
                self.refund_reason = REFUND_NO_CARD              # no card payment left to refund to
        self.refunded = self.refunds[-1] if self.refunds else None
        self.refund_left_fen = max(left, 0)
        if left > 0:
            self.problem = REFUND_AT_COUNTER
            self.move("refund_at_counter")
        else:
            self.move("printing")
        return self.refunded

    def finish(self) -> list[str]:
        """Print the settlement list and discharge the stay."""
        self.expect("printing")
        h = self.site.hospital
        out = self.site.documents(self.lang).settlement(self.inpatient_no, self.operator_id)
        self.print_problems = [] if out.ok else [out.user_message]
        h.discharge(self.inpatient_no)
        self.move("done")
        return self.print_problems
