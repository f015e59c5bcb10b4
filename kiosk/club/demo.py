"""``onestop club demo``: the club with simulated staff, on a Mosquitto of its own.

A private broker (``mosquitto`` on a free loopback port), a fresh box store in a temporary folder,
headless phones for the greeter, the sommelier, two runners, the cashier and the manager, and the
role screen of room 8's butler on this machine. The evening starts with a booking for room 8 in
20 minutes (so its checklist comes at once) and one for room 9.

With ``--autoplay DIR`` it plays by itself: the butler's checklist, ticks, the arrival (butler,
then the greeter's screen), a "can serve" to a runner, a call nobody answers going to the
manager, in three languages, and writes each role screen as a PNG into DIR, then exits.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from pos.club.store import open_club_store

from .box import ClubBox
from .device import ClubDevice

__all__ = ["ClubDemo"]

log = logging.getLogger(__name__)

SITE = "demo"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(pred, timeout=60.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise TimeoutError(f"club demo: timed out waiting for {what}")


class ClubDemo:
    def __init__(self, broker_url: str | None = None, ack_timeout: float = 20.0):
        self.tmp = Path(tempfile.mkdtemp(prefix="onestop-club-"))
        self.broker_proc = None
        if broker_url is None:
            binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
            if binary is None:
                from pos.errors import ConfigError
                raise ConfigError("the club demo needs Mosquitto: install it (apt-get install mosquitto) "
                                  "or pass --broker mqtt://host:port")
            port = _free_port()
            self.broker_proc = subprocess.Popen([binary, "-p", str(port)], stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)
            broker_url = f"mqtt://127.0.0.1:{port}"
            _wait(lambda: self._listening(port), 10, "the demo's Mosquitto")
        self.url = broker_url
        self.store = open_club_store(self.tmp / "box.sqlite")
        from drivers.sim.printer import VirtualPrinter

        # the kitchen's, the bar's and the valet's printers: virtual ESC/POS printers on loopback sockets
        self.printers = {role: VirtualPrinter().start() for role in ("kitchen_printer", "bar_printer", "valet_printer")}
        self.box = ClubBox(self.store, SITE, broker_url, ack_timeout=ack_timeout, tick=0.2, venue="red.逸香",
                           printers={r: f"escpos+tcp://127.0.0.1:{p.port}" for r, p in self.printers.items()})
        self.phones: dict[str, ClubDevice] = {}
        self.autoplay_ok = False

    @staticmethod
    def _listening(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    def phone(self, name: str, role: str, staff: str, rooms=None) -> ClubDevice:
        d = ClubDevice(SITE, self.url, f"demo-{name}", role, staff, rooms, resend=1.0,
                       state_path=self.tmp / f"{name}.json")
        self.phones[name] = d
        return d

    def start(self) -> "ClubDemo":
        self.box.start()
        self.phone("butler8", "butler", "小王", ["8"])
        self.phone("greeter", "greeter", "小李")
        self.phone("sommelier", "sommelier", "陈师傅")
        self.phone("runner1", "runner", "阿强")
        self.phone("runner2", "runner", "阿明")
        self.phone("manager", "manager", "刘经理")
        for d in self.phones.values():
            d.start()
        _wait(lambda: len(self.box.book.on_shift("runner")) == 2 and self.box.book.on_shift("manager"), what="shifts")
        soon = datetime.fromtimestamp(time.time() + 20 * 60, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        later = datetime.fromtimestamp(time.time() + 90 * 60, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        self.res8 = self.box.reservations.book_room("8", soon, 6, member_no="M0001", guest_name="王建国", title="王總",
                                                    regular=True, requests="生日，准备蛋糕", wines=["Château Margaux 2015"])
        self.res9 = self.box.reservations.book_room("9", later, 4, guest_name="李女士")
        return self

    def stop(self) -> None:
        for d in self.phones.values():
            d.stop()
        self.box.stop()
        self.store.close()
        for p in self.printers.values():
            p.stop()
        if self.broker_proc is not None:
            self.broker_proc.terminate()
            self.broker_proc.wait(10)
        shutil.rmtree(self.tmp, ignore_errors=True)


def autoplay(app, demo: ClubDemo, folder: Path, done: threading.Event) -> None:
    """Runs on a worker thread: acts as the staff, asks the UI thread for screenshots."""
    from kivy.clock import Clock

    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def on_ui(fn):
        ev, box = threading.Event(), {}

        def run(_dt):
            try:
                box["v"] = fn()
            finally:
                ev.set()
        Clock.schedule_once(run)
        ev.wait(20)
        return box.get("v")

    def shot(name, lang="zh-Hans"):
        on_ui(lambda: app.set_language(lang))
        time.sleep(0.4)
        on_ui(app.role_screen.refresh)
        time.sleep(0.2)
        path = folder / f"{name}.png"
        on_ui(lambda: app.root.export_to_png(str(path)))
        written.append(path)

    try:
        butler, greeter, runner = demo.phones["butler8"], demo.phones["greeter"], demo.phones["runner1"]
        _wait(lambda: butler.tasks(), what="the checklist")
        shot("club-butler-checklist")
        for c in butler.current():                       # "got it"; the checklist stays
            butler.acknowledge(c["call_id"])
        items = butler.tasks()[0]["detail"]["items"]
        for it in items[:-1]:
            butler.tick(demo.res8, it["item"])
        _wait(lambda: len([i for i in demo.box.reservations.checklist(demo.res8) if i["ticked_by"]]) == len(items) - 1,
              what="ticks")
        demo.box.arrive(demo.res8, "security")
        _wait(lambda: any(c["kind"] == "arrival" for c in butler.board.calls.values()), what="the arrival")
        shot("club-butler-arrival")
        shot("club-butler-arrival-en", "en")
        on_ui(lambda: app.show(greeter))
        _wait(lambda: any(c["kind"] == "arrival" for c in greeter.board.calls.values()), what="the greeter's call")
        shot("club-greeter-arrival")
        shot("club-greeter-arrival-zh-Hant", "zh-Hant")
        on_ui(lambda: app.show(butler))
        butler.call("can_serve", "8")
        runners = (demo.phones["runner1"], demo.phones["runner2"])
        _wait(lambda: any(p.board.offered for p in runners), what="a runner")
        runner = next(p for p in runners if p.board.offered)
        on_ui(lambda: app.show(runner))
        shot("club-runner-can-serve")
        demo.box.raise_call("9", "pay", "butler")          # nobody is on shift at the cash desk
        manager = demo.phones["manager"]
        on_ui(lambda: app.show(manager))
        _wait(lambda: len(manager.current()) >= 2, what="the manager's calls")
        shot("club-manager")
        shot("club-manager-en", "en")
        service_autoplay(app, demo, folder, on_ui, written)
        from .cashier_demo import cashier_documents     # the cashier: bill, receipt, fapiao request

        written += cashier_documents(demo.store, demo.res8, folder)
        print("\n".join(str(p) for p in written), flush=True)
        demo.autoplay_ok = True
    except Exception:                                        # noqa: BLE001 - the demo must end, not hang
        log.exception("club demo autoplay failed")
    finally:
        done.set()
        Clock.schedule_once(lambda _dt: app.stop())


def service_autoplay(app, demo: ClubDemo, folder: Path, on_ui, written: list) -> None:
    """The service part of the autoplay: room 8's order screen (three courses taken, the first
    fired), the kitchen and the bar tickets the virtual printers received (rendered to PNG from
    the ESC/POS bytes they decoded), and the valet's key tag."""
    from drivers.sim.printer import render_doc

    from .order import OrderScreen

    box = demo.box
    order = box.orders.open_order("8", "小王")
    for dish in ("K101", "K101", "B101", "B103", "K201", "K301", "K303"):
        box.orders.add(order, dish, 1, "小王")
    box.fire(order, 1, "小王")
    kitchen, bar, valet = (demo.printers[r] for r in ("kitchen_printer", "bar_printer", "valet_printer"))
    kitchen.wait_docs(1, 20)
    bar.wait_docs(1, 20)
    _wait(lambda: all(t["print_state"] == "printed" for t in box.orders.tickets(order)), 20, "the tickets printed")
    screen = on_ui(lambda: OrderScreen(box, "8", "小王", name="order"))
    on_ui(lambda: (app.sm.add_widget(screen), setattr(app.sm, "current", "order")))
    for name, lang in (("club-order", "zh-Hans"), ("club-order-en", "en")):
        on_ui(lambda: app.set_language(lang))
        time.sleep(0.3)
        on_ui(screen.refresh)
        time.sleep(0.3)
        path = folder / f"{name}.png"
        on_ui(lambda: app.root.export_to_png(str(path)))
        written.append(path)
    on_ui(lambda: (setattr(app.sm, "current", "role"), app.sm.remove_widget(screen), app.set_language("zh-Hans")))
    tag = box.park(demo.res8, plate="沪A·88888", staff="老张")
    valet.wait_docs(1, 20)
    for name, printer in (("club-kitchen-ticket", kitchen), ("club-bar-ticket", bar), ("club-valet-key-tag", valet)):
        path = folder / f"{name}.png"
        render_doc(printer.docs[0], width=640).save(path)        # the strip at a readable size
        written.append(path)
    log.info("club demo: tickets %s and key tag %s printed", [t["ticket_no"] for t in box.orders.tickets(order)], tag)
