"""``onestop club box | role | demo``: the club pack's box, a role screen, and its demo."""

from __future__ import annotations

import argparse
import threading


def register(sub, parents):
    club = sub.add_parser("club", parents=parents, help="the club pack: box, role screens, demo",
                          description="The private-room club (docs/club.md): the box that routes role calls, "
                                      "a role's screen, and a demo with simulated staff.")
    csub = club.add_subparsers(dest="club_command", metavar="WHAT")
    csub.required = True
    box = csub.add_parser("box", parents=parents, help="run the club box (headless)",
                          description="Run the club box: the store, the role-call router on MQTT, the "
                                      "escalation and preparation timers, and the fapiao requests.")
    box.add_argument("--site", default="club", help="site name in the topics (default: club)")
    box.add_argument("--broker", default=None, help="MQTT broker URL (default: club.broker)")
    box.add_argument("--einvoice", default="", help="e-invoice provider URL (empty: no fapiao requests sent)")
    box.add_argument("--order-screen", metavar="ROOM", default="",
                     help="also show the order screen (courses, fire, tickets) for ROOM on this box's display")
    box.add_argument("--staff", default="", help="who takes orders on the order screen")
    box.set_defaults(func=run_box)
    role = csub.add_parser("role", parents=parents, help="a role's screen on a phone or a tablet",
                           description="Show one role's screen (calls, one large acknowledge button).")
    role.add_argument("--role", required=True, choices=("security", "greeter", "butler", "sommelier", "runner",
                                                         "cashier", "manager", "valet"))
    role.add_argument("--staff", required=True, help="the staff member signing in")
    role.add_argument("--rooms", default="", help="rooms this butler covers, comma-separated (default: all)")
    role.add_argument("--device", default=None, help="this device's id (default: made once and kept)")
    role.add_argument("--site", default="club")
    role.add_argument("--broker", default=None)
    role.add_argument("--language", choices=("zh-Hans", "zh-Hant", "en"), default="zh-Hans")
    role.add_argument("--windowed", action="store_true")
    role.add_argument("--size", metavar="WxH", default=None)
    role.set_defaults(func=run_role)
    demo = csub.add_parser("demo", parents=parents, help="the club with simulated staff",
                           description="Start the club with its own Mosquitto, simulated phones and the butler's "
                                       "screen for room 8.")
    demo.add_argument("--broker", default=None, help="use this broker instead of starting one")
    demo.add_argument("--autoplay", metavar="DIR", default=None,
                      help="play an evening by itself, write the role screens as PNGs into DIR, then exit")
    demo.add_argument("--language", choices=("zh-Hans", "zh-Hant", "en"), default="zh-Hans")
    demo.add_argument("--size", metavar="WxH", default="1280x800")
    demo.set_defaults(func=run_demo)
    from .cashier_cli import register_cashier

    register_cashier(csub, parents)                   # onestop club cashier
    from kiosk.commands.ui import add_demo_command

    add_demo_command("club", run_demo)                # `onestop demo club`: the same command


def _config(args):
    from pos.config import Config, load_config

    return load_config(args.config) if args.config else Config(path=None)


def _club(config, key, default):
    try:
        return config.get("club", key)
    except KeyError:                                  # before the pack's config section is installed
        return default


def run_box(args: argparse.Namespace) -> int:
    from kiosk.runtime import store_path
    from pos.club.store import open_club_store

    from .box import ClubBox

    config = _config(args)
    store = open_club_store(store_path(args, config))
    box = ClubBox(store, args.site, args.broker or _club(config, "broker", "mqtt://127.0.0.1:1883"),
                  ack_timeout=float(_club(config, "ack_timeout", 20)), venue=_club(config, "venue", ""),
                  message_expiry=int(_club(config, "message_expiry", 3600)), einvoice_url=args.einvoice,
                  tz=config.get("site", "timezone"),
                  printers={f"{s}_printer": _club(config, f"{s}_printer", "") for s in ("kitchen", "bar", "valet")}).start()
    print(f"club box {box.boot} on {box.bus.host}:{box.bus.port}, store {store.path}", flush=True)
    try:
        if args.order_screen:                        # the order screen runs in the box (it owns the store)
            from .order import OrderApp

            _run_app(OrderApp(box, args.order_screen, args.staff, language=config.language), "1280x800")
            return 0
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        box.stop()
        store.close()
    return 0


def _run_app(app, size, windowed=True):
    from kiosk.launch import kivy_environment

    kivy_environment(windowed, size)
    app.run()


def run_role(args: argparse.Namespace) -> int:
    from kiosk.runtime import data_dir
    from pos.ids import new_device_id

    config = _config(args)
    device_file = data_dir() / "club-device-id"
    device = args.device
    if not device:
        device_file.parent.mkdir(parents=True, exist_ok=True)
        if not device_file.exists():
            device_file.write_text(new_device_id("P"))
        device = device_file.read_text().strip()
    from kiosk.launch import kivy_environment

    kivy_environment(args.windowed, args.size)
    from .device import ClubDevice
    from .screen import RoleApp

    phone = ClubDevice(args.site, args.broker or _club(config, "broker", "mqtt://127.0.0.1:1883"), device,
                       args.role, args.staff, [r for r in args.rooms.split(",") if r],
                       state_path=data_dir() / f"club-{device}.json").start(wait=None)
    try:
        RoleApp(phone, language=args.language).run()
    finally:
        phone.stop()
    return 0


def run_demo(args: argparse.Namespace) -> int:
    """``onestop club demo`` and ``onestop demo club`` (whose parser has no ``--broker`` and leaves
    the language and size unset)."""
    from pathlib import Path

    from kiosk.launch import kivy_environment

    kivy_environment(True, args.size or "1280x800")
    from .demo import ClubDemo, autoplay
    from .screen import RoleApp

    demo = ClubDemo(getattr(args, "broker", None), ack_timeout=4.0 if args.autoplay else 20.0).start()
    try:
        app = RoleApp(demo.phones["butler8"], language=args.language or "zh-Hans")
        if args.autoplay:
            done = threading.Event()
            folder = Path(args.autoplay)
            app.bind(on_start=lambda *_: threading.Thread(target=autoplay, args=(app, demo, folder, done),
                                                          daemon=True).start())
        app.run()
    finally:
        demo.stop()
    if args.autoplay and not demo.autoplay_ok:
        print("onestop club demo: the autoplay did not finish (see the log)")
        return 2
    return 0
