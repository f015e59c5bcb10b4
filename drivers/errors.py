"""The onestop error tree (device and payment branches).

    OnestopError
    ├── DeviceError
    │   ├── BadDeviceURL          (a URL that cannot be parsed or names an unknown scheme/option)
    │   ├── DeviceNotFound
    │   ├── DeviceTimeout
    │   ├── DeviceBusy
    │   ├── ProtocolError         (bytes on the wire that do not follow the protocol)
    │   ├── CardError             (card absent, unknown, expired or unreadable)
    │   └── PrinterError ── PaperOut, CoverOpen, PrinterOffline
    └── PaymentError
        ├── Declined
        ├── PaymentInDoubt
        ├── TerminalBusy
        └── PaymentBlocked

``DomainError`` lives in ``pos.errors`` and ``SyncError`` in ``sync.errors``; both derive
from :class:`OnestopError` so one ``except OnestopError`` catches every failure we raise.
Library exceptions are translated at the boundary with ``raise ... from exc``.

Every error carries a ``user_message`` (short, plain words for the person at the screen, as a
message id for the translation catalogue) besides the technician-facing ``str(exc)``.
"""

from __future__ import annotations

__all__ = [
    "OnestopError", "DeviceError", "BadDeviceURL", "DeviceNotFound", "DeviceTimeout",
    "DeviceBusy", "ProtocolError", "CardError", "PrinterError", "PaperOut", "CoverOpen",
    "PrinterOffline", "PrintInDoubt", "PaymentError", "Declined", "PaymentInDoubt", "TerminalBusy",
    "PaymentBlocked",
]


class OnestopError(Exception):
    """Base of every error onestop raises on purpose."""

    #: message id shown to the person at the screen (translated by the UI)
    user_message = "Something went wrong. Please ask the staff for help."

    def __init__(self, message: str = "", *, user_message: str | None = None):
        super().__init__(message)
        if user_message is not None:
            self.user_message = user_message


class DeviceError(OnestopError):
    user_message = "A device is not working. Please ask the staff for help."


class BadDeviceURL(DeviceError, ValueError):
    pass


class DeviceNotFound(DeviceError):
    pass


class DeviceTimeout(DeviceError):
    pass


class DeviceBusy(DeviceError):
    pass


class ProtocolError(DeviceError):
    pass


class CardError(DeviceError):
    user_message = "The card could not be read. Please try again or ask the staff."


class PrinterError(DeviceError):
    user_message = "The printer is not working. Please collect your receipt at the counter."


class PaperOut(PrinterError):
    pass


class CoverOpen(PrinterError):
    pass


class PrinterOffline(PrinterError):
    pass


class PrintInDoubt(PrinterError):
    """Every byte of the job reached the printer (cut included), but its state after the job is
    unknown (no answer to the status query): the document may well be on paper. Never print the
    original again without saying so: a marked copy, or a person who checked."""
    user_message = "The printer did not confirm the print. Please ask the staff."


class PaymentError(OnestopError):
    user_message = "The payment did not go through. Please ask the staff for help."


class Declined(PaymentError):
    user_message = "The card was declined. No money was taken."


class PaymentInDoubt(PaymentError):
    user_message = "We could not confirm the payment. Please go to the counter; you will not be charged twice."


class TerminalBusy(PaymentError):
    user_message = "The card terminal is busy. Please wait a moment."


class PaymentBlocked(PaymentError):
    user_message = "Card payments for this account are on hold. Please go to the counter."
