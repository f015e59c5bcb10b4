"""The frame around every screen: header (site, clock, help), notice line, status strip."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from drivers.base import ROLES

from ..kv import load_kv

__all__ = ["Shell", "StatusStrip", "ROLE_MSGIDS", "STATE_MSGIDS", "site_now"]


def site_now(config) -> dt.datetime:
    """Now in the site's time zone (``[site] timezone``), the one every printout uses too."""
    return dt.datetime.now(ZoneInfo(config.get("site", "timezone")))

ROLE_MSGIDS = {
    "card_reader": "Card reader",
    "id_reader": "ID card reader",
    "receipt_printer": "Receipt printer",
    "label_printer": "Wristband printer",
    "payment_terminal": "Card terminal",
    "scanner": "Scanner",
    "camera": "Camera",
}
STATE_MSGIDS = {
    "connected": "ready",
    "busy": "busy",
    "error": "fault",
    "disconnected": "not connected",
}
STATE_COLORS = {
    "connected": (0.10, 0.55, 0.25, 1),
    "busy": (0.80, 0.55, 0.0, 1),
    "error": (0.75, 0.10, 0.10, 1),
    "disconnected": (0.45, 0.45, 0.45, 1),
}


class StatusChip(BoxLayout):
    role = StringProperty("")
    state = StringProperty("disconnected")
    reason = StringProperty("")

    def color(self, state):
        return STATE_COLORS.get(state, STATE_COLORS["disconnected"])


class StatusStrip(BoxLayout):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.chips = {}
        app = App.get_running_app()
        for role in ROLES:
            if app.site.devices.get(role):
                chip = StatusChip(role=role)
                self.chips[role] = chip
                self.add_widget(chip)
        app.bind(device_status=self.refresh)

    def refresh(self, _app, status):
        for role, chip in self.chips.items():
            st = status.get(role)
            if st is not None:
                chip.state, chip.reason = st.state.value, st.reason


class Shell(BoxLayout):
    manager = ObjectProperty(None)
    clock_text = StringProperty("")

    def __init__(self, manager, **kw):
        load_kv("shell")
        super().__init__(**kw)
        self.ids.body.add_widget(manager)
        self.manager = manager
        app = App.get_running_app()
        self._site = app.site
        self._cancel_help = None
        app.bind(help_command=self._help_changed)
        self._tick()
        Clock.schedule_interval(self._tick, 15)

    def _help_changed(self, _app, command: str) -> None:
        """The "cancel the help request" button is there only while a request is open."""
        from kivy.factory import Factory

        row = self.ids.notice_row
        if command and self._cancel_help is None:
            self._cancel_help = Factory.CancelHelpButton()
            row.add_widget(self._cancel_help)
        elif not command and self._cancel_help is not None:
            row.remove_widget(self._cancel_help)
            self._cancel_help = None

    def _tick(self, *_):
        self.clock_text = site_now(self._site).strftime("%Y-%m-%d %H:%M")
