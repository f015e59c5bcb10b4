"""Kiosk flows as plain state machines (no Kivy): what each step does and which step may follow.

The Kivy screens call these from worker threads and show ``flow.state``; tests drive them without
a screen. Every invalid step raises :class:`~pos.errors.InvalidTransition`.
"""

from __future__ import annotations

__all__ = ["FLOWS", "make_flow"]

#: kiosk service -> "module:class"
FLOWS = {
    "admission": "pos.flows.checkin:CheckinFlow",
    "topup": "pos.flows.topup:TopupFlow",
    "daily_list": "pos.flows.daily:DailyListFlow",
    "discharge": "pos.flows.discharge:DischargeFlow",
}


def make_flow(service: str, site, *, operator_id: str, lang: str = "zh-Hans"):
    import importlib

    mod, _, cls = FLOWS[service].partition(":")
    return getattr(importlib.import_module(mod), cls)(site, operator_id=operator_id, lang=lang)
