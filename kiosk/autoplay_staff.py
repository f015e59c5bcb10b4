"""The staff front ends' part of ``onestop demo --autoplay DIR``: the cashier counter and the
diagnostics screens, each played by itself in a process of its own (one Kivy app per process) on
the demo store the kiosk's part has just filled, in every language of the run.

``python -m kiosk.autoplay_staff FRONT DIR LANG[,LANG...]`` -- the kiosk's autoplay starts it for
``counter`` and ``diag`` once its own flows are done. It logs in by touching the PIN pad (the demo
PINs: cashier 1234, technician 4321), then shows each screen a member of staff uses and writes it
as ``NN-<language>-<front>-<screen>.png``, numbered after the pictures already in DIR.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["main"]


def _player_class():
    from .autoplay import Autoplay, write_index

    class StaffAutoplay(Autoplay):
        def __init__(self, app, out_dir, front: str, langs: list[str]):
            self.front, self.langs = front, langs
            super().__init__(app, out_dir)
            self.n = max([int(p.name[:2]) for p in self.out.glob("[0-9][0-9]-*.png")] or [0])

        def _tick(self, dt):
            alive = super()._tick(dt)
            if alive is False:
                write_index(self.out)
            return alive

        def _login(self, pin: str):
            pad = self.screen().ids.pad
            keys = {b.text: b for b in pad.children}
            for digit in pin:
                self.tap(keys[digit])
                yield self.sleep(0.1)
            self.tap(self.screen().ids.key_ok)

        def _show(self, name: str, label: str, **params):
            self.app.go(name, **params)
            yield self.on(name)
            yield self.sleep(0.8)
            self.shot(f"{self.front}-{label}")

        def _run(self):
            app = self.app
            yield self.until(lambda: app.site_services is not None, "the store")
            yield self.sleep(1.0)
            app.set_language(self.langs[0])
            yield self.sleep(0.5)
            self.shot(f"{self.front}-login")
            yield from self._login("1234" if self.front == "counter" else "4321")
            home = "counter_home" if self.front == "counter" else "diag"
            yield self.on(home)
            from pos.hospital import views

            first = views.first_inpatient_no(app.store.conn)
            for lang in self.langs:
                app.set_language(lang)
                yield self.sleep(1.0)
                if self.front == "counter":
                    yield from self._show("counter_home", "home")
                    if first:
                        yield from self._show("counter_patient", "patient", inpatient_no=first)
                        yield from self._show("counter_deposit", "deposit", inpatient_no=first, purpose="deposit",
                                              amount_fen=100000)
                    yield from self._show("counter_reprints", "reprints")
                    yield from self._show("counter_indoubt", "in-doubt-queue")
                    yield from self._show("counter_shift", "shift")
                else:
                    yield from self._show("diag", "devices")
                    yield from self._show("diag_logs", "logs")
                    self.app.go("diag")
                    yield self.on("diag")

    return StaffAutoplay


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kiosk.autoplay_staff")
    ap.add_argument("front", choices=("counter", "diag"))
    ap.add_argument("dir")
    ap.add_argument("langs")
    ap.add_argument("--size", default="1280x800")
    a = ap.parse_args(argv)
    from .launch import kivy_environment, prepare

    args = argparse.Namespace(front="demo", demo_front=a.front, config=None, store=None, autoplay=None,
                              language=None, windowed=False, size=a.size)
    front, config, store, world, config_error = prepare(args)
    kivy_environment(False, a.size)
    from .app import OnestopApp

    app = OnestopApp(front=front, config=config, store_path=str(store), kiosk_mode=False,
                     language=a.langs.split(",")[0], config_error=config_error)
    app.demo_world = world
    player = _player_class()(app, a.dir, front, a.langs.split(","))
    app.bind(on_start=lambda *_: player.start())
    t0 = time.monotonic()
    try:
        app.run()
    finally:
        if world is not None:
            world.stop()
    if player.failed:
        print(f"autoplay {front} stopped: {player.failed}", file=sys.stderr)
        return 1
    log.info("autoplay %s: %d pictures in %.0f s", front, player.n, time.monotonic() - t0)
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    sys.exit(main())
