"""The check-in bench runs end to end (one round; pcscd + vpcd, the terminal and the paced printers in
their own processes). Its own process: it spies on the driver classes to record what they send."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.pcsc_stack import PcscStack

pytestmark = pytest.mark.pcsc


def test_bench_checkin_smoke():
    reason = PcscStack.why_unavailable()
    if reason:
        pytest.skip(reason)
    out = subprocess.run([sys.executable, "bench/bench_checkin.py", "--rounds", "1", "--no-write"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    rows = re.findall(r"^\| (.+?) \| ([0-9,.]+) ms \| (-?[0-9,.]+) ms \|", out.stdout, re.M)
    steps = [r[0] for r in rows]
    assert steps[0].startswith("card in") and steps[-1].startswith("receipt + slip")
    device = {name: float(d.replace(",", "")) for name, d, _ in rows}
    # the wristband (about 15 kB at 11,520 bytes/s) makes the printing step the longest device wait
    assert device["receipt + slip ‖ wristband at 115200 baud"] > 1000
    assert re.search(r"\*\*([0-9.]+) % of device-bound\*\*", out.stdout)
