"""``onestop print ...`` run as a subprocess against the virtual printer over TCP."""

from __future__ import annotations

import socket
import subprocess

import pytest

from drivers.sim.printer import VirtualPrinter

from .conftest import onestop_cmd


def run(args, env):
    return subprocess.run(onestop_cmd() + args, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def vp(artifacts):
    with VirtualPrinter(out_dir=artifacts / "printer-cli") as p:
        yield p


def _one_clear_line(r):
    assert r.returncode == 2, r
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("onestop print:"), r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    return lines[0]


def test_print_test_page_ok_then_journal_and_reprint(vp, onestop_env):
    url = f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80"
    r = run(["print", "test", "--printer", url], onestop_env)
    assert r.returncode == 0, r.stderr
    doc = vp.wait_docs(1)[0]
    assert "简体：预交金收款收据" in doc.text and doc.qr_codes == ["onestop test page"] and doc.cut
    assert "Profile: cn80" in doc.text
    job_id = r.stdout.split("job ")[1].split()[0]
    j = run(["print", "journal"], onestop_env)
    assert j.returncode == 0 and job_id in j.stdout and "printed" in j.stdout
    again = run(["print", "retry", job_id], onestop_env)
    assert "already printed" in _one_clear_line(again)
    rp = run(["print", "reprint", job_id[:24]], onestop_env)
    assert rp.returncode == 0, rp.stderr
    assert "副本 COPY #1" in vp.wait_docs(2)[1].text


def test_print_test_label_printer(vp, onestop_env):
    r = run(["print", "test", "--role", "label_printer", "--printer", f"zpl+tcp://127.0.0.1:{vp.port}"],
            onestop_env)
    assert r.returncode == 0, r.stderr
    label = vp.wait_docs(1)[0]
    assert label.barcodes == [("CODE128", "TEST-0123456789")] and label.qr_codes == ["onestop test label"]


@pytest.mark.parametrize("state,word", [({"paper_out": True}, "paper out"), ({"offline": True}, "offline"),
                                         ({"cover_open": True}, "cover open")])
def test_print_test_faults_give_one_line(vp, onestop_env, state, word):
    vp.set_state(**state)
    r = run(["print", "test", "--printer", f"escpos+tcp://127.0.0.1:{vp.port}"], onestop_env)
    assert word in _one_clear_line(r)
    assert vp.docs == []


def test_print_test_unreachable(onestop_env):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = run(["print", "test", "--printer", f"escpos+tcp://127.0.0.1:{port}"], onestop_env)
    assert "cannot reach printer" in _one_clear_line(r)


def test_print_test_bad_url(onestop_env):
    r = run(["print", "test", "--printer", "escpos+tcp://127.0.0.1:9100?profile=nope"], onestop_env)
    assert r.returncode == 2 and "unknown printer profile" in r.stderr and "Traceback" not in r.stderr


def test_silent_printer_job_is_uncertain_and_retry_never_sends_a_second_original(onestop_env, artifacts):
    with VirtualPrinter(out_dir=artifacts / "print-cli-silent", silent_after_cut=True) as vp:
        url = f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80"
        r = run(["print", "test", "--printer", url], onestop_env)
        assert r.returncode == 2 and "may have printed" in r.stderr and "Traceback" not in r.stderr
        assert [d.cut for d in vp.wait_docs(1)] == [True]
        job_id = r.stderr.split("job ")[1].split()[0]
        j = run(["print", "journal"], onestop_env)
        assert job_id in j.stdout and "UNCERTAIN" in j.stdout
        vp.wake()
        again = run(["print", "retry", job_id], onestop_env)
        assert again.returncode == 2 and "may have printed" in _one_clear_line(again)
        assert len(vp.docs) == 1                                   # no second original
        rp = run(["print", "reprint", job_id], onestop_env)
        assert rp.returncode == 0 and "副本 COPY #1" in vp.wait_docs(2)[1].text
        nb = run(["print", "not-printed", job_id, "--by", "tech 3"], onestop_env)
        assert nb.returncode == 0, nb.stderr
        ok = run(["print", "retry", job_id], onestop_env)
        assert ok.returncode == 0 and "副本" not in vp.wait_docs(3)[2].text


def test_kill_9_during_a_print_leaves_an_uncertain_job_found_at_the_next_start(onestop_env):
    """The process is SIGKILLed while its job is being sent; the next onestop print command
    recovers the journal at start-up: the job is UNCERTAIN, never sent again as an original."""
    import os
    import signal
    import sqlite3
    import time

    hold = socket.create_server(("127.0.0.1", 0))       # a printer that takes the connection, then stalls
    url = f"escpos+tcp://127.0.0.1:{hold.getsockname()[1]}?profile=cn80"
    proc = subprocess.Popen(onestop_cmd() + ["print", "test", "--printer", url], env=onestop_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    conn, _ = hold.accept()
    state = None
    deadline = time.monotonic() + 30
    while state != "printing" and time.monotonic() < deadline:
        try:
            db = sqlite3.connect(f"file:{onestop_env['ONESTOP_STORE']}?mode=ro", uri=True, timeout=1)
            row = db.execute("SELECT state FROM print_jobs").fetchone()
            db.close()
            state = row[0] if row else None
        except sqlite3.Error:
            pass
        time.sleep(0.01)
    assert state == "printing"
    assert conn.recv(16)                                 # the status query (bytes reached the printer)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    conn.close()
    hold.close()
    j = run(["print", "journal"], onestop_env)
    assert j.returncode == 0
    assert "interrupted while printing and is now UNCERTAIN" in j.stderr
    (line,) = [ln for ln in j.stdout.splitlines() if "test_page" in ln]
    assert "failed" in line and "UNCERTAIN" in line
    job_id = line.split()[0]
    again = run(["print", "retry", job_id], onestop_env)
    assert again.returncode == 2 and "may have printed" in _one_clear_line(again)
