"""Helpers for benchmarks: each bench measures its baseline in the same run and writes its own
section of docs/performance.md (between ``<!-- bench:NAME -->`` markers), so benches can run
separately without overwriting each other."""

from __future__ import annotations

import platform
import re
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PERF = ROOT / "docs" / "performance.md"

HEADER = """# Performance

Every figure here is produced by a script in `bench/`, which measures its baseline in the same run
on the same machine and reports a ratio. Run them all with `make bench` (or one with
`.venv/bin/python bench/NAME.py`). Tests never assert on wall time.
"""


def machine() -> str:
    import os
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def timeit(fn, repeat: int = 5, number: int = 1) -> float:
    """Median seconds per call of ``fn`` over ``repeat`` rounds of ``number`` calls."""
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)


def write_section(name: str, markdown: str) -> None:
    PERF.parent.mkdir(parents=True, exist_ok=True)
    text = PERF.read_text(encoding="utf-8") if PERF.exists() else HEADER
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    block = f"<!-- bench:{name} -->\n{markdown.strip()}\n\n_Measured {stamp} on {machine()}._\n<!-- /bench:{name} -->"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    PERF.write_text(text, encoding="utf-8")
    print(markdown)
