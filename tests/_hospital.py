"""Shared fixtures for the hospital-domain tests (imported by tests/test_hospital_*.py)."""

from __future__ import annotations

import pytest

from pos.hospital import demo
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.policy import load_policy
from pos.hospital.records import IdentityRecord, Payment
from pos.hospital.service import HospitalService

DAY = "2026-03-02"


@pytest.fixture
def policy():
    return load_policy()


@pytest.fixture
def gateway(policy):
    return SimGateway(policy, "tertiary")


class Clock:
    """A settable clock: starts at 2026-03-01 08:00 in Shanghai (00:00 UTC)."""

    def __init__(self, ts: float = 1772323200.0):
        self.ts = ts

    def __call__(self) -> float:
        return self.ts

    def advance_days(self, n: float = 1) -> None:
        self.ts += n * 86400


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def svc(store, policy, gateway, clock):
    service = HospitalService(store, policy, gateway, level="tertiary", low_balance_fen=50000, clock=clock)
    demo.seed(service, gateway)
    return service


def person(i: int) -> IdentityRecord:
    name, sex, birth, idno, scheme, member, card, token, _ward, _dep = demo.PEOPLE[i]
    return IdentityRecord("ssc", name, idno, card_number=card, scheme=scheme, member_id=member, sex=sex,
                          birth_date=birth)


def admitted(svc, i: int = 1, deposit: int | None = 100000, bed: str | None = None) -> str:
    """Register person i and take them to a bed in the ward (deposit None = green channel)."""
    rec = person(i)
    notice = svc.find_notice_for_identity(rec)
    no = svc.register_admission(notice["notice_no"], rec)["inpatient_no"]
    if deposit is None:
        svc.open_green_channel(no, ["deposit"])
    else:
        svc.record_deposit(no, Payment(deposit))
    svc.print_wristband(no)
    ward = svc.admission(no)["ward_code"]
    svc.assign_bed(no, bed or svc.free_beds(ward)[0])
    svc.confirm_identity(no, "護士長")
    return no


def ready_to_settle(svc, no: str) -> None:
    svc.order_discharge(no, summary="好轉出院", ebill_no="EB-1")
    svc.lock_charges(no, "護士")
    svc.schedule_discharge(no, DAY)


def kinds(store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT kind FROM outbox ORDER BY device_seq")]
