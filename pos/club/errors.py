"""Club errors: each has a stable ``code`` and an English msgid (``user_message``) that the person
at the screen reads, translated through the catalogues; ``str(exc)`` is the precise detail for the
log.

    DomainError (pos.errors)
    └── ClubError ── RoomTaken, CardError (WrongPin, CardLocked, InsufficientBalance), FapiaoRefused,
                     CallRefused
"""

from __future__ import annotations

from pos.errors import DomainError

__all__ = ["REASONS", "ClubError", "RoomTaken", "CardError", "WrongPin", "CardLocked",
           "InsufficientBalance", "FapiaoRefused", "CallRefused", "ClubNotFound"]

#: code -> English msgid (every msgid is in the three catalogues; tests/test_club_screens.py checks)
REASONS: dict[str, str] = {
    "bad_input": "Some information is missing or not valid. Please check it.",
    "not_found": "No matching record was found. Please check the number and try again.",
    "room_taken": "This room is already booked for that time. Please choose another room or time.",
    "wrong_pin": "Wrong PIN. {left} attempts left before the card is locked.",
    "card_locked": "This member card is locked after 3 wrong PINs. Please ask the manager to unlock it.",
    "insufficient_balance": "The member card balance is not enough for this amount.",
    "fapiao_stored_value": "No fapiao for spending a member card: stored value is invoiced when it is topped up (a 普票 for the top-up).",
    "fapiao_special_topup": "A top-up can only carry an ordinary fapiao (普票), never a special VAT fapiao (专票).",
    "call_not_allowed": "This call is not addressed to your role.",
    "bad_transition": "This step is not allowed at this stage.",
}


class ClubError(DomainError):
    code = "bad_input"

    def __init__(self, detail: str = "", *, code: str | None = None, **params):
        if code is not None:
            self.code = code
        self.params = params
        msg = REASONS[self.code]
        super().__init__(detail or msg.format(**params), user_message=msg)


class ClubNotFound(ClubError):
    code = "not_found"


class RoomTaken(ClubError):
    code = "room_taken"


class CardError(ClubError):
    pass


class WrongPin(CardError):
    code = "wrong_pin"


class CardLocked(CardError):
    code = "card_locked"


class InsufficientBalance(CardError):
    code = "insufficient_balance"


class FapiaoRefused(ClubError):
    code = "fapiao_stored_value"


class CallRefused(ClubError):
    code = "call_not_allowed"

# the cashier's refusals (pos/club/cashier.py)
REASONS.update({
    "bill_not_confirmed": "Confirm the bill with the guest first: a signature on the screen or on the printed bill.",
    "card_in_doubt": "A card payment for this bill is not confirmed yet. Check the card terminal before taking another payment.",
    "more_than_due": "That is more than the {due} yuan still due on this bill.",
    "no_terminal": "No card terminal is set up for this cash desk.",
    "not_a_title_qr": "This is not a WeChat invoice-title QR code. Scan the title from the guest's WeChat (我的发票抬头) or type it.",
    "title_lookup_failed": "The invoice title could not be read from WeChat. Please type the title.",
})
