"""The hospital service's rules behind the ward screens, at the service boundary: the scheduled
discharge date's checks (including a lock that a device's clock puts after the chosen day), the
identity refusal's block, and a bed reserved for another patient."""

from __future__ import annotations

import pytest

from pos.hospital.errors import BedOccupied, HospitalError, IdentityRefused
from pos.hospital.records import Payment

from ._hospital import admitted, clock, gateway, person, policy, svc  # noqa: F401 - fixtures


def test_the_discharge_date_is_checked_against_today_and_the_lock(svc, clock):  # noqa: F811
    no = admitted(svc, 1)
    svc.order_discharge(no, summary="好轉出院", ebill_no="EB-1")
    clock.advance_days(2)                                    # locked on 2026-03-03
    svc.lock_charges(no, "N07")
    for bad, code in (("2026-13-01", "bad_date"), ("soon", "bad_date"), ("2026-03-02", "date_past")):
        with pytest.raises(HospitalError) as e:
            svc.check_discharge_date(no, bad)
        assert e.value.code == code
    clock.advance_days(-2)                                   # a clock set back: today is before the lock
    with pytest.raises(HospitalError) as e:
        svc.check_discharge_date(no, "2026-03-02")
    assert e.value.code == "date_before_lock"
    assert svc.check_discharge_date(no, " 2026-03-03T10:00 ") == "2026-03-03T10:00"


def test_a_refusal_blocks_until_confirmed_and_a_reserved_bed_is_kept(svc):  # noqa: F811
    rec = person(1)
    notice = svc.find_notice_for_identity(rec)
    no = svc.register_admission(notice["notice_no"], rec)["inpatient_no"]
    svc.record_deposit(no, Payment(100000))
    svc.print_wristband(no)
    ward = svc.admission(no)["ward_code"]
    other = admitted(svc, 0)                                 # in a cardiology bed, to move to this ward
    free = svc.free_beds(ward)
    svc.mark_bed(ward, free[0], "reserved", "N07", other)
    with pytest.raises(BedOccupied) as e:
        svc.assign_bed(no, free[0])
    assert e.value.code == "bed_reserved"
    svc.assign_bed(no, free[1])
    svc.refuse_identity(no, "N07", "照片不符")
    with pytest.raises(IdentityRefused):
        svc.add_charge(no, "B001", 1000, unit_price_fen=4500)
    with pytest.raises(HospitalError):
        svc.refuse_identity(no, "N07", "  ")                 # a refusal needs a reason
    svc.confirm_identity(no, "N07")
    svc.add_charge(no, "B001", 1000, unit_price_fen=4500)
    with pytest.raises(HospitalError) as e:
        svc.refuse_identity(no, "N08", "再查")
    assert e.value.code == "already_confirmed"
