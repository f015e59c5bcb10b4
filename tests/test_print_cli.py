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
