"""The bounded-tables bench runs end to end on a small store (the full run is for docs/performance.md)."""

from __future__ import annotations

import re

from bench.bench_tables import main


def test_bench_tables_smoke(capsys):
    assert main(["--payments", "300", "--jobs", "600", "--pays", "3", "--no-write"]) == 0
    out = capsys.readouterr().out
    assert "300 earlier card payments" in out and "600 print jobs" in out
    ratios = [float(r) for r in re.findall(r"\*\*([0-9.]+)×\*\*", out)]
    assert len(ratios) == 3 and all(r > 0 for r in ratios)
    assert re.search(r"moved 300 payments, 1,500 outbox rows and\s+600 layouts", out)
