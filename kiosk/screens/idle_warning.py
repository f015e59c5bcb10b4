"""The "still there?" popup: the kiosk counts down before it clears a patient's screens; any
touch goes on with the session (see ``OnestopApp._start_countdown``)."""

from __future__ import annotations

from kivy.uix.modalview import ModalView

from ..kv import load_kv

__all__ = ["IdleWarning"]


class IdleWarning(ModalView):
    def __init__(self, **kw):
        load_kv("idle_warning")
        super().__init__(**kw)
