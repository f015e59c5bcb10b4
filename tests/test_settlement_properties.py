"""Properties of the platform-model settlement (Hypothesis):

* funds + personal account + cash = total, to the fen, and each part ≥ 0;
* the per-line split adds up: 全自費 + over the cap + 乙 first + in policy = each line's amount;
* the pooled fund never pays more than the room left under the annual cap;
* refund and collection are never both non-zero;
* an uninsured patient pays everything in cash, all out of policy;
* after a random stay through the service, the printed settlement list's figures are the ledger's.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.launch import demo_config_path
from pos.config import load_config
from pos.documents.settlement import settlement_list
from pos.hospital.gateway import PersonInfo
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.ledger import rows
from pos.hospital.policy import Insured, Line, deposit_due, load_policy, settle_lines
from pos.money import parse_yuan
from pos.hospital.print_docs import DocumentPrinter
from pos.hospital.records import IdentityRecord, Payment
from pos.hospital.service import HospitalService
from pos.store import Store

POLICIES = {c: load_policy(c) for c in ("beijing", "shanghai")}

line = st.builds(
    lambda i, cat, price, qty, cap, prop: Line(f"L{i}", cat, price, qty, cap, prop),
    st.integers(0, 10**6), st.sampled_from("甲乙丙"), st.integers(0, 5_000 * 1_000_000), st.integers(1, 50_000),
    st.one_of(st.none(), st.integers(0, 2_000 * 1_000_000)), st.one_of(st.none(), st.integers(0, 1000)))
who = st.builds(Insured, st.sampled_from(["employee", "resident", "self_pay"]), st.booleans(), st.integers(0, 3),
                st.integers(0, 200_000), st.integers(0, 70_000_000), st.integers(0, 50_000_000),
                st.integers(0, 2_000_000), st.booleans())


@settings(max_examples=400, deadline=None)
@given(st.lists(line, min_size=1, max_size=12), who, st.sampled_from(sorted(POLICIES)),
       st.sampled_from(["primary", "secondary", "tertiary"]), st.integers(0, 10_000_000))
def test_engine_properties(lines, person, city, level, deposits):
    pol = POLICIES[city]
    rule = pol.rule(person.scheme, level)
    s = settle_lines(rule, lines, person)
    assert s.fund_pay_sumamt + s.acct_pay + s.psn_cash_pay == s.medfee_sumamt
    assert min(s.fund_pay_sumamt, s.acct_pay, s.psn_cash_pay, s.hifp_pay, s.act_pay_dedc) >= 0
    assert s.acct_pay <= person.acct_balance_fen and s.balc == person.acct_balance_fen - s.acct_pay
    for sp in s.lines:
        assert sp.fulamt_ownpay_amt + sp.overlmt_amt + sp.preselfpay_amt + sp.inscp_scp_amt == sp.det_item_fee_sumamt
    assert s.fulamt_ownpay_amt + s.overlmt_selfpay + s.preselfpay_amt + s.inscp_scp_amt == s.medfee_sumamt
    if rule.insured:
        assert s.hifp_pay <= max(0, rule.cap.at(None) - person.fund_paid_fen)     # the room under the cap
        assert s.act_pay_dedc <= s.inscp_scp_amt and s.hifp_pay <= s.inscp_scp_amt - s.act_pay_dedc
    else:
        assert s.psn_cash_pay == s.medfee_sumamt == s.fulamt_ownpay_amt and s.inscp_scp_amt == 0
    refund, collect = deposit_due(deposits, s.psn_cash_pay)
    assert refund == 0 or collect == 0
    assert refund - collect == deposits - s.psn_cash_pay


def parse_yuan_text(text: str) -> int:
    return parse_yuan(text.replace(",", ""))


def _figures(layout) -> dict[str, str]:
    out = {}
    for b in layout.blocks:
        if b["type"] == "columns" and len(b["cells"]) == 2:
            out[b["cells"][0]["text"]] = b["cells"][1]["text"]
    return out


op = st.one_of(st.tuples(st.just("deposit"), st.integers(1, 500_000)),
               st.tuples(st.just("charge"), st.sampled_from("甲乙丙"), st.integers(1, 2_000_000_000),
                         st.integers(1, 40_000)),
               st.tuples(st.just("refund"), st.integers(1, 300_000)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op, max_size=12), scheme=st.sampled_from(["employee", "resident", "self_pay"]),
       acct=st.integers(0, 500_000), fund_used=st.integers(0, 11_000_000), city=st.sampled_from(sorted(POLICIES)))
def test_printed_settlement_list_equals_the_ledger(ops, scheme, acct, fund_used, city):
    pol = POLICIES[city]
    with tempfile.TemporaryDirectory() as d:
        store = Store(Path(d) / "s.sqlite", device_id="KPROP")
        try:
            gw = SimGateway(pol)
            svc = HospitalService(store, pol, gw)
            svc.add_ward("W", "病區", 1, beds=["01"])
            for cat in "甲乙丙":
                svc.add_fee_item(f"F{cat}", f"項目{cat}", cat)
            idno = "110105198001010011"
            if scheme != "self_pay":
                gw.add_member(PersonInfo("P1", "甲", idno, scheme, pooled_used_fen=fund_used, acct_balance_fen=acct))
            n = svc.record_notice(patient_name="甲", id_number=idno, ward_code="W", suggested_deposit_fen=0)
            no = svc.register_admission(n["notice_no"], IdentityRecord("counter", "甲", idno))["inpatient_no"]
            svc.record_deposit(no, Payment(1000))
            for o in ops:
                if o[0] == "deposit":
                    svc.record_deposit(no, Payment(o[1]))
                elif o[0] == "charge":
                    svc.add_charge(no, f"F{o[1]}", price_uyuan=o[2], qty_e4=o[3])
                elif svc.account(no)["available_fen"] >= o[1]:
                    svc.refund(no, o[1])
            svc.print_wristband(no)
            svc.assign_bed(no, "01")
            svc.confirm_identity(no, "n")
            svc.order_discharge(no, summary="s", ebill_no="e")
            svc.lock_charges(no, "n")
            svc.schedule_discharge(no, svc.today())
            s = svc.settle(no)
            assert s["refund_due_fen"] == 0 or s["collect_due_fen"] == 0
            if s["refund_due_fen"]:
                svc.refund(no, s["refund_due_fen"])
            elif s["collect_due_fen"]:
                svc.collect(no, Payment(s["collect_due_fen"]))
            dp = DocumentPrinter(svc, None, load_config(demo_config_path()))
            f = _figures(settlement_list(dp.site, dp.settlement_data(no, "op")))
            aid = svc.admission(no)["id"]
            led = rows(svc.conn, "SELECT kind, amount_fen, settlement_id FROM hosp_ledger WHERE admission_id = ?",
                       (aid,))
            total = lambda kind, after=None: sum(r["amount_fen"] for r in led if r["kind"] == kind and (  # noqa: E731
                after is None or (r["settlement_id"] is not None) == after))
            assert parse_yuan_text(f["预交金"]) == total("deposit")
            assert parse_yuan_text(f.get("住院期间已退", "0.00")) == total("refund", after=False)
            assert parse_yuan_text(f["个人现金支付"]) == total("settle")
            assert parse_yuan_text(f["统筹支付"]) == s["pooled_fen"]
            assert parse_yuan_text(f.get("个人账户支付", "0.00")) == (s["acct_fen"] or 0)
            due = f.get("应退金额") or f.get("应补金额")
            assert parse_yuan_text(due.lstrip("¥")) == (total("refund", after=True) or total("collection"))
        finally:
            store.close()
