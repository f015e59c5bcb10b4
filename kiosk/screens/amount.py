"""The deposit amount (check-in and top-up): pre-filled, adjustable in steps within limits."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import NumericProperty
from kivy.uix.screenmanager import Screen

__all__ = ["AmountScreen", "SCREEN"]


class AmountScreen(Screen):
    amount_fen = NumericProperty(0)
    min_fen = NumericProperty(0)
    max_fen = NumericProperty(0)
    balance_fen = NumericProperty(-1)      # current deposit balance (top-up), -1 = not shown

    def on_pre_enter(self, *_):
        flow = App.get_running_app().flow
        self.amount_fen = flow.amount_fen
        self.min_fen, self.max_fen = flow.limits.min_fen, flow.limits.max_fen
        bal = getattr(flow, "balance", None)
        self.balance_fen = bal["available_fen"] if bal else -1

    def adjust(self, steps: int) -> None:
        self.amount_fen = App.get_running_app().flow.adjust(steps)

    def pay(self) -> None:
        App.get_running_app().go("pay")

    def reset(self) -> None:
        self.amount_fen = 0
        self.balance_fen = -1


SCREEN = AmountScreen
