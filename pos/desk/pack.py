"""The residential-community service desk pack (C- requirements), in one manifest (the contract is
:mod:`pos.packs`; listed in ``pyproject.toml`` under ``onestop.packs``)."""

from __future__ import annotations

from ..packs import Pack, Projection
from .events import DECLARED
from .fsm import EVENTS

__all__ = ["PACK"]

PACK = Pack(
    name="desk",
    summary="Residential-community service desk: work orders from every channel, QC, follow-up, monthly analysis",
    store_migrations=("pos.desk.schema",),
    server_migrations=("pos.desk.server_schema",),
    server="pos.desk.server",
    kinds=DECLARED,
    projections=(
        Projection("desk_orders", ("desk.order.received", "desk.order.imported", "desk.alarm.merged",
                                   "desk.finance.handoff", "desk.order.conflict",
                                   *(f"desk.order.{e}" for e in EVENTS)), "pos.desk.projections:order_event"),
    ),
    config="pos.desk.config:SECTIONS",
    services={"desk": "pos.desk.site:desk_service"},
    screens={"desk_console": "kiosk.desk.console", "desk_tech": "kiosk.desk.tech", "desk_lobby": "kiosk.desk.lobby",
             "desk_qc": "kiosk.desk.qc", "desk_faq": "kiosk.desk.faq",
             "desk_pay": "kiosk.desk.pay", "desk_cash": "kiosk.desk.cash"},
    fronts={"desk": ("desk_console", "desk_qc", "desk_cash"), "desk-staff": ("desk_tech",), "desk-kiosk": ("desk_lobby", "desk_faq", "desk_pay")},
    catalogues={"desk_categories": "assets/config/desk_categories.toml"},
    endpoints={"intake": "pos.desk.endpoint:intake"},
    server_tasks={"archive": "pos.desk.archive:render_pending"},
    demo="pos.desk.demo:seed_site",
    posters="pos.desk.payments_bridge:POSTERS",
    pages={"report": "pos.desk.pages:report", "report/chart/{name}.png": "pos.desk.pages:chart",
           "report/pdf": "pos.desk.pages:pdf", "report/analysis": "pos.desk.pages:analysis",
           "report/sign": "pos.desk.pages:sign", "intake-callers": "pos.desk.pages:intake_callers"},
)
