"""The hospital workflows as transition tables (see docs/domain.md)."""

from __future__ import annotations

from functools import partial

from ..fsm import Machine as _Machine
from .errors import HospitalTransitionError

#: the hospital's machines raise its own transition error
Machine = partial(_Machine, error=HospitalTransitionError)

__all__ = ["ADMISSION", "NOTICE", "GREEN_ITEM", "DISCHARGE", "RECEIPT", "SETTLEMENT"]

NOTICE = Machine("notice", {
    ("open", "use"): "used",
    ("open", "cancel"): "cancelled",
}, initial="open", final=frozenset({"used", "cancelled"}))

ADMISSION = Machine("admission", {
    ("identity_checked", "register"): "registered",
    ("registered", "pay_deposit"): "deposit_paid",
    ("registered", "open_green_channel"): "green_channel",
    ("deposit_paid", "print_wristband"): "wristband_printed",
    ("green_channel", "print_wristband"): "wristband_printed",
    ("wristband_printed", "assign_bed"): "bed_assigned",
    ("bed_assigned", "assign_bed"): "bed_assigned",          # a transfer to another bed
    ("bed_assigned", "confirm_identity"): "identity_confirmed",
    ("identity_confirmed", "assign_bed"): "identity_confirmed",  # transfer during the stay
    ("identity_confirmed", "discharge"): "discharged",
}, initial="identity_checked", final=frozenset({"discharged"}))

GREEN_ITEM = Machine("green_item", {("open", "close"): "done"}, initial="open", final=frozenset({"done"}))

DISCHARGE = Machine("discharge", {
    ("ordered", "lock_charges"): "charges_locked",
    ("charges_locked", "unlock_charges"): "ordered",
    ("charges_locked", "schedule"): "scheduled",
    ("scheduled", "unlock_charges"): "ordered",
    ("scheduled", "settle"): "settled",
    ("settled", "cancel_settlement"): "scheduled",
    ("settled", "balance"): "balanced",
    ("balanced", "print_list"): "list_printed",
    ("list_printed", "print_list"): "list_printed",          # reprint
    ("list_printed", "discharge"): "discharged",
}, initial="ordered", final=frozenset({"discharged"}))

RECEIPT = Machine("receipt", {
    ("issued", "take_back"): "taken_back",
    ("issued", "void"): "voided",
}, initial="issued", final=frozenset({"taken_back", "voided"}))

SETTLEMENT = Machine("settlement", {
    ("intent", "record"): "recorded",
    ("intent", "fail"): "failed",
    ("recorded", "request_cancel"): "cancelling",       # committed before the platform's 2601
    ("cancelling", "cancel"): "cancelled",
}, initial="intent", final=frozenset({"failed", "cancelled"}))
