"""Paying on the card terminal, with its status live on the screen ("insert card", "enter PIN"),
then the documents. Serves check-in and top-up (deposit) and discharge (collect or refund).

Where QR payments are configured (``[qrpay]``), a deposit first offers the methods: the bank
card, a QR shown for WeChat Pay or Alipay (the phone scans it; the order is polled), or the
patient's payment code read by the scanner (pos.payments.qr; the code itself is never logged).

The payment runs in a worker; the terminal's status messages come back through
``Clock.schedule_once``. A declined card can be tried again (a new attempt); an attempt in doubt
is never sent again: the patient is sent to the counter.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import partial

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen

from drivers.scanner import Scan, WedgeDecoder

__all__ = ["PayScreen", "SCREEN", "PRINTING", "CONNECTING"]

log = logging.getLogger(__name__)

CONNECTING = "Connecting to the card terminal"
PRINTING = "Printing your documents..."
REFUNDING = "Refunding to your card..."
SHOW_CODE = "Show the payment code of your wallet app to the scanner"
CANCELLED = "The payment was cancelled. No money was taken."
METHOD_NAMES = {"card": "Bank card", "wechat": "WeChat Pay", "alipay": "Alipay", "code": "Payment code"}


class PayScreen(Screen):
    amount_fen = NumericProperty(0)
    status = StringProperty("")          # msgid from the terminal, live
    problem = StringProperty("")         # msgid: declined ...
    can_retry = BooleanProperty(False)
    busy = BooleanProperty(False)
    refund = BooleanProperty(False)
    methods = ListProperty([])           # what the patient may choose from (empty: the card only)
    choosing = BooleanProperty(False)
    method = StringProperty("card")
    qr_texture = ObjectProperty(None, allownone=True)
    waiting_code = BooleanProperty(False)

    def on_enter(self, *_):
        self.offer()

    def on_leave(self, *_):
        self._stop_scanner()
        if getattr(self, "_cancel", None) is not None:
            self._cancel.set()

    # -- choosing the method ------------------------------------------------------------------
    def offer(self) -> None:
        """Offer card and QR methods for a deposit where QR payments are configured; else pay by card."""
        app = App.get_running_app()
        flow = app.flow
        qr = [] if hasattr(flow, "balance") and callable(flow.balance) else list(self._gateways(app))
        self.refund = False
        self.amount_fen = flow.amount_fen or 0
        self.qr_texture, self.waiting_code = None, False
        if not qr:
            self.methods, self.choosing = [], False
            flow.pay_with = None
            self.start()
            return
        self.methods = ["card", *qr, "code"]
        self.problem, self.status, self.can_retry, self.busy, self.choosing = "", "", False, False, True

    def choose(self, method: str) -> None:
        app = App.get_running_app()
        flow = app.flow
        self.method, self.choosing, self.problem = method, False, ""
        if method == "card":
            flow.pay_with = None
            self.start()
        elif method == "code":
            self.waiting_code, self.status = True, SHOW_CODE
            self._decoder = WedgeDecoder()
            Window.bind(on_textinput=self._on_text, on_key_down=self._on_key)
            self._poll_ev = Clock.schedule_interval(self._poll_decoder, 0.05)
        else:
            self._cancel = threading.Event()

            def shown(text):
                from ..screens.qrimage import qr_texture

                Clock.schedule_once(lambda _dt: setattr(self, "qr_texture", qr_texture(text)))
            flow.pay_with = partial(self._qr(app).pay_shown, provider=method, on_qr=shown, cancel=self._cancel,
                                    subject=app.t("Pay by QR code", app.lang))
            self.start()

    def cancel_qr(self) -> None:
        if getattr(self, "_cancel", None) is not None:
            self._cancel.set()

    def _gateways(self, app) -> dict:
        if getattr(app, "_qr_gateways", None) is None:
            from sync.qrpay import gateways_from_config

            try:
                app._qr_gateways = gateways_from_config(app.site)
            except (OSError, ValueError) as exc:
                log.error("QR payments not offered: their configuration cannot be used: %s", exc)
                app._qr_gateways = {}
        return app._qr_gateways

    def _qr(self, app):
        from pos.payments.qr import QrPaymentService

        site = app.site_services
        return QrPaymentService(site.store, self._gateways(app), posters=site.posters(), device=site.store.device_id,
                                poll=app.site.get("qrpay", "poll"), wait=app.site.get("qrpay", "wait"))

    # -- the payment code on the scanner (the code is a credential: never logged) -------------
    def _on_text(self, _win, text):
        for ev in self._decoder.feed(text, time.monotonic()):
            self._scanned(ev)

    def _on_key(self, _win, key, *_args):
        if key in (13, 271):
            for ev in self._decoder.feed("\r", time.monotonic()):
                self._scanned(ev)
        return False

    def _poll_decoder(self, _dt):
        for ev in self._decoder.poll(time.monotonic()):
            self._scanned(ev)

    def _stop_scanner(self) -> None:
        if getattr(self, "_poll_ev", None) is not None:
            self._poll_ev.cancel()
            self._poll_ev = None
            Window.unbind(on_textinput=self._on_text, on_key_down=self._on_key)

    def _scanned(self, ev) -> None:
        if not isinstance(ev, Scan) or not self.waiting_code:
            return
        from pos.payments.qr import InvalidPaymentCode, provider_of_code

        app = App.get_running_app()
        try:
            provider = provider_of_code(ev.text)
        except InvalidPaymentCode as exc:
            log.info("scanned text of %d characters is no payment code", len(ev.text))
            self.problem = exc.user_message
            return
        if provider not in self._gateways(app):
            self.problem = "This payment method is not available. Please choose another."
            return
        self._stop_scanner()
        self.waiting_code, self.problem = False, ""
        log.info("payment code scanned (%s)", provider)
        self._cancel = threading.Event()
        app.flow.pay_with = partial(self._qr(app).pay_scanned, auth_code=ev.text, provider=provider,
                                    cancel=self._cancel, subject=app.t("Pay by QR code", app.lang))
        self.start()

    def retry(self) -> None:
        if self.methods:
            self.offer()
        else:
            self.start()

    # -- paying ---------------------------------------------------------------------------------
    def start(self) -> None:
        app = App.get_running_app()
        flow = app.flow
        self.problem, self.can_retry, self.busy = "", False, True
        self.refund = getattr(flow, "refund_due_fen", 0) > 0 if hasattr(flow, "refund_due_fen") else False
        self.amount_fen = flow.refund_due_fen if self.refund else flow.amount_fen if flow.amount_fen else \
            getattr(flow, "collect_due_fen", 0)
        self.status = REFUNDING if self.refund else CONNECTING if self.method == "card" or not self.methods else ""

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
        self.qr_texture = None
        if state == "declined":
            payment = getattr(flow, "payment", None)
            cancelled = payment is not None and payment.public_status == "aborted" and self.method != "card"
            self.problem, self.can_retry = (CANCELLED if cancelled else flow.problem), True
            return
        App.get_running_app().go("finish")

    def _failed(self, exc: Exception) -> None:
        self.busy = False
        self.qr_texture = None
        log.error("payment step failed: %s", exc)
        self.problem = getattr(exc, "user_message", "Please go to window {window}.")

    def reset(self) -> None:
        self._stop_scanner()
        self.status = self.problem = ""
        self.can_retry = self.busy = self.choosing = self.waiting_code = False
        self.qr_texture, self.methods, self.method = None, [], "card"


SCREEN = PayScreen
KV_FILE = "patient/pay"
