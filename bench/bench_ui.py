"""Screen transitions and memory of the patient kiosk (issue 7), as ratios to a bare Kivy
ScreenManager with the same number of widgets, in the same process and run.

* transition time: from ``sm.current = name`` until the SlideTransition has finished;
* frame time during a transition: the time of each event-loop iteration while it runs;
* RSS growth over many simulated check-ins: the check-in flow (card on the SAM_V module, ZVT
  payment, receipt and wristband printed to the virtual printers) repeated N times with the
  kiosk's screens shown for each step; RSS after N against RSS after the first 50.

Run: ``.venv/bin/python bench/bench_ui.py [--checkins N]`` (SDL offscreen).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_CLIPBOARD", "dummy")
os.environ.setdefault("KCFG_GRAPHICS_WIDTH", "1280")
os.environ.setdefault("KCFG_GRAPHICS_HEIGHT", "800")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.common import write_section  # noqa: E402


def rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure_transitions(sm, a: str, b: str, loop, rounds: int) -> tuple[list[float], list[float]]:
    durations, frames = [], []
    for i in range(rounds):
        sm.current = b if i % 2 == 0 else a
        t0 = time.perf_counter()
        while True:
            f0 = time.perf_counter()
            loop.idle()
            frames.append(time.perf_counter() - f0)
            if not sm.transition.is_active:
                break
        durations.append(time.perf_counter() - t0)
        for _ in range(2):
            loop.idle()
    return durations, frames


def count_widgets(w) -> int:
    return 1 + sum(count_widgets(c) for c in w.children)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkins", type=int, default=int(os.environ.get("BENCH_CHECKINS", "300")))
    ap.add_argument("--rounds", type=int, default=40)
    args = ap.parse_args()

    from kivy.base import EventLoop
    from kivy.core.window import Window
    from kivy.uix.button import Button
    from kivy.uix.label import Label
    from kivy.uix.screenmanager import Screen, ScreenManager, SlideTransition

    from kiosk.demo_env import DemoWorld, demo_cards
    from kiosk.launch import demo_config_path
    from kivy_harness import start_app, stop_app
    from pos.config import load_config

    tmp = Path(tempfile.mkdtemp(prefix="onestop-bench-ui-"))
    world = DemoWorld(tmp / "world")
    ui = start_app("demo", config=world.config(load_config(demo_config_path())), store_path=str(tmp / "k.sqlite"),
                   demo_world=world)
    app = ui.app
    app.screen("identify").prepare(service="admission")
    n_home = count_widgets(app.screen("home"))
    n_ident = count_widgets(app.screen("identify"))
    ours_t, ours_f = measure_transitions(app.sm, "home", "identify", EventLoop, args.rounds)

    # baseline: a bare ScreenManager, two screens with as many plain widgets
    Window.remove_widget(app.root)
    bare = ScreenManager(transition=SlideTransition(duration=app.sm.transition.duration))
    for name, n in (("a", n_home), ("b", n_ident)):
        s = Screen(name=name)
        for i in range(n - 1):
            s.add_widget((Button if i % 3 == 0 else Label)(text=f"w{i}", size_hint=(None, None),
                                                           pos=(i * 7 % 1200, i * 13 % 700)))
        bare.add_widget(s)
    Window.add_widget(bare)
    for _ in range(5):
        EventLoop.idle()
    base_t, base_f = measure_transitions(bare, "a", "b", EventLoop, args.rounds)
    Window.remove_widget(bare)
    Window.add_widget(app.root)

    # memory over many check-ins, the screens shown for each step
    from pos.flows.checkin import CheckinFlow
    from drivers.identity_wait import wait_for_identity

    site = app.site_services
    cards = demo_cards()
    samples = {}
    for i in range(args.checkins):
        card = dict(cards[i % len(cards)])
        h = site.hospital
        h.record_notice(patient_name=card["name"], id_number=card["id_number"], ward_code="CARD",
                        suggested_deposit_fen=100000, diagnosis="基准", doctor="门诊", source="his")
        world.place_card(card)
        ident = wait_for_identity([("id_reader", site.device("id_reader"))], timeout=10)
        flow = CheckinFlow(site, operator_id="BENCH")
        app._activity()          # a patient touches the screen at every step: no idle return home
        app.flow = flow
        flow.identified(ident)
        app.go("checkin_confirm")
        ui.frames(2)
        flow.confirm()
        app.go("amount")
        ui.frames(2)
        flow.pay()
        flow.print_documents()
        app.go("finish")
        ui.frames(2)
        app.go_home()
        ui.settle()
        # the ward discharges the patient, so the same card holder can be admitted again
        no = flow.admission["inpatient_no"]
        h.assign_bed(no, h.free_beds("CARD")[0])
        h.confirm_identity(no, "bench")
        h.order_discharge(no, summary="-", ebill_no="-")
        h.lock_charges(no, "bench")
        h.schedule_discharge(no, h.today())
        h.settle(no)
        h.refund(no, 100000, "cash")
        h.print_settlement_list(no)
        h.discharge(no)
        world.receipt_printer.docs.clear()
        world.label_printer.docs.clear()
        if i + 1 in (50, args.checkins):
            samples[i + 1] = rss_kb()
    stop_app(ui)
    world.stop()

    tt, bt = statistics.median(ours_t), statistics.median(base_t)
    tf, bf = statistics.median(ours_f), statistics.median(base_f)
    tf95 = sorted(ours_f)[int(len(ours_f) * 0.95)]
    bf95 = sorted(base_f)[int(len(base_f) * 0.95)]
    growth = samples[args.checkins] / samples[50] - 1 if 50 in samples else float("nan")
    write_section("ui", f"""
## Kiosk screens (issue 7)

Same process, SDL offscreen 1280×800, llvmpipe. Baseline: a bare `ScreenManager` with the same
`SlideTransition` and two screens holding as many plain widgets as our home ({n_home}) and
identify ({n_ident}) screens. {args.rounds} transitions each, medians.

| | baseline | kiosk | ratio |
|---|---|---|---|
| screen-to-screen transition | {bt * 1000:.0f} ms | {tt * 1000:.0f} ms | **{tt / bt:.2f}×** |
| frame time during a transition (median) | {bf * 1000:.1f} ms | {tf * 1000:.1f} ms | **{tf / bf:.2f}×** |
| frame time during a transition (p95) | {bf95 * 1000:.1f} ms | {tf95 * 1000:.1f} ms | **{tf95 / bf95:.2f}×** |

RSS over {args.checkins} simulated check-ins (ID card on the SAM_V module, ZVT payment, receipt
and wristband printed, every step's screen shown; the ward then discharges the patient): after
50: {samples.get(50, 0) / 1024:.0f} MiB, after {args.checkins}: {samples[args.checkins] / 1024:.0f} MiB,
growth **{growth * 100:+.1f}%** (goal: at most +10%).
""")


if __name__ == "__main__":
    main()
