"""The club's outbox command kinds and their payload schemas (msgspec), shared by the club box
that emits them and the central server that records them.

All are offline-safe and recorded only (the club box is the truth for its rooms, calls and
cards; the central server keeps the log for audit and reports): no server handler derives state
from them yet.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = ["KINDS", "CallClosed", "ReservationBooked", "ReservationCancelled", "ReservationArrived", "CardEntry", "FapiaoIssued",
           "OrderLine", "CourseFired", "CourseReady", "ValetTag"]

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Short = Annotated[str, msgspec.Meta(max_length=80)]
Time = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")]
Fen = Annotated[int, msgspec.Meta(ge=-10 ** 12, le=10 ** 12)]


class CallClosed(msgspec.Struct):
    call_id: Id
    group_id: Id
    room: Id
    kind: Id
    from_role: Id
    to_role: Id
    target_role: Id
    seq: Annotated[int, msgspec.Meta(ge=1)]
    created_at: Time
    resounds: Annotated[int, msgspec.Meta(ge=0)]
    acked_by: Short
    acked_role: Id
    acked_at: Time
    escalation_reason: Short = ""


class ReservationBooked(msgspec.Struct):
    res_id: Id
    room: Id
    starts_at: Time
    ends_at: Time
    guests: Annotated[int, msgspec.Meta(ge=1, le=500)]
    member: bool
    regular: bool
    prep_lead_min: Annotated[int, msgspec.Meta(ge=0, le=1440)]


class ReservationCancelled(msgspec.Struct):
    res_id: Id


class ReservationArrived(msgspec.Struct):
    res_id: Id
    arrived_at: Time


class CardEntry(msgspec.Struct):
    entry_id: Id
    card_no: Id
    kind: Literal["topup", "spend", "refund"]
    principal_fen: Fen
    bonus_fen: Fen
    ref: Short
    staff: Short
    created_at: Time


class FapiaoIssued(msgspec.Struct):
    order_no: Id
    purpose: Literal["bill", "topup"]
    ref: Id
    kind: Literal["pc", "bs"]
    amount_fen: Annotated[int, msgspec.Meta(gt=0, le=10 ** 12)]
    invoice_no: Id


class OrderLine(msgspec.Struct):
    """A line of a room's order, or its reversal (negative qty, ``void_of``): no names."""
    line_id: Id
    order_id: Id
    course: Annotated[int, msgspec.Meta(ge=1, le=9)]
    dish: Id
    station: Literal["kitchen", "bar"]
    qty: Annotated[int, msgspec.Meta(ge=-99, le=99)]
    unit_fen: Annotated[int, msgspec.Meta(ge=0, le=10 ** 9)]
    created_at: Time
    void_of: Short = ""
    staff: Short = ""


class CourseFired(msgspec.Struct):
    order_id: Id
    room: Id
    course: Annotated[int, msgspec.Meta(ge=1, le=9)]
    fired_by: Short
    fired_at: Time


class CourseReady(msgspec.Struct):
    order_id: Id
    room: Id
    course: Annotated[int, msgspec.Meta(ge=1, le=9)]
    ready_by: Short
    ready_at: Time


class ValetTag(msgspec.Struct):
    """A valet key tag changed state (parked, requested, returned): no plate, no names."""
    tag_no: Id
    room: Id
    state: Literal["parked", "requested", "returned"]
    changed_at: Time


#: kind -> payload schema
KINDS: dict[str, type[msgspec.Struct]] = {
    "club.call.closed": CallClosed,
    "club.reservation.booked": ReservationBooked,
    "club.reservation.cancelled": ReservationCancelled,
    "club.reservation.arrived": ReservationArrived,
    "club.card.entry": CardEntry,
    "club.fapiao.issued": FapiaoIssued,
    "club.order.line": OrderLine,
    "club.course.fired": CourseFired,
    "club.course.ready": CourseReady,
    "club.valet.tag": ValetTag,
}


class BillPaid(msgspec.Struct):
    bill_no: Id
    res_id: Id
    room: Id
    total_fen: Fen
    cash_fen: Fen
    card_fen: Fen
    member_fen: Fen
    paid_at: Time


class DayClosed(msgspec.Struct):
    close_id: Id
    day: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d\d-\d\d$")]
    cashier: Short
    cash_fen: Fen
    card_fen: Fen
    member_fen: Fen
    fapiao_fen: Fen
    closed_at: Time


KINDS["club.bill.paid"] = BillPaid
KINDS["club.day.closed"] = DayClosed
