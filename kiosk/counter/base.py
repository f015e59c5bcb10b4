"""What every cashier-counter screen shares: the counter desk (built once per store), money
entry, the message line, background calls with plain error messages, list rows, and the
keyboard-wedge scanner (a fast burst of characters ending in Enter)."""

from __future__ import annotations

import logging
import time

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, DictProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen

from drivers.errors import OnestopError
from pos.money import fmt_fen, parse_yuan

from .. import worker
from ..kv import load_kv
from ..screens.numpad import NUMERIC_LAYOUT, keyboard_for  # noqa: F401 - the counter's fields use them
from ..screens.scan import ScanCatcher  # noqa: F401 - the counter's scanning screens use it

#: after this many seconds a running call says that it is still waiting, every second
WAITING_AFTER_S = 3
WAITING = "Still waiting for an answer ({n} s). Do not start it again; the result will show here."


class CounterMessage(Label):
    """The message line under a counter screen's title: the screen's ``message`` (a msgid with
    ``msg_kw``) in the current language, red when it is an error. Bound in Python: a kv rule
    ``self.screen.message`` never rebinds once ``screen`` is set, and the line stayed blank."""

    screen = ObjectProperty(None, allownone=True)

    def on_screen(self, _w, screen) -> None:
        if screen is not None:
            screen.bind(message=self._update, msg_kw=self._update, error=self._update, waited=self._update,
                        busy=self._update)
            App.get_running_app().bind(lang=self._update)
        self._update()

    def _update(self, *_):
        s, app = self.screen, App.get_running_app()
        if s is None or app is None:
            return
        self.color = (0.75, 0.05, 0.05, 1) if s.error else (0.05, 0.30, 0.15, 1)
        try:
            text = app.t(s.message, app.lang, **s.msg_kw) if s.message else ""
        except (KeyError, IndexError):   # values for another message, mid-change: the next call draws it
            return
        if s.busy and s.waited >= WAITING_AFTER_S:      # a long call never looks like a frozen screen
            text = (text + "  " if text else "") + app.t(WAITING, app.lang, n=int(s.waited))
        self.text = text


Factory.register("CounterMessage", cls=CounterMessage)

log = logging.getLogger(__name__)

__all__ = ["desk", "CounterScreen", "yuan", "ward_names", "ward_name", "keyboard_for", "NUMERIC_LAYOUT", "fen_from_text", "N_", "ScanCatcher", "TERMINAL_STATUS"]

_desks: dict = {}


def N_(msgid: str) -> str:
    """Marks a msgid for the catalogues (tests/test_i18n.py scans ``_(``-style literals)."""
    return msgid


_ = N_
#: the messages the card terminal's status turns into (PaymentService / drivers.payment)
TERMINAL_STATUS = [_("Connecting to the card terminal"), _("Checking an earlier card payment"),
                   _("Insert, swipe or tap your card"), _("Enter your PIN on the card terminal"),
                   _("Printed."), _("The printer did not print. The job is kept; reprint it from the journal.")]


def desk():
    """The :class:`pos.counter.CounterDesk` of the running app (built on first use, per store).

    Call it from a worker thread (or after the store is open): it needs ``app.store``."""
    app = App.get_running_app()
    store = app.store if app.store is not None else app._store_future.result()
    d = _desks.get(id(store))
    if d is None or d.site.store is not store:
        from pos.counter import CounterDesk
        from pos.site import Site

        site = getattr(app, "site_services", None) or Site(app.site, store)
        d = CounterDesk(site, cashier=app.staff_role or "cashier", lang=app.lang)
        _desks.clear()
        _desks[id(store)] = d
    d.lang = app.lang
    d.cashier = app.staff_name or app.staff_role or "cashier"   # each cashier has their own shift
    return d


def ward_names(d) -> dict[str, str]:
    """Ward code -> its name (the cashier reads names, not codes like SURG). Call in a worker."""
    names = getattr(d, "_ward_names", None)
    if not names:
        names = d._ward_names = {w["code"]: w["name"] for w in d.wards()}
    return names


def ward_name(code: str) -> str:
    """The name of ward ``code`` once :func:`ward_names` has run for this desk (else the code)."""
    d = next(iter(_desks.values()), None)
    return (getattr(d, "_ward_names", None) or {}).get(code, code)




def yuan(fen: int | None) -> str:
    return "¥" + fmt_fen(int(fen or 0))


def fen_from_text(text: str) -> int | None:
    """The cashier's typed amount in yuan → fen; None if it is not a positive amount."""
    try:
        v = parse_yuan((text or "").replace("¥", "").strip())
    except ValueError:
        return None
    return v if v > 0 else None


class CounterScreen(Screen):
    """Base: ``message`` (a msgid, with ``msg_kw``) under the title, ``busy`` while a call runs."""

    message = StringProperty("")
    msg_kw = DictProperty({})
    busy = BooleanProperty(False)
    error = BooleanProperty(False)
    waited = NumericProperty(0)          # seconds the running call has taken

    def __init__(self, **kw):
        super().__init__(**kw)
        app = App.get_running_app()
        if app is not None:
            app.bind(lang=lambda *_: self.on_lang())

    def on_lang(self) -> None:
        """Rows built in Python are rebuilt in the new language (kv text rebinds by itself)."""

    def say(self, msgid: str, error: bool = False, **kw) -> None:
        self.msg_kw, self.error, self.message = kw, error, msgid   # the line redraws on message, last

    def call(self, fn, done=None, failed=None) -> None:
        """Run ``fn(desk)`` in a worker; ``done(result)`` on the UI thread; errors → message line."""
        self.busy = True
        app = App.get_running_app()
        hold = app.hold_idle()          # no idle log-out while the terminal or printer works
        started = time.monotonic()
        self.waited = 0

        def tick(_dt):
            if not self.busy:
                return False
            self.waited = int(time.monotonic() - started)

        ticker = Clock.schedule_interval(tick, 1.0)

        def ok(result):
            ticker.cancel()
            app.release_idle(hold)
            self.busy = False
            if done:
                done(result)

        def bad(exc):
            ticker.cancel()
            app.release_idle(hold)
            self.busy = False
            self.show_error(exc)
            if failed:
                failed(exc)

        def run():
            d = desk()
            ward_names(d)               # rows show ward names: known before any row is drawn
            return fn(d)

        worker.submit(run, ok, bad)

    def show_error(self, exc: Exception) -> None:
        msg = getattr(exc, "user_message", None) if isinstance(exc, OnestopError) else None
        if not msg:
            log.error("counter: %s: %s", type(exc).__name__, exc)
            msg = "This cannot be done now. Please ask the staff for help."
        app = App.get_running_app()
        if app is None:                      # the app stopped while the call ran
            return
        window = str(app.site.get("site", "counter_window"))
        self.say(msg, error=True, window=window)

    def say_printed(self, outs, ok_msgid: str = "Printed.", **kw) -> None:
        """Print outcomes → one message: printed, or kept in the journal for a reprint."""
        outs = [o for o in (outs if isinstance(outs, (list, tuple)) else [outs]) if o is not None]
        if all(o.ok for o in outs):
            self.say(ok_msgid, **kw)
        else:
            self.say("The printer did not print. The job is kept; reprint it from the journal.", error=True)

    def status_callback(self):
        """A terminal status callback safe to call from the worker (updates the message line)."""
        def cb(msg):
            Clock.schedule_once(lambda _dt: self.say(msg.message_id))
        return cb

    def reset(self) -> None:
        self.message, self.msg_kw, self.error, self.busy = "", {}, False, False

    # -- list helpers ---------------------------------------------------------------------
    @staticmethod
    def fill(box, widgets) -> None:
        box.clear_widgets()
        for w in widgets:
            box.add_widget(w)

    @staticmethod
    def line(text: str, bold: bool = False, size: float = 24):
        app = App.get_running_app()
        return Factory.OLabel(text=text, bold=bold, font_size=size * app.scale, size_hint_y=None,
                              height=max(36, (size + 16) * app.scale))

    @staticmethod
    def button(text: str, on_release, secondary: bool = False, width_hint=None):
        app = App.get_running_app()
        b = (Factory.SecondaryButton if secondary else Factory.OButton)(
            text=text, size_hint_y=None, height=max(app.touch_min, 64 * app.scale), font_size=24 * app.scale)
        if width_hint is not None:
            b.size_hint_x = width_hint
        b.bind(on_release=lambda *_: on_release())
        return b

    def row(self, text: str, actions=(), height=None):
        """A list row: a label and action buttons [(label, fn, secondary)]."""
        app = App.get_running_app()
        box = Factory.BoxLayout(size_hint_y=None, height=height or max(app.touch_min, 70 * app.scale), spacing=8)
        box.add_widget(Factory.OLabel(text=text, font_size=22 * app.scale))
        for label, fn, *sec in actions:
            box.add_widget(self.button(label, fn, bool(sec and sec[0]), width_hint=0.3))
        return box


load_kv("counter/base")
