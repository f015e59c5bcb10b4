"""Deposit top-up for an admitted patient, by card (H-A2, H-A5's low-balance prompt).

    identify ──► amount ──► paying ──► printing ──► done
        └► not_admitted         ├► declined ──► paying
                                ├► in_doubt
                                └► device_fault
"""

from __future__ import annotations

from .base import Flow
from .checkin import AmountStep, DepositLimits
from .lookup import identify_stay, patient_name
from .payment_step import charge

__all__ = ["TopupFlow"]


class TopupFlow(AmountStep, Flow):
    initial = "identify"
    TRANSITIONS = {
        "identify": ("amount", "not_admitted"),
        "amount": ("paying",),
        "paying": ("printing", "declined", "in_doubt", "device_fault"),
        "declined": ("paying",),
        "printing": ("done",),
    }
    DEFAULT_FEN = 100000   # 1,000.00 yuan

    def __init__(self, site, *, operator_id: str, lang: str = "zh-Hans"):
        super().__init__()
        self.site, self.operator_id, self.lang = site, operator_id, lang
        self.admission: dict | None = None
        self.amount_fen = self.DEFAULT_FEN
        self.limits = DepositLimits(min_fen=10000, max_fen=5000000)
        self.balance: dict | None = None
        self.payment = None
        self.receipt_no = ""
        self.print_problems: list[str] = []
        self.problem = ""
        self.patient_name = ""
        self.new_balance_fen: int | None = None     # after the payment

    def identified(self, identity=None, inpatient_no: str | None = None) -> str:
        if not identify_stay(self, identity, inpatient_no):
            return self.state
        self.balance = self.site.hospital.account(self.admission["inpatient_no"])
        self.patient_name = patient_name(self.site.hospital, self.admission)
        self.move("amount")
        return self.state

    def pay(self, on_status=None):
        self.expect("amount", "declined")
        return charge(self, "deposit", on_status)

    def print_documents(self) -> list[str]:
        self.expect("printing")
        out = self.site.documents(self.lang).deposit_receipt(self.receipt_no, self.operator_id)
        self.print_problems = [] if out.ok else [out.user_message]
        self.new_balance_fen = self.site.hospital.account(self.admission["inpatient_no"])["available_fen"]
        self.move("done")
        return self.print_problems
