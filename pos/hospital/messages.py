"""User-facing msgids of the hospital domain besides the error reasons (``errors.REASONS``).

Every msgid here is in the three catalogues (a test checks). The UI translates them; documents
print the Chinese form first.
"""

from __future__ import annotations

from .daily import LOW_BALANCE_PROMPT
from .errors import REASONS

__all__ = ["GREEN_ITEM_LABELS", "SCHEME_LABELS", "SCHEDULED_NOTICE", "LOW_BALANCE_PROMPT", "all_msgids"]

#: green-channel open item -> the 催繳 reminder line
GREEN_ITEM_LABELS = {
    "deposit": "The admission deposit is still owed.",
    "id_document": "The ID document is still missing.",
    "insurance_card": "The insurance card is still missing.",
    "outpatient_record": "The outpatient record is still missing.",
}

SCHEME_LABELS = {
    "employee": "Employee medical insurance",
    "resident": "Resident medical insurance",
    "rural": "Rural cooperative medical scheme",
    "self_pay": "Self-pay",
}

SCHEDULED_NOTICE = "Discharge is scheduled. Please bring your deposit receipts and your card to the cashier."


def all_msgids() -> set[str]:
    return (set(REASONS.values()) | set(GREEN_ITEM_LABELS.values()) | set(SCHEME_LABELS.values())
            | {LOW_BALANCE_PROMPT, SCHEDULED_NOTICE})
