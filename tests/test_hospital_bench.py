"""The domain bench runs end to end on a tiny store (the full 5M-line run is for docs/performance.md)."""

from __future__ import annotations

import re

from bench.bench_domain import main


def test_bench_domain_smoke(capsys):
    assert main(["--lines", "3000", "--samples", "10", "--rounds", "2", "--beds", "30", "--settles", "3", "--no-write"]) == 0
    out = capsys.readouterr().out
    assert "3,000 charge lines" in out
    ratios = [float(r) for r in re.findall(r"\*\*([0-9.]+)×\*\*", out)]
    assert len(ratios) == 3 and all(r > 0 for r in ratios)
