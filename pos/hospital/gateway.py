"""The insurance gateway interface, with the national platform's semantics.

Transactions (numbers of the national platform; see research/hospital-sync.md):
1101 person info, 2301 upload fee details, 2303 pre-settle, 2304 settle, 2305 cancel a
settlement (2601 reverses by the original message ID); plus a query by message ID for
reconciliation after a crash or a timeout. Every call that changes something carries our
``msg_id`` (unique forever); the same ``msg_id`` sent twice returns the first result.

The results carry the platform's own breakdown: ``breakdown`` is its ``setlinfo`` (the 2304
output names, in fen: ``medfee_sumamt``, ``hifp_pay``, ``acct_pay``, ``psn_cash_pay`` …), and
:class:`SettleResult` names the three parts the hospital books: the funds (``pooled_fen`` =
``fund_pay_sumamt``), the personal account (``acct_fen`` = ``acct_pay``, paid at the platform,
never collected again) and the patient's cash (``cash_fen`` = ``psn_cash_pay``, what the
deposit pays or the patient pays). ``selfpay_fen`` = ``psn_part_amt`` = account + cash.

Credential types (``mdtrt_cert_type``): ``01`` e-voucher token, ``02`` ID number, ``03``
social-security card (``card_sn`` required).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from .policy import Insured, Line

__all__ = ["CERT_EVOUCHER", "CERT_ID_NUMBER", "CERT_SSC", "PersonInfo", "FeeLine", "SettleResult",
           "InsuranceGateway"]

CERT_EVOUCHER = "01"
CERT_ID_NUMBER = "02"
CERT_SSC = "03"


@dataclass(frozen=True)
class PersonInfo:
    member_id: str                   # psn_no
    name: str
    id_number: str
    scheme: str                      # employee / resident / rural / self_pay
    deductible_used_fen: int = 0     # this year, before this stay
    pooled_used_fen: int = 0         # what the pooled fund paid this year
    retiree: bool = False            # psn_type: retired employee
    acct_balance_fen: int = 0        # personal account balance (insuinfo.balc)
    admissions_this_year: int = 0    # inpatient stays settled this year
    above_cap_used_fen: int = 0      # what the fund above the cap paid this year
    region: str = ""                 # insuplc_admdvs

    def insured(self, use_account: bool = True) -> Insured:
        return Insured(self.scheme, self.retiree, self.admissions_this_year, self.deductible_used_fen,
                       self.pooled_used_fen, self.above_cap_used_fen, self.acct_balance_fen, use_account)


@dataclass(frozen=True)
class FeeLine:
    """One 2301 fee detail (``feedetl_sn`` = ref). Price in micro-yuan, quantity in ten-thousandths."""
    ref: str
    fee_code: str
    category: str
    amount_fen: int
    qty_milli: int
    service_date: str
    price_uyuan: int | None = None
    qty_e4: int | None = None
    cap_uyuan: int | None = None     # pric_uplmt_amt
    selfpay_permille: int | None = None

    def line(self) -> Line:
        qty = self.qty_e4 if self.qty_e4 is not None else self.qty_milli * 10
        if self.price_uyuan is None:
            return Line(self.ref, self.category, 0, qty, self.cap_uyuan, self.selfpay_permille, self.amount_fen)
        return Line(self.ref, self.category, self.price_uyuan, qty, self.cap_uyuan, self.selfpay_permille,
                    self.amount_fen)


@dataclass(frozen=True)
class SettleResult:
    msg_id: str
    setl_id: str                     # the platform's settlement ID ('' for a pre-settlement)
    member_id: str
    total_fen: int
    pooled_fen: int                  # fund_pay_sumamt
    selfpay_fen: int                 # psn_part_amt = acct + cash
    breakdown: dict = field(default_factory=dict)    # the platform's setlinfo (fen)
    cancelled: bool = False
    acct_fen: int = 0                # acct_pay
    cash_fen: int | None = None      # psn_cash_pay (None: selfpay - acct)
    source: str = "platform"         # who computed it: platform:2303 / platform:2304 / local

    def __post_init__(self):
        if self.cash_fen is None:
            object.__setattr__(self, "cash_fen", self.selfpay_fen - self.acct_fen)

    def consistent(self) -> bool:
        return (self.pooled_fen + self.selfpay_fen == self.total_fen
                and self.acct_fen + self.cash_fen == self.selfpay_fen and min(self.acct_fen, self.cash_fen) >= 0)


class InsuranceGateway(Protocol):
    def person_info(self, cert_type: str, cert_no: str, card_sn: str = "") -> PersonInfo: ...

    def upload_fees(self, msg_id: str, visit_no: str, member_id: str, lines: list[FeeLine]) -> list[dict]: ...

    def pre_settle(self, msg_id: str, visit_no: str, member_id: str, total_fen: int, *,
                   acct_used: bool = True) -> SettleResult: ...

    def settle(self, msg_id: str, visit_no: str, member_id: str, total_fen: int, *,
               acct_used: bool = True) -> SettleResult: ...

    def cancel_settlement(self, msg_id: str, original_msg_id: str) -> None: ...

    def query(self, original_msg_id: str) -> SettleResult | None: ...
