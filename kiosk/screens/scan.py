"""A keyboard-wedge scanner seen from a screen: every staff front end (counter, ward) that takes
a scanned wristband or receipt uses it."""

from __future__ import annotations

import logging
import time

from kivy.app import App
from kivy.core.window import Window

__all__ = ["ScanCatcher"]

log = logging.getLogger(__name__)


class ScanCatcher:
    """Keyboard-wedge scans while a screen is shown: characters arriving fast, then Enter.

    ``on_scan(code)`` gets the code; typing by hand (slow) is left to the focused field. The
    field that had focus gets the scanned characters removed again.
    """

    MAX_GAP = 0.08        # seconds between characters of one scan
    MIN_LEN = 4

    def __init__(self, on_scan):
        self.on_scan = on_scan
        self.buf: list[str] = []
        self.last = 0.0
        self.active = False

    def start(self) -> None:
        if not self.active:
            Window.bind(on_textinput=self._char, on_key_down=self._key)
            self.active = True
        self.buf = []

    def stop(self) -> None:
        if self.active:
            Window.unbind(on_textinput=self._char, on_key_down=self._key)
            self.active = False
        self.buf = []

    def _char(self, _win, text):
        now = time.monotonic()
        if self.buf and now - self.last > self.MAX_GAP:
            self.buf = []
        self.buf.append(text)
        self.last = now
        return False

    def _key(self, _win, key, *_args):
        if key not in (13, 271):
            return False
        code = "".join(self.buf).strip()
        fast = self.buf and time.monotonic() - self.last <= self.MAX_GAP * 2
        self.buf = []
        if len(code) >= self.MIN_LEN and fast:
            from kivy.uix.textinput import TextInput

            for w in _walk(App.get_running_app().root):
                if isinstance(w, TextInput) and w.focus and w.text.endswith(code):
                    w.text = w.text[: -len(code)]
            log.info("scan: %s", code)
            self.on_scan(code)
            return True
        return False


def _walk(w):
    yield w
    for c in w.children:
        yield from _walk(c)

