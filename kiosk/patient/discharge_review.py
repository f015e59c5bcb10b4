"""Self-service discharge: the settlement before it is done (試算), then settle."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, DictProperty, StringProperty
from kivy.uix.screenmanager import Screen

__all__ = ["DischargeReviewScreen", "SCREEN"]


class DischargeReviewScreen(Screen):
    figures = DictProperty({})
    message = StringProperty("")
    busy = BooleanProperty(False)

    def on_pre_enter(self, *_):
        pre = App.get_running_app().flow.pre
        s = pre.split
        self.message = ""
        self.figures = {"total": s.total_fen, "pooled": s.pooled_fen, "selfpay": s.selfpay_fen,
                        "deposits": pre.deposits_fen, "refund": pre.refund_due_fen, "due": pre.collect_due_fen}

    def settle(self) -> None:
        if self.busy:
            return
        app = App.get_running_app()
        self.busy = True

        def done(_st):
            self.busy = False
            app.go("pay")

        def failed(exc):
            self.busy = False
            self.message = getattr(exc, "user_message", "Please go to window {window}.")

        app.with_store(lambda _s: app.flow.settle(), done, failed)

    def reset(self) -> None:
        self.figures, self.message, self.busy = {}, "", False


SCREEN = DischargeReviewScreen
KV_FILE = "patient/discharge_review"
