"""Technician self-test of one device: card read (ATR + record), printer test page and status,
card-terminal enquiry and 0.01 test payment with reversal, scanner layout check, camera preview
with QR decoding. The tests themselves are in :mod:`kiosk.selftest`; this screen runs them in
worker threads and shows the outcome."""

from __future__ import annotations

import logging
import threading
import time

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from drivers.registry import probe

from .. import selftest, worker
from .home import site_services

log = logging.getLogger(__name__)

__all__ = ["DiagTestScreen", "SCREEN", "ACTIONS", "HINTS"]

#: kind -> [(button msgid, method)]
ACTIONS = {
    "card": [("Read card", "do_read_card")],
    "printer": [("Printer status", "do_printer_status"), ("Print test page", "do_print_test")],
    "terminal": [("Status enquiry", "do_enquiry"), ("Test payment 0.01 and reversal", "do_test_payment")],
    "scanner": [("Start the scanner test again", "do_scanner")],
    "camera": [("Start camera preview", "do_camera"), ("Stop camera preview", "do_camera_stop")],
}
HINTS = {
    "card": "Insert or place a test card, then touch Read card.",
    "printer": "Touch Print test page and check the paper.",
    "terminal": "The test payment charges 0.01 and reverses it at once.",
    "scanner": "Scan the test code shown on the screen.",
    "camera": "Hold a QR code in front of the camera.",
}


def pil_texture(img) -> Texture:
    img = img.convert("RGB")
    tex = Texture.create(size=img.size, colorfmt="rgb")
    tex.blit_buffer(img.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
    tex.flip_vertical()
    return tex


class DiagTestScreen(Screen):
    card_timeout = 15.0                  # seconds a card read waits for a card
    role = StringProperty("")
    kind = StringProperty("")
    url = StringProperty("")
    status_text = StringProperty("")
    busy = BooleanProperty(False)
    outcome = StringProperty("")         # "", "ok", "fail"
    summary = StringProperty("")         # msgid
    progress = StringProperty("")        # live msgid (terminal status, "Working...")
    lines = ListProperty([])             # technician details (data)
    preview = ObjectProperty(None, allownone=True)
    last_result = ObjectProperty(None, allownone=True)

    def __init__(self, **kw):
        super().__init__(**kw)
        self._cancel = threading.Event()
        self._feed = None
        self._frame_ev = None
        self._poll_ev = None
        self._decoder = None
        self._tex_fmt = ""
        App.get_running_app().bind(lang=lambda *_: self._build_actions())

    # -- life cycle ------------------------------------------------------------------
    def prepare(self, role: str = "", **_):
        app = App.get_running_app()
        self.stop_all()
        self.role = role
        self.kind = selftest.role_kind(role)
        self.url = app.site.devices.get(role, "") or ""
        self._clear_result()
        self.preview = None
        st = app.device_status.get(role)
        self.status_text = f"{st.state.value} - {st.reason}" if st else ""
        self._build_actions()

    def on_enter(self, *_):
        if self.kind == "scanner":
            self.do_scanner()

    def on_leave(self, *_):
        self.stop_all()

    def reset(self) -> None:
        self.stop_all()
        self._clear_result()
        self.preview = None

    def cancel_waits(self) -> None:
        self.stop_all()

    def stop_all(self) -> None:
        self._cancel.set()
        self._stop_scanner()
        self.do_camera_stop()

    def _clear_result(self) -> None:
        self.outcome, self.summary, self.progress, self.lines = "", "", "", []
        self.last_result = None

    def _build_actions(self) -> None:
        if "actions" not in self.ids:
            return
        app = App.get_running_app()
        box = self.ids.actions
        box.clear_widgets()
        self.buttons = {}
        for msgid, method in ACTIONS.get(self.kind, []):
            b = Factory.OButton(text=app.t(msgid, app.lang), font_size=max(16, 20 * app.scale))
            b.bind(on_release=lambda _b, m=method: getattr(self, m)())
            self.buttons[method] = b
            box.add_widget(b)

    # -- running a test --------------------------------------------------------------
    def _run(self, fn, use_store: bool = False) -> None:
        if self.busy:
            return
        app = App.get_running_app()
        self._clear_result()
        self.busy, self.progress = True, "Working..."
        self._cancel = threading.Event()

        def failed(exc):
            log.exception("self-test %s crashed", self.role, exc_info=exc)
            self._show_failure(self.role, exc)

        self._hold_monitor(app)
        if use_store:
            app.with_store(lambda store: fn(site_services(app, store)), self._show, failed)
        else:
            worker.submit(fn, self._show, failed)

    def _hold_monitor(self, app) -> None:
        """Keep the status monitor off this device while a test uses it (two programs talking
        on one serial line or card session garble each other)."""
        monitor = getattr(app, "monitor", None)
        if monitor is not None and self.role in monitor.devices:
            self._held = (monitor, self.role, monitor.devices[self.role])
            monitor.devices = {k: v for k, v in monitor.devices.items() if k != self.role}

    def _release_monitor(self) -> None:
        held, self._held = getattr(self, "_held", None), None
        if held is not None:
            monitor, role, url = held
            monitor.devices = {**monitor.devices, role: url}

    def _show_failure(self, role: str, exc: BaseException) -> None:
        """A self-test that ended in an error: the technician sees it, the counters count it."""
        self._show(selftest.record(role, selftest.Result(False, "The self-test failed.",
                                                         [f"{type(exc).__name__}: {exc}"], str(exc))))

    def _show(self, result) -> None:
        self._release_monitor()
        self.busy, self.progress = False, ""
        self.last_result = result
        self.outcome = "ok" if result.ok else "fail"
        self.summary = result.msgid
        self.lines = list(result.lines)

    def _say(self, msg) -> None:
        Clock.schedule_once(lambda _dt: setattr(self, "progress", msg.message_id))

    # card readers
    def do_read_card(self) -> None:
        url, role = self.url, self.role

        def run():
            return selftest.read_card(url, role, timeout=self.card_timeout, cancel=self._cancel)
        self._run(run)

    # printers
    def do_printer_status(self) -> None:
        url, role = self.url, self.role

        def run():
            if not url:
                return selftest.Result(False, "This device is not configured.")
            st = probe(url, role)
            self_lines = [f"status: {st.state.value} - {st.reason}"] + [f"{k}: {v}" for k, v in st.detail.items()]
            return selftest.record(role, selftest.Result(
                st.state.value == "connected", "Printer ready." if st.state.value == "connected"
                else "The printer is not ready.", self_lines, "" if st.state.value == "connected" else st.reason))
        self._run(run)

    def do_print_test(self) -> None:
        app, url, role = App.get_running_app(), self.url, self.role
        self._run(lambda site: selftest.print_test_page(app.site, site.printing, url, role), use_store=True)

    # card terminal
    def do_enquiry(self) -> None:
        url = self.url
        self._run(lambda: selftest.terminal_enquiry(url))

    def do_test_payment(self) -> None:
        url = self.url
        self._run(lambda site: selftest.test_payment(site.payments, url, on_status=self._say), use_store=True)

    # scanner: keyboard wedge through the window, or a serial scanner in a worker
    def do_scanner(self) -> None:
        from drivers.codes import code128_image
        from drivers.scanner import WedgeDecoder

        self._stop_scanner()
        self._cancel.set()               # a serial read still waiting from the last round
        self._clear_result()
        self.preview = pil_texture(code128_image(selftest.SCANNER_TEST_CODE, module=3, height=120))
        self.progress = "Waiting for the scanner..."
        self.lines = [f"test code: {selftest.SCANNER_TEST_CODE}"]
        self._decoder = WedgeDecoder(validators=(lambda s: s == selftest.SCANNER_TEST_CODE,))
        Window.bind(on_textinput=self._on_text, on_key_down=self._on_key)
        self._poll_ev = Clock.schedule_interval(self._poll, 0.05)
        if self.url.startswith("scanner+serial"):
            url, cancel = self.url, threading.Event()
            self._cancel = cancel
            previous = getattr(self, "_serial_read", None)
            # a code scanned before the port is open is lost (opening flushes the line), so the
            # technician is asked to scan only once the reader listens
            self.progress = "Opening the scanner..."

            def listening(_dt) -> None:
                if self._cancel is cancel and not cancel.is_set() and not self.outcome:
                    self.progress = "Waiting for the scanner..."

            def read():
                from drivers.errors import DeviceNotFound
                from drivers.registry import open_device
                if previous is not None:   # one reader on the line at a time: let the cancelled one close
                    try:
                        previous.result(timeout=5)
                    except Exception:  # it ended one way or another; its outcome was already reported
                        pass
                with open_device(url, "scanner") as dev:
                    st = dev.status()          # opens the port and lets a code cut by the opening pass
                    if not st.ok:
                        raise DeviceNotFound(st.reason)
                    Clock.schedule_once(listening)
                    return selftest.record("scanner", selftest.check_scan(dev.read_code(timeout=60, cancel=cancel)), dev)

            def ended(exc) -> None:
                if cancel.is_set():        # the technician left or started again
                    log.info("serial scanner test on %s ended: %s", url, exc)
                else:
                    self._show_failure("scanner", exc)
            self._serial_read = worker.submit(read, self._show, ended)

    def _on_text(self, _win, text):
        self._feed_key(text, time.monotonic())

    def _on_key(self, _win, key, *_args):
        if key in (13, 271):
            self._feed_key("\r", time.monotonic())

    def _feed_key(self, text: str, t: float) -> None:
        if self._decoder is not None:
            self._events(self._decoder.feed(text, t))

    def _poll(self, _dt) -> None:
        if self._decoder is not None:
            self._events(self._decoder.poll(time.monotonic()))

    def _events(self, events) -> None:
        for ev in events:
            res = selftest.scan_result(ev)
            if res is not None:
                self._show(res)

    def _stop_scanner(self) -> None:
        if self._decoder is not None:
            Window.unbind(on_textinput=self._on_text, on_key_down=self._on_key)
            self._decoder = None
        if self._poll_ev is not None:
            self._poll_ev.cancel()
            self._poll_ev = None

    # camera
    def do_camera(self) -> None:
        if self._feed is not None or self.busy:
            return
        url = self.url
        self._clear_result()
        self.busy, self.progress = True, "Starting the camera..."

        def started(feed):
            self.busy, self.progress = False, "Hold a QR code in front of the camera."
            self._feed = feed
            self._reported = 0
            self._frame_ev = Clock.schedule_interval(self._pull_frame, 1 / 15.0)

        def failed(exc):
            self.busy = False
            self._show(selftest.record("camera", selftest.Result(False, "The camera could not be opened.",
                                                                 [f"{type(exc).__name__}: {exc}"], str(exc))))

        worker.submit(lambda: selftest.CameraFeed(url).start(), started, failed)

    def _pull_frame(self, _dt) -> None:
        feed = self._feed
        if feed is None:
            return
        frame = feed.latest()
        if frame is not None:
            rgb = frame[:, :, ::-1].copy() if frame.ndim == 3 else frame
            h, w = rgb.shape[:2]
            fmt = "rgb" if rgb.ndim == 3 else "luminance"
            tex = self.preview
            if tex is None or tuple(tex.size) != (w, h) or self._tex_fmt != fmt:
                tex = Texture.create(size=(w, h), colorfmt=fmt)
                tex.flip_vertical()
                self._tex_fmt = fmt
            tex.blit_buffer(rgb.tobytes(), colorfmt=fmt, bufferfmt="ubyte")
            self.preview = None          # the Image keeps its texture object; force a redraw
            self.preview = tex
        if len(feed.codes) > self._reported:
            self._reported = len(feed.codes)
            self.outcome, self.summary = "ok", "QR code decoded."
            self.lines = [f"frames: {feed.frames}"] + [f"code: {c}" for c in feed.codes]
        if feed.error:
            self.do_camera_stop()

    def do_camera_stop(self) -> None:
        if self._frame_ev is not None:
            self._frame_ev.cancel()
            self._frame_ev = None
        feed, self._feed = self._feed, None
        if feed is not None:
            def shown(res):
                if self.kind == "camera":
                    self._show(res)
            worker.submit(feed.stop, shown)


SCREEN = DiagTestScreen
KV_FILE = "diag/check"
