"""Discharge and settlement as an aggregate of :class:`pos.hospital.service.HospitalService`: the
functions of :mod:`pos.hospital.discharge` (H-D1..H-D7), each taking the service first, bound to it."""

from __future__ import annotations

from functools import partial

from . import discharge as _dis
from . import reversals as _rev

__all__ = ["Discharges", "DISCHARGE_FUNCTIONS", "REVERSAL_FUNCTIONS"]

#: the functions of pos.hospital.discharge the service offers as its methods
DISCHARGE_FUNCTIONS = ("order_discharge", "lock_charges", "unlock_charges", "schedule_discharge", "check_discharge_date", "pre_settle",
                       "request_discharge",
                       "settle", "settlement", "cancel_settlement", "refund", "refund_in", "collect", "collect_in",
                       "print_settlement_list", "discharge", "discharge_state", "account", "recover",
                       "_record_settlement")
#: the functions of pos.hospital.reversals (deposit reversal, 沖銷) the service offers as its methods
REVERSAL_FUNCTIONS = ("approve_reversal", "reverse_cash_in")


class Discharges:
    def __init__(self, h):
        self.h = h

    def __getattr__(self, name: str):
        if name in DISCHARGE_FUNCTIONS:
            module = _dis
        elif name in REVERSAL_FUNCTIONS:
            module = _rev
        else:
            raise AttributeError(name)
        bound = self.__dict__[name] = partial(getattr(module, name), self.h)
        return bound
