"""Shared fixture for the counter UI tests: the virtual receipt and wristband printers and the
virtual ZVT terminal on 127.0.0.1 ephemeral ports, a config pointing at them, the counter app
started with that config and logged in by PIN, and the demo data seeded through the same Site."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from drivers.sim.printer import VirtualPrinter
from drivers.sim.zvt_terminal import SimTerminal, TcpFrontEnd
from pos.config import load_config
from pos.hospital import demo

from .kivy_harness import all_widgets, start_app, stop_app

__all__ = ["Bench", "counter_bench", "start_counter", "texts", "press", "type_into", "scan", "tap", "reveal", "shots", "prepare_discharge", "LANGS"]

FAST = "timeout=5&ack_timeout=1"


class Bench:
    """The simulated devices of one test, and the config that names them."""

    def __init__(self, tmp_path, artifacts):
        self.stack = ExitStack()
        self.receipts = self.stack.enter_context(VirtualPrinter(out_dir=artifacts / "counter-printed"))
        self.bands = self.stack.enter_context(VirtualPrinter(out_dir=artifacts / "counter-printed"))
        self.terminal = SimTerminal(tmp_path / "zvt")
        self.front = TcpFrontEnd(self.terminal).start()
        self.stack.callback(self.front.stop)
        from kiosk.launch import demo_config_path

        self.config = load_config(demo_config_path())
        self.config.values["devices"] = {
            "receipt_printer": f"escpos+tcp://127.0.0.1:{self.receipts.port}?profile=cn80",
            "label_printer": f"zpl+tcp://127.0.0.1:{self.bands.port}",
            "payment_terminal": f"{self.front.url}?{FAST}",
        }
        self.store_path = str(tmp_path / "counter.sqlite")

    def charges(self) -> list[dict]:
        return [e for e in self.terminal.ledger.entries() if e.get("result") == "approved"]

    def receipt_texts(self) -> list[str]:
        return [d.text for d in self.receipts.docs if getattr(d, "cut", False)]

    def close(self):
        self.stack.close()


def start_counter(bench: Bench, language="zh-Hans", size=(1280, 800), login=True, seed=True):
    ui = start_app("counter", config=bench.config, store_path=bench.store_path, language=language, size=size)
    if login:
        pad = ui.screen().ids.pad
        keys = {b.text: b for b in pad.children}
        for digit in "1234":
            ui.tap(keys[digit])
        ui.tap(ui.screen().ids.key_ok)
        ui.wait(lambda: ui.app.sm.current == "counter_home", what="counter home")
        ui.settle()
    if seed:
        from kiosk.counter.base import desk

        d = desk()
        demo.seed(d.hospital, d.site.gateway)
    return ui


@pytest.fixture
def counter_bench(tmp_path, artifacts):
    uis = []
    bench = Bench(tmp_path, artifacts)

    def start(**kw):
        ui = start_counter(bench, **kw)
        uis.append(ui)
        return ui

    bench.start = start
    yield bench
    for ui in uis:
        stop_app(ui)
    bench.close()


def texts(root) -> str:
    from .kivy_harness import _TAG, _unescape

    return "\n".join(_unescape(_TAG.sub("", w.text)) for w in all_widgets(root)
                     if isinstance(getattr(w, "text", None), str) and w.text)


def reveal(ui, widget) -> None:
    """Scroll the enclosing ScrollView (as the cashier would) so ``widget`` is on screen."""
    from kivy.uix.scrollview import ScrollView

    p, seen = widget.parent, set()
    while p is not None and not isinstance(p, ScrollView) and id(p) not in seen:
        seen.add(id(p))
        p = p.parent
    if not isinstance(p, ScrollView) or not p.children or p.children[0].height <= p.height:
        return                                   # nothing to scroll
    if True:
        ui.frames(2)
        p.scroll_to(widget, padding=10, animate=False)
        ui.frames(2)


def tap(ui, widget) -> None:
    reveal(ui, widget)
    ui.tap(widget)


def press(ui, text_part: str, root=None):
    """Tap the button showing ``text_part``."""
    from kivy.uix.button import Button

    root = root or ui.app.root
    for w in all_widgets(root):
        t = getattr(w, "text", None)
        if isinstance(w, Button) and isinstance(t, str) and text_part in t and w.get_root_window() is not None \
                and not w.disabled:
            tap(ui, w)
            return w
    raise LookupError(f"no enabled button shows {text_part!r}")


def type_into(ui, field, text: str) -> None:
    """Tap a text field and type into it, as the cashier does on the counter keyboard."""
    tap(ui, field)
    field.text = ""
    field.insert_text(text)
    field.focus = False          # done typing (the docked on-screen keyboard goes away)
    ui.frames(2)


def scan(ui, code: str) -> None:
    """A keyboard-wedge scanner: a fast burst of characters, then Enter."""
    win = ui.window
    for ch in code:
        win.dispatch("on_textinput", ch)
    win.dispatch("on_key_down", 13, 40, "\r", [])
    ui.frames(3)


LANGS = ("zh-Hans", "zh-Hant", "en")


def shots(ui, artifacts, name: str) -> None:
    """Screenshots of the current screen in the three languages (switching the app's language)."""
    from .kivy_harness import assert_no_tofu

    size = "x".join(str(int(v)) for v in ui.window.size)
    keep = ui.app.lang
    for lang in LANGS:
        ui.app.set_language(lang)
        ui.frames(4)
        assert_no_tofu(ui.app.root)
        ui.screenshot(artifacts, f"{name}-{lang}-{size}")
    ui.app.set_language(keep)
    ui.frames(2)


def prepare_discharge(d, person: int, extra=()) -> str:
    """Admit a demo person with charges, then order, lock and schedule the discharge."""
    from pos.hospital import demo

    no = demo.admit_demo_patient(d.hospital, person, days=3)
    prices = {code: price for code, _n, _s, _u, _c, price in demo.FEES}
    for code, qty in extra:
        d.hospital.add_charge(no, code, qty, unit_price_fen=prices[code])
    d.hospital.order_discharge(no, summary="好转出院", ebill_no="EB-" + no, doctor="主治醫師")
    d.hospital.lock_charges(no, "護士長")
    d.hospital.schedule_discharge(no, d.hospital.today() + "T10:00")
    return no
