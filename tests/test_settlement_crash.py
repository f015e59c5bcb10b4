"""Crash safety of the insurance settlement on the generic journal (pos.journal): a child process
settles (or cancels) one stay against the simulated platform behind its HTTP interface and is
SIGKILLed at one step; a restarted service recovers, the stay is settled again where it must be,
and in the end there is exactly one live settlement, at the platform and here, with one settle
entry on the ledger.

Steps: between the intent and the platform call, between the call and its record, inside the
record's transaction, after the record; for a cancellation, between ``cancelling`` and the
platform's reversal and between the reversal and its record."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pos.hospital.errors import HospitalTransitionError
from pos.hospital.gateway import PersonInfo
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.policy import load_policy
from pos.hospital.records import IdentityRecord, Payment
from pos.hospital.service import HospitalService
from pos.store import Store
from sync.insurance import PlatformGateway, PlatformSimServer

ROOT = Path(__file__).resolve().parent.parent
Y, Q = 1_000_000, 10_000
IDNO = "110105198001010011"
CATALOGUE = {"B01": ("甲", None, None), "Y01": ("乙", 40 * Y, None)}

#: the child: open the same store, make the named step SIGKILL the process, then settle or cancel
CHILD = r"""
import os, signal, sys
from pos.hospital import discharge
from pos.hospital.policy import load_policy
from pos.hospital.service import HospitalService
from pos.store import Store
from sync.insurance import PlatformGateway

path, url, step, no = sys.argv[1:5]
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
gw = PlatformGateway(url, fixmedins_code="H1", region="110000")
svc = HospitalService(Store(path), load_policy("beijing"), gw)
settle, cancel, ledger = gw.settle, gw.cancel_settlement, HospitalService._ledger
if step == "before_call":                  # the intent is committed; 2304 never leaves
    gw.settle = lambda *a, **k: die()
elif step == "after_call":                 # the platform settled; we never heard
    gw.settle = lambda *a, **k: (settle(*a, **k), die())
elif step == "in_record":                  # inside the transaction that records it
    def _ledger(self, tx, aid, kind, *a, **k):
        if kind == "settle":
            die()
        return ledger(self, tx, aid, kind, *a, **k)
    HospitalService._ledger = _ledger
elif step == "after_record":               # recorded and committed; the caller never got the answer
    discharge.settlement = lambda *a, **k: die()
elif step == "cancel_before_call":         # cancelling committed; 2601 never leaves
    gw.cancel_settlement = lambda *a, **k: die()
elif step == "cancel_after_call":          # reversed at the platform; not recorded here
    gw.cancel_settlement = lambda *a, **k: (cancel(*a, **k), die())
if step.startswith("cancel"):
    svc.cancel_settlement(no, "charges to correct")
else:
    svc.settle(no)
print("survived")
"""


class Platform:
    def __init__(self):
        self.sim = SimGateway(load_policy("beijing"), "tertiary")
        self.sim.add_member(PersonInfo("P9", "病人", IDNO, "employee"))
        self.server = PlatformSimServer(self.sim, CATALOGUE).start()

    def gateway(self) -> PlatformGateway:
        return PlatformGateway(self.server.url, fixmedins_code="H1", region="110000")

    def live(self, visit: str) -> list:
        """The platform's settlements of ``visit`` that are not reversed."""
        return [r for m, r in self.sim.settlements.items() if self.sim.visit_of.get(m) == visit and not r.cancelled]


@pytest.fixture
def platform():
    p = Platform()
    yield p
    p.server.stop()


class Site:
    """The store file, the service of the first run and, after the kill, of the restarted one."""

    def __init__(self, path: Path, platform: Platform):
        self.path, self.platform, self.opened = path, platform, []
        self.svc, self.store = self.start()

    def start(self) -> tuple[HospitalService, Store]:
        gw, store = self.platform.gateway(), Store(self.path)
        self.opened += [store, gw]
        return HospitalService(store, load_policy("beijing"), gw), store

    def close(self) -> None:
        for x in reversed(self.opened):
            x.close()


@pytest.fixture
def site(tmp_path, platform):
    s = Site(tmp_path / "site.sqlite", platform)
    yield s
    s.close()


def stay_ready(svc: HospitalService) -> str:
    svc.add_ward("W", "病區", 1, beds=["01"])
    svc.add_fee_item("B01", "床位", "甲")
    svc.add_fee_item("Y01", "藥品", "乙")
    n = svc.record_notice(patient_name="病人", id_number=IDNO, ward_code="W", suggested_deposit_fen=0)
    no = svc.register_admission(n["notice_no"], IdentityRecord("counter", "病人", IDNO))["inpatient_no"]
    svc.record_deposit(no, Payment(300000))
    svc.print_wristband(no)
    svc.assign_bed(no, "01")
    svc.confirm_identity(no, "n")
    svc.add_charge(no, "B01", price_uyuan=10000 * Y, qty_e4=Q)
    svc.add_charge(no, "Y01", price_uyuan=30 * Y, qty_e4=2 * Q)
    svc.order_discharge(no, summary="s", ebill_no="e")
    svc.lock_charges(no, "n")
    svc.schedule_discharge(no, "2026-12-31")
    return no


def kill_at(path: Path, url: str, step: str, no: str) -> None:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), url, step, no], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, (step, proc.returncode, proc.stdout, proc.stderr[-2000:])


def states(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT state FROM hosp_settlements ORDER BY id")]


def settle_entries(store: Store) -> int:
    """Settle entries not undone by an unsettle entry (the ledger is append-only)."""
    n = dict(store.conn.execute("SELECT kind, count(*) FROM hosp_ledger WHERE kind IN ('settle', 'unsettle') "
                                "GROUP BY kind").fetchall())
    return n.get("settle", 0) - n.get("unsettle", 0)


#: step -> what recovery answers for the settlement the crash left, and whether the stay must be
#: settled again afterwards
SETTLE_STEPS = {
    "before_call": ("failed", True),        # the platform has nothing for that message ID
    "after_call": ("completed", False),     # 5203 finds it: recorded, not settled a second time
    "in_record": ("completed", False),      # the record rolled back with the process; the platform has it
    "after_record": (None, False),          # nothing left to recover
}


@pytest.mark.parametrize("step", list(SETTLE_STEPS))
def test_a_kill_at_each_settlement_step_recovers_to_exactly_one_settlement(site, platform, step):
    no = stay_ready(site.svc)
    expected = site.svc.pre_settle(no)
    kill_at(site.path, platform.server.url, step, no)
    assert states(site.store) == (["recorded"] if step == "after_record" else ["intent"])   # durable before the call
    fresh, store = site.start()                                                           # the restart
    outcome, again = SETTLE_STEPS[step]
    crashed = store.conn.execute("SELECT settlement_no FROM hosp_settlements").fetchone()[0]
    assert fresh.recover() == ({crashed: outcome} if outcome else {})
    assert fresh.recover() == {}                                                          # nothing left
    if again:
        fresh.settle(no)
    assert states(store)[-1] == "recorded" and states(store).count("recorded") == 1
    assert len(platform.live(no)) == 1                                                    # one at the platform
    st = fresh.settlement(store.conn.execute(
        "SELECT settlement_no FROM hosp_settlements WHERE state = 'recorded'").fetchone()[0])
    assert platform.live(no)[0].msg_id == st["msg_id"]
    assert settle_entries(store) == 1 and fresh.discharge_state(no) == "settled"
    assert (st["total_fen"], st["refund_due_fen"]) == (expected.split.total_fen, expected.refund_due_fen)
    with pytest.raises(HospitalTransitionError):
        fresh.settle(no)                                                                  # never twice
    assert len(platform.live(no)) == 1


@pytest.mark.parametrize("step", ["cancel_before_call", "cancel_after_call"])
def test_a_kill_during_cancellation_recovers_to_no_settlement_then_one(site, platform, step):
    no = stay_ready(site.svc)
    first = site.svc.settle(no)
    kill_at(site.path, platform.server.url, step, no)
    assert states(site.store) == ["cancelling"]                                           # durable before 2601
    assert len(platform.live(no)) == (1 if step == "cancel_before_call" else 0)
    fresh, store = site.start()
    assert fresh.recover() == {first["settlement_no"]: "cancelled"}
    assert platform.live(no) == [] and settle_entries(store) == 0
    assert fresh.discharge_state(no) == "scheduled" and fresh.recover() == {}
    again = fresh.settle(no)                                                              # settled anew, once
    assert states(store) == ["cancelled", "recorded"] and len(platform.live(no)) == 1
    assert platform.live(no)[0].msg_id == again["msg_id"] != first["msg_id"]
    assert settle_entries(store) == 1


def test_the_hospital_packs_start_up_hook_recovers_a_settlement_the_crash_left(site, platform):
    """What the app shell runs once the store is open (``Pack.recover``, ``kiosk.app``): a
    settlement killed after the platform settled is recorded at the next start, with no second
    settlement at the platform."""
    from types import SimpleNamespace

    from pos import packs

    no = stay_ready(site.svc)
    kill_at(site.path, platform.server.url, "after_call", no)
    fresh, store = site.start()
    hooks = {p.name: fn for p, fn in packs.hooks("recover")}
    crashed = store.conn.execute("SELECT settlement_no FROM hosp_settlements").fetchone()[0]
    assert hooks["hospital"](SimpleNamespace(hospital=fresh, store=store)) == {crashed: SETTLE_STEPS["after_call"][0]}
    assert states(store) == ["recorded"] and len(platform.live(no)) == 1
    # the next start finds nothing left, and builds no platform adapter to find it out
    assert hooks["hospital"](SimpleNamespace(store=store)) == {}
