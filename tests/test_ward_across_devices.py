"""What one ward station, kiosk or counter does reaches the others only through the real server
(SQLite and PostgreSQL): bed marks set at one station, the patient's discharge request at the
kiosk, the scheduled discharge reaching the kiosk and the cashier's "today's discharges", and the
daily list the station gave, which the counter reads. Also: the scheduled date is checked by the
service itself (not in the past in the site's time zone, not before the lock)."""

from __future__ import annotations

import datetime as dt

import pytest

from pos.hospital import views
from pos.hospital.errors import BadInput, BedOccupied, HospitalTransitionError
from pos.hospital.service import HospitalService
from sync.client import SyncClient

from .sync_support import ThreadServer, db_url, new_kiosk  # noqa: F401 - fixture
from .test_sync_two_devices import admit


@pytest.fixture
def server(db_url):  # noqa: F811
    s = ThreadServer(db_url)
    yield s
    s.stop()


def hospital(store, clock=None) -> HospitalService:
    svc = HospitalService(store, **({"clock": clock} if clock else {}))
    svc.add_ward("W3", "心内科", 5, beds=["11", "12", "13"])
    svc.add_fee_item("B001", "床位费", "甲")
    return svc


def sync(*stores) -> None:
    for s in stores:
        SyncClient(s).sync_once()
    for s in stores:                      # a second round: each pulls what the later ones pushed
        SyncClient(s).sync_once()


def test_bed_marks_set_at_one_station_are_read_at_another_and_at_the_kiosk(server, tmp_path):
    a_store, b_store, k_store = (new_kiosk(tmp_path, d, server.url) for d in ("WA", "WB", "KK"))
    a, b, k = hospital(a_store), hospital(b_store), hospital(k_store)
    mine = admit(a, "王喆", "440305199001010026")
    other = admit(b, "张三", "11010119800505001X")
    a.mark_bed("W3", "12", "reserved", "护士长", inpatient_no=mine)
    a.mark_bed("W3", "13", "cleaning", "护士")
    assert [c["state"] for c in b.bed_board("W3")] == ["free", "free", "free"]       # nothing pulled yet
    sync(a_store, b_store, k_store)

    board = {c["bed_no"]: c for c in b.bed_board("W3")}
    assert (board["12"]["state"], board["12"]["inpatient_no"]) == ("reserved", mine)
    assert board["13"]["state"] == "cleaning" and board["11"]["state"] == "free"
    with pytest.raises(BedOccupied) as refused:                   # B may not give A's reservation away
        b.assign_bed(other, "12")
    assert refused.value.code == "bed_reserved"
    marks = views.bed_marks(k_store.conn, "W3")                    # the kiosk reads them too
    assert {n: (m["mark"], m["inpatient_no"]) for n, m in marks.items()} == {"12": ("reserved", mine),
                                                                            "13": ("cleaning", None)}
    # B cleans 13; A's board follows; A gives 12 to the patient it was kept for, which ends the mark everywhere
    b.mark_bed("W3", "13", "ready", "护士")
    a.assign_bed(mine, "12")
    sync(a_store, b_store, k_store)
    assert {c["bed_no"]: c["state"] for c in a.bed_board("W3")} == {"11": "free", "12": "occupied", "13": "free"}
    board = {c["bed_no"]: c for c in b.bed_board("W3")}
    assert (board["12"]["state"], board["12"]["inpatient_no"], board["13"]["state"]) == ("occupied", mine, "free")
    assert views.bed_marks(k_store.conn, "W3")["13"]["mark"] == "ready"


def test_a_discharge_request_at_the_kiosk_reaches_the_station_and_the_schedule_comes_back(server, tmp_path):
    w_store, k_store, c_store = (new_kiosk(tmp_path, d, server.url) for d in ("WS", "KK", "CC"))
    w, k = hospital(w_store), hospital(k_store)
    no = admit(w, "王喆", "440305199001010026")
    w.assign_bed(no, "11")
    w.confirm_identity(no, "护士长")
    w.add_charge(no, "B001", 2000, unit_price_fen=4500)
    sync(w_store, k_store, c_store)

    tomorrow = (dt.date.fromisoformat(k.today()) + dt.timedelta(days=1)).isoformat()
    yesterday = (dt.date.fromisoformat(k.today()) - dt.timedelta(days=1)).isoformat()
    with pytest.raises(BadInput) as past:                          # the kiosk refuses a day that has gone
        k.request_discharge(no, yesterday)
    assert past.value.code == "date_past"
    assert k_store.conn.execute("SELECT count(*) FROM outbox WHERE kind = 'hospital.discharge.requested'"
                                ).fetchone()[0] == 0
    req = k.request_discharge(no, tomorrow)
    assert req["ward_code"] == "W3"
    assert views.discharge_notice(k_store.conn, no)["wanted_for"] == tomorrow      # the kiosk says it was sent
    assert views.discharge_requests(w_store.conn, "W3") == []                      # not pulled yet
    sync(k_store, w_store)
    asked = views.discharge_requests(w_store.conn, "W3")
    assert [(r["inpatient_no"], r["wanted_for"], r["name"]) for r in asked] == [(no, tomorrow, "王喆")]

    w.order_discharge(no, summary="好转出院", ebill_no="EB-1", doctor="主治医师")
    w.lock_charges(no, "护士")
    with pytest.raises(BadInput) as before:
        w.schedule_discharge(no, yesterday)
    assert before.value.code == "date_past"
    w.schedule_discharge(no, w.today())
    assert views.discharge_requests(w_store.conn, "W3") == []                      # done at the station
    sync(w_store, k_store, c_store)
    assert views.discharge_notice(k_store.conn, no)["scheduled_for"] == w.today()  # the patient's kiosk
    today = views.scheduled_discharges(c_store.conn, w.today())                     # the cashier's list
    assert [(r["inpatient_no"], r["ward_code"]) for r in today] == [(no, "W3")]
    with pytest.raises(HospitalTransitionError):                                    # asked again: refused
        k.request_discharge(no)


def test_the_daily_list_given_at_the_station_is_read_at_the_counter(server, tmp_path):
    w_store, c_store = new_kiosk(tmp_path, "WS", server.url), new_kiosk(tmp_path, "CC", server.url)
    w = hospital(w_store)
    no = admit(w, "王喆", "440305199001010026")
    w.assign_bed(no, "11")
    w.add_charge(no, "B001", 1000, unit_price_fen=4500)
    assert views.daily_list_given(c_store.conn, no) is None
    dl = w.print_daily_list(no)
    sync(w_store, c_store)
    given = views.daily_list_given(c_store.conn, no)
    assert dl.day_total_fen == 4500
    assert (given["day"], given["total_fen"]) == (w.today(), 4500)
    assert given["as_of"].endswith("Z")


def test_the_service_checks_the_scheduled_date_in_the_site_time_zone(store):
    """15:30 UTC on 1 March is 23:30 in Shanghai; an hour later (00:30 on 2 March local) the 1st
    has gone, though it is still the 1st in UTC."""
    now = [dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.timezone.utc).timestamp()]
    svc = hospital(store, clock=lambda: now[0])
    no = admit(svc, "王喆", "440305199001010026")
    svc.assign_bed(no, "11")
    svc.confirm_identity(no, "护士长")
    svc.order_discharge(no, summary="好转出院", ebill_no="EB-1")
    assert svc.check_discharge_date(no, "2026-03-01") == "2026-03-01"     # still today in Shanghai
    now[0] += 3600
    svc.lock_charges(no, "护士")
    for day, code in (("2026-02-28", "date_past"), ("2026-03-01", "date_past"), ("3月2日", "bad_date")):
        with pytest.raises(BadInput) as bad:
            svc.schedule_discharge(no, day)
        assert bad.value.code == code, day
    assert svc.discharge_state(no) == "charges_locked"                # nothing was scheduled
    assert svc.schedule_discharge(no, "2026-03-02T10:00")["scheduled_for"] == "2026-03-02T10:00"
    assert svc.discharge_state(no) == "scheduled"
