"""Technician log viewer: the tail of the log file (kiosk.runtime.log_dir()), filterable by level,
card numbers masked."""

from __future__ import annotations

import logging

from kivy.properties import ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from .. import worker
from ..diagbundle import filter_level, tail_lines
from ..runtime import log_dir

log = logging.getLogger(__name__)

__all__ = ["DiagLogsScreen", "SCREEN", "FILTERS", "SHOWN_LINES"]

#: filter buttons: (msgid, minimum level)
FILTERS = (("All", "DEBUG"), ("Info", "INFO"), ("Warnings", "WARNING"), ("Errors", "ERROR"))
SHOWN_LINES = 150


class DiagLogsScreen(Screen):
    level = StringProperty("INFO")
    lines = ListProperty([])          # the filtered lines shown
    path = StringProperty("")
    total = ListProperty([0, 0])      # (lines read, lines matching)

    def prepare(self, **_):
        self.reload()

    def set_level(self, level: str) -> None:
        self.level = level
        self.reload()

    def reload(self) -> None:
        path = log_dir() / "onestop.log"
        level = self.level
        self.path = str(path)

        def read():
            raw = tail_lines(path, max_lines=2000)
            shown = filter_level(raw, level)
            return raw, shown

        def done(res):
            raw, shown = res
            self.total = [len(raw), len(shown)]
            self.lines = shown[-SHOWN_LINES:]

        worker.submit(read, done)

    def reset(self) -> None:
        self.lines = []


SCREEN = DiagLogsScreen
KV_FILE = "diag/logs"
