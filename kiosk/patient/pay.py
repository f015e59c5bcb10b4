"""Paying on the card terminal, with its status live on the screen ("insert card", "enter PIN"),
then the documents. Serves check-in and top-up (deposit) and discharge (collect or refund).

The payment runs in a worker; the terminal's status messages come back through
``Clock.schedule_once``. A declined card can be tried again (a new attempt); an attempt in doubt
is never sent again: the patient is sent to the counter.
"""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import Screen

__all__ = ["PayScreen", "SCREEN", "PRINTING", "CONNECTING"]

log = logging.getLogger(__name__)

CONNECTING = "Connecting to the card terminal"
PRINTING = "Printing your documents..."
REFUNDING = "Refunding to your card..."


class PayScreen(Screen):
    amount_fen = NumericProperty(0)
    status = StringProperty("")          # msgid from the terminal, live
    problem = StringProperty("")         # msgid: declined ...
    can_retry = BooleanProperty(False)
    busy = BooleanProperty(False)
    refund = BooleanProperty(False)

    def on_enter(self, *_):
        self.start()

    def start(self) -> None:
        app = App.get_running_app()
        flow = app.flow
        self.problem, self.can_retry, self.busy = "", False, True
        self.refund = getattr(flow, "refund_due_fen", 0) > 0 if hasattr(flow, "refund_due_fen") else False
        self.amount_fen = flow.refund_due_fen if self.refund else flow.amount_fen if flow.amount_fen else \
            getattr(flow, "collect_due_fen", 0)
        self.status = REFUNDING if self.refund else CONNECTING

        def on_status(msg):
            Clock.schedule_once(lambda _dt: setattr(self, "status", msg.message_id))

        def run(_store):
            if hasattr(flow, "balance") and callable(flow.balance):
                flow.balance(on_status=on_status)
            else:
                flow.pay(on_status=on_status)
            if flow.state == "printing":
                Clock.schedule_once(lambda _dt: setattr(self, "status", PRINTING))
                self._documents(flow)
            return flow.state

        hold = app.hold_idle()

        def done(state):
            app.release_idle(hold)
            if app.flow is not flow:   # the screen went home meanwhile: the flow has its outcome
                log.warning("payment outcome %s arrived after the patient's session ended", state)
                return
            self._done(flow, state)

        def failed(exc):
            app.release_idle(hold)
            if app.flow is not flow:
                log.error("payment step failed after the patient's session ended: %s", exc)
                return
            self._failed(exc)

        app.with_store(run, done, failed)

    @staticmethod
    def _documents(flow) -> None:
        if hasattr(flow, "finish"):
            flow.finish()
        else:
            flow.print_documents()

    def _done(self, flow, state: str) -> None:
        self.busy = False
        if state == "declined":
            self.problem, self.can_retry = flow.problem, True
            return
        App.get_running_app().go("finish")

    def _failed(self, exc: Exception) -> None:
        self.busy = False
        log.error("payment step failed: %s", exc)
        self.problem = getattr(exc, "user_message", "Please go to window {window}.")

    def reset(self) -> None:
        self.status = self.problem = ""
        self.can_retry = self.busy = False


SCREEN = PayScreen
KV_FILE = "patient/pay"
