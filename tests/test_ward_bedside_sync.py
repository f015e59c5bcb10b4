"""Bedside discharge (H-D7) between two stores through the real sync server (SQLite and
PostgreSQL): the ward tablet flags the patient and opens the session, the counter sees it only by
a pull and joins it, the ward tablet settles at the bed only once it pulled the join, and the
counter sees the session settled. The refusals: no flag, charges not locked, a second session, a
settlement before any cashier joined, a second join."""

from __future__ import annotations

import pytest

from pos.hospital import demo
from pos.hospital.errors import BadInput, HospitalError, HospitalNotFound
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.policy import load_policy
from pos.hospital.records import Payment
from pos.hospital.service import HospitalService
from sync.client import SyncClient
from tests._hospital import admitted
from tests.test_hospital_discharge import charge_resident

from .sync_support import ThreadServer, db_url, new_kiosk  # noqa: F401 - db_url is a fixture


@pytest.fixture
def two(db_url, tmp_path):             # noqa: F811 - the fixture
    server = ThreadServer(db_url)
    ward_store, counter_store = new_kiosk(tmp_path, "WB", server.url), new_kiosk(tmp_path, "KC", server.url)
    policy = load_policy()
    gateway = SimGateway(policy, "tertiary")
    ward = HospitalService(ward_store, policy, gateway, level="tertiary")
    demo.seed(ward, gateway)
    counter = HospitalService(counter_store, policy, gateway, level="tertiary")
    try:
        yield ward, counter
    finally:
        ward_store.close()
        counter_store.close()
        server.stop()


def sync(*svcs):
    for s in svcs:
        SyncClient(s.store).sync_once()


def test_a_bedside_discharge_joined_by_the_counter_through_sync(two):
    ward, counter = two
    no = admitted(ward, 1, deposit=100000)
    charge_resident(ward, no)
    ward.order_discharge(no, summary="好转出院", ebill_no="EB-B1", doctor="D01")
    with pytest.raises(HospitalError) as exc:
        ward.open_bedside(no, "N07")
    assert exc.value.code == "bedside_not_flagged"
    assert ward.flag_immobile(no, "N07", reason="术后卧床")["unable"] is True
    with pytest.raises(HospitalError) as exc:
        ward.open_bedside(no, "N07")                       # the charges are not locked yet
    assert exc.value.code == "bedside_not_ready"
    ward.lock_charges(no, "N07")
    ward.schedule_discharge(no, ward.today())
    s = ward.open_bedside(no, "N07")
    sid = s["session_id"]
    assert (s["state"], s["bed_no"], s["nurse"]) == ("opened", "01", "N07")
    with pytest.raises(BadInput) as exc:
        ward.open_bedside(no, "N07")
    assert exc.value.code == "bedside_open"

    assert counter.bedside_sessions() == []                # the counter knows only by sync
    sync(ward, counter)
    [seen] = counter.bedside_sessions()
    assert (seen["session_id"], seen["inpatient_no"], seen["ward_code"], seen["bed_no"], seen["state"]) == (
        sid, no, "SURG", "01", "opened")
    with pytest.raises(HospitalNotFound):
        counter.join_bedside("no-such-session", "C01")
    assert counter.join_bedside(sid, "C01")["state"] == "joined"
    with pytest.raises(BadInput) as exc:
        counter.join_bedside(sid, "C02")
    assert exc.value.code == "bedside_joined"

    with pytest.raises(HospitalError) as exc:
        ward.settle_bedside(no)                            # the join has not reached the ward yet
    assert exc.value.code == "bedside_not_joined"
    assert ward.discharge_state(no) == "scheduled"
    sync(counter, ward)
    assert ward.bedside.session(no)["cashier"] == "C01"
    st = ward.settle_bedside(no)
    assert (st["bedside"], st["session_id"], st["cashier"]) == (1, sid, "C01")
    ward.collect(no, Payment(st["collect_due_fen"], "cash"))
    assert ward.print_settlement_list(no)["bedside"] is True
    assert ward.discharge(no)["bedside"] is True
    assert ward.bedside.session(no) is None
    sync(ward, counter)
    [done] = counter.bedside_sessions(("settled",))
    assert (done["session_id"], done["settlement_no"], done["cashier"]) == (sid, st["settlement_no"], "C01")
    pulled = counter.conn.execute("SELECT state FROM hosp_pulled_settlements WHERE settlement_no = ?",
                                  (st["settlement_no"],)).fetchone()
    assert pulled == ("recorded",)
    sync(ward, counter)                                   # a page applied again changes nothing
    assert [r["state"] for r in counter.bedside_sessions(("opened", "joined", "settled"))] == ["settled"]
