"""Value objects the UI hands to the service: an identity read from a card, a payment."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import BadInput, HospitalError

__all__ = ["IdentityRecord", "Payment", "IDENTITY_SOURCES", "PAYMENT_METHODS", "identity_from"]

IDENTITY_SOURCES = ("ssc", "egk", "cn_id", "evoucher", "his_card", "counter")
PAYMENT_METHODS = ("cash", "card", "wechat", "alipay", "other")
_MASKED = re.compile(r"^[*Xx•]*\d{0,4}$")


@dataclass(frozen=True)
class IdentityRecord:
    """What a card reader (or the cashier) established about a person.

    ``source``: ssc (social-security card), egk, cn_id (resident ID card), evoucher (insurance
    e-voucher QR; then ``token`` is set and the ID number may come from the platform), his_card
    (the hospital's patient card) or counter (typed in).
    """

    source: str
    name: str
    id_number: str
    card_number: str = ""
    scheme: str = ""             # employee / resident / rural / self_pay; "" = ask the platform
    member_id: str = ""
    sex: str = ""
    birth_date: str = ""
    token: str = ""

    def __post_init__(self):
        if self.source not in IDENTITY_SOURCES:
            raise BadInput(f"unknown identity source {self.source!r}")
        if not self.id_number and not self.token:
            raise BadInput("an identity needs an ID number (or an e-voucher token)")


def identity_from(obj) -> IdentityRecord:
    """Accept an :class:`IdentityRecord`, a ``drivers.identity.Identity`` (or its ``as_json()``
    dict, with the nested ``insurance``), a flat dict, or any object with the same names."""
    if isinstance(obj, IdentityRecord):
        return obj

    def get(o, k):
        v = o.get(k) if isinstance(o, dict) else getattr(o, k, None)
        return v

    fields = {}
    for k in IdentityRecord.__dataclass_fields__:
        v = get(obj, k)
        if v is not None:
            fields[k] = v
    ins = get(obj, "insurance")
    if ins is not None:
        for k in ("scheme", "member_id"):
            if not fields.get(k) and get(ins, k):
                fields[k] = get(ins, k)
    fields.setdefault("name", "")
    fields.setdefault("id_number", "")
    return IdentityRecord(**fields)


@dataclass(frozen=True)
class Payment:
    """Money received or paid out. ``masked_pan`` keeps at most the last four digits."""

    amount_fen: int
    method: str = "cash"
    reference: str = ""          # terminal trace / platform order number
    masked_pan: str = ""

    def __post_init__(self):
        if not isinstance(self.amount_fen, int) or isinstance(self.amount_fen, bool) or self.amount_fen <= 0:
            raise BadInput(f"amount must be a positive integer of fen, got {self.amount_fen!r}", code="bad_amount")
        if self.method not in PAYMENT_METHODS:
            raise BadInput(f"unknown payment method {self.method!r}")
        if self.masked_pan and not _MASKED.match(self.masked_pan):
            raise HospitalError("refusing to store more than the last four card digits", code="full_pan")
