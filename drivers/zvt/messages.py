"""ZVT commands (ECR -> terminal), and what the terminal's codes mean.

Command codes (CLASS INSTR): registration 06 00, authorisation 06 01, log-off 06 02, repeat
receipt 06 20, pre-authorisation/reservation 06 22, partial reversal 06 23, book total 06 24,
reversal 06 30, refund 06 31, end-of-day 06 50, abort 06 B0, status enquiry 05 01.
Terminal messages: 80 00 positive acknowledgement, 84 xx negative acknowledgement (xx = result
code), 04 FF intermediate status, 04 0F status information, 06 0F completion, 06 1E abort,
06 D1 print line, 06 D3 print text block.
"""

from __future__ import annotations

from .apdu import Apdu
from .bmp import bcd_encode, encode_bmps

__all__ = [
    "CNY", "REGISTRATION", "AUTHORISATION", "REPEAT_RECEIPT", "PREAUTH", "PARTIAL_REVERSAL",
    "BOOK_TOTAL", "REVERSAL", "REFUND", "END_OF_DAY", "ABORT", "STATUS_ENQUIRY", "LOG_OFF",
    "ACK", "NACK_CLASS", "INTERMEDIATE", "STATUS_INFO", "COMPLETION", "ABORTED", "PRINT_LINE",
    "PRINT_BLOCK", "registration", "authorisation", "refund", "reversal", "preauthorisation",
    "book_total", "end_of_day", "status_enquiry", "repeat_receipt", "abort",
    "INTERMEDIATE_MESSAGES", "status_message_id", "RESULT_TEXT", "BUSY_CODES", "ABORT_CODES",
    "CARD_TYPES", "KIND_BY_COMMAND", "CONFIG_BYTE", "CFG_INTERMEDIATE",
]

CNY = 156   # ISO 4217 numeric, BMP 49

REGISTRATION = (0x06, 0x00)
AUTHORISATION = (0x06, 0x01)
LOG_OFF = (0x06, 0x02)
REPEAT_RECEIPT = (0x06, 0x20)
PREAUTH = (0x06, 0x22)
PARTIAL_REVERSAL = (0x06, 0x23)
BOOK_TOTAL = (0x06, 0x24)
REVERSAL = (0x06, 0x30)
REFUND = (0x06, 0x31)
END_OF_DAY = (0x06, 0x50)
ABORT = (0x06, 0xB0)
STATUS_ENQUIRY = (0x05, 0x01)

ACK = (0x80, 0x00)
NACK_CLASS = 0x84
INTERMEDIATE = (0x04, 0xFF)
STATUS_INFO = (0x04, 0x0F)
COMPLETION = (0x06, 0x0F)
ABORTED = (0x06, 0x1E)
PRINT_LINE = (0x06, 0xD1)
PRINT_BLOCK = (0x06, 0xD3)

KIND_BY_COMMAND = {AUTHORISATION: "sale", REFUND: "refund", REVERSAL: "reversal",
                   PREAUTH: "preauth", BOOK_TOTAL: "booking"}


#: registration config byte bits (ZVT 06 00): 02 payment receipts by the ECR, 04 administration
#: receipts by the ECR, 08 the ECR requires intermediate status information (04 FF), 80 ECR print
#: type. Without 08 the terminal sends no 04 FF, and the cardholder sees no "enter PIN".
CFG_RECEIPT_PAYMENT, CFG_RECEIPT_ADMIN, CFG_INTERMEDIATE, CFG_PRINT_TYPE = 0x02, 0x04, 0x08, 0x80
CONFIG_BYTE = CFG_PRINT_TYPE | CFG_INTERMEDIATE | CFG_RECEIPT_ADMIN | CFG_RECEIPT_PAYMENT   # 0x8E


def _pw(password: str) -> bytes:
    return bcd_encode(password, 3)


def registration(password: str = "000000", config_byte: int = CONFIG_BYTE, currency: int = CNY) -> Apdu:
    return Apdu(*REGISTRATION, _pw(password) + bytes([config_byte]) + bcd_encode(currency, 2)
                + encode_bmps([("service_byte", 0x03)]))


def authorisation(amount_fen: int, currency: int = CNY) -> Apdu:
    return Apdu(*AUTHORISATION, encode_bmps([("amount", amount_fen), ("currency", currency),
                                              ("payment_type", 0x40)]))


def refund(amount_fen: int, password: str = "000000", currency: int = CNY) -> Apdu:
    return Apdu(*REFUND, _pw(password) + encode_bmps([("amount", amount_fen), ("currency", currency)]))


def reversal(receipt_no: str, password: str = "000000") -> Apdu:
    return Apdu(*REVERSAL, _pw(password) + encode_bmps([("receipt_no", receipt_no)]))


def preauthorisation(amount_fen: int, currency: int = CNY) -> Apdu:
    return Apdu(*PREAUTH, encode_bmps([("amount", amount_fen), ("currency", currency)]))


def book_total(receipt_no: str, amount_fen: int) -> Apdu:
    return Apdu(*BOOK_TOTAL, encode_bmps([("receipt_no", receipt_no), ("amount", amount_fen)]))


def end_of_day(password: str = "000000") -> Apdu:
    return Apdu(*END_OF_DAY, _pw(password))


def status_enquiry(password: str = "000000") -> Apdu:
    return Apdu(*STATUS_ENQUIRY, _pw(password) + encode_bmps([("service_byte", 0x00)]))


def repeat_receipt(password: str = "000000") -> Apdu:
    return Apdu(*REPEAT_RECEIPT, _pw(password))


def abort() -> Apdu:
    return Apdu(*ABORT)


# 04 FF intermediate status -> message id for the screen (msgids live in the .po catalogues)
MSG_CONFIRM = "Please confirm the amount on the card terminal"
MSG_PIN = "Enter your PIN on the card terminal"
MSG_INSERT = "Insert, swipe or tap your card"
MSG_WAIT = "Processing, please wait"
MSG_REMOVE = "Please remove your card"
MSG_UNREADABLE = "The card could not be read. Please try again"
MSG_EXPIRED = "The card has expired"
MSG_WRONG_PIN = "Wrong PIN. Please try again"
MSG_PIN_LIMIT = "Too many wrong PIN entries"
MSG_FUNDS = "Not enough funds on the card"
MSG_NOT_ACCEPTED = "The card was not accepted"
MSG_APPROVED = "Payment approved"

INTERMEDIATE_MESSAGES: dict[int, str] = {
    0x00: MSG_CONFIRM, 0x01: MSG_PIN, 0x02: MSG_PIN, 0x03: MSG_NOT_ACCEPTED, 0x04: MSG_WAIT,
    0x05: MSG_WAIT, 0x06: MSG_WAIT, 0x07: MSG_NOT_ACCEPTED, 0x08: MSG_UNREADABLE, 0x09: MSG_EXPIRED,
    0x0A: MSG_INSERT, 0x0B: MSG_REMOVE, 0x0C: MSG_UNREADABLE, 0x0D: MSG_WAIT, 0x0E: MSG_WAIT,
    0x0F: MSG_WAIT, 0x10: MSG_UNREADABLE, 0x12: MSG_WAIT, 0x13: MSG_NOT_ACCEPTED, 0x14: MSG_FUNDS,
    0x15: MSG_WRONG_PIN, 0x16: MSG_FUNDS, 0x17: MSG_WAIT, 0x18: MSG_PIN_LIMIT, 0x19: MSG_UNREADABLE,
    0x1B: MSG_APPROVED, 0x1C: MSG_APPROVED, 0x1D: MSG_NOT_ACCEPTED,
}


def status_message_id(code: int) -> str:
    return INTERMEDIATE_MESSAGES.get(code, MSG_WAIT)


RESULT_TEXT = {
    0x00: "success", 0x05: "declined by the card issuer", 0x51: "insufficient funds",
    0x55: "wrong PIN", 0x64: "card not readable", 0x6C: "aborted (timeout or abort key)",
    0x83: "function not possible (terminal busy)", 0x9C: "repeat the request",
    0xA0: "receiver not ready", 0xB4: "already reversed", 0xB5: "reversal not possible",
    0xFF: "system error",
}
BUSY_CODES = frozenset({0x83, 0x9C, 0xA0})
ABORT_CODES = frozenset({0x6C, 0x64})

CARD_TYPES = {0x05: "girocard", 0x06: "Mastercard", 0x08: "American Express", 0x0A: "VISA",
              0x0C: "Diners", 0x2E: "Maestro", 0xE0: "UnionPay"}
