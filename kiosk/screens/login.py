"""Staff PIN login for the counter (cashier PIN) and diagnostics (technician PIN)."""

from __future__ import annotations

import logging
import time

from kivy.app import App
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from pos.staff import verify_pin

from .. import worker

log = logging.getLogger(__name__)

__all__ = ["LoginScreen", "SCREEN", "MAX_FAILURES", "LOCKOUT_S"]

MAX_FAILURES = 5
LOCKOUT_S = 60.0
NEXT = {"counter": ("cashier", "cashier_pin", "counter_home"), "diag": ("technician", "technician_pin", "diag")}


class LoginScreen(Screen):
    pin = StringProperty("")
    message = StringProperty("")
    failures = NumericProperty(0)
    locked_until = NumericProperty(0)

    def role(self) -> str:
        return NEXT[App.get_running_app().front][0]

    def press(self, key: str) -> None:
        if key == "clear":
            self.pin = ""
        elif key == "ok":
            self.submit()
        elif len(self.pin) < 12:
            self.pin += key

    def submit(self) -> None:
        app = App.get_running_app()
        role, key, target = NEXT[app.front]
        if time.monotonic() < self.locked_until:
            self.message = "Too many wrong PINs. Please wait a minute."
            return
        stored = app.site.get("staff", key)
        if not stored:
            self.message = "No PIN is configured for this screen. Technician: set it in the config."
            log.error("%s login refused: staff.%s is not configured", role, key)
            return
        pin, self.pin = self.pin, ""
        worker.submit(lambda: verify_pin(pin, stored), lambda ok: self._checked(ok, role, target))

    def _checked(self, ok: bool, role: str, target: str) -> None:
        app = App.get_running_app()
        if ok:
            self.failures, self.message = 0, ""
            app.staff_role = role
            log.info("%s logged in", role)
            app.go(target)
            return
        self.failures += 1
        log.warning("%s login: wrong PIN (%d in a row)", role, self.failures)
        if self.failures >= MAX_FAILURES:
            self.locked_until = time.monotonic() + LOCKOUT_S
            self.failures = 0
            self.message = "Too many wrong PINs. Please wait a minute."
        else:
            self.message = "Wrong PIN. Please try again."

    def reset(self) -> None:
        self.pin = ""
        self.message = ""


SCREEN = LoginScreen
