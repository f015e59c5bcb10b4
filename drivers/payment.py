"""The protocol-neutral card-terminal interface.

Every payment-terminal driver (ZVT today; UnionPay/UMS or nexo adapters later) offers
:class:`PaymentTerminal`. Amounts are integer fen. Operations either return a
:class:`PaymentResult` whose ``outcome`` is ``approved``, ``declined`` or ``aborted``, or raise:

* :class:`~drivers.errors.PaymentInDoubt` - the request went out and we cannot tell what the
  terminal did (timeout, broken connection, garbage). The caller must recover, never resend.
* :class:`NotSent` - nothing financial reached the terminal (unreachable, busy, refused before
  the request) so nothing can have been charged.

``on_status`` callbacks receive a :class:`StatusMessage` for live screen texts ("insert card",
"enter PIN"); its ``message_id`` is a msgid in the translation catalogues.
Results never hold a full PAN: ``masked_pan`` keeps at most the first 6 and the last 4 digits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Protocol, runtime_checkable

from .errors import PaymentError
from .status import DeviceStatus

__all__ = ["PaymentTerminal", "PaymentResult", "EndOfDayResult", "StatusMessage", "StatusCallback",
           "NotSent", "OUTCOMES", "KINDS"]

OUTCOMES = ("approved", "declined", "aborted")
KINDS = ("sale", "refund", "reversal", "preauth", "booking")


class NotSent(PaymentError):
    """The request did not reach the terminal; nothing was charged."""

    user_message = "The card terminal is not available. No money was taken."


@dataclass(frozen=True)
class StatusMessage:
    message_id: str          # msgid for the screen, e.g. "Insert or tap your card"
    code: int | None = None  # the protocol's own status code, for the technician


StatusCallback = Callable[[StatusMessage], None]


@dataclass
class PaymentResult:
    outcome: str                       # approved | declined | aborted
    kind: str                          # sale | refund | reversal | preauth | booking
    amount_fen: int | None = None
    trace_no: str | None = None
    receipt_no: str | None = None
    terminal_id: str | None = None
    auth_code: str | None = None
    masked_pan: str | None = None
    brand: str | None = None
    result_code: int | None = None
    reason: str = ""
    receipt_lines: list[str] = field(default_factory=list)   # redacted

    @property
    def approved(self) -> bool:
        return self.outcome == "approved"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class EndOfDayResult:
    ok: bool
    total_fen: int = 0
    count: int = 0
    trace_no: str | None = None
    terminal_id: str | None = None
    reason: str = ""
    receipt_lines: list[str] = field(default_factory=list)


@runtime_checkable
class PaymentTerminal(Protocol):
    def authorise(self, amount_fen: int, *, on_status: StatusCallback | None = None) -> PaymentResult: ...

    def refund(self, amount_fen: int, *, on_status: StatusCallback | None = None) -> PaymentResult: ...

    def reverse(self, receipt_no: str, *, on_status: StatusCallback | None = None) -> PaymentResult: ...

    def preauthorise(self, amount_fen: int, *, on_status: StatusCallback | None = None) -> PaymentResult: ...

    def book(self, receipt_no: str, amount_fen: int, *, on_status: StatusCallback | None = None) -> PaymentResult: ...

    def last_receipt(self) -> PaymentResult | None:
        """The terminal's last financial transaction (for recovery), or None if it has none."""

    def end_of_day(self) -> EndOfDayResult: ...

    def status(self) -> DeviceStatus: ...

    def abort(self) -> None: ...

    def close(self) -> None: ...
