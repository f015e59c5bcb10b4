"""``onestop ward``: the nurse station's login. The person picks a role (nurse, charge nurse,
doctor), gives a staff ID and the role's PIN (``[ward]`` PIN hashes in the config); five wrong PINs
lock the screen for a minute, as at the counter. The staff ID and role go with every step taken
afterwards; the idle timeout logs out (the board's ``reset``)."""

from __future__ import annotations

import logging
import time

from kivy.app import App
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from pos.staff import verify_pin

from ..screens.login import LOCKOUT_S, MAX_FAILURES

log = logging.getLogger(__name__)

__all__ = ["SCREEN", "KV", "WardLoginScreen", "ROLES", "AUTOPLAY"]


def _(msgid: str) -> str:
    return msgid


ROLES = {"nurse": _("Nurse"), "charge_nurse": _("Charge nurse"), "doctor": _("Doctor")}
MESSAGES = (_("Pick your role."), _("Give your staff ID."), _("Wrong PIN."),
            _("Too many wrong PINs. Wait a minute."), _("No PIN is set for this role. Ask IT."))


def _kv() -> str:
    from importlib import resources

    return resources.files("assets").joinpath("kv", "ward", "ward_login.kv").read_text(encoding="utf-8")


KV = _kv()


class WardLoginScreen(Screen):
    role = StringProperty("")
    message = StringProperty("")
    failures = NumericProperty(0)
    locked_until = NumericProperty(0)

    def __init__(self, **kw):
        super().__init__(**kw)
        self._said = ""
        App.get_running_app().bind(lang=lambda *_: self._retell())

    def _retell(self) -> None:
        if self._said:
            self.message = App.get_running_app().t(self._said)

    def say(self, msgid: str) -> None:
        self._said = msgid
        self.message = App.get_running_app().t(msgid) if msgid else ""

    def reset(self) -> None:
        self.role = ""
        self.ids.staff.text = self.ids.pin.text = ""
        self.say("")

    def submit(self) -> None:
        app = App.get_running_app()
        pin, staff = self.ids.pin.text, self.ids.staff.text.strip()
        self.ids.pin.text = ""
        if time.monotonic() < self.locked_until:
            self.say("Too many wrong PINs. Wait a minute.")
            return
        if not self.role:
            self.say("Pick your role.")
            return
        if not staff:
            self.say("Give your staff ID.")
            return
        stored = app.site.get("ward", f"{self.role}_pin")
        if not stored:
            log.warning("ward login refused: no [ward] %s_pin in the config", self.role)
            self.say("No PIN is set for this role. Ask IT.")
            return
        if not verify_pin(pin, stored):
            self.failures += 1
            log.warning("ward login: wrong PIN for %s %s (%d)", self.role, staff, self.failures)
            if self.failures >= MAX_FAILURES:
                self.locked_until = time.monotonic() + LOCKOUT_S
                self.failures = 0
                self.say("Too many wrong PINs. Wait a minute.")
            else:
                self.say("Wrong PIN.")
            return
        self.failures = 0
        log.info("ward login: %s %s", self.role, staff)
        board = app.screen("ward_board")
        board.staff, board.role = staff, self.role
        app.staff_role = self.role
        self.say("")
        app.go("ward_board")


SCREEN = WardLoginScreen
#: what ``onestop demo ward --autoplay DIR`` plays (kiosk.launch finds it on the front end's home screen)
AUTOPLAY = "kiosk.ward.autoplay:WardAutoplay"
