"""The disk fills up while the terminal is charging the card: the payment is *in doubt* (the
patient goes to the counter), never "internal error", and recovery finds the charge once space
is back. The store lives on a real, small tmpfs that a filler file fills up."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess
import time
import uuid

import pytest

from drivers.errors import PaymentInDoubt
from pos.payments import PaymentService
from pos.store import Store

from .conftest import onestop_cmd
from .zvt_sim_helpers import charges, sim_terminal


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m,mode=0700", f"tmpfs-{uuid.uuid4().hex[:8]}",
                        str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        why = f"cannot mount a tmpfs (needs root): {r.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(why + " (CI=true: the disk-full tests must run)")
        pytest.skip(why)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(mnt) -> str:
    """Write a filler file until the file system refuses (ENOSPC)."""
    path = os.path.join(mnt, "filler")
    chunk = b"\0" * 65536
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                os.write(fd, chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                chunk = chunk[:len(chunk) // 2]
                if not chunk:
                    return path
    finally:
        os.close(fd)


def state_of(store_path: str) -> str | None:
    try:
        con = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True, timeout=1)
        try:
            row = con.execute("SELECT state FROM payment_attempts ORDER BY created_at DESC LIMIT 1").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def test_pay_command_reports_in_doubt_when_the_disk_fills_during_the_pin(tmp_path, onestop_env, small_disk):
    env = dict(onestop_env, ONESTOP_STORE=str(small_disk / "store.sqlite"))
    store_path = env["ONESTOP_STORE"]
    with sim_terminal(tmp_path / "sim", "tcp") as (sim, url):
        first = subprocess.run(onestop_cmd() + ["pay", "1.00", "--terminal", url, "--json"], env=env,
                               capture_output=True, text=True, timeout=60)
        assert first.returncode == 0, first.stderr
        sim.script.push({"action": "approve", "pin_delay": 1.5})   # under T4 (2 s)
        proc = subprocess.Popen(onestop_cmd() + ["pay", "5.00", "--terminal", url, "--json"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while state_of(store_path) not in ("sent", "waiting_card") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state_of(store_path) in ("sent", "waiting_card")
        filler = fill(small_disk)                      # the PIN is still being entered
        out, err = proc.communicate(timeout=60)
        assert [e["amount_fen"] for e in charges(sim)] == [100, 500], (out, err)   # the card was charged
        assert proc.returncode == 1, (out, err)
        doc = json.loads(out)
        assert doc["status"] == "in_doubt" and doc["amount_fen"] == 500
        assert "full" in doc["reason"] and "counter" in doc["message"]
        assert "internal error" not in err and "Traceback" not in err
        # space comes back: recovery asks the terminal and books the charge, once
        os.unlink(filler)
        rec = subprocess.run(onestop_cmd() + ["pay", "recover", "--terminal", url, "--json"], env=env,
                             capture_output=True, text=True, timeout=60)
        assert rec.returncode == 0, rec.stderr
        (item,) = json.loads(rec.stdout)["recovered"]
        assert item["action"] == "approved" and item["state"] == "posted" and item["amount_fen"] == 500
        assert [e["amount_fen"] for e in charges(sim)] == [100, 500]


def test_service_raises_in_doubt_not_a_store_error(tmp_path, small_disk):
    """The path the kiosk and the counter take: PaymentService raises PaymentInDoubt (which the
    flows turn into "please go to the counter"); a new payment waits until the first is recovered."""
    store = Store(str(small_disk / "svc.sqlite"))
    filler = []
    with sim_terminal(tmp_path / "sim", "pty") as (sim, url):
        svc = PaymentService(store)
        assert svc.pay(100, terminal_url=url, account="A").status == "posted"
        sim.script.push({"action": "approve", "pin_delay": 0.5})

        def on_status(msg):
            if msg.message_id.startswith("Enter your PIN") and not filler:
                filler.append(fill(small_disk))

        with pytest.raises(PaymentInDoubt) as err:
            svc.pay(700, terminal_url=url, account="B", on_status=on_status)
        assert "full" in str(err.value) and err.value.user_message.endswith("charged twice.")
        assert [e["amount_fen"] for e in charges(sim)] == [100, 700]
        os.unlink(filler[0])
        report = svc.recover()
        assert [(r["action"], r["state"], r["amount_fen"]) for r in report] == [("approved", "posted", 700)]
        assert [e["amount_fen"] for e in charges(sim)] == [100, 700]
    store.close()
