"""The ward bench runs end to end on a small ward (the full run is for docs/performance.md)."""

from __future__ import annotations

import re

from bench.bench_ward import main


def test_bench_ward_smoke(capsys):
    assert main(["--beds", "8", "--days", "2", "--events", "50", "--rounds", "2", "--no-write"]) == 0
    out = capsys.readouterr().out
    assert "One ward of 8 beds, 6 occupied" in out and "pull of 50 events" in out
    ratios = [float(r) for r in re.findall(r"\*\*([0-9.]+)×\*\*", out)]
    assert len(ratios) == 3 and all(r > 0 for r in ratios)
    assert "6 of 6 lists on paper (2 low balance" in out
