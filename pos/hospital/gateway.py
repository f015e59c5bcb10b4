"""The insurance gateway interface, with the national platform's semantics.

Transactions (numbers of the national platform; see research/hospital-sync.md):
1101 person info, 2301 upload fee details, 2303 pre-settle, 2304 settle, 2305/2601 cancel a
settlement by the original message ID; plus a query by message ID for reconciliation after a
crash or a timeout. Every call that changes something carries our ``msg_id`` (unique forever);
the same ``msg_id`` sent twice returns the first result (idempotent).

Credential types (``mdtrt_cert_type``): ``01`` e-voucher token, ``02`` ID number, ``03``
social-security card (``card_sn`` required).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["CERT_EVOUCHER", "CERT_ID_NUMBER", "CERT_SSC", "PersonInfo", "FeeLine", "SettleResult",
           "InsuranceGateway"]

CERT_EVOUCHER = "01"
CERT_ID_NUMBER = "02"
CERT_SSC = "03"


@dataclass(frozen=True)
class PersonInfo:
    member_id: str
    name: str
    id_number: str
    scheme: str                      # employee / resident / rural / self_pay
    deductible_used_fen: int = 0     # this year, before this stay
    pooled_used_fen: int = 0


@dataclass(frozen=True)
class FeeLine:
    ref: str
    fee_code: str
    category: str
    amount_fen: int
    qty_milli: int
    service_date: str


@dataclass(frozen=True)
class SettleResult:
    msg_id: str
    setl_id: str                     # the platform's settlement ID ('' for a pre-settlement)
    member_id: str
    total_fen: int
    pooled_fen: int
    selfpay_fen: int
    breakdown: dict = field(default_factory=dict)
    cancelled: bool = False


class InsuranceGateway(Protocol):
    def person_info(self, cert_type: str, cert_no: str, card_sn: str = "") -> PersonInfo: ...

    def upload_fees(self, msg_id: str, visit_no: str, member_id: str, lines: list[FeeLine]) -> None: ...

    def pre_settle(self, msg_id: str, visit_no: str, member_id: str, total_fen: int) -> SettleResult: ...

    def settle(self, msg_id: str, visit_no: str, member_id: str, total_fen: int) -> SettleResult: ...

    def cancel_settlement(self, msg_id: str, original_msg_id: str) -> None: ...

    def query(self, original_msg_id: str) -> SettleResult | None: ...
