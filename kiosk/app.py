"""The Kivy application shared by the three front ends (kiosk, counter, diagnostics).

The app holds what every screen binds to (language, fonts, scale, device status) and the kiosk
behaviour (idle timeout, kiosk mode). Screens are one module plus one ``.kv`` file each, loaded
lazily from package resources. Decisions live in ``pos/``; device and store I/O run in
:mod:`kiosk.worker` threads.
"""

from __future__ import annotations

import importlib
import logging
from concurrent.futures import Future

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.metrics import mm
from kivy.properties import (DictProperty, NumericProperty, ObjectProperty,
                             StringProperty)
from kivy.uix.modalview import ModalView
from kivy.uix.screenmanager import ScreenManager, SlideTransition

from pos.config import Config
from pos.errors import StoreError
from pos.store import Store

from . import worker
from .fonts import font_set
from .i18n import LANGUAGES, tr
from .kv import load_kv, load_kv_text
from .monitor import DeviceMonitor

log = logging.getLogger(__name__)

__all__ = ["OnestopApp", "load_kv", "screens", "PLATFORM_SCREENS", "IDLE_WARNING_S", "HELP_CALLED"]

#: the "still there?" countdown before the kiosk clears the screens of the person using it (at most a third of
#: the idle time)
IDLE_WARNING_S = 15.0
HELP_CALLED = "Staff have been called. Please wait here."

#: the platform's own front ends -> their screens, the first is the home screen; the site packs add
#: theirs (``Pack.fronts``, see :func:`screens`)
PLATFORM_SCREENS = {
    "diag": ["login", "diag", "diag_test", "diag_logs"],
}
#: the platform's screens -> their modules (a pack's come from ``Pack.screens``)
PLATFORM_MODULES = {
    "login": "kiosk.screens.login",
    "diag": "kiosk.diag.home",
    "diag_test": "kiosk.diag.check",
    "diag_logs": "kiosk.diag.logs",
}


def screens() -> dict[str, list[str]]:
    """Front end -> its screens: the platform's, then each active pack's (``Pack.fronts``)."""
    from pos import packs

    out = {front: list(names) for front, names in PLATFORM_SCREENS.items()}
    for p in packs.active():
        for front, names in p.fronts.items():
            out.setdefault(front, [])
            out[front] += [n for n in names if n not in out[front]]
    return out





class OnestopApp(App):
    lang = StringProperty("zh-Hans")
    font = StringProperty("")
    scale = NumericProperty(1.0)
    touch_min = NumericProperty(0)            # 15 mm: the smallest touch target
    site_name = StringProperty("")
    device_status = DictProperty({})          # role -> DeviceStatus
    config_error = StringProperty("")
    notice = StringProperty("")               # one-line message under the header
    help_command = StringProperty("")         # the open help request's command id (kiosk)
    idle_left = NumericProperty(0)            # seconds of the "still there?" countdown, 0 = none
    keyboard_height = NumericProperty(0)      # a docked on-screen keyboard's height (the screens move up)
    front = StringProperty("kiosk")
    store = ObjectProperty(None, allownone=True)
    staff_role = StringProperty("")           # "cashier" / "technician" after a PIN login
    staff_name = StringProperty("")           # who logged in ([[staff.users]]); "" = a shared PIN
    site_services = ObjectProperty(None, allownone=True)   # pos.site.Site, once the store is open
    flow = ObjectProperty(None, allownone=True)            # the current visitor's pos.flows flow
    sync_text = StringProperty("")                         # "Offline since HH:MM, N waiting" (staff screens)
    sync_worker = None
    demo_world = None                                      # kiosk.demo_env.DemoWorld in `onestop demo`
    _store_future = None
    _idle = None
    _help_at = ""

    def __init__(self, front: str, config: Config, store_path: str, kiosk_mode: bool = True,
                 language: str = "zh-Hans", config_error: str | None = None, monitor_interval: float = 5.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.front = front
        self.site = config
        self.store_path = store_path
        self.kiosk_mode = kiosk_mode
        self.config_error = config_error or ""
        self.site_name = config.site_name
        self.idle_timeout = float(config.get("kiosk", "idle_timeout"))
        self.monitor = DeviceMonitor(config.devices, interval=monitor_interval)
        self._idle_holds: set[object] = set()
        self.title = f"onestop - {front}"
        self.set_language(language if language in LANGUAGES else "zh-Hans")

    # -- language and text --------------------------------------------------------------
    def set_language(self, lang: str) -> None:
        self.font = font_set(lang).primary
        self.lang = lang

    def t(self, msgid: str, _lang: str | None = None, **kwargs) -> str:
        """Translated, markup-escaped text with font fallback runs; kv passes ``app.lang`` as the
        second argument so the binding re-evaluates when the language changes."""
        return font_set(self.lang).markup(tr(msgid, self.lang, **kwargs))

    def money(self, fen, _lang: str | None = None) -> str:
        """Integer fen as the screens show it: ``¥5,000.00``."""
        from pos.documents.capitals import format_yuan

        return "¥" + format_yuan(int(fen or 0))

    def fx(self, text: str, _lang: str | None = None) -> str:
        """Data (a person's name, a number) drawn with font fallback, not translated."""
        return font_set(self.lang).markup(text or "")

    # -- building -----------------------------------------------------------------------
    def build(self):
        load_kv("base")
        self.sm = ScreenManager(transition=SlideTransition(duration=0.2))
        self.screen(screens()[self.front][0])  # the others are built when first shown
        root = importlib.import_module("kiosk.screens.shell").Shell(manager=self.sm)
        self._rescale(Window, Window.size)
        return root

    def _rescale(self, _win, size):
        w, h = size
        self.scale = max(0.5, min(w / 1280.0, h / 800.0))
        self.touch_min = mm(15)

    def on_start(self):
        if self.kiosk_mode:
            Window.bind(on_request_close=self._refuse_close, on_keyboard=self._swallow_escape)
        Window.bind(on_touch_down=self._activity, on_key_down=self._activity, size=self._rescale)
        self._idle = Clock.create_trigger(self.go_home_idle, self._idle_warn_at())
        self._idle()
        self._status_ev = Clock.schedule_interval(self._pull_status, 1.0)
        # The store and the devices are opened in the background once the first frame is on the
        # screen: the visitor sees the home screen without waiting for imports or migrations.
        self._store_future = Future()
        Window.bind(on_flip=self._after_first_frame)

    def _after_first_frame(self, *_):
        Window.unbind(on_flip=self._after_first_frame)
        worker.submit(self._open_store, self._store_opened, self._store_failed)
        worker.submit(lambda: importlib.import_module("kiosk.warmup").warm_printing(self.site))
        if self.demo_world is not None:       # the demo's simulators start now, then are watched
            worker.submit(self.demo_world.start, lambda _w: self.monitor.start(),
                          lambda exc: self.monitor.start())
        else:
            self.monitor.start()

    def _open_store(self) -> Store:
        """In a worker: open the store, build the services, seed each site pack's demo data in the demo."""
        from pos.site import Site

        store = Store(self.store_path, device_id=self.site.get("site", "device_id") or None)
        self._services = Site(self.site, store)
        try:        # print jobs a crash left "printing" become uncertain (shown on reprints/diagnostics)
            self._services.printing.recover()
        except Exception:  # noqa: BLE001 - the front must still start; the technician sees the log
            log.exception("print journal recovery failed")
        from pos import packs

        for pack, recover in packs.hooks("recover"):   # e.g. a settlement cut off by a crash
            try:
                log.info("%s pack recovery: %s", pack.name, recover(self._services))
            except Exception:  # noqa: BLE001 - what is left stays recorded; the next start tries again
                log.exception("%s pack recovery failed; it is tried again at the next start", pack.name)
        if self.demo_world is not None:
            for _pack, seed in packs.hooks("demo"):
                seed(self._services)
        return store

    def _store_opened(self, store: Store) -> None:
        self.site_services = self._services
        self.store = store
        # resolved only now, on the UI thread: work waiting for the store (with_store) may use
        # app.store and app.site_services as soon as it runs
        self._store_future.set_result(store)
        log.info("%s started: store %s device %s", self.front, self.store_path, store.device_id)
        self._start_sync(store)
        # after the store is ready (the first run after an upgrade may move a year of rows: seconds),
        # then every 6 hours: a kiosk may run for months without a restart
        days = self.site.get("store", "archive_days")
        worker.submit(lambda: _archive(store, days))
        self._archive_ev = Clock.schedule_interval(lambda _dt: worker.submit(lambda: _archive(store, days)), 6 * 3600)

    def _start_sync(self, store: Store) -> None:
        """The background sync worker, when a central server is configured (never blocks the UI)."""
        url = self.site.get("sync", "server_url")
        if not url:
            return
        from sync.client import SyncClient, SyncWorker

        ca = self.site.get("sync", "ca_file") or None
        opts = SyncClient.options(self.site)
        def health() -> dict:           # each device's state, for the IT page (read on the sync thread)
            return {role: st.summary() for role, st in dict(self.device_status).items()}
        self.sync_worker = SyncWorker(lambda: SyncClient(store, url, ca, health=health, **opts),
                                      interval=self.site.get("sync", "interval"), store=store).start()
        Clock.schedule_interval(self._pull_sync, 2.0)

    def _pull_sync(self, *_):
        from datetime import datetime
        from zoneinfo import ZoneInfo

        st = self.sync_worker.status()
        if st.online:
            self.sync_text = tr("Online, {n} waiting to sync", self.lang, n=st.waiting)
            return
        since = "--:--"
        if st.offline_since:
            since = datetime.fromisoformat(st.offline_since.replace("Z", "+00:00")).astimezone(
                ZoneInfo(self.site.get("site", "timezone"))).strftime("%H:%M")
        self.sync_text = tr("Offline since {time}, {n} waiting to sync", self.lang, time=since, n=st.waiting)

    def _store_failed(self, exc: Exception) -> None:
        self._store_future.set_exception(exc)
        log.error("cannot open the store %s: %s", self.store_path, exc)
        self.notice = "Please go to window {window}."

    def with_store(self, fn, on_done=None, on_error=None):
        """Run ``fn(store)`` in a worker thread once the store is open; call back on the UI thread."""
        return worker.submit(lambda: fn(self._store_future.result()), on_done, on_error)

    def on_stop(self):
        Window.unbind(on_request_close=self._refuse_close, on_keyboard=self._swallow_escape,
                      on_touch_down=self._activity, on_key_down=self._activity, size=self._rescale,
                      on_flip=self._after_first_frame)
        self._idle.cancel()
        self._status_ev.cancel()
        self.monitor.stop()
        Clock.unschedule(self._pull_sync)
        if getattr(self, "_archive_ev", None) is not None:
            self._archive_ev.cancel()
        if self.sync_worker is not None:
            self.sync_worker.stop(timeout=2)
        if self._store_future is not None:
            if not self._store_future.done():   # nothing waits for a store that will not come
                self._store_future.set_exception(StoreError("the app stopped before its store opened"))
            elif not self._store_future.exception():
                self._store_future.result().close()
        self._cancel_waits()

    def _cancel_waits(self) -> None:
        """Stop every wait a screen has running (card readers, scanners), so no reader thread outlives
        the app. Only screens that wait have ``cancel_waits``; nothing else of theirs is touched."""
        for screen in self.sm.screens:
            cancel = getattr(screen, "cancel_waits", None)
            if cancel is not None:
                try:
                    cancel()
                except Exception:  # stopping must go on whatever one screen does
                    log.exception("stopping the waits of screen %s", screen.name)

    def _pull_status(self, *_):
        snap = self.monitor.snapshot()
        if snap != dict(self.device_status):
            self.device_status = snap

    # -- kiosk behaviour ----------------------------------------------------------------
    def _refuse_close(self, *_args, **_kw):
        log.info("window close refused (kiosk mode)")
        return True

    def _swallow_escape(self, _win, key, *_args):
        return key == 27  # ESC (and Android back) never leaves the kiosk

    def _activity(self, *_args):
        self._stop_countdown()              # any touch answers "still there?"
        self._idle.cancel()
        self._idle()
        return False  # let the event go on to the widgets

    # the kiosk warns before it clears the screens of the person using it: "Still there? n s" (any touch goes on)
    def _countdown_s(self) -> float:
        return min(IDLE_WARNING_S, self.idle_timeout / 3) if self.front in ("kiosk", "demo") else 0.0

    def _idle_warn_at(self) -> float:
        return self.idle_timeout - self._countdown_s()

    def _start_countdown(self) -> None:
        from .screens.idle_warning import IdleWarning

        secs = self._countdown_s()
        self.idle_left = max(1, round(secs))
        self._countdown_end = Clock.get_boottime() + secs
        self._countdown_ev = Clock.schedule_interval(self._count_down, 0.25)
        self._idle_popup = IdleWarning()
        self._idle_popup.open(animation=False)
        log.info("idle: asking whether anyone is still there (%g s)", secs)

    def _count_down(self, _dt):
        left = self._countdown_end - Clock.get_boottime()
        if left <= 0:
            self._stop_countdown()
            log.info("idle timeout: no answer to 'still there?'")
            self.go_home()
            return False
        self.idle_left = max(1, int(left + 0.999))

    def _stop_countdown(self) -> None:
        ev = getattr(self, "_countdown_ev", None)
        if ev is not None:
            ev.cancel()
            self._countdown_ev = None
        popup = getattr(self, "_idle_popup", None)
        if popup is not None:
            self._idle_popup = None
            popup.dismiss(animation=False)
        self.idle_left = 0

    def clear_transient(self) -> None:
        """Drop focus, popups and the on-screen keyboard."""
        from kivy.uix.behaviors import FocusBehavior

        for child in list(Window.children):
            if isinstance(child, ModalView):
                child.dismiss(animation=False)
        focused = FocusBehavior._keyboards.values() if hasattr(FocusBehavior, "_keyboards") else []
        for w in list(focused):
            if w is not None and hasattr(w, "focus"):
                w.focus = False
        Window.release_all_keyboards()

    def set_idle_timeout(self, seconds: float) -> None:
        """Change the idle time (seconds without a touch); it starts again from now."""
        self.idle_timeout = float(seconds)
        if self._idle is not None:
            self._idle.timeout = self._idle_warn_at()
            self._activity()

    def hold_idle(self) -> object:
        """Keep the idle timeout from going home while a device call runs (a visitor may stand at
        the card terminal for minutes without touching the screen). Returns the token for
        :meth:`release_idle`."""
        token = object()
        self._idle_holds.add(token)
        return token

    def release_idle(self, token: object) -> None:
        """The call has ended: the idle time starts again from now."""
        self._idle_holds.discard(token)
        if self._idle is not None:
            self._activity()

    def go_home_idle(self, *_):
        if self._idle_holds:
            log.info("idle timeout held off: %d device call(s) still running", len(self._idle_holds))
            self._idle()
            return
        home = screens()[self.front][0]
        if self.sm.current != home or self.notice:
            if self._countdown_s() > 0 and self.sm.current != home:
                self._start_countdown()
                return
            log.info("idle timeout: back to %s", home)
        self.go_home()

    def go_home(self) -> None:
        self._stop_countdown()
        self.clear_transient()
        for screen in self.sm.screens:
            if hasattr(screen, "reset"):
                screen.reset()
        self.notice = ""
        if self.help_command:           # the request stays open for staff; the next person sees no banner
            log.info("session ended with help request %s still open", self.help_command)
            self.help_command = ""
        self.flow = None
        if self.demo_world is not None:
            self.demo_world.place_card(None)  # the demo visitor takes their card
        if self.front in ("counter", "diag"):
            self.staff_role = self.staff_name = ""
        self.sm.transition.direction = "right"
        self.sm.current = screens()[self.front][0]

    def screen(self, name: str):
        """The screen called ``name``, building it (module + kv) on first use."""
        if not self.sm.has_screen(name):
            from pos import packs

            path = next((p.screens[name] for p in packs.active() if name in p.screens), None)
            mod = packs.resolve(path or PLATFORM_MODULES[name])
            if getattr(mod, "KV", None):    # kv text of the module's own
                load_kv_text(name, mod.KV)
            else:                           # or a file: assets/kv/<KV_FILE>.kv
                load_kv(getattr(mod, "KV_FILE", name))
            self.sm.add_widget(mod.SCREEN(name=name))
        return self.sm.get_screen(name)

    def go(self, name: str, **params) -> None:
        screen = self.screen(name)
        if hasattr(screen, "prepare"):
            screen.prepare(**params)
        self.sm.transition.direction = "left"
        self.sm.current = name

    # -- actions every screen offers ----------------------------------------------------
    def call_staff(self) -> None:
        """The help button: a ``help.requested`` outbox command (the counter and the IT page show
        it until staff acknowledge it); the banner says so and offers to cancel it."""
        screen = self.sm.current
        lang = self.lang
        if self.help_command:
            return

        from pos.ids import utcnow_iso

        at = self._help_at = utcnow_iso()

        def record(store):
            with store.transaction() as tx:
                return tx.emit("help.requested", {"device": store.device_id, "screen": screen, "lang": lang,
                                                  "at": at})

        def done(cid):
            self.help_command = cid
            self.notice = HELP_CALLED
            log.info("help requested on screen %s (command %s)", screen, cid)

        def failed(exc):
            log.error("help request not recorded: %s", exc)
            self.notice = "Please go to window {window}."

        self.with_store(record, done, failed)

    def cancel_help(self, reason: str = "cancelled") -> None:
        """The person at the kiosk no longer needs help (or has gone): ``help.cancelled`` for the request."""
        cid, self.help_command = self.help_command, ""
        if self.notice == HELP_CALLED:
            self.notice = ""
        if not cid:
            return

        request_at = self._help_at

        def record(store):
            from pos.ids import utcnow_iso

            with store.transaction() as tx:
                return tx.emit("help.cancelled", {"device": store.device_id, "request": cid, "request_at": request_at,
                                                  "reason": reason, "at": utcnow_iso()})

        self.with_store(record, None, lambda exc: log.error("help cancel not recorded: %s", exc))

def _archive(store: Store, days: float) -> None:
    """Move what is past the retention to the archive file; a failure there never stops a start."""
    from pos.store.archive import archive

    try:
        archive(store, days)
    except Exception:  # noqa: BLE001 - the kiosk serves its users with a full store too
        log.exception("archiving the store %s failed", store.path)
