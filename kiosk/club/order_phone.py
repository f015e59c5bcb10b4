"""The butler's phone takes the room's order: the menu by course, the room's order as the box
last published it (retained on ``club/{site}/order/{room}``), and "fire" for a course. Each touch
is a request with its own ULID (``in/order``), done once by the box however often the broker
delivers it; what the phone shows is always the box's view, never its own guess. Voids, the
kitchen's "ready" and reprints are on the box's order screen (:mod:`kiosk.club.order`).
"""

from __future__ import annotations

import logging
from importlib import resources

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from pos.club.orders import Menu
from pos.money import fmt_fen

from .order import STATE_MSGIDS, _button

__all__ = ["PhoneOrderScreen"]

log = logging.getLogger(__name__)

_kv_loaded = False


def _load_kv() -> None:
    global _kv_loaded
    if not _kv_loaded:
        path = resources.files("assets").joinpath("kv", "club", "order_phone.kv")
        Builder.load_string(path.read_text(encoding="utf-8"), filename="club/order_phone.kv")
        _kv_loaded = True


class PhoneOrderScreen(Screen):
    header = StringProperty("")
    order_text = StringProperty("")
    course = NumericProperty(1)

    def __init__(self, **kw):
        _load_kv()
        super().__init__(**kw)
        self.menu = Menu()
        self._shown = None

    @property
    def room(self) -> str:
        dev = App.get_running_app().device
        return dev.rooms[0] if dev.rooms else ""

    def refresh(self, *_):
        app = App.get_running_app()
        t, fx, dev = app.tr, app.fx, app.device
        self.header = fx(t("Room {room}", room=self.room) + " · " + t("Order"))
        with dev.lock:
            view = dict(dev.orders.get(self.room) or {})
        out = []
        for c in view.get("courses", []):
            out.append("[b]" + fx(f"{t('Course {n}', n=c['course'])} {self.menu.course_name(c['course'], app.lang)} · "
                                  f"{t(STATE_MSGIDS[c['state']])}") + "[/b]")
            for d in c["dishes"]:
                out.append(fx(f"{self.menu.dish(d['dish']).name(app.lang)} ×{d['qty']}"))
        if out:
            out.append(fx(t("Total: ¥{amount}", amount=fmt_fen(view.get("total_fen", 0)))))
        self.order_text = "\n".join(out) if out else fx(t("Nothing ordered yet"))
        key = (app.lang, self.course)
        if key != self._shown:
            self._shown = key
            self.ids.tabs.clear_widgets()
            for c in sorted(self.menu.courses):
                _button("SecondaryButton", fx(f"{c} {self.menu.course_name(c, app.lang)}"), 19 * app.scale,
                        lambda c=c: self.choose(c), (0.55, 0.75, 0.95, 1) if c == self.course else None, self.ids.tabs)
            self.ids.dishes.clear_widgets()
            for d in self.menu.by_course()[self.course]:
                _button("SecondaryButton", fx(f"{d.name(app.lang)}\n¥{fmt_fen(d.price_fen)}"), 20 * app.scale,
                        lambda code=d.code: self.add(code), parent=self.ids.dishes)
        course = next((c for c in view.get("courses", []) if c["course"] == self.course), None)
        self.ids.fire.text = fx(t("Fire course {n}", n=self.course))
        self.ids.fire.disabled = not (course and course["unsent"])
        self.ids.back.text = fx(t("Back"))

    def choose(self, course: int) -> None:
        self.course = course
        self.refresh()

    def add(self, dish: str) -> None:
        App.get_running_app().device.order("add", self.room, dish=dish, qty=1)

    def fire(self) -> None:
        App.get_running_app().device.order("fire", self.room, course=self.course)
        self.ids.fire.disabled = True                 # until the box's view says what is left to send

    def back(self) -> None:
        App.get_running_app().sm.current = "role"
