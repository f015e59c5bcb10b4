"""Admission check-in at the lobby kiosk (H-A1, H-A2, H-A3).

    identify ──► confirm ──► amount ──► paying ──► printing ──► directions
        │                      ▲           │
        ├► no_notice           └─declined◄─┤
        ├► already_admitted (an open stay: top-up or daily list instead)
        └► amount (registered earlier, the deposit not paid: resume)
                                           ├► in_doubt   (go to the counter; never charged twice)
                                           └► device_fault (the terminal is unreachable)

* **identify**: a card/ID/e-voucher identity arrives. A stay already open for that person refuses
  a second check-in (``already_admitted``); one registered but not paid resumes at the deposit;
  otherwise the open admission notice for that ID number is looked up. None → ``no_notice`` (the
  kiosk sends the patient to the counter).
* **confirm**: the patient confirms the notice; the admission is registered (inpatient number).
* **amount**: the deposit, pre-filled from the notice, adjustable in steps within limits.
* **paying**: the card terminal; an approval is booked in the deposit ledger by the payment
  journal's poster in the same transaction (see :mod:`pos.hospital.payments_bridge`).
* **printing**: the deposit receipt and the wristband, and a slip saying where to go.
* **directions**: "go to ward X, floor Y".
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..hospital import views
from .base import Flow
from .lookup import current_admission
from .payment_step import charge

log = logging.getLogger(__name__)

__all__ = ["CheckinFlow", "DepositLimits", "AmountStep", "ALREADY_ADMITTED"]

ALREADY_ADMITTED = "You are already admitted (inpatient number {number}). You can top up your deposit or see your daily fee list."


@dataclass(frozen=True)
class DepositLimits:
    min_fen: int
    max_fen: int
    step_fen: int = 10000   # 100.00 yuan

    @classmethod
    def around(cls, suggested_fen: int) -> "DepositLimits":
        """From half the suggested deposit (at least 100.00) to three times it."""
        step = 10000
        low = max(step, (suggested_fen // 2) // step * step)
        return cls(min_fen=low, max_fen=max(low, suggested_fen * 3), step_fen=step)

    def clamp(self, fen: int) -> int:
        return min(max(int(fen), self.min_fen), self.max_fen)


class AmountStep:
    """The deposit amount step that check-in and top-up share: whole steps up or down, or a typed
    or preset amount, always kept within ``self.limits``."""

    def adjust(self, steps: int) -> int:
        """Raise or lower the deposit by whole steps, kept within the limits."""
        self.expect("amount", "declined")
        self.amount_fen = self.limits.clamp(self.amount_fen + steps * self.limits.step_fen)
        return self.amount_fen

    def set_amount(self, fen: int) -> int:
        """A typed or preset amount, kept within the limits (whole steps are not required)."""
        self.expect("amount", "declined")
        self.amount_fen = self.limits.clamp(fen)
        return self.amount_fen


@dataclass
class CheckinResult:
    receipt_no: str = ""
    prints: list = field(default_factory=list)     # PrintOutcome per document
    print_problems: list = field(default_factory=list)   # user messages (where to collect)


class CheckinFlow(AmountStep, Flow):
    initial = "identify"
    TRANSITIONS = {
        "identify": ("confirm", "no_notice", "amount", "already_admitted"),
        "confirm": ("amount",),
        "amount": ("paying",),
        "paying": ("printing", "declined", "in_doubt", "device_fault"),
        "declined": ("paying",),
        "printing": ("directions",),
    }

    def __init__(self, site, *, operator_id: str, lang: str = "zh-Hans"):
        super().__init__()
        self.site = site
        self.operator_id = operator_id
        self.lang = lang
        self.identity = None
        self.notice: dict | None = None
        self.admission: dict | None = None
        self.amount_fen = 0
        self.limits: DepositLimits | None = None
        self.payment = None
        self.receipt_no = ""
        self.result = CheckinResult()
        self.ward: dict | None = None
        self.problem = ""      # msgid of the last failure, for the screen

    @property
    def patient_name(self) -> str:
        return (self.notice or {}).get("patient_name", "")

    # -- steps (call from a worker thread) ------------------------------------------------
    def identified(self, identity) -> str:
        self.expect("identify")
        self.identity = identity
        h = self.site.hospital
        a = current_admission(h, identity)
        if a is not None and a["state"] != "registered":     # in hospital now: no second stay
            self.admission = a
            self.problem = ALREADY_ADMITTED
            log.info("check-in refused: %s is already admitted", a["inpatient_no"])
            self.move("already_admitted")
            return self.state
        if a is not None:
            # registered earlier but the deposit was not paid (cancelled, or the card failed): resume
            self.admission = a
            self.notice = views.notice_by_id(h.conn, a["notice_id"])
            self._prefill()
            self.move("amount")
            return self.state
        self.notice = h.find_notice_for_identity(identity)
        self.move("confirm" if self.notice else "no_notice")
        return self.state

    def confirm(self) -> dict:
        self.expect("confirm")
        h = self.site.hospital
        self.admission = h.register_admission(self.notice["notice_no"], self.identity)
        self._prefill()
        self.move("amount")
        return self.admission

    def _prefill(self) -> None:
        self.ward = self.site.hospital.ward(self.admission["ward_code"])
        self.amount_fen = int(self.notice["suggested_deposit_fen"])
        self.limits = DepositLimits.around(self.amount_fen)
        self.amount_fen = self.limits.clamp(self.amount_fen)

    def pay(self, on_status=None):
        """Charge the deposit on the card terminal. Never sends an in-doubt attempt again."""
        self.expect("amount", "declined")
        out = charge(self, "deposit", on_status)
        self.result.receipt_no = self.receipt_no
        return out

    def print_documents(self) -> CheckinResult:
        """Receipt, wristband, and the slip saying where to go. A printer fault does not stop the
        flow: the job stays in the journal and the patient is told where to collect it."""
        self.expect("printing")
        inpatient_no = self.admission["inpatient_no"]
        docs = self.site.documents(self.lang)
        w = self.ward
        # The wristband goes to its own printer while the receipt and the slip go to theirs: the
        # patient waits for the slower of the two, not for both (one printer's jobs still take turns).
        # The ward is the slip's big line; the floor and the nurse station under it, in the
        # document's script and in English.
        where = (f"{w['building']}{w['floor']}樓 護士站報到" if self.lang == "zh-Hant"
                 else f"{w['building']}{w['floor']}楼 护士站报到")
        with ThreadPoolExecutor(1, thread_name_prefix="print-wristband") as pool:
            band = pool.submit(docs.wristband, inpatient_no)
            receipt = docs.deposit_receipt(self.result.receipt_no, self.operator_id)
            slip = docs.slip(where, f"{w['building']} floor {w['floor']}: please report to the nurse station",
                             reference=inpatient_no, headline=w["name"])
            outcomes = [receipt, band.result(), slip]
        self.result.prints = outcomes
        self.result.print_problems = [o.user_message for o in outcomes if not o.ok]
        self.move("directions")
        return self.result
