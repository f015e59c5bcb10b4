"""The work order's state machine (one table for the device and the server).

received -> classified -> dispatched -> in_progress <-> deferred -> completed -> qc_passed
(qc_failed: back to in_progress) -> awaiting_payment (payable only) -> follow_up -> closed.
A dissatisfied follow-up reopens the order (back to dispatched, reopen count + 1); an enquiry
is answered from classified; an order is cancelled only before dispatch.
"""

from __future__ import annotations

__all__ = ["STATES", "EVENTS", "OPEN", "next_state", "allowed", "TransitionRefused"]

STATES = ("received", "classified", "dispatched", "in_progress", "deferred", "completed", "qc_passed",
          "awaiting_payment", "follow_up", "closed", "cancelled")
OPEN = frozenset(STATES) - {"closed", "cancelled"}

_TABLE = {
    ("received", "classified"): "classified",
    ("classified", "classified"): "classified",           # re-classified before dispatch
    ("classified", "dispatched"): "dispatched",
    ("dispatched", "dispatched"): "dispatched",           # re-dispatched to another person
    ("dispatched", "started"): "in_progress",
    ("in_progress", "deferred"): "deferred",
    ("deferred", "resumed"): "in_progress",
    ("in_progress", "completed"): "completed",
    ("completed", "qc_passed"): "qc_passed",
    ("completed", "qc_failed"): "in_progress",
    ("qc_passed", "payment_requested"): "awaiting_payment",
    ("awaiting_payment", "paid"): "follow_up",
    ("qc_passed", "follow_up_opened"): "follow_up",
    ("follow_up", "followed_up"): "closed",
    ("classified", "answered"): "closed",
    ("received", "cancelled"): "cancelled",
    ("classified", "cancelled"): "cancelled",
}

#: every transition event
EVENTS = tuple(sorted({e for _, e in _TABLE}))


class TransitionRefused(ValueError):
    """``event`` is not allowed from ``state``; ``code`` names why for the person at the screen."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


def allowed(state: str) -> list[str]:
    return sorted(e for (s, e) in _TABLE if s == state)


def next_state(state: str, event: str, payload: dict | None = None, payable: bool = False) -> str:
    """The state after ``event`` from ``state``; raises :class:`TransitionRefused`."""
    p = payload or {}
    if event == "followed_up" and state in ("received", "classified", "dispatched", "in_progress", "deferred",
                                            "completed"):
        raise TransitionRefused(f"a follow-up needs a passed QC first (order is {state})", "follow_up_before_qc")
    if event == "payment_requested" and not payable:
        raise TransitionRefused("only a payable order waits for payment", "not_payable")
    if event == "follow_up_opened" and payable:
        raise TransitionRefused("a payable order is followed up once paid", "payment_first")
    try:
        to = _TABLE[(state, event)]
    except KeyError:
        raise TransitionRefused(f"'{event}' is not allowed in state '{state}' (allowed: "
                                f"{', '.join(allowed(state)) or 'none'})", "not_allowed") from None
    if event == "followed_up" and p.get("rating") == "dissatisfied":
        return "dispatched"                                   # reopened
    return to
