"""A stay driven by the HIS end to end, through the real server (SQLite and PostgreSQL): A05 over MLLP
→ the kiosk pulls the notice and checks the patient in → A01 gives the bed → DFT charges → A03 →
settlement at the counter → our DFT^P03 settlement message reaches the HIS's port, and every
message we sent validates against the HL7 v2.5 structure with hl7apy (we build with python-hl7)."""

from __future__ import annotations

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from pos.hospital import demo
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.policy import load_policy
from pos.hospital.records import Payment
from pos.hospital.service import HospitalService
from sync.client import SyncClient
from tests._hospital import person
from tests.his_support import HisListener, a05, adt, code, dft, mllp_send, text
from tests.sync_support import ThreadServer, db_url, new_kiosk  # noqa: F401  (fixture)


@pytest.fixture
def stack(db_url):  # noqa: F811
    from sync.server.his import HisInterface
    server = ThreadServer(db_url)
    his_port = HisListener()
    iface = HisInterface(server.backend, his_endpoint=("127.0.0.1", his_port.port)).start()
    yield server, iface, his_port
    iface.stop()
    his_port.close()
    server.stop()


def hospital(store):
    policy = load_policy()
    gw = SimGateway(policy, "tertiary")
    svc = HospitalService(store, policy, gw, level="tertiary", low_balance_fen=50000)
    for code_, name, building, floor, beds in demo.WARDS:
        svc.add_ward(code_, name, floor, building, beds)
    for code_, name, spec, unit, cat, _price in demo.FEES:
        svc.add_fee_item(code_, name, cat, spec, unit)
    from pos.hospital.gateway import PersonInfo
    for name, _sex, _b, idno, scheme, member, card, token, _w, _d in demo.PEOPLE:
        gw.add_member(PersonInfo(member, name, idno, scheme), card_number=card, token=token)
    return svc


def v25(body: str):
    msg = parse_message(body, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert msg.validate()
    return msg


def test_a_stay_driven_by_the_his(stack, tmp_path):
    server, iface, his = stack
    store = new_kiosk(tmp_path, "KA", server.url)
    svc = hospital(store)
    sync = SyncClient(store)

    assert code(mllp_send(iface.port, a05("H1", "ZY26001"))[0]) == "AA"
    sync.sync_once()
    notice = svc.find_notice_for_identity(person(0))                 # the kiosk: card read, notice found
    assert (notice["notice_no"], notice["source"], notice["ward_code"], notice["suggested_deposit_fen"]) == (
        "ZY26001", "his", "CARD", 200000)
    no = svc.register_admission(notice["notice_no"], person(0))["inpatient_no"]
    svc.record_deposit(no, Payment(200000))
    svc.print_wristband(no)
    sync.sync_once()

    assert code(mllp_send(iface.port, adt("H2", "A01", "ZY26001", bed="0501"))[0]) == "AA"
    sync.sync_once()
    a = svc.admission(no)
    assert a["state"] == "bed_assigned"
    assert store.conn.execute("SELECT bed_no FROM hosp_beds WHERE id = ?", (a["bed_id"],)).fetchone()[0] == "01"
    svc.confirm_identity(no, "護士長")

    acks = mllp_send(iface.port, dft("H3", "ZY26001", [("T1", "110900001", 3, "45.00"), ("T2", "ZF0901", 1, "186.00")]),
                     adt("H4", "A03", "ZY26001"))
    assert [code(x) for x in acks] == ["AA", "AA"], [text(x) for x in acks]
    sync.sync_once()
    charges = store.conn.execute("SELECT fee_code, qty_milli, amount_fen, category, ref FROM hosp_charges "
                                 "ORDER BY id").fetchall()
    assert charges == [("B001", 3000, 13500, "甲", "HIS-T1"), ("D901", 1000, 18600, "丙", "HIS-T2")]

    # the counter
    svc.lock_charges(no, "護士")
    svc.schedule_discharge(no, svc.today())
    st = svc.settle(no)
    assert st["total_fen"] == 32100
    if st["refund_due_fen"]:
        svc.refund(no, st["refund_due_fen"], method="cash")
    svc.print_settlement_list(no)
    svc.discharge(no)
    sync.sync_once()

    out = iface.pump()
    assert out["failed"] == 0
    kinds = [(m.split("\r")[0].split("|")[8], m) for m in his.received]
    assert [k for k, _ in kinds] == ["DFT^P03^DFT_P03"] * (3 if st["refund_due_fen"] else 2)
    parsed = [v25(m) for m in his.received]
    deposit, settle = parsed[0], parsed[1]
    assert deposit.PV1.PV1_19.value == "ZY26001"                        # the HIS's inpatient number
    assert deposit.DFT_P03_FINANCIAL[0].FT1.FT1_11.FT1_11_1.value == "2000.00"
    lines = {g.FT1.FT1_7.FT1_7_1.value: g.FT1.FT1_11.FT1_11_1.value for g in settle.DFT_P03_FINANCIAL}
    assert lines["SETTLE"] == "321.00"
    assert int(round(float(lines["FUND"]) * 100)) + int(round(float(lines["SELF"]) * 100)) == 32100
    if st["refund_due_fen"]:
        assert parsed[2].DFT_P03_FINANCIAL[0].FT1.FT1_6.value == "CD"

    ack = mllp_send(iface.port, dft("H5", "ZY26001", [("T3", "110900001", 1, "45.00")]))[0]
    assert code(ack) == "AE" and "discharged" in text(ack)              # a charge for a discharged stay
    assert iface.pump() == {"sent": 0, "failed": 0}                     # nothing new, nothing twice
    fhir_read(server.url, no)


def fhir_read(url: str, no: str) -> None:
    """The stay through the FHIR facade, each answer validated by fhir.resources (its own parser)."""
    import httpx
    from decimal import Decimal
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.encounter import Encounter
    from fhir.resources.R4B.patient import Patient
    from tests.sync_support import ADMIN_TOKEN
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert httpx.get(f"{url}/fhir/Encounter/ZY26001/$everything").status_code == 401
    r = httpx.get(f"{url}/fhir/Encounter/ZY26001/$everything", headers=auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate_json(r.content)
    by = {}
    for e in bundle.entry:
        by.setdefault(e.resource.get_resource_type(), []).append(e.resource)
    assert sorted(by) == ["Account", "ChargeItem", "Coverage", "Encounter", "Invoice", "Patient",
                          "PaymentReconciliation"]
    enc = by["Encounter"][0]
    assert enc.status == "finished" and {i.value for i in enc.identifier} == {no, "ZY26001"}
    assert sorted(c.priceOverride.value for c in by["ChargeItem"]) == [Decimal("135.00"), Decimal("186.00")]
    inv = by["Invoice"][0]
    assert inv.totalGross.value == Decimal("321.00") and inv.totalGross.currency == "CNY"
    assert sum(c.amount.value for c in inv.totalPriceComponent) == Decimal("321.00")
    assert Decimal("2000.00") in [p.paymentAmount.value for p in by["PaymentReconciliation"]]
    pat = by["Patient"][0]
    assert pat.name[0].text == "张三"
    one = httpx.get(f"{url}/fhir/Patient/{pat.id}", headers=auth)
    assert Patient.model_validate_json(one.content).id == pat.id
    assert Encounter.model_validate_json(httpx.get(f"{url}/fhir/Encounter/{no}", headers=auth).content).id == enc.id
    missing = httpx.get(f"{url}/fhir/ChargeItem/nope", headers=auth)
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"


def test_an_admission_the_his_did_not_start_is_sent_as_adt_and_retried(stack, tmp_path):
    server, iface, his = stack
    store = new_kiosk(tmp_path, "KA", server.url)
    svc = hospital(store)
    n = svc.record_notice(patient_name="王喆", id_number="440305199001010026", ward_code="SURG",
                          suggested_deposit_fen=0, source="counter")
    no = svc.register_admission(n["notice_no"], person(1))["inpatient_no"]
    svc.open_green_channel(no, ["deposit"])
    SyncClient(store).sync_once()
    his.close()                                                       # the HIS is down
    iface.endpoint = ("127.0.0.1", his.port)
    out = iface.pump()
    assert out["failed"] == 1, (out, iface.status())
    st = iface.status()
    assert [(o["msg_type"], o["status"], o["attempts"]) for o in st["outbound"]] == [("ADT^A01", "queued", 1)]
    his2 = HisListener()
    iface.endpoint = ("127.0.0.1", his2.port)
    assert iface.pump()["sent"] == 0                                  # not due yet: back-off
    assert iface.resend_outbound(st["outbound"][0]["control_id"])
    assert iface.pump()["sent"] == 1
    msg = v25(his2.received[0])
    assert msg.PV1.PV1_19.value == no and msg.PID.PID_5.PID_5_1.value == "王喆"
    assert msg.PV1.PV1_3.PV1_3_1.value == "WK7"                       # the ward, in the HIS's code
    his2.close()


@pytest.fixture
def world(tmp_path):
    from kiosk.demo_env import DemoWorld
    w = DemoWorld(tmp_path / "world")
    yield w
    w.stop()


def test_the_kiosk_checks_in_an_his_notice_with_the_card_and_the_terminal(stack, world, tmp_path):
    """The same stay, checked in through the kiosk's check-in flow against the simulators over their
    real transports (the ID card on SAM_V over a pty, the ZVT terminal and printers over TCP)."""
    from drivers.identity_wait import wait_for_identity
    from kiosk.demo_env import demo_cards
    from kiosk.launch import demo_config_path
    from pos.config import load_config
    from pos.flows.checkin import CheckinFlow
    from pos.hospital.gateway import PersonInfo
    from pos.site import Site
    server, iface, his = stack
    store = new_kiosk(tmp_path, "KB", server.url)
    site = Site(world.config(load_config(demo_config_path())), store)
    h = site.hospital
    for code_, name, building, floor, beds in demo.WARDS:
        h.add_ward(code_, name, floor, building, beds)
    for code_, name, spec, unit, cat, _price in demo.FEES:
        h.add_fee_item(code_, name, cat, spec, unit)
    for name, _sex, _b, idno, scheme, member, card, token, _w, _d in demo.PEOPLE:
        site.gateway.add_member(PersonInfo(member, name, idno, scheme), card_number=card, token=token)
    sync = SyncClient(store)

    notice = a05("K1", "ZY27001", ward="WK7", idno="440305199001010026", name="王^喆")
    assert code(mllp_send(iface.port, notice)[0]) == "AA"
    sync.sync_once()
    flow = CheckinFlow(site, operator_id=store.device_id)
    world.place_card(demo_cards()[1])                                  # 王喆's ID card on the reader
    ident = wait_for_identity([("id_reader", site.device("id_reader"))], timeout=10)
    assert flow.identified(ident) == "confirm"
    assert flow.notice["notice_no"] == "ZY27001" and flow.notice["suggested_deposit_fen"] == 200000
    no = flow.confirm()["inpatient_no"]
    assert flow.pay().public_status == "approved"
    assert flow.print_documents().print_problems == []
    sync.sync_once()

    acks = mllp_send(iface.port, adt("K2", "A01", "ZY27001", ward="WK7", bed="03"),
                     dft("K3", "ZY27001", [("U1", "120100002", 2, "28.00")]))
    assert [code(x) for x in acks] == ["AA", "AA"] and not any("held" in text(x) for x in acks)
    sync.sync_once()
    assert h.admission(no)["state"] == "bed_assigned"
    assert h.account(no)["deposit_fen"] == 200000
    iface.pump()
    deposit = v25(his.received[0])
    assert deposit.PV1.PV1_19.value == "ZY27001" and deposit.PV1.PV1_3.PV1_3_1.value == "WK7"
    assert deposit.DFT_P03_FINANCIAL[0].FT1.FT1_11.FT1_11_1.value == "2000.00"
    assert store.conn.execute("SELECT amount_fen FROM hosp_charges WHERE ref = 'HIS-U1'").fetchone()[0] == 5600

    # the discharge order from the HIS, the nurse's lock, then the counter desk settles and discharges
    from pos.counter.desk import CounterDesk
    assert code(mllp_send(iface.port, adt("K4", "A03", "ZY27001", ward="WK7"))[0]) == "AA"
    sync.sync_once()
    h.confirm_identity(no, "護士長")
    h.lock_charges(no, "護士")
    h.schedule_discharge(no, h.today())
    desk = CounterDesk(site, cashier="李會計")
    site.cash.open_shift("李會計", 300000)                               # the drawer's float
    assert desk.pre_settle(no)["total_fen"] == 5600
    st = desk.settle(no)
    assert st["total_fen"] == 5600 and st["refund_fen"] == 200000 - st["selfpay_fen"]
    desk.refund_cash(no, st["refund_fen"])
    desk.finish_discharge(no)
    sync.sync_once()
    iface.pump()
    kinds = [v25(m) for m in his.received]
    settle = kinds[1]
    lines = {g.FT1.FT1_7.FT1_7_1.value: g.FT1.FT1_11.FT1_11_1.value for g in settle.DFT_P03_FINANCIAL}
    assert lines["SETTLE"] == "56.00"
    refund = kinds[2].DFT_P03_FINANCIAL[0].FT1
    assert (refund.FT1_6.value, refund.FT1_11.FT1_11_1.value) == ("CD", "-" + f"{st['refund_fen'] / 100:.2f}")
    with server.backend.tx() as cur:
        assert cur.execute("SELECT state FROM his_visits WHERE visit = 'ZY27001'").fetchone()[0] == "discharged"


def test_every_device_sees_the_his_notice_and_charges_in_its_pulled_views(stack, tmp_path):
    """A second device, which registers nothing, gets the same pulled notice and charge lines a
    device's own commands would give it."""
    server, iface, _his = stack
    a_store, b_store = new_kiosk(tmp_path, "KA", server.url), new_kiosk(tmp_path, "KB", server.url)
    a = hospital(a_store)
    hospital(b_store)
    mllp_send(iface.port, a05("E1", "ZY28001"))
    SyncClient(a_store).sync_once()
    no = a.register_admission("ZY28001", person(0))["inpatient_no"]
    a.record_deposit(no, Payment(200000))
    a.print_wristband(no)
    SyncClient(a_store).sync_once()
    acks = mllp_send(iface.port, adt("E2", "A01", "ZY28001", bed="0502"),
                     dft("E3", "ZY28001", [("W1", "250101001", 1, "25.00")]))
    assert [code(x) for x in acks] == ["AA", "AA"]
    SyncClient(b_store).sync_once()
    q = b_store.conn.execute
    assert q("SELECT notice_no, ward_code FROM hosp_pulled_notices").fetchall() == [("ZY28001", "CARD")]
    assert q("SELECT charge_ref, inpatient_no, amount_fen FROM hosp_pulled_charges").fetchall() == [
        ("HIS-W1", no, 2500)]
    assert q("SELECT bed_id, inpatient_no, state FROM hosp_pulled_beds").fetchall() == [("CARD/02", no, "occupied")]
    assert q("SELECT count(*) FROM hosp_charges").fetchone()[0] == 0            # booked on A's device only
