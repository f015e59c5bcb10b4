"""Staff PIN login for the counter (cashier PIN) and diagnostics (technician PIN)."""

from __future__ import annotations

import logging
import time

from kivy.app import App
from kivy.properties import ListProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from pos.staff import verify_pin

from .. import worker

log = logging.getLogger(__name__)

__all__ = ["LoginScreen", "SCREEN", "MAX_FAILURES", "LOCKOUT_S"]

MAX_FAILURES = 5
LOCKOUT_S = 60.0
NEXT = {"counter": ("cashier", "cashier_pin", "counter_home"), "diag": ("technician", "technician_pin", "diag")}


def staff_users(config, role: str) -> list[dict]:
    """The named logins of ``role`` (``[[staff.users]]``); none = the role's shared PIN."""
    return [u for u in config.get("staff", "users") or [] if u.get("role") == role]


def supervisor_logins(config) -> list[tuple[str, str]]:
    """``(name, PIN hash)`` of each supervisor: their own logins, then the shared supervisor PIN."""
    stored = [(u["name"], u["pin"]) for u in staff_users(config, "supervisor")]
    if config.get("staff", "supervisor_pin"):
        stored.append(("supervisor", config.get("staff", "supervisor_pin")))
    return stored


class LoginScreen(Screen):
    users = ListProperty([])            # names to choose from (per-staff logins), [] = a shared PIN
    chosen = StringProperty("")
    pin = StringProperty("")
    message = StringProperty("")
    failures = NumericProperty(0)
    locked_until = NumericProperty(0)

    def role(self) -> str:
        return NEXT[App.get_running_app().front][0]

    def on_pre_enter(self, *_):
        app = App.get_running_app()
        self.users = [u["name"] for u in staff_users(app.site, NEXT[app.front][0])]

    def on_users(self, _w, names) -> None:
        from kivy.factory import Factory

        box = self.ids.users
        box.clear_widgets()
        for name in names:          # one button per member of staff; the chosen one is marked
            b = Factory.SecondaryButton(font_size=26 * App.get_running_app().scale)
            b.staff_name = name
            b.bind(on_release=lambda btn: self.choose(btn.staff_name))
            box.add_widget(b)
        self._mark()

    def on_chosen(self, *_):
        self._mark()

    def _mark(self) -> None:
        app = App.get_running_app()
        for b in self.ids.users.children:
            b.text = app.fx(("✓ " if b.staff_name == self.chosen else "") + b.staff_name)

    def choose(self, name: str) -> None:
        self.chosen, self.pin, self.message = name, "", ""

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
        named = staff_users(app.site, role)
        if named and not self.chosen:
            self.message = "Choose your name, then enter your PIN."
            return
        who = self.chosen if named else ""
        stored = next((u["pin"] for u in named if u["name"] == who), "") if named else app.site.get("staff", key)
        if not stored:
            self.message = "No PIN is configured for this screen. Technician: set it in the config."
            log.error("%s login refused: staff.%s is not configured", role, key)
            return
        pin, self.pin = self.pin, ""
        worker.submit(lambda: verify_pin(pin, stored), lambda ok: self._checked(ok, role, target, who))

    def _checked(self, ok: bool, role: str, target: str, who: str = "") -> None:
        app = App.get_running_app()
        if ok:
            self.failures, self.message = 0, ""
            app.staff_role = role
            app.staff_name = who
            log.info("%s %s logged in", role, who or "(shared PIN)")
            app.go(target)
            return
        self.failures += 1
        log.warning("%s %s login: wrong PIN (%d in a row)", role, who, self.failures)
        if self.failures >= MAX_FAILURES:
            self.locked_until = time.monotonic() + LOCKOUT_S
            self.failures = 0
            self.message = "Too many wrong PINs. Please wait a minute."
        else:
            self.message = "Wrong PIN. Please try again."

    def reset(self) -> None:
        self.pin = ""
        self.message = ""
        self.chosen = ""


SCREEN = LoginScreen
