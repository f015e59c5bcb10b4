"""The input records the document builders take (plain dataclasses; money is integer fen).

They are deliberately small and independent of :mod:`pos.hospital`: the domain code fills them in
from its own model. Times are UTC ISO 8601 strings (``2026-11-28T02:15:00Z``); dates are
``YYYY-MM-DD``. Card numbers arrive masked or are masked here (only the last four digits are
ever printed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Site", "DepositReceiptData", "WristbandData", "FeeItem", "FeeDay", "DailyFeeListData",
           "SettlementData", "TestPageData", "WhereToGoData", "CATEGORIES", "PAYMENT_METHODS"]

#: insurance categories of a fee item (甲 fully covered, 乙 partly, 丙 self-paid)
CATEGORIES = ("甲", "乙", "丙")
PAYMENT_METHODS = ("card", "cash", "wechat", "alipay", "insurance")


@dataclass(frozen=True)
class Site:
    hospital_name: str
    timezone: str = "Asia/Shanghai"
    counter_window: str = "1"
    lang: str = "zh-Hans"          # script of the documents: zh-Hans or zh-Hant

    @classmethod
    def from_config(cls, config, lang: str = "zh-Hans") -> "Site":
        """The site as a :class:`pos.config.Config` describes it; documents are printed in Chinese,
        Traditional for a zh-Hant screen and Simplified otherwise."""
        return cls(hospital_name=config.site_name, timezone=config.get("site", "timezone"),
                   counter_window=str(config.get("site", "counter_window")),
                   lang="zh-Hant" if lang == "zh-Hant" else "zh-Hans")


@dataclass(frozen=True)
class DepositReceiptData:
    receipt_no: str                # unique across devices (store.next_number)
    patient_name: str
    inpatient_no: str
    amount_fen: int
    method: str                    # one of PAYMENT_METHODS
    operator_id: str               # cashier ID or kiosk device ID
    paid_at: str                   # UTC ISO 8601
    card_masked: str = ""          # e.g. "6222 **** **** 1234"; re-masked to the last 4 digits
    terminal_ref: str = ""         # terminal trace / reference number
    ward: str = ""
    voided: str = ""               # the reversal (沖銷) that voided it: "supervisor / reason"; "" = valid


@dataclass(frozen=True)
class WristbandData:
    name: str
    sex: str                       # "M", "F", or "U"/"" when not recorded (left off the band)
    age: str                       # as shown: "45" or "3月" (months) - the domain formats it
    inpatient_no: str
    ward: str
    bed: str
    admitted_on: str               # YYYY-MM-DD
    allergy: str = ""              # empty = no known allergy; else what to (e.g. "青霉素")


@dataclass(frozen=True)
class FeeItem:
    name: str
    spec: str
    unit_price_fen: int
    qty: int
    category: str                  # one of CATEGORIES
    amount_fen: int | None = None  # None = unit_price_fen * qty
    qty_text: str = ""             # the exact quantity as printed ("0.5", "2.5"); "" = qty
    price_text: str = ""           # the exact unit price ("0.333333"); "" = unit_price_fen

    @property
    def amount(self) -> int:
        return self.unit_price_fen * self.qty if self.amount_fen is None else self.amount_fen


@dataclass(frozen=True)
class FeeDay:
    date: str                      # YYYY-MM-DD
    items: tuple[FeeItem, ...] = ()


@dataclass(frozen=True)
class DailyFeeListData:
    patient_name: str
    inpatient_no: str
    ward: str
    bed: str
    days: tuple[FeeDay, ...]
    deposits_fen: int              # deposits paid so far
    printed_at: str                # UTC ISO 8601
    stay_before_fen: int = 0       # charges of the stay before the first day listed (running total)
    prompt: str = ""               # a LABELS msgid printed under the balance (the low-balance top-up)


@dataclass(frozen=True)
class SettlementData:
    settlement_no: str
    patient_name: str
    inpatient_no: str
    admitted_on: str
    discharged_on: str
    totals_by_category: dict = field(default_factory=dict)   # {"甲": fen, "乙": fen, "丙": fen}
    pooled_fen: int = 0            # paid by the insurance funds (fund_pay_sumamt)
    deposits_fen: int = 0          # deposits paid
    receipts_taken_back: tuple[str, ...] = ()
    settled_at: str = ""           # UTC ISO 8601
    operator_id: str = ""
    refunded_fen: int = 0          # deposit refunded during the stay (before settlement)
    acct_fen: int = 0              # paid from the personal account (acct_pay)
    receipts_voided: tuple[str, ...] = ()

    @property
    def net_deposits_fen(self) -> int:
        return self.deposits_fen - self.refunded_fen

    @property
    def cash_fen(self) -> int:
        """The patient's cash share (psn_cash_pay): what the deposits pay."""
        return self.self_pay_fen - self.acct_fen

    @property
    def total_fen(self) -> int:
        return sum(self.totals_by_category.values())

    @property
    def self_pay_fen(self) -> int:
        return self.total_fen - self.pooled_fen

    @property
    def balance_fen(self) -> int:
        """Positive: refund to the patient; negative: the patient still owes this much."""
        return self.net_deposits_fen - self.cash_fen


@dataclass(frozen=True)
class TestPageData:
    __test__ = False   # not a pytest test class
    printer_url: str
    profile: str
    model: str = ""
    code_page: str = ""
    capabilities: tuple[str, ...] = ()
    printed_at: str = ""


@dataclass(frozen=True)
class WhereToGoData:
    message: str                   # e.g. "请到3号窗口领取收据" (already in the document's script)
    message_en: str                # the same in English
    window: str
    reference: str = ""            # job or receipt number the staff look up
    printed_at: str = ""
    headline: str = ""             # the big line (e.g. the ward); empty = "window N"
