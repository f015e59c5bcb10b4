"""Outbox command kinds of the hospital domain and whether each is safe offline.

The sync client sends ``NEEDS_SERVER`` commands only when the server answers, and the UI greys
those buttons while offline; :class:`pos.hospital.service.HospitalService` refuses them itself
when ``online()`` is false. Payloads are described in docs/domain.md.
"""

from __future__ import annotations

__all__ = ["KINDS", "OFFLINE_SAFE", "NEEDS_SERVER", "is_offline_safe"]

OFFLINE_SAFE = frozenset({
    "hospital.notice.recorded",
    "hospital.patient.identified",
    "hospital.admission.identity_checked",
    "hospital.admission.registered",
    "hospital.deposit.recorded",          # cash, or card already captured by the terminal
    "hospital.green_channel.opened",
    "hospital.green_item.closed",
    "hospital.wristband.printed",
    "hospital.identity.confirmed",
    "hospital.charge.added",
    "hospital.charge.reversed",
    "hospital.daily_list.printed",        # reprint from the local cache
    "hospital.discharge.ordered",
    "hospital.discharge.scheduled",
    "hospital.settlement_list.printed",
})

NEEDS_SERVER = frozenset({
    "hospital.bed.assigned",
    "hospital.charges.locked",
    "hospital.charges.unlocked",
    "hospital.settlement.intent",
    "hospital.settlement.recorded",
    "hospital.settlement.failed",
    "hospital.settlement.cancelling",
    "hospital.settlement.cancelled",
    "hospital.refund.paid",
    "hospital.deposit.reversal_approved",  # 沖銷, approved by a supervisor
    "hospital.deposit.reversed",
    "hospital.collection.received",
    "hospital.discharged",
})

KINDS = OFFLINE_SAFE | NEEDS_SERVER


def is_offline_safe(kind: str) -> bool:
    if kind not in KINDS:
        raise KeyError(f"unknown hospital command kind {kind!r}")
    return kind in OFFLINE_SAFE
