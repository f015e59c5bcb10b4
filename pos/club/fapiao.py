"""Which part of a payment a fapiao may carry (国家税务总局公告2016年第53号 §3, as the research
notes read it): a member-card top-up is not yet a sale and may carry an ordinary fapiao (普票,
kind ``pc``), never a special VAT one (专票, ``bs``); spending stored value must not be invoiced
again. So the part of a bill paid by member card (principal and bonus alike) is left out of the
bill's fapiao, and a fapiao for a bill paid wholly by member card is refused with the reason. The
bonus of a top-up was never paid, so a top-up's fapiao carries its principal only.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ClubError, FapiaoRefused

__all__ = ["Payment", "FapiaoQuote", "bill_fapiao", "topup_fapiao", "STORED_VALUE_METHODS", "KINDS"]

STORED_VALUE_METHODS = frozenset({"member"})
KINDS = ("pc", "bs")                     # 数电普票, 数电专票


@dataclass(frozen=True)
class Payment:
    method: str                          # cash | card | member | wechat | alipay ...
    amount_fen: int


@dataclass(frozen=True)
class FapiaoQuote:
    kind: str
    amount_fen: int                      # what the fapiao carries
    excluded_fen: int                    # paid by stored value: not on the fapiao
    reason: str = ""                     # code in pos.club.errors.REASONS when something was left out


def bill_fapiao(payments: list[Payment], kind: str = "pc") -> FapiaoQuote:
    if kind not in KINDS:
        raise ClubError(f"unknown fapiao kind {kind!r}")
    for p in payments:
        if type(p.amount_fen) is not int or p.amount_fen <= 0:
            raise ClubError(f"payment amounts are positive integer fen: {p!r}")
    stored = sum(p.amount_fen for p in payments if p.method in STORED_VALUE_METHODS)
    rest = sum(p.amount_fen for p in payments if p.method not in STORED_VALUE_METHODS)
    if rest == 0:
        raise FapiaoRefused(f"bill paid {stored} fen by member card only: no fapiao for stored-value spending")
    return FapiaoQuote(kind, rest, stored, "fapiao_stored_value" if stored else "")


def topup_fapiao(principal_fen: int, bonus_fen: int = 0, kind: str = "pc") -> FapiaoQuote:
    if kind != "pc":
        raise FapiaoRefused(f"top-up fapiao of kind {kind!r} refused", code="fapiao_special_topup")
    if type(principal_fen) is not int or principal_fen <= 0:
        raise ClubError("a top-up fapiao needs the principal paid, in fen")
    return FapiaoQuote("pc", principal_fen, 0)
