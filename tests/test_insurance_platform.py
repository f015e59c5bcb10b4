"""The platform adapter (sync/insurance) against the platform simulator on a real socket: the
envelope, exact decimals, rejections, a lost 2304 answer found again by 5203, 2305, and a 1101
message quoted from published integration code (an independent peer of our JSON)."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from pos.hospital.errors import GatewayRejected, GatewayUnavailable
from pos.hospital.gateway import FeeLine, PersonInfo
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.policy import load_policy
from sync.insurance import PlatformGateway, PlatformSimServer
from sync.insurance import wire
from sync.insurance.client import person_from_1101

Y, Q = 1_000_000, 10_000

# The 1101 request and answer printed in idoku-test/HN-YBJ-SDK, YN-YBJ-SDK.Console/Program.cs
# (commit 2ffe3fe), quoted as published (the answer's insuinfo is one object, balc a bare number).
QUOTED_1101_REQUEST = """{
 "infno": "1101", "msgid": "H00000000001202001041235391234", "insuplc_admdvs": "100000",
 "mdtrtarea_admvs": "100000", "recer_sys_code": "MBS_LOCAL", "dev_no": "", "dev_safe_info": "", "cainfo": "",
 "infver": "V1.0", "opter_type": "1", "opter": "01", "opter_name": "张三", "inf_time": "2020-01-04 12:35:39",
 "fixmedins_code": "100001", "fixmedins_name": "第一人民医院", "sign_no": "79faf82271944fe38c4f1d99be71bc9c",
 "input": {"data": {"psn_cert_type": "2", "certno": "510000202001010000", "psn_name": "李四",
                    "begntime": "2020-01-01"}}}"""
QUOTED_1101_OUTPUT = """{
 "baseinfo": {"psn_no": "131000202001001", "psn_cert_type": "2", "certno": "510000202001010000",
              "psn_name": "李四", "gend": "1", "naty": "01", "brdy": "2020-01-01", "age": 18},
 "insuinfo": {"psn_insu_rlts_id": "133241523001001", "balc": 5000, "insutype": "310", "psn_type": "1001",
              "cvlserv_flag": "0", "insu_admdvs": "131002", "emp_name": "测试单位"},
 "idetinfo": []}"""


@pytest.fixture
def platform():
    sim = SimGateway(load_policy("beijing"), "tertiary")
    sim.add_member(PersonInfo("P000001", "李四", "510000202001010000", "employee", acct_balance_fen=50000))
    server = PlatformSimServer(sim, {"B01": ("甲", None, None), "Y01": ("乙", 40 * Y, None)}).start()
    gw = PlatformGateway(server.url, fixmedins_code="H11010500001", region="110000")
    yield sim, server, gw
    gw.close()
    server.stop()


def test_quoted_1101_answer_reads_as_an_insured_employee():
    p = person_from_1101(wire.loads(QUOTED_1101_OUTPUT.encode()))
    assert (p.member_id, p.name, p.id_number, p.scheme, p.retiree) == \
        ("131000202001001", "李四", "510000202001010000", "employee", False)
    assert p.acct_balance_fen == 500000 and p.region == "131002"          # balc 5000 yuan


def test_quoted_1101_request_is_understood_by_the_simulator(platform):
    sim, server, _gw = platform
    body = json.loads(QUOTED_1101_REQUEST)
    body["input"]["data"].update(mdtrt_cert_type="02", mdtrt_cert_no=body["input"]["data"]["certno"])
    r = httpx.post(server.url + "/1101", content=json.dumps(body, ensure_ascii=False).encode())
    ans = r.json()
    assert ans["infcode"] == 0 and ans["inf_refmsgid"] == "H00000000001202001041235391234"
    assert ans["output"]["baseinfo"]["psn_no"] == "P000001" and ans["output"]["insuinfo"][0]["insutype"] == "310"
    # our own requests carry every key of the quoted one
    _sim, _server, gw = platform
    gw.person_info("02", "510000202001010000")
    ours = server.requests[-1]
    assert set(body) <= set(ours) and set(body["input"]["data"]) <= set(ours["input"]["data"])


def test_decimals_are_exact_and_never_float():
    assert wire.yuan(12345) == "123.45" and wire.fen("123.45") == 12345 and wire.fen(Decimal("0.5")) == 50
    assert wire.price(333_333) == "0.333333" and wire.uyuan("0.333333") == 333_333
    assert wire.cnt(5000) == "0.5000" and wire.qty_e4("2.5") == 25000 and wire.prop(100) == "0.1000"
    assert wire.loads(b'{"a": 0.1}')["a"] == Decimal("0.1")
    with pytest.raises(ValueError, match="more than 2 decimals"):
        wire.fen("1.005")
    with pytest.raises(ValueError, match="float"):
        wire.fen(0.1)


def test_settle_over_http_with_the_platforms_catalogue(platform):
    sim, server, gw = platform
    p = gw.person_info("02", "510000202001010000")
    assert p.acct_balance_fen == 50000 and p.scheme == "employee"
    # 乙 Y01 50.00 × 10, the platform's cap 40.00: over 100.00, 10 % first of 400.00 = 40.00
    lines = [FeeLine("L1", "B01", "甲", 964000, 1000, "2026-12-01", 9640 * Y, Q),
             FeeLine("L2", "Y01", "乙", 50000, 10000, "2026-12-01", 50 * Y, 10 * Q)]
    res = gw.upload_fees("m-2301", "ZY1", p.member_id, lines)
    assert res[1] == {"ref": "L2", "det_item_fee_sumamt": 50000, "fulamt_ownpay_amt": 0, "overlmt_amt": 10000,
                      "preselfpay_amt": 4000, "inscp_scp_amt": 36000}
    pre = gw.pre_settle("m-2303", "ZY1", p.member_id, 1014000)
    st = gw.settle("m-2304", "ZY1", p.member_id, 1014000)
    assert pre.breakdown == st.breakdown and st.setl_id.startswith("SETL") and st.source == "platform:2304"
    # in policy 10,000.00 → 7,395.00 pooled; patient 2,745.00; account 500.00; cash 2,245.00
    assert (st.pooled_fen, st.acct_fen, st.cash_fen) == (739500, 50000, 224500) and st.consistent()
    assert gw.settle("m-2304", "ZY1", p.member_id, 1014000) == st             # same msgid: the same answer
    gw.cancel_settlement("m-2305", "m-2304")
    assert gw.query("m-2304").cancelled and sim.members["510000202001010000"].acct_balance_fen == 50000


def test_rejections_and_unreachable(platform):
    sim, server, gw = platform
    with pytest.raises(GatewayRejected, match="no insured person"):
        gw.person_info("02", "110101199001010000")
    with pytest.raises(GatewayRejected, match="not in the catalogue"):
        gw.upload_fees("m1", "ZY2", "P000001", [FeeLine("L9", "ZZZ", "甲", 100, 1000, "2026-12-01", Y, Q)])
    sim.fail_next.add("person_info")
    with pytest.raises(GatewayUnavailable, match="HTTP 503"):
        gw.person_info("02", "510000202001010000")
    dead = PlatformGateway("http://127.0.0.1:9/fsi/api", fixmedins_code="H1", timeout=1)
    with pytest.raises(GatewayUnavailable, match="did not answer"):
        dead.person_info("02", "510000202001010000")
    dead.close()


def test_a_lost_2304_answer_is_found_again_by_its_message_id(platform):
    sim, server, gw = platform
    p = gw.person_info("02", "510000202001010000")
    gw.upload_fees("u", "ZY3", p.member_id, [FeeLine("L1", "B01", "甲", 1000000, 1000, "2026-12-01", 10000 * Y, Q)])
    sim.lose_reply_next.add("settle")
    with pytest.raises(GatewayUnavailable):
        gw.settle("m-lost", "ZY3", p.member_id, 1000000)
    assert gw.query("m-never-sent") is None
    found = gw.query("m-lost")                    # 5203 by medins_setl_id = our message ID
    assert found is not None and not found.cancelled and found.pooled_fen == 739500
    gw.cancel_settlement("m-undo", "m-lost")
    assert gw.query("m-lost").cancelled


def test_settlement_in_doubt_over_http_is_completed_from_the_platform(tmp_path):
    """The 2304 answer is lost on the wire: the hospital asks the platform (5203) and records what
    it settled, once; then a cancellation reverses it there (2305)."""
    from pos.hospital.records import IdentityRecord, Payment
    from pos.hospital.service import HospitalService
    from pos.store import Store

    pol = load_policy("beijing")
    sim = SimGateway(pol, "tertiary")
    idno = "110105198001010011"
    sim.add_member(PersonInfo("P9", "病人", idno, "employee"))
    with PlatformSimServer(sim, {"B01": ("甲", None, None)}) as server:
        gw = PlatformGateway(server.url, fixmedins_code="H1", region="110000")
        store = Store(tmp_path / "s.sqlite")
        try:
            svc = HospitalService(store, pol, gw)
            svc.add_ward("W", "病區", 1, beds=["01"])
            svc.add_fee_item("B01", "床位", "甲")
            n = svc.record_notice(patient_name="病人", id_number=idno, ward_code="W", suggested_deposit_fen=0)
            no = svc.register_admission(n["notice_no"], IdentityRecord("counter", "病人", idno))["inpatient_no"]
            svc.record_deposit(no, Payment(300000))
            svc.print_wristband(no)
            svc.assign_bed(no, "01")
            svc.confirm_identity(no, "n")
            svc.add_charge(no, "B01", price_uyuan=10000 * Y, qty_e4=Q)
            svc.order_discharge(no, summary="s", ebill_no="e")
            svc.lock_charges(no, "n")
            svc.schedule_discharge(no, svc.today())
            sim.lose_reply_next.add("settle")
            st = svc.settle(no)                      # answer lost; found again by its message ID
            assert st["state"] == "recorded" and st["pooled_fen"] == 739500 and st["refund_due_fen"] == 39500
            assert [c for c in sim.calls if c[0] == "2304"] == [("2304", st["msg_id"])]      # settled once
            gw2 = PlatformGateway(server.url, fixmedins_code="H1", region="110000")   # a restarted adapter
            svc.gateway = gw2
            svc.cancel_settlement(no, "charges to correct")
            assert sim.settlements[st["msg_id"]].cancelled and svc.discharge_state(no) == "scheduled"
            gw2.close()
        finally:
            gw.close()
            store.close()
