"""Touch number entry shared by the kiosk and the counter: a keypad popup for whole yuan, and a
button that repeats while it is held (amount steps)."""

from __future__ import annotations

from importlib import resources

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.properties import NumericProperty, ObjectProperty, StringProperty
from kivy.uix.button import Button
from kivy.uix.modalview import ModalView

from ..kv import load_kv

__all__ = ["NumPad", "RepeatButton", "REPEAT_DELAY_S", "REPEAT_EVERY_S", "keyboard_for", "NUMERIC_LAYOUT"]

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


#: the on-screen keyboard for amounts, PINs and counts: digits only, small enough to leave the
#: amount and the pay button in sight
NUMERIC_LAYOUT = str(resources.files("assets") / "keyboards" / "numeric.json")


def keyboard_for(field) -> None:
    """On focus: the docked on-screen keyboard shows digits for a number field (``input_filter``
    int or float), the full keyboard for text."""
    layout = NUMERIC_LAYOUT if field.input_filter in ("int", "float") else "qwerty"
    app = App.get_running_app()

    def apply(_dt):
        shown = [k.widget for k in getattr(Window, "_keyboards", {}).values()
                 if getattr(k, "widget", None) is not None and k.widget.parent is not None]
        # the screens make room above a docked keyboard (Shell's spacer): nothing hides under it
        app.keyboard_height = max((w.height * w.scale for w in shown if w.docked), default=0)
        if not field.focus:
            return
        for w in shown:
            if w.layout == layout:
                continue
            if not hasattr(w, "_text_size"):
                w._text_size = tuple(w.size)
            w.layout = layout
            # docked, the keyboard is scaled to the window's width: a wide, low digit pad
            w.size = (Window.width, NUMERIC_HEIGHT * App.get_running_app().scale) if layout == NUMERIC_LAYOUT \
                else w._text_size
            if w.docked:
                w.setup_mode()
        app.keyboard_height = max((w.height * w.scale for w in shown if w.docked), default=0)

    Clock.schedule_once(apply, 0)


NUMERIC_HEIGHT = 240


Factory.register("RepeatButton", cls=RepeatButton)
