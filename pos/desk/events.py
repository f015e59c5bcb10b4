"""Outbox command kinds of the desk pack, with their msgspec payloads (part of
:data:`pos.desk.pack.PACK`). Every transition of a work order is one command ``desk.order.<event>``;
the server applies it to its copy of the order (:mod:`pos.desk.server`) and logs the event every
device pulls. Times are ``at`` (the moment at the desk, UTC)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from ..packs import Kind
from .fsm import EVENTS

__all__ = ["DECLARED", "CHANNELS", "KINDS", "RATINGS", "Order", "Transition", "Alarm", "Handoff"]

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Long = Annotated[str, msgspec.Meta(max_length=4000)]
Fen = Annotated[int, msgspec.Meta(ge=0, lt=10**13)]

CHANNELS = ("monitoring", "hotline", "service_desk", "complaint_box", "repair_centre", "lobby_kiosk", "other")
KINDS = ("enquiry", "complaint", "service_request")
RATINGS = ("satisfied", "acceptable", "dissatisfied")

Channel = Literal["monitoring", "hotline", "service_desk", "complaint_box", "repair_centre", "lobby_kiosk", "other"]
OrderKind = Literal["enquiry", "complaint", "service_request"]


class Order(msgspec.Struct):
    order_no: Text
    channel: Channel
    at: Text
    unit: str = ""
    building: str = ""
    party: str = ""                         # owner or tenant (name), empty = anonymous
    party_role: Literal["owner", "tenant", ""] = ""
    description: Long = ""
    kind: OrderKind | None = None
    category: str = ""
    priority: int | None = None
    deadline: str | None = None
    payable: bool = False
    fee_related: bool = False
    emergency: bool = False
    photos: list[str] = []
    source_ref: str = ""                    # the alarm point or the repair centre's own number
    by: str = ""


class Transition(msgspec.Struct):
    order_no: Text
    from_state: Text
    at: Text
    version: int
    by: str = ""
    kind: OrderKind | None = None
    category: str | None = None
    priority: int | None = None
    deadline: str | None = None
    payable: bool | None = None
    fee_related: bool | None = None
    emergency: bool | None = None
    suggested: str | None = None
    team: str | None = None
    assignee: str | None = None
    mode: Literal["round_robin", "choice"] | None = None
    reason: str | None = None
    note: Long | None = None
    photos: list[str] | None = None
    cause_code: str | None = None
    result: str | None = None
    rating: Literal["satisfied", "acceptable", "dissatisfied"] | None = None
    reasons: list[str] | None = None
    comment: Long | None = None
    method: Literal["call", "visit"] | None = None
    amount_fen: Fen | None = None
    pay_method: Literal["card", "cash"] | None = None
    payment_ref: Annotated[str, msgspec.Meta(max_length=80)] | None = None


class Alarm(msgspec.Struct):
    alarm_id: Text
    point: Text                             # the alarm point (sensor, panel zone)
    at: Text
    alarm_type: Text
    building: str = ""
    unit: str = ""
    text: str = ""


class Handoff(msgspec.Struct):
    handoff_id: Text
    order_no: Text
    at: Text
    amount_fen: Fen | None = None
    category: str = ""


_S = "pos.desk.server:"
_AT = ("at",)

DECLARED: tuple[Kind, ...] = (
    Kind("desk.order.received", True, Order, _S + "received", own_ids=("order_no",), times=_AT),
    Kind("desk.order.imported", True, Order, _S + "received", own_ids=("order_no",), times=_AT),
    *(Kind(f"desk.order.{e}", True, Transition, _S + "transition", times=_AT) for e in EVENTS),
    Kind("desk.alarm.received", True, Alarm, _S + "alarm", times=_AT),
    Kind("desk.finance.handoff", True, Handoff, _S + "handoff", own_ids=("?handoff_id",), times=_AT),
)
