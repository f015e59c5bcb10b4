"""``onestop demo | kiosk | counter | diag``: the Kivy front ends."""

from __future__ import annotations

import argparse


#: what ``onestop demo FRONT`` starts (the patient kiosk by default); each active site pack's
#: front ends (``Pack.fronts``) are added at start-up, and :data:`DEMO_COMMANDS` after them
DEMO_FRONTS = ["kiosk", "counter", "diag"]

#: ``onestop demo NAME`` run by another command module: name -> ``fn(args)`` (e.g. a pack's demo
#: that is not one Kivy front end). Added with :func:`add_demo_command`.
DEMO_COMMANDS: dict = {}


def add_demo_command(name: str, fn) -> None:
    """Make ``onestop demo NAME`` run ``fn(args)`` (args: the demo command's ``--autoplay``,
    ``--language``, ``--size``, ``--windowed``)."""
    DEMO_COMMANDS[name] = fn
    if name not in DEMO_FRONTS:
        DEMO_FRONTS.append(name)


def register(sub, parents):
    for name, help_, desc in (
        ("demo", "a front end (kiosk, counter, diag, a site pack's) with every device simulated",
         "Start the patient kiosk (or `demo counter`, `demo diag`, or a site pack's front end or demo) "
         "with every device simulated and an embedded SQLite store in the user's data directory. Nothing "
         "else is needed."),
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
            DEMO_FRONTS.extend(f for f in _pack_front_names() if f not in DEMO_FRONTS)
            p.add_argument("demo_front", nargs="?", choices=DEMO_FRONTS, default="kiosk", metavar="FRONT",
                           help="one of %(choices)s (default: kiosk): that front end (or a site pack's demo) with "
                                "every device simulated, the packs' demo data and the demo PINs (cashier 1234, "
                                "technician 4321)")
            p.add_argument("--autoplay", metavar="DIR", default=None,
                           help="play the front end by itself (the kiosk: a check-in, a top-up, a daily list and "
                                "a discharge) and write each screen and each printed document as a PNG into DIR, "
                                "then exit")
        p.set_defaults(func=run, front=name)
    _pack_fronts(sub, parents)


def _pack_front_names() -> list[str]:
    from pos import packs

    return [name for pack in packs.active() for name in pack.fronts if name != "demo"]


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
    if args.front == "demo" and getattr(args, "demo_front", None) in DEMO_COMMANDS:
        return DEMO_COMMANDS[args.demo_front](args)
    from ..launch import launch  # imports Kivy: only for the UI commands

    return launch(args)
