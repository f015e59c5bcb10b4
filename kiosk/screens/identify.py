"""Identify the patient: card, ID card or e-voucher. The first step of every kiosk service."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from .home import SERVICES

__all__ = ["IdentifyScreen", "SCREEN"]


class IdentifyScreen(Screen):
    service = StringProperty("")
    service_title = StringProperty("")

    def prepare(self, service: str) -> None:
        self.service = service
        self.service_title = dict(SERVICES)[service]
        app = App.get_running_app()

        def record(store):
            with store.transaction() as tx:
                return tx.emit("kiosk.service_started", {"service": service})

        app.with_store(record)

    def reset(self) -> None:
        self.service = ""
        self.service_title = ""

    def back(self) -> None:
        App.get_running_app().go_home()


SCREEN = IdentifyScreen
