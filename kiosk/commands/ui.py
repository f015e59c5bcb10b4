"""``onestop demo | kiosk | counter | diag``: the Kivy front ends."""

from __future__ import annotations

import argparse


#: what ``onestop demo FRONT`` starts (the patient kiosk by default)
DEMO_FRONTS = ("kiosk", "counter", "diag")


def register(sub, parents):
    for name, help_, desc in (
        ("demo", "a front end (kiosk, counter or diag) with every device simulated",
         "Start the patient kiosk (or `demo counter`, `demo diag`) with every device simulated and an "
         "embedded SQLite store in the user's data directory. Nothing else is needed."),
        ("kiosk", "the patient kiosk (lobby, touch only)",
         "Start the patient self-service kiosk with the devices from --config."),
        ("counter", "the cashier counter",
         "Start the cashier counter screen with the devices from --config."),
        ("diag", "technician diagnostics",
         "Start the technician diagnostics screen: every device with its status, and self-tests."),
    ):
        p = sub.add_parser(name, parents=parents, help=help_, description=desc)
        p.add_argument("--windowed", action="store_true", help="a normal window: no fullscreen, ESC and close work")
        p.add_argument("--size", metavar="WxH", default=None, help="window size, e.g. 1280x800 or 800x480")
        p.add_argument("--language", choices=("zh-Hans", "zh-Hant", "en"), default=None,
                       help="start in this language (default: the config's)")
        p.add_argument("--screenshot", metavar="PNG", default=None,
                       help="render the first screen, save it as PNG and exit (docs, remote checks)")
        p.add_argument("--first-frame-report", action="store_true",
                       help="print start-up time and peak memory as JSON at the first rendered frame, then exit "
                            "(used by bench/bench_startup.py)")
        if name == "demo":
            p.add_argument("demo_front", nargs="?", choices=DEMO_FRONTS, default="kiosk", metavar="FRONT",
                           help="kiosk (default), counter or diag: that front end with every device simulated, "
                                "the demo hospital and the demo PINs (cashier 1234, technician 4321)")
            p.add_argument("--autoplay", metavar="DIR", default=None,
                           help="play a check-in, a top-up, a daily list and a discharge by itself and write "
                                "each screen and each printed document as a PNG into DIR, then exit")
        p.set_defaults(func=run, front=name)
    _pack_fronts(sub, parents)


def _pack_fronts(sub, parents) -> None:
    """Each active site pack's own front ends (``Pack.fronts``) beyond the ones above, e.g. ``desk``."""
    from pos import packs

    for pack in packs.active():
        for name in pack.fronts:
            if name in sub.choices:
                continue
            p = sub.add_parser(name, parents=parents, help=f"{pack.name}: {name}",
                               description=f"Start the {pack.name} pack's {name} front end ({pack.summary}).")
            p.add_argument("--windowed", action="store_true", help="a normal window: no fullscreen, ESC and close work")
            p.add_argument("--size", metavar="WxH", default=None, help="window size, e.g. 1280x800")
            p.add_argument("--language", choices=("zh-Hans", "zh-Hant", "en"), default=None,
                           help="start in this language (default: the config's)")
            p.add_argument("--screenshot", metavar="PNG", default=None,
                           help="render the first screen, save it as PNG and exit")
            p.add_argument("--first-frame-report", action="store_true", help=argparse.SUPPRESS)
            p.set_defaults(func=run, front=name)


def run(args: argparse.Namespace) -> int:
    from ..launch import launch  # imports Kivy: only for the UI commands

    return launch(args)
