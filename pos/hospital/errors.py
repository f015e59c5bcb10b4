"""Hospital-domain errors: each has a stable ``code`` and an English msgid (``user_message``)
that the cashier reads, translated through the catalogues; ``str(exc)`` is the precise detail for
the log.

    DomainError (pos.errors)
    ├── InvalidTransition ── HospitalTransitionError
    ├── InsufficientDeposit ── RefundTooLarge
    ├── ResourceTaken ── BedOccupied
    ├── NotFound ── HospitalNotFound
    └── HospitalError ── ChargesLocked, NeedsServer, AmountMismatch, InsuranceError
                         └── InsuranceError ── GatewayUnavailable, GatewayRejected
"""

from __future__ import annotations

from pos.errors import DomainError, InsufficientDeposit, InvalidTransition, NotFound, ResourceTaken

__all__ = ["REASONS", "reason", "HospitalError", "HospitalTransitionError", "HospitalNotFound",
           "ChargesLocked", "NeedsServer", "AmountMismatch", "RefundTooLarge", "BedOccupied",
           "InsuranceError", "GatewayUnavailable", "GatewayRejected", "BadInput", "IdentityRefused"]

#: code -> English msgid (every msgid is in the three catalogues; a test checks)
REASONS: dict[str, str] = {
    "invalid_transition": "This step is not allowed at this stage of the admission or discharge.",
    "notice_not_open": "This admission notice has already been used or cancelled.",
    "notice_identity_mismatch": "The ID on the card does not match the admission notice.",
    "not_found": "No matching record was found. Please check the number and try again.",
    "charges_locked": "The charges are locked for discharge. Ask the nurse station to unlock them first.",
    "needs_server": "This needs the connection to the hospital server. Please try again when the network is back.",
    "amount_mismatch": "The amount does not match what is due. Please check it.",
    "bad_amount": "The amount must be greater than zero.",
    "bad_input": "Some information is missing or not valid. Please check it.",
    "refund_too_large": "The refund is larger than the deposit left.",
    "bed_taken": "This bed is already taken. Please choose another bed.",
    "bed_reserved": "This bed is reserved for another patient. Please choose another bed.",
    "balance_open": "The account is not balanced yet: refund the surplus or collect the shortfall first.",
    "insurance_unavailable": "The medical insurance service is not answering. Please try again shortly.",
    "insurance_rejected": "The medical insurance service refused the request.",
    "full_pan": "A full card number must not be stored. Keep only the last four digits.",
    "approval_needed": "A supervisor other than the cashier must approve this.",
    "identity_refused": "The nurse refused the person-matches-ID check for this stay. Resolve it at the ward first.",
    "bad_date": "This is not a date. Use the form 2026-03-05.",
    "date_past": "The discharge date is in the past. Pick today or a later day.",
    "date_before_lock": "The discharge date is before the charges were locked. Pick a later day.",
    "already_confirmed": "The person-matches-ID check is already confirmed for this stay.",
    "merge_both_identified": "Both patients have an ID card on record. Two identified patients cannot be merged.",
    "green_items_open": "Green-channel items are still open. Close them, or a supervisor must override with a reason.",
    "green_item_exists": "This green-channel item is already recorded for this stay.",
    "chase_incomplete": "Record who chased and what was answered.",
    "bedside_not_flagged": "Flag the patient as unable to move before opening a bedside discharge.",
    "bedside_not_ready": "Lock the charges before opening a bedside discharge.",
    "bedside_open": "A bedside discharge is already open for this patient.",
    "bedside_joined": "A cashier has already joined this bedside discharge.",
    "bedside_not_joined": "No cashier has joined this bedside discharge yet. Ask the counter to join it.",
}


def reason(code: str) -> str:
    return REASONS[code]


class HospitalError(DomainError):
    code = "bad_input"

    def __init__(self, detail: str = "", *, code: str | None = None):
        if code is not None:
            self.code = code
        super().__init__(detail or REASONS[self.code], user_message=REASONS[self.code])


class HospitalTransitionError(HospitalError, InvalidTransition):
    code = "invalid_transition"


class HospitalNotFound(HospitalError, NotFound):
    code = "not_found"


class ChargesLocked(HospitalError):
    code = "charges_locked"


class NeedsServer(HospitalError):
    code = "needs_server"


class AmountMismatch(HospitalError):
    code = "amount_mismatch"


class BadInput(HospitalError):
    code = "bad_input"


class RefundTooLarge(HospitalError, InsufficientDeposit):
    code = "refund_too_large"


class BedOccupied(HospitalError, ResourceTaken):
    code = "bed_taken"


class InsuranceError(HospitalError):
    code = "insurance_rejected"


class GatewayUnavailable(InsuranceError):
    code = "insurance_unavailable"


class GatewayRejected(InsuranceError):
    code = "insurance_rejected"


class IdentityRefused(HospitalError):
    """The ward refused 人證合一 for the stay: charges and discharge wait until a confirmation."""
    code = "identity_refused"
