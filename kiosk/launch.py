"""Start a front end: set Kivy's configuration *before* Kivy creates its window, then run the app.

Kiosk mode (the default for ``kiosk`` and ``demo``): fullscreen, ESC does not exit, the window
refuses to close, no mouse cursor. ``--windowed`` turns all of that off.
"""

from __future__ import annotations

import importlib
import logging
import os
from importlib import resources

from pos.config import Config, load_config
from pos.errors import ConfigError

from .runtime import data_dir, store_path

log = logging.getLogger(__name__)

__all__ = ["launch", "prepare", "kivy_environment", "demo_config_path"]


def demo_config_path() -> str:
    return str(resources.files("assets") / "config" / "demo.toml")


def kivy_environment(windowed: bool, size: str | None) -> None:
    """Kivy reads ``KCFG_SECTION_KEY`` variables when it first loads its config."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_CLIPBOARD", "sdl2")
    os.environ["KCFG_KIVY_EXIT_ON_ESCAPE"] = "0" if not windowed else "1"
    os.environ["KCFG_GRAPHICS_SHOW_CURSOR"] = "1" if windowed else "0"
    os.environ["KCFG_GRAPHICS_FULLSCREEN"] = "0" if windowed or size else "auto"
    if size:
        w, _, h = size.lower().partition("x")
        if not (w.isdigit() and h.isdigit()):
            raise ConfigError(f"--size {size!r}: expected WIDTHxHEIGHT, e.g. 1280x800")
        os.environ["KCFG_GRAPHICS_WIDTH"], os.environ["KCFG_GRAPHICS_HEIGHT"] = w, h
        if not windowed:
            os.environ["KCFG_GRAPHICS_BORDERLESS"] = "1"
    os.environ["KCFG_KIVY_KEYBOARD_MODE"] = "dock"


def prepare(args):
    """(front, config, store path, demo world or None, config error or None) for the UI command
    ``args``: ``demo [kiosk|counter|diag]`` gets the demo config (with its PINs), the demo store
    and every device simulated."""
    front = args.front
    demo = front == "demo"
    if demo and getattr(args, "demo_front", "kiosk") != "kiosk":
        front = args.demo_front             # `onestop demo counter` / `demo diag` / a pack's `demo desk`
        if getattr(args, "autoplay", None) and front in ("counter", "diag"):
            raise ConfigError("--autoplay plays the patient kiosk: use it with `onestop demo` alone")
    config_error = None
    path = demo_config_path() if demo and not args.config else args.config
    try:
        config = load_config(path)
    except ConfigError as exc:
        # a broken config must not stop the kiosk: start with defaults and show the problem
        log.error("config: %s", exc)
        config_error, config = str(exc), Config(path=path)
    if demo and not (args.store or os.environ.get("ONESTOP_STORE") or config.get("store", "path")):
        # the demo kiosk, counter and diag share one store; a pack's front end has its own
        store = data_dir() / ("demo.sqlite" if front in ("demo", "counter", "diag") else f"demo-{front}.sqlite")
    else:
        store = store_path(args, config)
    world = None
    if demo:
        from .demo_env import DemoWorld  # every device simulated over its real wire format

        folder = "demo-world" if front == "demo" else f"demo-world-{front}"
        world = DemoWorld(data_dir() / folder, start=False)   # the app starts it after its first frame
        config = world.config(config)
    return front, config, store, world, config_error


def launch(args) -> int:
    front, config, store, world, config_error = prepare(args)
    windowed = args.windowed or not config.get("kiosk", "fullscreen")
    kivy_environment(windowed, args.size)
    player = None
    if getattr(args, "autoplay", None):
        player = _autoplay_class(front)         # after Kivy's environment: it imports the screen
        if player is None:
            if world is not None:
                world.stop()
            raise ConfigError(f"--autoplay: the {front} front end has no autoplay")

    from .app import OnestopApp  # Kivy is imported only now

    app = OnestopApp(front=front, config=config, store_path=str(store), kiosk_mode=not windowed,
                     language=args.language or config.language, config_error=config_error)
    app.demo_world = world
    if getattr(args, "first_frame_report", False) or getattr(args, "screenshot", None):
        _exit_after_first_frame(app, args)
    autoplay = None
    if player is not None:
        autoplay = player(app, args.autoplay)
        app.bind(on_start=lambda *_: autoplay.start())
    try:
        app.run()
    finally:
        if world is not None:
            world.stop()
    if autoplay is not None and autoplay.failed:
        from pos.errors import DomainError

        raise DomainError(f"autoplay stopped: {autoplay.failed}")
    return 0


def _autoplay_class(front: str):
    """What plays ``front`` by itself: the patient kiosk's :class:`kiosk.autoplay.Autoplay`, or the
    ``AUTOPLAY`` (dotted path) of the module of a pack front end's home screen; None = none."""
    if front == "demo":
        from .autoplay import Autoplay

        return Autoplay
    from pos import packs

    for pack in packs.active():
        home = (pack.fronts.get(front) or ("",))[0]
        if home in pack.screens:
            path = getattr(importlib.import_module(pack.screens[home]), "AUTOPLAY", "")
            return packs.resolve(path) if path else None
    return None


def _exit_after_first_frame(app, args) -> None:
    """At the first rendered frame: report start-up figures and/or save a screenshot, then stop."""
    import json
    import resource
    import time

    from kivy.clock import Clock
    from kivy.core.window import Window

    report = {}

    def ready() -> bool:
        """The store is open and every configured device has been probed once."""
        fut = app._store_future
        return fut is not None and fut.done() and len(app.monitor.snapshot()) >= len(app.monitor.devices)

    def ready_for_a_patient(_dt):
        if not ready():
            return True                 # look again at the next tick
        fut = app._store_future
        report.update(ready=time.time(), ready_maxrss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      ready_cpu_s=sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
                      store_ok=fut.exception() is None)
        print(json.dumps(report), flush=True)
        Clock.schedule_once(lambda _dt: app.stop(), 0)
        return False

    def shoot_when_ready(_dt):
        if not ready():
            return True
        Clock.schedule_once(shoot, 0.5)  # let the device status reach the screen
        return False

    def on_flip(*_):
        Window.unbind(on_flip=on_flip)
        if args.first_frame_report:
            report.update(first_frame=time.time(), maxrss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                          cpu_s=sum(resource.getrusage(resource.RUSAGE_SELF)[:2]))
            Clock.schedule_interval(ready_for_a_patient, 0.005)
        else:               # the screen as a visitor meets it: the store open and the devices probed
            Clock.schedule_interval(shoot_when_ready, 0.05)

    def shoot(_dt):
        produced = Window.screenshot(name=args.screenshot)
        if produced and produced != args.screenshot:
            os.replace(produced, args.screenshot)
        log.info("screenshot saved to %s", args.screenshot)
        app.stop()

    Window.bind(on_flip=on_flip)
