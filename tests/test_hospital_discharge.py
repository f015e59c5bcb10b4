"""Discharge and settlement (H-D1..H-D7): the workflow, the charge lock, refund/collection,
bedside discharge, settlement cancellation, and crash recovery with the simulated platform."""

from __future__ import annotations

import pytest

from pos.hospital.errors import (AmountMismatch, ChargesLocked, GatewayRejected, GatewayUnavailable,
                                 HospitalError, HospitalTransitionError, NeedsServer, RefundTooLarge)
from pos.hospital.records import Payment
from pos.hospital.service import HospitalService
from tests._hospital import DAY, admitted, clock, gateway, kinds, policy, ready_to_settle, svc  # noqa: F401


def charge_resident(svc, no):
    # 王喆, resident scheme, tertiary: the brief's example
    svc.add_fee_item("X-A", "甲類項目", "甲")
    svc.add_fee_item("X-B", "乙類項目", "乙")
    svc.add_fee_item("X-C", "丙類項目", "丙")
    svc.add_charge(no, "X-A", 1000, unit_price_fen=500000, service_date="2026-03-01")
    svc.add_charge(no, "X-B", 1000, unit_price_fen=300000, service_date="2026-03-01")
    svc.add_charge(no, "X-C", 1000, unit_price_fen=20000, service_date="2026-03-02")


def test_discharge_with_refund_of_the_surplus(svc, store, gateway):
    no = admitted(svc, 1, deposit=300000)
    svc.record_deposit(no, Payment(200000, "card", "T1", "1234"))   # two deposit receipts: 5,000.00
    charge_resident(svc, no)
    svc.order_discharge(no, summary="好轉出院", ebill_no="EB-1", doctor="李醫生")
    assert svc.lock_charges(no, "護士") == 820000
    with pytest.raises(ChargesLocked) as exc:
        svc.add_charge(no, "X-A", 1000, unit_price_fen=1)
    assert exc.value.code == "charges_locked"
    notice = svc.schedule_discharge(no, DAY)
    assert notice["notify"] == ["patient", "cashier"] and notice["charges_total_fen"] == 820000

    pre = svc.pre_settle(no)
    # worked example: pooled 4,830.00, self-pay 3,370.00; deposits 5,000.00 → refund 1,630.00
    assert (pre.split.pooled_fen, pre.split.selfpay_fen, pre.refund_due_fen, pre.collect_due_fen) == \
        (483000, 337000, 163000, 0)
    s = svc.settle(no)
    assert s["state"] == "recorded" and s["setl_id"].startswith("SETL")
    assert (s["pooled_fen"], s["selfpay_fen"], s["refund_due_fen"], s["collect_due_fen"]) == (483000, 337000, 163000, 0)
    assert ("2304", s["msg_id"]) in gateway.calls
    receipts = store.conn.execute("SELECT state FROM hosp_receipts").fetchall()
    assert receipts == [("taken_back",), ("taken_back",)]
    with pytest.raises(AmountMismatch):
        svc.refund(no, 163001)                               # never more than the surplus
    with pytest.raises(HospitalTransitionError):
        svc.collect(no, Payment(1))
    with pytest.raises(HospitalTransitionError):
        svc.discharge(no)                                    # not balanced, no list
    svc.refund(no, 100000, "card")                           # the surplus may go back in parts ...
    with pytest.raises(HospitalTransitionError):
        svc.print_settlement_list(no)                        # ... and is balanced only when all is back
    svc.refund(no, 63000, "cash")
    assert svc.account(no)["ledger_balance_fen"] == 0
    lst = svc.print_settlement_list(no)
    assert lst["title"] == "住院結算清單" and lst["pooled_fen"] == 483000 and lst["refunded_fen"] == 163000
    svc.print_settlement_list(no)                            # a reprint is allowed
    out = svc.discharge(no)
    assert out["state"] == "discharged" and not out["bedside"]
    assert svc.admission(no)["state"] == "discharged" and "01" in svc.free_beds("SURG")
    assert kinds(store)[-7:] == ["hospital.settlement.intent", "hospital.settlement.recorded",
                                 "hospital.refund.paid", "hospital.refund.paid", "hospital.settlement_list.printed",
                                 "hospital.settlement_list.printed", "hospital.discharged"]
    with pytest.raises(HospitalTransitionError):
        svc.record_deposit(no, Payment(100))


def test_collect_the_shortfall_at_the_bedside(svc, store):
    no = admitted(svc, 1, deposit=100000)                    # 1,000.00 < self-pay 3,370.00
    charge_resident(svc, no)
    ready_to_settle(svc, no)
    with pytest.raises(HospitalError):
        svc.settle(no, bedside=True)                         # a bedside settlement names its session
    s = svc.settle(no, bedside=True, session_id="MOBILE-7")
    assert (s["refund_due_fen"], s["collect_due_fen"], s["bedside"]) == (0, 237000, 1)
    with pytest.raises(AmountMismatch):
        svc.collect(no, Payment(200000))
    r = svc.collect(no, Payment(237000, "wechat", "WX123"))
    assert r["receipt_no"].startswith("KTEST-")
    svc.print_settlement_list(no)
    out = svc.discharge(no)
    assert out["bedside"]
    payload = store.outbox_pending(1000)[-1]["payload"]
    assert payload["bedside"] is True and payload["session_id"] == "MOBILE-7"


def test_exact_deposit_is_balanced_at_once(svc):
    no = admitted(svc, 1, deposit=337000)
    charge_resident(svc, no)
    ready_to_settle(svc, no)
    s = svc.settle(no)
    assert s["refund_due_fen"] == s["collect_due_fen"] == 0
    assert svc.discharge_state(no) == "balanced"


def test_discharge_transitions_are_checked(svc):
    no = admitted(svc, 1)
    with pytest.raises(HospitalTransitionError):
        svc.lock_charges(no, "護士")                          # no order yet
    with pytest.raises(HospitalError):
        svc.order_discharge(no, summary="", ebill_no="EB")
    svc.order_discharge(no, summary="好轉", ebill_no="EB")
    with pytest.raises(HospitalTransitionError):
        svc.order_discharge(no, summary="好轉", ebill_no="EB")
    with pytest.raises(HospitalTransitionError):
        svc.schedule_discharge(no, DAY)                      # charges not locked
    with pytest.raises(HospitalTransitionError):
        svc.settle(no)
    svc.lock_charges(no, "護士")
    with pytest.raises(HospitalTransitionError):
        svc.settle(no)                                       # not scheduled
    with pytest.raises(HospitalTransitionError):
        svc.print_settlement_list(no)
    svc.unlock_charges(no, "護士")                            # back to the ward: charges allowed again
    c = svc.add_charge(no, "B001", 1000, unit_price_fen=4500)
    svc.lock_charges(no, "護士")
    with pytest.raises(ChargesLocked):
        svc.reverse_charge(no, c["id"])                      # a reversal needs an unlock too
    svc.schedule_discharge(no, DAY)
    svc.settle(no)
    with pytest.raises(HospitalTransitionError):
        svc.unlock_charges(no, "護士")                        # settled: reverse the settlement first
    with pytest.raises(HospitalTransitionError):
        svc.settle(no)


def test_cancel_settlement_reverses_at_the_platform(svc, gateway):
    no = admitted(svc, 1, deposit=500000)
    charge_resident(svc, no)
    ready_to_settle(svc, no)
    s = svc.settle(no)
    svc.cancel_settlement(no, "病人要求補充費用")
    assert gateway.settlements[s["msg_id"]].cancelled
    assert svc.discharge_state(no) == "scheduled"
    assert svc.account(no)["ledger_balance_fen"] == 500000       # settle + unsettle cancel out
    svc.unlock_charges(no, "護士")
    svc.add_charge(no, "X-C", 1000, unit_price_fen=10000)
    svc.lock_charges(no, "護士")
    svc.schedule_discharge(no, DAY)
    s2 = svc.settle(no)
    assert s2["total_fen"] == 830000 and s2["selfpay_fen"] == 347000 and s2["refund_due_fen"] == 153000


def test_money_commands_need_the_server(store, policy, gateway, clock):
    state = {"up": True}
    svc = HospitalService(store, policy, gateway, online=lambda: state["up"], clock=clock)
    from pos.hospital import demo
    demo.seed(svc, gateway)
    no = admitted(svc, 1, deposit=500000)
    charge_resident(svc, no)
    svc.order_discharge(no, summary="好轉", ebill_no="EB")
    state["up"] = False
    before = store.outbox_depth()
    for call in (lambda: svc.lock_charges(no, "n"), lambda: svc.refund(no, 1), lambda: svc.settle(no),
                 lambda: svc.discharge(no), lambda: svc.collect(no, Payment(1))):
        with pytest.raises(NeedsServer):
            call()
    assert store.outbox_depth() == before                  # refused commands wrote nothing
    svc.record_deposit(no, Payment(100))                   # offline-safe commands still work
    assert store.outbox_depth() == before + 1


def test_refund_during_the_stay_is_limited_to_the_unused_deposit(svc):
    no = admitted(svc, 1, deposit=100000)
    svc.add_charge(no, "B001", 1000, unit_price_fen=40000)
    with pytest.raises(RefundTooLarge):
        svc.refund(no, 60001)
    svc.refund(no, 60000)
    assert svc.account(no)["available_fen"] == 0


# -- crash safety -----------------------------------------------------------------------------

class CrashAfterGateway(HospitalService):
    """Dies between the platform's settlement and our recording of it."""

    def _record_settlement(self, st, result):
        raise KeyboardInterrupt("power cut")


def test_crash_after_the_platform_settled_is_completed_on_restart(store, policy, gateway, clock):
    from pos.hospital import demo

    crashy = CrashAfterGateway(store, policy, gateway, clock=clock)
    demo.seed(crashy, gateway)
    no = admitted(crashy, 1, deposit=500000)
    charge_resident(crashy, no)
    ready_to_settle(crashy, no)
    with pytest.raises(KeyboardInterrupt):
        crashy.settle(no)
    st = store.conn.execute("SELECT state, msg_id FROM hosp_settlements").fetchone()
    assert st[0] == "intent" and gateway.settlements[st[1]].setl_id   # the platform did settle
    fresh = HospitalService(store, policy, gateway, clock=clock)       # restart
    assert fresh.recover() == {"KTEST-000001": "completed"}
    assert fresh.discharge_state(no) == "settled"
    assert fresh.account(no)["ledger_balance_fen"] == 163000
    assert fresh.recover() == {}                                       # nothing left


def test_crash_then_changed_charges_reverses_the_platform_settlement(store, policy, gateway, clock):
    from pos.hospital import demo

    crashy = CrashAfterGateway(store, policy, gateway, clock=clock)
    demo.seed(crashy, gateway)
    no = admitted(crashy, 1, deposit=500000)
    charge_resident(crashy, no)
    ready_to_settle(crashy, no)
    with pytest.raises(KeyboardInterrupt):
        crashy.settle(no)
    fresh = HospitalService(store, policy, gateway, clock=clock)
    fresh.unlock_charges(no, "護士")                                   # the ward adds a late charge
    fresh.add_charge(no, "X-C", 1000, unit_price_fen=10000)
    assert fresh.recover() == {"KTEST-000001": "reversed"}
    msg = store.conn.execute("SELECT msg_id FROM hosp_settlements").fetchone()[0]
    assert gateway.settlements[msg].cancelled                          # reversed by original msg ID
    assert ("2601",) == tuple(c[0] for c in gateway.calls if c[0] == "2601")
    fresh.lock_charges(no, "護士")
    fresh.schedule_discharge(no, DAY)
    assert fresh.settle(no)["total_fen"] == 830000


def test_lost_reply_is_resolved_by_query(svc, gateway):
    no = admitted(svc, 1, deposit=500000)
    charge_resident(svc, no)
    ready_to_settle(svc, no)
    gateway.lose_reply_next.add("settle")
    s = svc.settle(no)                                     # the reply was lost; the query found it
    assert s["state"] == "recorded" and s["refund_due_fen"] == 163000


def test_platform_down_before_settling_leaves_nothing_half_done(svc, gateway):
    no = admitted(svc, 1, deposit=500000)
    charge_resident(svc, no)
    ready_to_settle(svc, no)
    gateway.fail_next.add("settle")
    with pytest.raises(GatewayUnavailable) as exc:
        svc.settle(no)
    assert exc.value.code == "insurance_unavailable"
    states = [r[0] for r in svc.conn.execute("SELECT state FROM hosp_settlements")]
    assert states == ["failed"] and svc.discharge_state(no) == "scheduled"
    assert svc.account(no)["settle_fen"] == 0
    gateway.fail_next.update({"settle", "query"})          # platform down and the query too: in doubt
    with pytest.raises(GatewayUnavailable):
        svc.settle(no)
    assert svc.recover() == {"KTEST-000002": "failed"}     # later the platform says: nothing happened
    s = svc.settle(no)
    assert s["state"] == "recorded"


def test_platform_rejection_fails_the_intent(svc, gateway):
    no = admitted(svc, 1, deposit=500000)
    charge_resident(svc, no)
    ready_to_settle(svc, no)
    orig = gateway.upload_fees
    gateway.upload_fees = lambda *a, **k: None             # details never reach the platform
    with pytest.raises(GatewayRejected):
        svc.settle(no)
    gateway.upload_fees = orig
    assert [r[0] for r in svc.conn.execute("SELECT state FROM hosp_settlements")] == ["failed"]
    assert svc.settle(no)["state"] == "recorded"


def test_cancellation_interrupted_is_finished_by_recovery(svc, gateway, store):
    no = admitted(svc, 1, deposit=500000)
    charge_resident(svc, no)
    ready_to_settle(svc, no)
    s = svc.settle(no)
    gateway.fail_next.add("cancel_settlement")             # the platform is down for the reversal
    with pytest.raises(GatewayUnavailable):
        svc.cancel_settlement(no, "費用有誤")
    st = store.conn.execute("SELECT state, cancel_msg_id FROM hosp_settlements").fetchone()
    assert st[0] == "cancelling" and st[1]
    assert svc.discharge_state(no) == "settled" and not gateway.settlements[s["msg_id"]].cancelled
    with pytest.raises(HospitalTransitionError):
        svc.settle(no)                                     # a second settlement is refused meanwhile
    assert svc.recover() == {s["settlement_no"]: "cancelled"}
    assert gateway.settlements[s["msg_id"]].cancelled and svc.discharge_state(no) == "scheduled"
    assert svc.account(no)["ledger_balance_fen"] == 500000
    assert kinds(store)[-2:] == ["hospital.settlement.cancelling", "hospital.settlement.cancelled"]
