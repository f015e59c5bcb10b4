"""The order screen on the club box (a tablet at the service station, or the butler's screen on
the box): a room's order in courses, taken from the menu by touches; a course is held until the
butler fires it, and its kitchen and bar tickets print on their own printers (on the box's printer
thread, never on the UI thread); a line is voided by a reversal; the kitchen says a course is
ready (a "can serve" call to one runner); a ticket that did not print, or is in doubt, is sent
again or reprinted as a marked copy from here.

Everything is decided in :mod:`pos.club.orders`; this module only shows it and passes touches on.
It runs in any Kivy app that has the role screen's ``tr``/``fx``/``scale``/``touch_min``/``font``
(:class:`kiosk.club.screen.RoleApp`, or :class:`OrderApp` alone).
"""

from __future__ import annotations

import logging
import threading
from importlib import resources

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from pos.club.errors import ClubError
from pos.money import fmt_fen

__all__ = ["OrderScreen", "OrderApp", "STATE_MSGIDS", "PRINT_MSGIDS"]

log = logging.getLogger(__name__)

STATE_MSGIDS = {"held": "Held", "fired": "Fired", "ready": "Ready to serve", "served": "Taken by a runner"}
PRINT_MSGIDS = {"unsent": "Printing…", "queued": "Printing…", "printing": "Printing…", "printed": "Printed",
                "failed": "Not printed", "in_doubt": "In doubt: check the printer"}
STATION_MSGIDS = {"kitchen": "Kitchen ticket", "bar": "Bar ticket"}

_kv_loaded = False


def _load_kv() -> None:
    global _kv_loaded
    if _kv_loaded:
        return
    path = resources.files("assets").joinpath("kv", "club", "order.kv")
    Builder.load_string(path.read_text(encoding="utf-8"), filename="club/order.kv")
    _kv_loaded = True


def _button(kind: str, text: str, size: float, on_release=None, lit=None, parent=None):
    """A button from base.kv whose font size is set after its kv rule (which would win over a
    kwarg); ``lit`` is a highlight colour, ``parent`` the layout it is added to."""
    b = getattr(Factory, kind)(text=text)
    b.font_size = size
    if lit:
        b.background_color = lit
    if on_release is not None:
        b.bind(on_release=lambda _btn: on_release())
    if parent is not None:
        parent.add_widget(b)
    return b


class OrderScreen(Screen):
    header = StringProperty("")
    lines_text = StringProperty("")
    total_text = StringProperty("")
    message = StringProperty("")
    course = NumericProperty(1)
    selected = StringProperty("")          # "course:dish" a tap picked (for a void)

    def __init__(self, box, room: str, staff: str, **kw):
        _load_kv()
        super().__init__(**kw)
        self.box = box
        self.room = str(room)
        self.staff = staff
        self.order_id = box.orders.open_order(self.room, staff)
        self._shown = None

    # -- showing ------------------------------------------------------------------------
    def refresh(self, *_):
        app = App.get_running_app()
        t, fx, o, menu = app.tr, app.fx, self.box.orders, self.box.orders.menu
        self.header = app.fx(t("Room {room}", room=self.room) + " · " + t("Order") + f" · {self.staff}")
        courses = {c["course"]: c for c in o.courses(self.order_id)}
        lines = o.lines(self.order_id)
        left = {ln["line_id"]: ln["qty"] for ln in lines if ln["void_of"] is None}
        for ln in lines:
            if ln["void_of"]:
                left[ln["void_of"]] += ln["qty"]
        groups = self._groups(lines, left)
        total = 0
        out = []
        for c in sorted({ln["course"] for ln in lines}):
            state = courses.get(c, {}).get("state", "held")
            if state == "ready" and courses[c]["call_id"]:            # the runner acknowledged the can-serve call
                call = self.box.book.get(courses[c]["call_id"])
                state = "served" if call and call["state"] == "acked" else state
            out.append("[b]" + fx(f"{t('Course {n}', n=c)} {menu.course_name(c, app.lang)} · {t(STATE_MSGIDS[state])}")
                       + "[/b]")
            for (course, dish), g in groups.items():
                if course != c:
                    continue
                name = menu.dish(dish).name(app.lang)
                n = g["left"]
                total += n * g["unit_fen"]
                mark = "▶ " if f"{course}:{dish}" == self.selected else ""
                if n <= 0:
                    out.append(fx(mark) + "[s]" + fx(f"{name} ×{g['ordered']}") + "[/s] " + fx(t("Voided")))
                else:
                    voided = f" ({t('{n} voided', n=g['ordered'] - n)})" if n < g["ordered"] else ""
                    out.append(fx(f"{mark}{name} ×{n}  ¥{fmt_fen(n * g['unit_fen'])}{voided}"))
        self.lines_text = "\n".join(out) if out else fx(t("Nothing ordered yet"))
        self.total_text = app.fx(t("Total: ¥{amount}", amount=fmt_fen(total)))
        self._widgets(app, courses, lines, groups)

    @staticmethod
    def _groups(lines, left) -> dict:
        """(course, dish) -> what was ordered, what is left, and the lines still standing (newest last):
        two taps on a dish are two lines in the store and one row on the screen."""
        groups: dict = {}
        for ln in lines:
            if ln["void_of"]:
                continue
            g = groups.setdefault((ln["course"], ln["dish"]), {"ordered": 0, "left": 0, "unit_fen": ln["unit_fen"],
                                                              "standing": []})
            g["ordered"] += ln["qty"]
            g["left"] += left[ln["line_id"]]
            g["unsent"] = g.get("unsent", False) or (ln["ticket_no"] is None and left[ln["line_id"]] > 0)
            if left[ln["line_id"]] > 0:
                g["standing"].append(ln["line_id"])
        return groups

    def _widgets(self, app, courses, lines, groups) -> None:
        t, o, menu = app.tr, self.box.orders, self.box.orders.menu
        key = (app.lang, self.course, len(menu.dishes))
        if key != self._shown:                         # course tabs and the dishes of the chosen course
            self._shown = key
            tabs = self.ids.tabs
            tabs.clear_widgets()
            for c in sorted(menu.courses):
                _button("SecondaryButton", app.fx(f"{c} {menu.course_name(c, app.lang)}"), 19 * app.scale,
                        lambda c=c: self.choose(c), (0.55, 0.75, 0.95, 1) if c == self.course else None, tabs)
            dishes = self.ids.dishes
            dishes.clear_widgets()
            for d in menu.by_course()[self.course]:
                _button("SecondaryButton", app.fx(f"{d.name(app.lang)}\n¥{fmt_fen(d.price_fen)}"), 20 * app.scale,
                        lambda code=d.code: self.add(code), parent=dishes)
        picks = self.ids.picks                         # what to void: one button per dish still standing
        picks.clear_widgets()
        self._standing = {}
        for (course, dish), g in groups.items():
            if g["left"] <= 0:
                continue
            key = f"{course}:{dish}"
            self._standing[key] = g["standing"]
            _button("SecondaryButton", app.fx(f"{menu.dish(dish).name(app.lang)} ×{g['left']}"), 18 * app.scale,
                    lambda key=key: self.select(key), (0.95, 0.80, 0.55, 1) if key == self.selected else None, picks)
        if self.selected not in self._standing:
            self.selected = ""
        state = courses.get(self.course, {}).get("state")
        unsent = any(g["left"] > 0 and g["unsent"] for (c, _d), g in groups.items() if c == self.course)
        self.ids.fire.text = app.fx(t("Fire course {n}", n=self.course))
        self.ids.fire.disabled = not unsent
        self.ids.ready.text = app.fx(t("Course {n} ready", n=self.course))
        self.ids.ready.disabled = state != "fired"
        self.ids.void.text = app.fx(t("Void one"))
        self.ids.void.disabled = not self.selected
        tickets = self.ids.tickets
        tickets.clear_widgets()
        for tk in o.tickets(self.order_id)[-6:]:
            label = (f"{t(STATION_MSGIDS[tk['station']])}{' · ' + t('Voided') if tk['kind'] == 'void' else ''} "
                     f"{tk['ticket_no']} · "
                     f"{t('Course {n}', n=tk['course'])} · {t(PRINT_MSGIDS[tk['print_state']])}")
            if tk["print_state"] in ("failed", "in_doubt"):
                _button("HelpButton", app.fx(label + " · " + t("Print again" if tk["print_state"] == "failed"
                                                                else "Reprint a marked copy")), 18 * app.scale,
                        lambda n=tk["ticket_no"]: self.resend(n), parent=tickets)
            else:
                _button("OLabel", app.fx(label), 18 * app.scale, parent=tickets)

    # -- touches ------------------------------------------------------------------------
    def _do(self, fn, *args) -> None:
        app = App.get_running_app()
        try:
            fn(*args)
            self.message = ""
        except ClubError as exc:
            log.warning("club order screen (room %s): %s", self.room, exc)
            self.message = app.fx(app.tr(exc.user_message, **getattr(exc, "params", {})))
        self.refresh()

    def open_room(self, room: str) -> None:
        """Another room's order on this screen (the room number typed in the header)."""
        room = str(room).strip()
        if not room or room == self.room:
            return
        try:
            self.order_id = self.box.orders.open_order(room, self.staff)
        except ClubError as exc:
            self.message = App.get_running_app().fx(App.get_running_app().tr(exc.user_message))
            return
        self.room, self.selected, self.message = room, "", ""
        self.refresh()

    def choose(self, course: int) -> None:
        self.course = course
        self.refresh()

    def add(self, dish: str) -> None:
        self._do(self.box.add, self.order_id, dish, 1, self.staff)

    def select(self, key: str) -> None:
        self.selected = "" if self.selected == key else key
        self.refresh()

    def void(self) -> None:
        """One of the chosen dish back: a reversal of its newest line still standing."""
        standing = getattr(self, "_standing", {}).get(self.selected)
        if standing:
            self.selected = ""
            self._do(self.box.void, standing[-1], 1, self.staff)

    def fire(self) -> None:
        self._do(self.box.fire, self.order_id, self.course, self.staff)

    def ready(self) -> None:
        self._do(self.box.course_ready, self.order_id, self.course, self.staff)

    def resend(self, ticket_no: str) -> None:
        """A ticket that did not print, or is in doubt: on a worker thread (the printer is a device)."""
        def work():
            try:
                out = self.box.orders.resend(ticket_no)
                log.info("club order screen: ticket %s sent again: %s", ticket_no, out.state)
            except Exception:                       # noqa: BLE001 - said on the screen through the ticket's state
                log.exception("club order screen: ticket %s could not be sent again", ticket_no)
            Clock.schedule_once(self.refresh)
        threading.Thread(target=work, name=f"club-resend-{ticket_no}", daemon=True).start()


class OrderApp(App):
    """The order screen alone (``onestop club order`` on the box's tablet)."""

    lang = StringProperty("zh-Hans")
    font = StringProperty("")
    scale = NumericProperty(1.0)
    touch_min = NumericProperty(0)

    def __init__(self, box, room: str, staff: str, language: str = "zh-Hans", **kw):
        super().__init__(**kw)
        self.box, self.room, self.staff = box, room, staff
        self.set_language(language)

    def set_language(self, lang: str) -> None:
        from kiosk.fonts import font_set

        self.font = font_set(lang).primary
        self.lang = lang

    def tr(self, msgid: str, **kw) -> str:
        from kiosk.i18n import tr

        return tr(msgid, self.lang, **kw)

    def fx(self, text: str, _lang: str | None = None) -> str:
        from kiosk.fonts import font_set

        return font_set(self.lang).markup(text or "")

    def build(self):
        from kivy.core.window import Window
        from kivy.metrics import mm
        from kivy.uix.screenmanager import NoTransition, ScreenManager

        from .screen import _load_kv as load_role_kv

        load_role_kv()                              # base.kv: the buttons and labels
        self.sm = ScreenManager(transition=NoTransition())
        self.order_screen = OrderScreen(self.box, self.room, self.staff, name="order")
        self.sm.add_widget(self.order_screen)
        w, h = Window.size
        self.scale = max(0.5, min(1.5, min(w, h) / 720.0))
        self.touch_min = mm(12)
        self.box.on_printed = lambda _outs: Clock.schedule_once(self.order_screen.refresh)
        self._tick = Clock.schedule_interval(self.order_screen.refresh, 1.0)
        self.order_screen.refresh()
        return self.sm

    def on_stop(self):
        self._tick.cancel()
        self.box.on_printed = None
