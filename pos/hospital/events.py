"""Outbox command kinds of the hospital pack: each kind's offline policy, typed payload and server
handler, declared once (:data:`DECLARED`, part of :data:`pos.hospital.pack.PACK`).

The sync client sends ``NEEDS_SERVER`` commands only when the server answers, and the UI greys
those buttons while offline; the hospital services refuse them themselves when ``online()`` is
false. The payload schemas (``msgspec`` structs) are shared by the emitter (``Tx.emit`` converts
every payload it queues) and the server (which validates a pushed batch with them); a payload may
carry more keys than its schema names (described in docs/domain.md). Server handlers live in
:mod:`pos.hospital.server`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from ..packs import Kind

__all__ = ["DECLARED", "KINDS", "OFFLINE_SAFE", "NEEDS_SERVER", "is_offline_safe"]

#: a non-empty text of at most 200 characters; an integer well inside 64 bits
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Int = Annotated[int, msgspec.Meta(gt=-10**15, lt=10**15)]
#: money moved (a deposit, refund or collection): more than 0 fen
Fen = Annotated[int, msgspec.Meta(gt=0, lt=10**15)]


class Admission(msgspec.Struct):
    inpatient_no: Text


class Notice(msgspec.Struct):
    notice_no: Text


class PatientIdentified(msgspec.Struct):
    patient_uid: Text


class IdentityChecked(msgspec.Struct):
    admission_uid: Text


class Registered(msgspec.Struct):
    inpatient_no: Text
    patient_uid: Text | None = None
    ward_code: Text | None = None
    at: Text | None = None


class Money(msgspec.Struct):
    inpatient_no: Text
    entry_no: Text
    amount_fen: Fen
    receipt_no: Text | None = None
    method: Text | None = None
    at: Text | None = None


class Charge(msgspec.Struct):
    inpatient_no: Text
    charge_ref: Text
    amount_fen: Int
    fee_code: Text | None = None
    qty_milli: Int | None = None
    unit_price_fen: Int | None = None


class Scheduled(msgspec.Struct):
    inpatient_no: Text
    scheduled_for: Text


class DischargeRequested(msgspec.Struct):
    inpatient_no: Text
    ward_code: Text | None = None
    wanted_for: Text | None = None
    at: Text | None = None


class PhotoTaken(msgspec.Struct):
    inpatient_no: Text
    sha256: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
    jpeg_b64: Annotated[str, msgspec.Meta(min_length=8, max_length=64_000)]   # pos.hospital.photos.MAX_JPEG
    taken_at: Text | None = None


class BedAssigned(msgspec.Struct):
    inpatient_no: Text
    ward_code: Text
    bed_no: Text
    at: Text | None = None


class BedMarked(msgspec.Struct):
    ward_code: Text
    bed_no: Text
    mark: Text
    inpatient_no: Text | None = None
    at: Text | None = None


class Settlement(msgspec.Struct):
    inpatient_no: Text
    settlement_no: Text


class Reversal(msgspec.Struct):
    inpatient_no: Text
    receipt_no: Text


class Discharged(msgspec.Struct):
    inpatient_no: Text
    ward_code: Text | None = None
    bed_no: Text | None = None
    at: Text | None = None


class TempAdmitted(msgspec.Struct):
    patient_uid: Text
    temp_no: Text
    sex: Text
    est_age: Annotated[int, msgspec.Meta(ge=0, le=130)]
    staff: Text


class Merged(msgspec.Struct):
    from_uid: Text
    to_uid: Text
    staff: Text


class GreenItem(msgspec.Struct):
    inpatient_no: Text
    kind: Text
    staff: Text


class GreenChase(msgspec.Struct):
    inpatient_no: Text
    kind: Text
    staff: Text
    method: Text
    answer: Text


class GreenOverride(msgspec.Struct):
    inpatient_no: Text
    supervisor: Text
    reason: Text


class BedsideFlag(msgspec.Struct):
    inpatient_no: Text
    unable: bool
    nurse: Text


class BedsideSession(msgspec.Struct):
    session_id: Text
    inpatient_no: Text


_S = "pos.hospital.server:"
_MONEY_IDS = ("entry_no", "receipt_no")
_AT = ("at",)


def _money(name: str, apply: str, offline: bool) -> Kind:
    return Kind(name, offline, Money, _S + apply, own_ids=_MONEY_IDS, times=_AT, prefetch=_S + "entry_key")


def _charge(name: str) -> Kind:
    return Kind(name, True, Charge, _S + "charge_line", own_ids=("?charge_ref",), prefetch=_S + "charge_key")


def _plain(name: str, offline: bool, payload=Admission, **kw) -> Kind:
    return Kind(name, offline, payload, **kw)


DECLARED: tuple[Kind, ...] = (
    # safe offline
    _plain("hospital.notice.recorded", True, Notice, event="admission.notice"),
    _plain("hospital.patient.identified", True, PatientIdentified),
    _plain("hospital.admission.identity_checked", True, IdentityChecked),
    Kind("hospital.admission.registered", True, Registered, _S + "admission_registered", own_ids=("inpatient_no",),
         times=_AT, prefetch=_S + "admission_key"),
    _money("hospital.deposit.recorded", "deposit", True),          # cash, or card already captured
    _plain("hospital.green_channel.opened", True),
    _plain("hospital.green_item.closed", True),
    _plain("hospital.wristband.printed", True),
    _plain("hospital.identity.confirmed", True),
    _plain("hospital.identity.refused", True),
    _plain("hospital.bed.marked", True, BedMarked),                # reserved / cleaning / ready, at the ward
    _charge("hospital.charge.added"),
    _charge("hospital.charge.reversed"),
    _plain("hospital.daily_list.printed", True),                   # reprint from the local cache
    _plain("hospital.discharge.ordered", True),
    Kind("hospital.discharge.scheduled", True, Scheduled, _S + "discharge_scheduled"),
    _plain("hospital.settlement_list.printed", True),
    # the patient asks at the kiosk for a scheduled discharge; every ward station pulls it
    _plain("hospital.discharge.requested", True, DischargeRequested, times=_AT),
    # the kiosk's check-in photo, the JPEG in the payload (pos.hospital.photos)
    _plain("hospital.photo.taken", True, PhotoTaken, times=("taken_at",)),
    # need the server
    Kind("hospital.bed.assigned", False, BedAssigned, _S + "bed_assigned", times=_AT, prefetch=_S + "bed_claim"),
    _plain("hospital.charges.locked", False),
    _plain("hospital.charges.unlocked", False),
    _plain("hospital.settlement.intent", False, Settlement, own_ids=("settlement_no",)),
    _plain("hospital.settlement.recorded", False, Settlement),
    _plain("hospital.settlement.failed", False),
    _plain("hospital.settlement.cancelling", False),
    _plain("hospital.settlement.cancelled", False),
    _money("hospital.refund.paid", "refund", False),
    # 沖銷: the supervisor's approval and the void are records; the money back is its own refund.paid
    _plain("hospital.deposit.reversal_approved", False, Reversal),
    _plain("hospital.deposit.reversed", False, Reversal),
    _money("hospital.collection.received", "collection", False),
    Kind("hospital.discharged", False, Discharged, _S + "discharged", times=_AT),
    # the green channel (pos.hospital.green): the unidentified patient, merges, items, chases, overrides
    _plain("hospital.patient.temp_admitted", True, TempAdmitted, times=_AT),
    _plain("hospital.patient.merged", True, Merged, times=_AT),
    _plain("hospital.green_item.opened", True, GreenItem, times=_AT),
    _plain("hospital.green_item.chased", True, GreenChase, times=_AT),
    _plain("hospital.green.overridden", True, GreenOverride, times=_AT),
    # the bedside discharge (pos.hospital.bedside): the ward opens, the counter joins, the bed settles
    _plain("hospital.bedside.flagged", True, BedsideFlag, times=_AT),
    _plain("hospital.bedside.opened", True, BedsideSession, times=_AT),
    _plain("hospital.bedside.joined", True, BedsideSession, times=_AT),
    _plain("hospital.bedside.settled", True, BedsideSession, times=_AT),
)

OFFLINE_SAFE = frozenset(k.name for k in DECLARED if k.offline)
NEEDS_SERVER = frozenset(k.name for k in DECLARED if not k.offline)
KINDS = OFFLINE_SAFE | NEEDS_SERVER


def is_offline_safe(kind: str) -> bool:
    if kind not in KINDS:
        raise KeyError(f"unknown hospital command kind {kind!r}")
    return kind in OFFLINE_SAFE
