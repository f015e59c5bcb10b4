"""Technician diagnostics: every configured and discovered device, its status, and a probe."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from drivers.discovery import discover
from drivers.registry import probe

from .. import worker
from .shell import ROLE_MSGIDS, STATE_COLORS

log = logging.getLogger(__name__)

__all__ = ["DiagScreen", "DeviceRow", "SCREEN"]


class DeviceRow(BoxLayout):
    role = StringProperty("")
    url = StringProperty("")
    state = StringProperty("disconnected")
    reason = StringProperty("")

    def color(self, state):
        return STATE_COLORS.get(state, STATE_COLORS["disconnected"])

    def probe_now(self) -> None:
        self.state, self.reason = "busy", "probing..."
        role, url = self.role, self.url

        def done(st):
            self.state, self.reason = st.state.value, st.reason
            log.info("technician probe %s %s: %s %s", role, url, st.state.value, st.reason)

        worker.submit(lambda: probe(url, role), done)


class DiagScreen(Screen):
    discovered = ListProperty([])

    def on_pre_enter(self, *_):
        app = App.get_running_app()
        box = self.ids.devices
        box.clear_widgets()
        self.rows = {}
        for role, url in app.site.devices.items():
            row = DeviceRow(role=role, url=url or "-")
            if not url:
                row.state, row.reason = "disconnected", "not configured"
            self.rows[role] = row
            box.add_widget(row)
        self.refresh(app, app.device_status)
        app.bind(device_status=self.refresh)
        worker.submit(lambda: [d.as_dict() for d in discover()], self._found)

    def on_leave(self, *_):
        App.get_running_app().unbind(device_status=self.refresh)

    def refresh(self, _app, status):
        for role, st in status.items():
            row = self.rows.get(role)
            if row is not None and row.state != "busy":
                row.state, row.reason = st.state.value, st.reason

    def _found(self, found):
        self.discovered = found
        box = self.ids.discovered
        box.clear_widgets()
        if not found:
            box.add_widget(Factory.OLabel(text=App.get_running_app().t("Nothing found on serial, PC/SC or video buses.", App.get_running_app().lang),
                                          font_size=20 * App.get_running_app().scale))
        for d in found:
            box.add_widget(Factory.OLabel(text=App.get_running_app().fx(f"{d['bus']}: {d['id']} - {d['description']} -> {d['url_hint']}"),
                                          font_size=18 * App.get_running_app().scale))


SCREEN = DiagScreen
