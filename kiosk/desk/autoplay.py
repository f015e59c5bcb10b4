"""``onestop demo desk --autoplay DIR``: the dispatcher's console plays itself on the demo store and
the simulated printer: the seeded queue, a hotline call taken, its suggested category confirmed,
the order dispatched to the next in its team and the dispatch slip printed. Every screen and the
printed slip are written into DIR as PNGs. The engine (real touches on the running app, one step
per Clock tick) is the patient kiosk's :class:`kiosk.autoplay.Autoplay`."""

from __future__ import annotations

import time

from ..autoplay import Autoplay

__all__ = ["DeskAutoplay"]

CALL = ("3-1201", "厨房水管漏水，楼下滴水")


class DeskAutoplay(Autoplay):
    def _run(self):
        app = self.app
        self._printed_since = time.time()
        yield self.until(lambda: app.site_services is not None, "the store")
        yield self.on("desk_console")
        s = self.screen()
        yield self.until(lambda: len(s.rows) > 0, "the seeded queue")
        yield self.sleep(1.0)
        self.shot("desk-queue")
        s.ids.ch_hotline.state, s.ids.ch_walkin.state = "down", "normal"
        s.ids.unit.text, s.ids.description.text = CALL
        self.tap(s.ids.receive)
        yield self.until(lambda: s.selected and s.selected in s.rows and s.suggestion_text, "the new order")
        no = s.selected
        yield self.sleep(0.5)
        self.shot("desk-intake")
        desk = app.site_services.desk
        self.tap(s.ids.confirm)
        yield self.until(lambda: desk.order(no)["state"] == "classified", "the confirmed category")
        yield self.sleep(0.5)
        self.shot("desk-classified")
        self.tap(s.ids.dispatch)
        yield self.until(lambda: desk.order(no)["state"] == "dispatched", "the dispatch")
        yield self.sleep(0.5)
        self.shot("desk-dispatched")
        printer = app.demo_world.start().receipt_printer
        before = len(printer.docs)
        self.tap(s.ids.slip)
        yield self.until(lambda: len(printer.docs) > before and getattr(printer.docs[-1], "png_path", None),
                         "the printed slip")
        yield self.sleep(0.5)
        self.shot("desk-slip-printed")
        self.collect_prints("desk-slip")
