"""The sync bench's pull fan-in runs end to end on a few kiosks: the real server on PostgreSQL, the
client in its own process, the bare uvicorn baseline answering a real pull's bytes (the full run
of 200 kiosks is for docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sync_support import pg_available, skip_or_fail_pg

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.postgres
def test_pull_fan_in_smoke(tmp_path):
    if not pg_available():
        skip_or_fail_pg()
    out = subprocess.run([sys.executable, "bench/bench_sync.py", "--pull-only", "--kiosks", "12", "--rounds", "1",
                          "--workers", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout)
    for side in ("ours", "static"):
        assert got[side]["errors"] == 0
        assert 0 < got[side]["p50"] <= got[side]["p95"] <= got[side]["p99"]
        assert got[side]["client_cpu"] > 0
    assert got["sql"]["p50"] > 0
