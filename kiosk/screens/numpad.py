"""Touch number entry shared by the kiosk and the counter: a keypad popup for whole yuan, and a
button that repeats while it is held (amount steps)."""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import NumericProperty, ObjectProperty, StringProperty
from kivy.uix.button import Button
from kivy.uix.modalview import ModalView

from ..app import load_kv

__all__ = ["NumPad", "RepeatButton", "REPEAT_DELAY_S", "REPEAT_EVERY_S"]

REPEAT_DELAY_S = 0.5      # a press held this long starts repeating
REPEAT_EVERY_S = 0.12


class RepeatButton(Button):
    """``on_step`` once per tap, then again every REPEAT_EVERY_S while the press is held."""

    __events__ = ("on_step",)

    def on_press(self):
        self.dispatch("on_step")
        self._ev = Clock.schedule_once(self._start, REPEAT_DELAY_S)

    def _start(self, _dt):
        self._ev = Clock.schedule_interval(self._repeat, REPEAT_EVERY_S)

    def _repeat(self, _dt):
        if self.disabled or self.state != "down":
            self._stop()
            return False
        self.dispatch("on_step")

    def _stop(self):
        ev = getattr(self, "_ev", None)
        if ev is not None:
            ev.cancel()
            self._ev = None

    def on_release(self):
        self._stop()

    def on_step(self):
        pass


class NumPad(ModalView):
    """Digits for a whole-yuan amount; OK calls ``when_done(fen)``. ``max_digits`` keeps it sane."""

    title = StringProperty("")
    digits = StringProperty("")
    max_digits = NumericProperty(7)
    when_done = ObjectProperty(None, allownone=True)

    def __init__(self, **kw):
        load_kv("numpad")
        super().__init__(**kw)

    def press(self, key: str) -> None:
        if key == "C":
            self.digits = ""
        elif key == "<":
            self.digits = self.digits[:-1]
        elif len(self.digits) < self.max_digits and not (key == "0" and not self.digits):
            self.digits += key

    @property
    def fen(self) -> int:
        return int(self.digits or 0) * 100

    def ok(self) -> None:
        done, fen = self.when_done, self.fen
        self.dismiss(animation=False)
        if done is not None and fen > 0:
            done(fen)

    def shown_amount(self, _digits, _lang=None) -> str:
        return App.get_running_app().money(self.fen)


Factory.register("RepeatButton", cls=RepeatButton)
