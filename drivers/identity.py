"""The one identity record every identity source produces (insurance cards, ID card, QR, scanner).

A record is only ever built from a complete, checked read: drivers raise a
:class:`~drivers.errors.CardError` subclass rather than hand out a partial record.
:meth:`Identity.as_json` gives exactly the object ``onestop card read --json`` prints::

    {"source": "ssc"|"egk"|"cn_id"|"evoucher", "name": str, "sex": "M"|"F"|"U",
     "birth_date": "YYYY-MM-DD"|null, "id_number": str|null, "card_number": str|null,
     "issuer": str|null, "valid_until": "YYYY-MM-DD"|null,
     "insurance": {"scheme": str|null, "member_id": str|null, "payer": str|null},
     "token": str|null}

Also here: the GB 11643 check digit of the Chinese citizen ID number.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from .errors import CardError, ProtocolError

__all__ = [
    "Identity", "Insurance", "SOURCES", "SOURCE_LABELS", "CardExpired", "UnknownCard", "CardRemoved",
    "UnreadableCard", "LayoutMismatch", "gb11643_check_digit", "valid_cn_id_number",
    "iso_date",
]

SOURCES = ("ssc", "egk", "cn_id", "evoucher")
#: what the screen calls each source (msgids in the translation catalogues)
SOURCE_LABELS = {"ssc": "Social security card", "egk": "German health card (eGK)",
                 "cn_id": "Resident ID card", "evoucher": "Medical insurance e-voucher"}
_SEXES = ("M", "F", "U")


class UnknownCard(CardError):
    user_message = "This card is not supported here. Please use your insurance card or ID card."


class CardExpired(CardError):
    user_message = "This card has expired. Please ask the staff for help."


class CardRemoved(CardError):
    user_message = "The card was taken out too early. Please insert it again and wait."


class UnreadableCard(CardError):
    user_message = "The card could not be read. Please try again or ask the staff."


class LayoutMismatch(ProtocolError):
    """A keyboard-wedge scanner that types with a different keyboard layout than the kiosk."""
    user_message = "The scanner is set up wrongly. Please ask the staff for help."


_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]


def gb11643_check_digit(first17: str) -> str:
    """The 18th character (0-9 or X) of a citizen ID number under GB 11643-1999."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS))
    return "10X98765432"[total % 11]


def valid_cn_id_number(number: str) -> bool:
    """True for an 18-character ID number whose check digit and birth date are consistent."""
    if not isinstance(number, str) or len(number) != 18 or not number.isascii():
        return False
    head, check = number[:17], number[17].upper()
    if not head.isdigit():
        return False
    if gb11643_check_digit(head) != check:
        return False
    try:
        _dt.date(int(head[6:10]), int(head[10:12]), int(head[12:14]))
    except ValueError:
        return False
    return True


def cn_id_facts(number: str) -> tuple[str, str] | None:
    """(sex ``M``/``F``, birth date ``YYYY-MM-DD``) that a valid ID number encodes (GB 11643: the
    17th digit is odd for men), or None when the number is not a valid 18-character one."""
    if not valid_cn_id_number(number):
        return None
    return ("M" if int(number[16]) % 2 else "F"), f"{number[6:10]}-{number[10:12]}-{number[12:14]}"


def iso_date(text: str | None) -> str | None:
    """``YYYYMMDD`` (or ``YYYY-MM-DD``) to ``YYYY-MM-DD``; ``None`` for empty/"long-term"; else ValueError."""
    if text is None:
        return None
    t = text.strip().replace("-", "")
    if not t or t in ("长期", "長期", "00000000"):
        return None
    if len(t) != 8 or not t.isascii() or not t.isdigit():
        raise ValueError(f"not a date: {text!r}")
    d = _dt.date(int(t[:4]), int(t[4:6]), int(t[6:8]))
    return d.isoformat()


@dataclass(frozen=True)
class Insurance:
    scheme: str | None = None
    member_id: str | None = None
    payer: str | None = None


@dataclass(frozen=True)
class Identity:
    """Who a person is, as one source (a card, a QR code) states it. Only complete, validated reads
    become an Identity; what a site makes of the person is the site pack's business."""

    source: str
    name: str = ""
    sex: str = "U"
    birth_date: str | None = None
    id_number: str | None = None
    card_number: str | None = None
    issuer: str | None = None
    valid_until: str | None = None
    insurance: Insurance = field(default_factory=Insurance)
    token: str | None = None
    #: notes for the technician (not part of the JSON record), e.g. private-use characters
    warnings: tuple = ()
    #: extra data the source carried (not part of the JSON record), e.g. the QR payload
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"unknown identity source {self.source!r}")
        if self.sex not in _SEXES:
            raise ValueError(f"sex must be one of {_SEXES}, got {self.sex!r}")
        for name in ("birth_date", "valid_until"):
            value = getattr(self, name)
            if value is not None and iso_date(value) != value:
                raise ValueError(f"{name} must be YYYY-MM-DD, got {value!r}")

    def expired(self, today: _dt.date | None = None) -> bool:
        if self.valid_until is None:
            return False
        today = today or _dt.date.today()
        return _dt.date.fromisoformat(self.valid_until) < today

    def check_valid(self, today: _dt.date | None = None) -> "Identity":
        """Raise :class:`CardExpired` for a card past its expiry date; return self otherwise."""
        if self.expired(today):
            raise CardExpired(f"{self.source} card expired on {self.valid_until}")
        return self

    def as_json(self) -> dict:
        return {
            "source": self.source,
            "name": self.name,
            "sex": self.sex,
            "birth_date": self.birth_date,
            "id_number": self.id_number,
            "card_number": self.card_number,
            "issuer": self.issuer,
            "valid_until": self.valid_until,
            "insurance": {
                "scheme": self.insurance.scheme,
                "member_id": self.insurance.member_id,
                "payer": self.insurance.payer,
            },
            "token": self.token,
        }
