"""Kiosk home: choose a service, choose a language."""

from __future__ import annotations

from kivy.app import App
from kivy.uix.screenmanager import Screen

__all__ = ["HomeScreen", "SCREEN", "SERVICES"]

#: (service id, msgid) in the order shown
SERVICES = [
    ("admission", "Admission check-in"),
    ("topup", "Deposit top-up"),
    ("daily_list", "Daily fee list"),
    ("discharge", "Discharge settlement"),
]


class HomeScreen(Screen):
    services = SERVICES

    def choose(self, service: str) -> None:
        App.get_running_app().go("identify", service=service)

    def language(self, lang: str) -> None:
        App.get_running_app().set_language(lang)


SCREEN = HomeScreen
KV_FILE = "patient/home"
