"""Two devices of one hospital through the real server (SQLite and PostgreSQL): what one does reaches
the other's store through the hospital pack's projections, and the free-bed list a device offers
comes from what it pulled, so it never offers a bed the server gave to someone else."""

from __future__ import annotations

import datetime as dt

import pytest

from pos.hospital.errors import BedOccupied
from pos.hospital.records import IdentityRecord, Payment
from pos.hospital.service import HospitalService
from sync.client import SyncClient

from .sync_support import ThreadServer, db_url, new_kiosk  # noqa: F401 - fixture


@pytest.fixture
def server(db_url):  # noqa: F811
    s = ThreadServer(db_url)
    yield s
    s.stop()


def hospital(store) -> HospitalService:
    svc = HospitalService(store)
    svc.add_ward("W3", "心內科", 5, beds=["11", "12", "13"])
    svc.add_fee_item("B001", "床位費", "甲")
    return svc


def admit(svc, name: str, idno: str) -> str:
    notice = svc.record_notice(patient_name=name, id_number=idno, ward_code="W3", suggested_deposit_fen=100000)
    no = svc.register_admission(notice["notice_no"], IdentityRecord("counter", name, idno, scheme="self_pay"))[
        "inpatient_no"]
    svc.record_deposit(no, Payment(100000))
    svc.print_wristband(no)
    return no


def test_a_scheduled_discharge_and_a_bed_reach_the_other_device(server, tmp_path):
    a_store, b_store = new_kiosk(tmp_path, "KA", server.url), new_kiosk(tmp_path, "KB", server.url)
    a, b = hospital(a_store), hospital(b_store)
    no = admit(a, "王喆", "440305199001010026")
    a.assign_bed(no, "11")
    a.confirm_identity(no, "護士長")
    a.add_charge(no, "B001", 2000, unit_price_fen=4500)
    a.order_discharge(no, summary="好轉出院", ebill_no="EB-1")
    a.lock_charges(no, "護士")
    day = (dt.date.fromisoformat(a.today()) + dt.timedelta(days=1)).isoformat()      # tomorrow, site time
    a.schedule_discharge(no, day)
    assert b.free_beds("W3") == ["11", "12", "13"]          # nothing pulled yet
    SyncClient(a_store).sync_once()
    SyncClient(b_store).sync_once()

    row = b_store.conn.execute("SELECT scheduled_for, ward_code FROM hosp_pulled_admissions WHERE inpatient_no = ?",
                               (no,)).fetchone()
    assert row == (day, "W3")
    assert b_store.conn.execute("SELECT count(*) FROM hosp_admissions").fetchone()[0] == 0     # not B's own
    assert b_store.conn.execute("SELECT inpatient_no, amount_fen FROM hosp_pulled_charges").fetchall() == [(no, 9000)]
    assert b_store.conn.execute("SELECT ward_code, suggested_deposit_fen FROM hosp_pulled_notices").fetchall() == [
        ("W3", 100000)]
    assert b.free_beds("W3") == ["12", "13"]               # the server gave 11 to A's patient
    other = admit(b, "张三", "11010119800505001X")
    with pytest.raises(BedOccupied):
        b.assign_bed(other, "11")
    b.assign_bed(other, b.free_beds("W3")[0])
    SyncClient(b_store).sync_once()
    SyncClient(a_store).sync_once()
    assert a.free_beds("W3") == ["13"]
    assert b_store.conn.execute("SELECT state FROM outbox WHERE kind = 'hospital.bed.assigned'").fetchone()[0] == "acked"


def test_a_bed_given_elsewhere_while_offline_is_not_offered_after_the_pull(server, tmp_path):
    """Both devices offline: B gives bed 12 to its patient, A's device has not heard. Once A pulls it
    stops offering 12; A's own claim of it, made before, is refused by the server and queued."""
    a_store, b_store = new_kiosk(tmp_path, "KA", server.url), new_kiosk(tmp_path, "KB", server.url)
    a, b = hospital(a_store), hospital(b_store)
    nb = admit(b, "张三", "11010119800505001X")
    b.assign_bed(nb, "12")
    na = admit(a, "王喆", "440305199001010026")
    assert "12" in a.free_beds("W3")
    SyncClient(b_store).sync_once()
    SyncClient(a_store).pull_all()                          # A pulls first: 12 is gone from its list
    assert a.free_beds("W3") == ["11", "13"]
    with pytest.raises(BedOccupied):
        a.assign_bed(na, "12")
    a.assign_bed(na, "11")
    SyncClient(a_store).sync_once()
    assert a_store.conn.execute("SELECT state FROM outbox WHERE kind = 'hospital.bed.assigned'").fetchone()[0] == "acked"
    with server.backend.tx() as cur:
        assert sorted(cur.execute("SELECT resource, holder FROM resource_claims").fetchall()) == [
            ("bed:W3/11", na), ("bed:W3/12", nb)]
