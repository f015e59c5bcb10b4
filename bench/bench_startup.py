"""Cold start to the first rendered frame of the kiosk, and its peak RSS, each as a ratio to a
minimal Kivy app with one Label started the same way in the same run (goal: at most 1.5x).

Both run as fresh processes with SDL's offscreen driver, alternating, several rounds; the median
of each is reported. "Cold" means a new process; the OS file cache is warm for both alike. CPU time to the first frame
is reported beside wall time because it is steadier when other work shares the machine.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, write_section  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))


def run(cmd, env) -> tuple[float, int, float, float | None, int | None, float | None]:
    t0 = time.time()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not line:
        raise SystemExit(f"{cmd} failed: {out.stderr[-2000:]}")
    rep = json.loads(line[-1])
    ready = rep.get("ready")
    if ready is not None and not rep.get("store_ok", True):
        raise SystemExit(f"{cmd}: the store did not open")
    return (rep["first_frame"] - t0, rep["maxrss_kb"], rep["cpu_s"], None if ready is None else ready - t0,
            rep.get("ready_maxrss_kb"), rep.get("ready_cpu_s"))


def main() -> None:
    tmp = tempfile.mkdtemp(prefix="onestop-bench-")
    env = dict(os.environ, SDL_VIDEODRIVER="offscreen", KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1",
               KIVY_LOG_MODE="PYTHON", KCFG_GRAPHICS_WIDTH="1280", KCFG_GRAPHICS_HEIGHT="800",
               ONESTOP_DATA_DIR=tmp, ONESTOP_LOG_DIR=tmp)
    kiosk = [sys.executable, "-m", "kiosk.cli", "demo", "--size", "1280x800", "--first-frame-report"]
    base = [sys.executable, str(ROOT / "bench" / "minimal_app.py")]
    run(kiosk, env)  # first run extracts the CJK faces into the cache; not a start-up cost
    k_t, k_m, k_c, b_t, b_m, b_c, r_t, r_m, r_c = [], [], [], [], [], [], [], [], []
    for _ in range(ROUNDS):
        t, m, c, *_ = run(base, env)
        b_t.append(t), b_m.append(m), b_c.append(c)
        t, m, c, rt, rm, rc = run(kiosk, env)
        k_t.append(t), k_m.append(m), k_c.append(c), r_t.append(rt), r_m.append(rm), r_c.append(rc)
    kt, bt = statistics.median(k_t), statistics.median(b_t)
    km, bm = statistics.median(k_m), statistics.median(b_m)
    kc, bc = statistics.median(k_c), statistics.median(b_c)
    rt, rm, rc = statistics.median(r_t), statistics.median(r_m), statistics.median(r_c)
    load = os.getloadavg()[0]
    write_section("startup", f"""
## Kiosk start-up (issue 2)

Cold start (new process), SDL offscreen at 1280×800, median of {ROUNDS} alternating rounds, load
average {load:.1f} at the end (2 cores shared by 7 engineers). Baseline: `bench/minimal_app.py`,
one Kivy Label, to its first frame. The headline is **ready for a patient**: the first frame is on
the screen, the store is open (migrations, services) and every configured device has been probed
once (in the demo: after the simulated devices have started). The first frame alone is beside it;
the store, the device monitor and the simulated devices start after it, and the printing stack is
warmed after it, so it flatters the kiosk.

| | baseline (1 Label, first frame) | kiosk (`onestop demo`) | ratio | goal |
|---|---|---|---|---|
| **time to ready for a patient** | {bt * 1000:.0f} ms | {rt * 1000:.0f} ms | **{rt / bt:.2f}×** | – |
| CPU time (user+sys) to ready | {bc * 1000:.0f} ms | {rc * 1000:.0f} ms | **{rc / bc:.2f}×** | (steadier under load) |
| peak RSS at ready | {bm / 1024:.0f} MiB | {rm / 1024:.0f} MiB | **{rm / bm:.2f}×** | |
| time to first frame | {bt * 1000:.0f} ms | {kt * 1000:.0f} ms | {kt / bt:.2f}× | ≤ 1.5× |
| CPU time to first frame | {bc * 1000:.0f} ms | {kc * 1000:.0f} ms | {kc / bc:.2f}× | |
| peak RSS at first frame | {bm / 1024:.0f} MiB | {km / 1024:.0f} MiB | {km / bm:.2f}× | ≤ 1.5× |

From first frame to ready the kiosk spends {(rt - kt) * 1000:.0f} ms (median): opening the store and
building its services, starting the demo's simulated devices, and one probe of each device.
""")


if __name__ == "__main__":
    main()
