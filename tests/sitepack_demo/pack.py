"""The repair desk's manifest."""

from __future__ import annotations

from typing import Annotated

import msgspec

from pos.packs import Kind, Pack, Projection

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]


class VisitCancelled(msgspec.Struct):
    visit_no: Text
    technician: Text


class VisitBooked(msgspec.Struct):
    visit_no: Text
    technician: Text
    start_at: Text
    end_at: Text


_M = "tests.sitepack_demo"

PACK = Pack(
    name="techdesk",
    summary="A repair desk: technicians' time slots (a test pack)",
    store_migrations=(f"{_M}.schema",),
    server_migrations=(f"{_M}.server_schema",),
    server=f"{_M}.server",
    kinds=(Kind("techdesk.visit.booked", offline=True, payload=VisitBooked, apply=f"{_M}.server:visit_booked",
                own_ids=("visit_no",), times=("start_at", "end_at"), prefetch=f"{_M}.server:slot_of"),
           Kind("techdesk.visit.cancelled", offline=True, payload=VisitCancelled,
                apply=f"{_M}.server:visit_cancelled", own_ids=("visit_no",))),
    projections=(Projection("slots", ("slot.taken", "slot.freed"), f"{_M}.schema:slot_event"),),
    config=f"{_M}.schema:CONFIG",
    services={"techdesk": f"{_M}.desk:Desk"},
    screens={"techdesk_home": f"{_M}.screen"},
    fronts={"techdesk": ("techdesk_home",)},
    pages={"bookings": f"{_M}.pages:bookings", "bookings/{technician}": f"{_M}.pages:bookings"},
)
