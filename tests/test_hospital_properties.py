"""Property tests: random sequences of deposits, charges, reversals, refunds and a settlement.

Invariants:
* the ledger balances to the fen: deposits − refunds − self-pay = refund due − amount owed;
* the refund due and the amount to collect are never both non-zero;
* the pooled part never exceeds what is left of the annual cap;
* no charge is accepted after the lock;
* after the refund or the collection the ledger balance is exactly 0.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pos.hospital import demo
from pos.hospital.errors import ChargesLocked, RefundTooLarge
from pos.hospital.gateway import PersonInfo
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.policy import load_policy
from pos.hospital.records import Payment
from pos.hospital.service import HospitalService
from pos.store import Store
from tests._hospital import Clock, person

POLICY = load_policy()

op = st.one_of(
    st.tuples(st.just("deposit"), st.integers(1, 2_000_000)),
    st.tuples(st.just("charge"), st.sampled_from([f[0] for f in demo.FEES]), st.integers(0, 500_000),
              st.integers(1, 5_000)),
    st.tuples(st.just("reverse"), st.integers(0, 50)),
    st.tuples(st.just("refund"), st.integers(1, 1_000_000)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op, max_size=25), who=st.integers(0, 3), pooled_used=st.integers(0, 20_000_000),
       ded_used=st.integers(0, 100_000), late_charge=st.booleans())
def test_random_stays_balance_to_the_fen(ops, who, pooled_used, ded_used, late_charge):
    with tempfile.TemporaryDirectory() as d:
        store = Store(Path(d) / "s.sqlite", device_id="KPROP")
        try:
            gw = SimGateway(POLICY)
            svc = HospitalService(store, POLICY, gw, clock=Clock())
            demo.seed(svc, gw)
            name, _s, _b, idno, scheme, member, *_ = demo.PEOPLE[who]
            gw.members[idno] = PersonInfo(member, name, idno, scheme, ded_used, pooled_used)
            rec = person(who)
            no = svc.register_admission(svc.find_notice_for_identity(rec)["notice_no"], rec)["inpatient_no"]
            svc.record_deposit(no, Payment(1000))
            deposits, refunds, charges = 1000, 0, []
            for o in ops:
                if o[0] == "deposit":
                    svc.record_deposit(no, Payment(o[1]))
                    deposits += o[1]
                elif o[0] == "charge":
                    c = svc.add_charge(no, o[1], o[3], unit_price_fen=o[2], service_date="2026-03-01")
                    charges.append(c)
                elif o[0] == "reverse" and charges:
                    c = charges[o[1] % len(charges)]
                    if c.get("reversed") or c["reverses_id"]:
                        continue
                    c["reversed"] = True
                    charges.append(svc.reverse_charge(no, c["id"]))
                elif o[0] == "refund":
                    avail = deposits - refunds - sum(c["amount_fen"] for c in charges)
                    try:
                        svc.refund(no, o[1])
                        refunds += o[1]
                        assert o[1] <= avail
                    except RefundTooLarge:
                        assert o[1] > avail
            total = sum(c["amount_fen"] for c in charges)
            svc.print_wristband(no)
            svc.assign_bed(no, svc.free_beds(svc.admission(no)["ward_code"])[0])
            svc.confirm_identity(no, "n")
            svc.order_discharge(no, summary="s", ebill_no="e")
            assert svc.lock_charges(no, "n") == total
            if late_charge:
                try:
                    svc.add_charge(no, "B001", 1000, unit_price_fen=4500)
                    raise AssertionError("a charge was accepted after the lock")
                except ChargesLocked:
                    pass
            svc.schedule_discharge(no, svc.today())
            pre = svc.pre_settle(no)
            s = svc.settle(no)
            assert s["total_fen"] == total == s["pooled_fen"] + s["selfpay_fen"]
            assert (s["pooled_fen"], s["selfpay_fen"]) == (pre.split.pooled_fen, pre.split.selfpay_fen)
            cap = POLICY.rule(scheme, "tertiary").cap_fen
            assert 0 <= s["pooled_fen"] <= max(0, cap - pooled_used)
            # deposits − refunds − self-pay = refund due − amount owed
            assert deposits - refunds - s["selfpay_fen"] == s["refund_due_fen"] - s["collect_due_fen"]
            assert s["refund_due_fen"] == 0 or s["collect_due_fen"] == 0
            assert (s["refund_due_fen"], s["collect_due_fen"]) == (pre.refund_due_fen, pre.collect_due_fen)
            if s["refund_due_fen"]:
                svc.refund(no, s["refund_due_fen"])
            elif s["collect_due_fen"]:
                svc.collect(no, Payment(s["collect_due_fen"]))
            acct = svc.account(no)
            assert acct["ledger_balance_fen"] == 0
            assert svc.discharge_state(no) == "balanced"
            svc.print_settlement_list(no)
            svc.discharge(no)
        finally:
            store.close()
