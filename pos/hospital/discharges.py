"""Discharge and settlement as an aggregate of :class:`pos.hospital.service.HospitalService`: the
functions of :mod:`pos.hospital.discharge` (H-D1..H-D7), each taking the service first, bound to it."""

from __future__ import annotations

from functools import partial

from . import discharge as _dis

__all__ = ["Discharges", "DISCHARGE_FUNCTIONS"]

#: the functions of pos.hospital.discharge the service offers as its methods
DISCHARGE_FUNCTIONS = ("order_discharge", "lock_charges", "unlock_charges", "schedule_discharge", "pre_settle",
                       "settle", "settlement", "cancel_settlement", "refund", "refund_in", "collect", "collect_in",
                       "print_settlement_list", "discharge", "discharge_state", "account", "recover",
                       "_record_settlement")


class Discharges:
    def __init__(self, h):
        self.h = h

    def __getattr__(self, name: str):
        if name not in DISCHARGE_FUNCTIONS:
            raise AttributeError(name)
        return partial(getattr(_dis, name), self.h)
