"""The deposit amount (check-in and top-up): pre-filled; changed by presets, by the keypad, or by
±100 steps that repeat while held; kept within limits (the patient is told when it was)."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import ListProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

from ..screens import numpad  # noqa: F401 - registers RepeatButton for the kv

__all__ = ["AmountScreen", "SCREEN", "PRESETS_FEN"]

PRESETS_FEN = (100000, 200000, 300000, 500000, 1000000)
CLAMPED = "The amount must be from {low} to {high}."


class AmountScreen(Screen):
    amount_fen = NumericProperty(0)
    min_fen = NumericProperty(0)
    max_fen = NumericProperty(0)
    balance_fen = NumericProperty(-1)      # current deposit balance (top-up), -1 = not shown
    patient = StringProperty("")
    presets = ListProperty([])
    message = StringProperty("")

    def on_pre_enter(self, *_):
        flow = App.get_running_app().flow
        self.amount_fen = flow.amount_fen
        self.min_fen, self.max_fen = flow.limits.min_fen, flow.limits.max_fen
        bal = getattr(flow, "balance", None)
        self.balance_fen = bal["available_fen"] if bal else -1
        self.patient = getattr(flow, "patient_name", "") or ""
        self.presets = [p for p in PRESETS_FEN if self.min_fen <= p <= self.max_fen][:4]
        self.message = ""

    def adjust(self, steps: int) -> None:
        self.message = ""
        self.amount_fen = App.get_running_app().flow.adjust(steps)

    def choose(self, fen: int) -> None:
        self.amount_fen = App.get_running_app().flow.set_amount(fen)
        self.message = CLAMPED if self.amount_fen != fen else ""

    def open_keypad(self) -> None:
        from ..screens.numpad import NumPad

        app = App.get_running_app()
        pad = NumPad(title=app.t("Enter the amount in yuan", app.lang), when_done=self.choose)
        self._pad = pad
        pad.open(animation=False)

    def pay(self) -> None:
        App.get_running_app().go("pay")

    def reset(self) -> None:
        self.amount_fen = 0
        self.balance_fen = -1
        self.patient = self.message = ""


SCREEN = AmountScreen
KV_FILE = "patient/amount"
