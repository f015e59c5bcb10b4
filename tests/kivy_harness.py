"""Drive a front end the way a person does: real rendering (SDL offscreen), real touches.

``start_app(...)`` prepares an :class:`~kiosk.app.OnestopApp` the way ``App.run()`` does (build,
add to the window, ``on_start``) but leaves the event loop to the test, which advances it frame by
frame. One Kivy window serves the whole pytest process.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.core.text import LabelBase
from kivy.tests.common import UnitTestTouch
from kivy.uix.label import Label

from kiosk.fonts import covered

__all__ = ["UI", "start_app", "stop_app", "all_widgets", "label_runs", "assert_no_tofu"]


def all_widgets(root):
    yield root
    for child in root.children:
        yield from all_widgets(child)


_FONT_RUN = re.compile(r"\[font=([^\]]+)\](.*?)\[/font\]", re.S)
_TAG = re.compile(r"\[/?[a-z_]+(=[^\]]*)?\]")


def _unescape(s: str) -> str:
    return s.replace("&bl;", "[").replace("&br;", "]").replace("&amp;", "&")


def label_runs(label) -> list[tuple[str, str]]:
    """(font file, text) runs a label draws, reading its markup the way Kivy does."""
    text = label.text
    if not getattr(label, "markup", False):
        return [(label.font_name, text)]
    runs, pos = [], 0
    for m in _FONT_RUN.finditer(text):
        if m.start() > pos:
            runs.append((label.font_name, _unescape(_TAG.sub("", text[pos:m.start()]))))
        runs.append((m.group(1), _unescape(_TAG.sub("", m.group(2)))))
        pos = m.end()
    runs.append((label.font_name, _unescape(_TAG.sub("", text[pos:]))))
    return [(f, t) for f, t in runs if t]


class UI:
    def __init__(self, app):
        self.app = app
        EventLoop.ensure_window()
        self.window = EventLoop.window

    def frames(self, n: int = 3) -> None:
        for _ in range(n):
            EventLoop.idle()

    def wait(self, predicate, timeout: float = 10.0, what: str = "condition") -> None:
        """Advance frames until ``predicate()`` holds (for work done in background threads)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.frames(1)
            if predicate():
                return
            time.sleep(0.01)
        raise AssertionError(f"timed out waiting for {what}")

    def tap(self, widget) -> None:
        self.frames(2)
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.frames(1)
        touch.touch_up()
        self.frames(3)

    def settle(self) -> None:
        """Let screen transitions finish."""
        self.frames(2)
        self.wait(lambda: not self.app.sm.transition.is_active, what="screen transition")
        self.frames(3)

    def screen(self):
        return self.app.sm.current_screen

    def find(self, text_part: str, root=None):
        root = root or self.app.root
        for w in all_widgets(root):
            t = getattr(w, "text", None)
            if isinstance(t, str) and text_part in _unescape(_TAG.sub("", t)):
                return w
        raise LookupError(f"no widget shows {text_part!r}")

    def screenshot(self, folder: Path, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        self.frames(3)
        produced = self.window.screenshot(name=str(folder / f"{name}.png"))
        target = folder / f"{name}.png"
        if produced and os.path.exists(produced) and produced != str(target):
            shutil.move(produced, target)
        assert target.exists(), f"screenshot {target} not written"
        return target


def start_app(front: str = "kiosk", config=None, store_path: str | None = None, language: str = "zh-Hans",
              size=(1280, 800), idle_timeout: float | None = None, kiosk_mode: bool = True, demo_world=None):
    from kivy.app import App
    from kivy.core.window import Window

    from kiosk.app import OnestopApp
    from pos.config import load_config
    from kiosk.launch import demo_config_path

    config = config or load_config(demo_config_path())
    if idle_timeout is not None:
        config.values.setdefault("kiosk", {})["idle_timeout"] = idle_timeout
    if tuple(Window.size) != tuple(size):
        Window.size = size
        for _ in range(3):
            EventLoop.idle()
    app = OnestopApp(front=front, config=config, store_path=store_path, language=language, kiosk_mode=kiosk_mode,
                     monitor_interval=0.5)
    app.demo_world = demo_world
    App._running_app = app
    app.root = app.build()
    Window.add_widget(app.root)
    app.dispatch("on_start")
    ui = UI(app)
    ui.wait(lambda: app.store is not None, what="the store to open")
    ui.frames(3)
    return ui


def stop_app(ui: UI) -> None:
    from kivy.app import App
    from kivy.core.window import Window

    app = ui.app
    app.dispatch("on_stop")
    Window.remove_widget(app.root)
    for child in list(Window.children):
        Window.remove_widget(child)
    App._running_app = None
    ui.frames(2)


def font_file(name: str) -> str:
    if os.path.exists(name):
        return name
    return LabelBase._fonts[name][0]


def assert_no_tofu(root):
    """Every character every label draws has a glyph in the font it is drawn with (fontTools cmap)."""
    checked = 0
    for w in all_widgets(root):
        if not isinstance(w, Label) or not w.text:
            continue
        for font, text in label_runs(w):
            path = font_file(font)
            bad = [ch for ch in text if not ch.isspace() and not covered(path, ch)]
            assert not bad, f"{w.__class__.__name__} {text!r} would draw boxes for {bad} with {path}"
            checked += len(text)
    assert checked > 0
