"""Two durable commits per card payment, and a power cut at any step still recovers.

A SIGKILL (tests/test_payment_crash.py) loses nothing SQLite has committed, flushed or not. A power
cut loses what was not flushed: here the store is copied at each step as a power cut would leave
it, the WAL cut back to its length at the last flushed commit (SQLite replays a WAL as a prefix,
so that is what the disk holds), and the copy is recovered against the same terminal.
"""

from __future__ import annotations

import os
import shutil

import pytest

from pos.payments import PaymentService
from pos.store import Store

from .test_payment_crash import check_agreement
from .zvt_sim_helpers import sim_terminal


class PowerCut(BaseException):
    """Stands for the power going off at a step."""


class FlushWatch(dict):
    """Store.commits, noting the WAL's length after every flushed (durable) commit."""

    def __init__(self, store):
        super().__init__(store.commits)
        self.wal = store.path + "-wal"
        self.flushed = os.path.getsize(self.wal)

    def __setitem__(self, durable, value):
        super().__setitem__(durable, value)
        if durable:
            self.flushed = os.path.getsize(self.wal)


def _as_after_power_cut(store, watch: FlushWatch, dest) -> str:
    dest.mkdir()
    shutil.copyfile(store.path, dest / "store.sqlite")
    with open(watch.wal, "rb") as src, open(dest / "store.sqlite-wal", "wb") as out:
        out.write(src.read(watch.flushed))
    return str(dest / "store.sqlite")


def test_an_approved_payment_makes_two_durable_commits(tmp_path, store):
    with sim_terminal(tmp_path / "sim", "tcp") as (_sim, url):
        svc = PaymentService(store)
        svc.pay(100, terminal_url=url, account="ZY-0")       # learns the terminal's position
        before = dict(store.commits)
        out = svc.pay(5000, terminal_url=url, account="ZY-1")
        assert out.status == "posted"
        assert [t for _, t in svc.journal.events(out.attempt_id)] == ["intent", "sent", "waiting_card", "approved",
                                                                       "posted"]
        assert store.commits[True] - before[True] == 2
        assert store.commits[False] - before[False] == 3      # intent, waiting_card, approved


@pytest.mark.parametrize("step", ["intent", "baseline", "sent", "waiting_card", "result", "recorded", "posted"])
@pytest.mark.parametrize("first", [True, False], ids=["new-terminal", "known-terminal"])
def test_power_cut_at_any_step_recovers(tmp_path, step, first):
    with sim_terminal(tmp_path / "sim", "tcp") as (sim, url):
        store = Store(tmp_path / "store.sqlite", device_id="KPOWR")
        svc = PaymentService(store)
        if not first:
            svc.pay(100, terminal_url=url, account="ZY-0")
        watch = store.commits = FlushWatch(store)
        copy = {}

        def probe(name):
            if name == step:
                copy["path"] = _as_after_power_cut(store, watch, tmp_path / "after")
                raise PowerCut(name)

        svc.probe = probe
        with pytest.raises(PowerCut):
            svc.pay(5000, terminal_url=url, account="ZY-1")
        store.close()
        after = Store(copy["path"])
        try:
            svc2 = PaymentService(after)
            svc2.recover(url)
            check_agreement(sim.ledger, svc2)
            rows = svc2.journal.rows("amount_fen = 5000")
            charged = [e for e in sim.ledger.entries() if e.get("result") == "approved" and e["amount_fen"] == 5000]
            if charged:       # the terminal took the money: the copy books it, whatever the cut lost
                assert [r["state"] for r in rows] == ["posted"]
            else:
                assert all(r["state"] == "aborted" for r in rows)
            if step == "recorded":
                # the approval was committed but not flushed: the cut lost it, recovery found it again
                events = [t for _, t in svc2.journal.events(rows[0]["attempt_id"])]
                assert "in_doubt" in events
        finally:
            after.close()
