"""Self-service discharge and top-up flows against the simulators (ZVT over TCP, printers over TCP)."""

import datetime as dt

import pytest

from pos.flows.discharge import DischargeFlow
from pos.flows.topup import TopupFlow
from pos.hospital.demo import PEOPLE
from pos.hospital.records import IdentityRecord

from .test_flow_checkin import read_card, site, world  # noqa: F401 - fixtures
from kiosk.demo_env import demo_cards
from pos.flows.checkin import CheckinFlow


def check_in(world, site, person):
    flow = CheckinFlow(site, operator_id="KDEMO")
    flow.identified(read_card(world, site, demo_cards()[person]))
    flow.confirm()
    flow.pay()
    flow.print_documents()
    return flow.admission["inpatient_no"]


def stay(site, no, ward, charges):
    h = site.hospital
    h.assign_bed(no, h.free_beds(ward)[0])
    h.confirm_identity(no, "护士长")
    day = dt.date.today().isoformat()
    for code, price in charges:
        h.add_charge(no, code, 1000, unit_price_fen=price, service_date=day, department=ward)
    h.order_discharge(no, summary="好转出院", ebill_no="EB-1")
    h.lock_charges(no, "护士长")
    h.schedule_discharge(no, (dt.date.today() + dt.timedelta(days=1)).isoformat())


def test_discharge_refunds_the_surplus_to_the_original_card(world, site):
    no = check_in(world, site, 1)               # 王喆 pays 5,000.00 by card
    stay(site, no, PEOPLE[1][8], [("B001", 4500), ("L020", 9800), ("D901", 18600)])
    flow = DischargeFlow(site, operator_id="KDEMO")
    assert flow.identified(read_card(world, site, demo_cards()[1])) == "review"
    assert flow.pre.refund_due_fen > 0 and flow.pre.collect_due_fen == 0
    flow.settle()
    assert flow.refund_due_fen == flow.pre.refund_due_fen
    assert flow.void_receipts, "the deposit receipts were taken back"
    out = flow.balance()
    assert out.public_status == "approved" and flow.state == "printing"
    entries = world.terminal_sim.ledger.entries()
    sales = sum(e["amount_fen"] for e in entries if e.get("kind") == "sale")
    refunds = sum(e["amount_fen"] for e in entries if e.get("kind") == "refund")
    assert refunds == flow.refund_due_fen and sales - refunds == flow.settlement["selfpay_fen"]
    assert flow.finish() == []
    assert site.hospital.admission(no)["state"] == "discharged"
    docs = world.receipt_printer.wait_docs(3)
    assert any(flow.settlement["settlement_no"] in str(d) for d in docs)


def test_discharge_collects_a_shortfall_on_the_card(world, site):
    no = check_in(world, site, 3)               # 张𠀀 pays 1,000.00
    stay(site, no, PEOPLE[3][8], [("I001", 28000)] * 3 + [("D901", 18600)] * 4)
    flow = DischargeFlow(site, operator_id="KDEMO")
    assert flow.identified(inpatient_no=no) == "review"
    flow.settle()
    assert flow.collect_due_fen > 0 and flow.refund_due_fen == 0
    flow.balance()
    assert flow.state == "printing"
    acct = site.hospital.account(no)
    assert acct["ledger_balance_fen"] == 0
    flow.finish()
    assert flow.state == "done"


def test_discharge_not_ready_until_scheduled(world, site):
    no = check_in(world, site, 2)
    flow = DischargeFlow(site, operator_id="KDEMO")
    assert flow.identified(inpatient_no=no) == "not_ready"
    assert DischargeFlow(site, operator_id="K").identified(inpatient_no="ZY-NOPE") == "not_admitted"


def test_top_up_by_wristband_barcode(world, site):
    no = check_in(world, site, 0)
    flow = TopupFlow(site, operator_id="KDEMO")
    assert flow.identified(inpatient_no=no) == "amount"
    before = flow.balance["deposit_fen"]
    flow.adjust(+1)
    flow.pay()
    assert flow.state == "printing"
    assert flow.print_documents() == []
    assert site.hospital.account(no)["deposit_fen"] == before + 110000


def test_daily_list_any_day_and_print(world, site):
    from pos.flows.daily import DailyListFlow

    no = check_in(world, site, 0)
    h = site.hospital
    today = dt.date.fromisoformat(h.today())
    h.add_charge(no, "L010", 1000, unit_price_fen=2500, service_date=(today - dt.timedelta(days=1)).isoformat(),
                 department="CARD")
    h.add_charge(no, "B001", 1000, unit_price_fen=4500, service_date=today.isoformat(), department="CARD")
    flow = DailyListFlow(site, operator_id="KDEMO")
    assert flow.identified(read_card(world, site, demo_cards()[0])) == "list"
    assert flow.day == today.isoformat() and flow.daily.day_total_fen == 4500
    flow.step(-1)
    assert flow.daily.day_total_fen == 2500 and [i.fee_code for i in flow.daily.items] == ["L010"]
    flow.step(-30)                       # kept within the stay
    assert flow.day == flow.first_day
    assert flow.print() == []
    doc = world.receipt_printer.wait_docs(3)[-1]
    assert "血常规" in str(doc) or "血常规" in str(doc)


def test_surplus_goes_back_over_several_card_deposits(world, site):
    no = check_in(world, site, 0)               # 张三: 3,000.00 by card at check-in
    top = TopupFlow(site, operator_id="KDEMO")  # and 1,000.00 more by card
    top.identified(inpatient_no=no)
    top.pay()
    top.print_documents()
    stay(site, no, PEOPLE[0][8], [("B001", 4500)])
    flow = DischargeFlow(site, operator_id="KDEMO")
    flow.identified(inpatient_no=no)
    flow.settle()
    due = flow.refund_due_fen
    assert due > 300000                          # more than the newest single payment holds
    flow.balance()
    assert flow.state == "printing" and len(flow.refunds) == 2
    # the newest payment (1,000.00) given back whole is reversed on the terminal, the rest refunded
    refunds = [e["amount_fen"] for e in world.terminal_sim.ledger.entries()
               if e.get("kind") in ("refund", "reversal") and e.get("result") == "approved"]
    assert sum(refunds) == due and max(refunds) <= 300000
    assert site.hospital.account(no)["ledger_balance_fen"] == 0
    flow.finish()
    assert site.hospital.admission(no)["state"] == "discharged"
