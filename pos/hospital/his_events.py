"""Command kinds the server's HIS interface writes (device ``@his``) for inbound HL7 messages, with
their payload schemas and handlers (:mod:`pos.hospital.his_server`); part of the pack's manifest."""

from __future__ import annotations

import msgspec

from ..packs import Kind
from .events import Int, Text

__all__ = ["HIS_KINDS"]


class Visit(msgspec.Struct):
    inpatient_no: Text
    notice_no: Text
    at: Text | None = None


class Located(msgspec.Struct):
    inpatient_no: Text
    notice_no: Text
    ward_code: Text
    bed_no: str = ""
    at: Text | None = None


class Notice(msgspec.Struct):
    notice_no: Text
    patient_name: Text
    id_number: Text
    ward_code: Text
    suggested_deposit_fen: Int


class Charge(msgspec.Struct):
    inpatient_no: Text
    notice_no: Text
    charge_ref: Text
    fee_code: Text
    category: Text
    qty_milli: Int
    unit_price_fen: Int
    amount_fen: Int


class Merge(msgspec.Struct):
    from_patient: Text
    to_patient: Text


class Patient(msgspec.Struct):
    patient_id: Text


_S = "pos.hospital.his_server:"
_AT = ("at",)

HIS_KINDS: tuple[Kind, ...] = (
    Kind("hospital.his.notice", True, Notice, _S + "notice"),
    Kind("hospital.his.admitted", False, Located, _S + "admitted", times=_AT),
    Kind("hospital.his.transferred", False, Located, _S + "transferred", times=_AT),
    Kind("hospital.his.discharge_ordered", False, Visit, event="his.discharge_ordered", times=_AT),
    Kind("hospital.his.admit_cancelled", False, Visit, _S + "admit_cancelled", times=_AT),
    Kind("hospital.his.discharge_cancelled", False, Visit, event="his.discharge_cancelled", times=_AT),
    Kind("hospital.his.charge", False, Charge, _S + "charge", prefetch="pos.hospital.server:charge_key"),
    Kind("hospital.his.patients_merged", False, Merge, event="his.patients_merged"),
    Kind("hospital.his.patient_registered", False, Patient, event="his.patient_registered"),
)
