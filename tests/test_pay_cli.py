"""``onestop pay`` as a user runs it (a subprocess) against the simulated terminal."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.commands.pay import yuan_to_fen
from pos.payments import InvalidAmount, PaymentService
from pos.store import Store

from .conftest import onestop_cmd
from .zvt_sim_helpers import TRANSPORTS, sim_terminal

KEYS = ["status", "amount_fen", "attempt_id", "receipt_no", "trace_no", "terminal_id", "auth_code", "card"]


def run(args, env):
    return subprocess.run(onestop_cmd() + args, env=env, capture_output=True, text=True, timeout=60)


def one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_pay_json_exact_shape(tmp_path, onestop_env, transport):
    with sim_terminal(tmp_path / "sim", transport) as (sim, url):
        r = run(["pay", "500.00", "--terminal", url, "--json"], onestop_env)
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert list(doc) == KEYS
        assert doc["status"] == "approved" and doc["amount_fen"] == 50000
        assert doc["receipt_no"] == "0001" and doc["trace_no"] == "000001" and doc["terminal_id"] == "52500001"
        assert doc["auth_code"] == "A00001"
        assert doc["card"] == {"masked_pan": "621234******1232", "brand": "UnionPay"}
        sim.script.push("decline")
        r = run(["pay", "0.30", "--terminal", url, "--json"], onestop_env)
        assert r.returncode == 1
        assert json.loads(r.stdout)["status"] == "declined" and json.loads(r.stdout)["amount_fen"] == 30
        sim.script.push("abort")
        r = run(["pay", "1", "--terminal", url, "--json"], onestop_env)
        assert json.loads(r.stdout)["status"] == "aborted" and json.loads(r.stdout)["card"] is None
    assert [e["amount_fen"] for e in sim.ledger.entries() if e["result"] == "approved"] == [50000]


def test_unreachable_and_busy_terminal_one_clear_line(tmp_path, onestop_env):
    r = run(["pay", "5.00", "--terminal", "zvt+tcp://127.0.0.1:1?timeout=0.5", "--json"], onestop_env)
    assert r.returncode == 2 and r.stdout == ""
    assert "unreachable" in one_line(r.stderr)
    with sim_terminal(tmp_path / "sim", "tcp") as (sim, url):
        sim.busy.acquire()
        try:
            r = run(["pay", "5.00", "--terminal", url, "--json"], onestop_env)
        finally:
            sim.busy.release()
    assert r.returncode == 2 and "busy" in one_line(r.stderr)


@pytest.mark.parametrize("bad", ["-1.00", "1.005"])
def test_bad_amounts(onestop_env, bad):
    r = run(["pay", bad, "--terminal", "zvt+tcp://127.0.0.1:1", "--json"], onestop_env)
    assert r.returncode == 2
    one_line(r.stderr)


def test_recover_and_end_of_day(tmp_path, onestop_env):
    class Crash(BaseException):
        pass

    with sim_terminal(tmp_path / "sim", "tcp") as (sim, url):
        store = Store(onestop_env["ONESTOP_STORE"])
        svc = PaymentService(store)

        def probe(step):
            if step == "result":
                raise Crash()

        svc.probe = probe
        with pytest.raises(Crash):
            svc.pay(8800, terminal_url=url, account="ZY-5")
        store.close()
        r = run(["pay", "recover", "--json"], onestop_env)
        assert r.returncode == 0, r.stderr
        (item,) = json.loads(r.stdout)["recovered"]
        assert item["action"] == "approved" and item["state"] == "posted" and item["amount_fen"] == 8800
        r = run(["pay", "recover", "--json"], onestop_env)
        assert json.loads(r.stdout) == {"recovered": []}
        r = run(["pay", "end-of-day", "--terminal", url], onestop_env)
        assert r.returncode == 0, r.stderr
        assert "1 transactions, total 88.00" in r.stdout
        r = run(["pay", "queue", "--json"], onestop_env)
        assert json.loads(r.stdout) == {"queue": []}


def test_refund_and_reverse_from_the_command_line(tmp_path, onestop_env):
    with sim_terminal(tmp_path / "sim", "tcp") as (sim, url):
        sale = json.loads(run(["pay", "100.00", "--terminal", url, "--json"], onestop_env).stdout)
        r = run(["pay", "refund", sale["attempt_id"], "30.00", "--json"], onestop_env)
        assert r.returncode == 0 and json.loads(r.stdout)["amount_fen"] == 3000
        r = run(["pay", "refund", sale["attempt_id"], "70.01", "--json"], onestop_env)
        assert r.returncode == 2
        sale2 = json.loads(run(["pay", "20.00", "--terminal", url, "--json"], onestop_env).stdout)
        r = run(["pay", "reverse", sale2["attempt_id"], "--json"], onestop_env)
        assert r.returncode == 0 and json.loads(r.stdout)["status"] == "approved"
    kinds = [(e["kind"], e["amount_fen"]) for e in sim.ledger.entries() if e["result"] == "approved"]
    assert kinds == [("sale", 10000), ("refund", 3000), ("sale", 2000), ("reversal", 2000)]


@given(st.integers(1, 10 ** 11))
def test_yuan_to_fen_is_exact(fen):
    text = f"{Decimal(fen) / 100:.2f}"
    assert yuan_to_fen(text) == fen


def test_yuan_to_fen_refuses():
    for bad in ("0.00", "-3", "0.001", "", "inf"):
        with pytest.raises(InvalidAmount):
            yuan_to_fen(bad)
    assert yuan_to_fen("0.1") == 10 and yuan_to_fen("500") == 50000
