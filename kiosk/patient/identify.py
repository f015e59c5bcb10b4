"""Identify the patient: insurance card, ID card, e-voucher, or (for an admitted patient) the
wristband barcode. The first step of every kiosk service.

While the screen is shown a worker waits for an identity from every configured identity device
(:func:`drivers.identity_wait.wait_for_identity`); keyboard-wedge scans arrive through Kivy's own
key events and :class:`drivers.scanner.WedgeDecoder`. The identity goes to the service's flow
(``pos.flows``), and the flow's state picks the next screen.
"""

from __future__ import annotations

import logging
import re
import threading
import time

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from drivers.errors import DeviceTimeout, OnestopError
from drivers.scanner import Scan, ScanError, WedgeDecoder
from pos.flows import make_flow

from .. import worker
from .home import SERVICES

log = logging.getLogger(__name__)

__all__ = ["IdentifyScreen", "SCREEN", "IDENTITY_ROLES", "NEXT_SCREEN", "MESSAGES"]

IDENTITY_ROLES = ("card_reader", "id_reader", "camera", "scanner")
INPATIENT_NO = re.compile(r"^ZY[A-Z0-9]+-\d{6}$")

#: (service, flow state) -> screen
NEXT_SCREEN = {
    ("admission", "confirm"): "checkin_confirm",
    ("admission", "amount"): "amount",          # registered earlier, the deposit not paid: resume
    ("topup", "amount"): "amount",
    ("daily_list", "list"): "daily_list",
    ("discharge", "review"): "discharge_review",
}
SERVICE_TITLES = dict(SERVICES)
#: (service, flow state) -> the services offered instead
OFFERS = {("admission", "already_admitted"): ["topup", "daily_list"]}
#: a refused card still on the reader is read again only after this many seconds
REFUSED_QUIET_S = 6.0
MESSAGES = {
    "no_notice": "No admission notice was found for you. Please go to window {window}.",
    "not_admitted": "No current hospital stay was found for you. Please go to window {window}.",
}
#: H-D3 at the kiosk: what a patient whose discharge is not ready is told (the ward's notice, pulled)
DISCHARGE_SCHEDULED = "Your discharge is scheduled for {date}. Please come back then, or ask the nurse station."
DISCHARGE_ASKED = "Your request for a scheduled discharge has reached the nurse station list. They will tell you the day."
DISCHARGE_ASK = "Ask for a scheduled discharge"


def _valid_inpatient_no(text: str) -> bool:
    return bool(INPATIENT_NO.match(text))


class IdentifyScreen(Screen):
    service = StringProperty("")
    service_title = StringProperty("")
    message = StringProperty("")        # msgid: a problem to show, with {window}
    number = StringProperty("")         # {number} in the message (the inpatient number)
    offers = ListProperty([])           # services offered instead (already admitted)
    working = BooleanProperty(False)
    demo_cards = ListProperty([])
    date = StringProperty("")           # {date} in the message (a scheduled discharge)
    can_ask = BooleanProperty(False)    # the discharge is not ready: the patient may ask the ward for a date

    def prepare(self, service: str, identity=None) -> None:
        self.service = service
        self.service_title = dict(SERVICES)[service]
        self.message = self.number = self.date = ""
        self.can_ask = False
        self.offers = []
        self._refused = None
        self._carried = identity         # the identity read for another service (an offer taken)
        app = App.get_running_app()
        if app.demo_world is not None:
            from ..demo_env import demo_cards

            self.demo_cards = demo_cards()
            if identity is None:               # a new session: the finish screen shows what it printed
                app.demo_print_mark = app.demo_world.mark()

        def record(store):
            with store.transaction() as tx:
                return tx.emit("kiosk.service_started", {"service": service})

        app.with_store(record)

    def cancel_waits(self) -> None:
        self._stop_waiting()

    def reset(self) -> None:
        self._stop_waiting()
        self.service = ""
        self.service_title = ""
        self.message = self.number = self.date = ""
        self.can_ask = False
        self.offers = []
        self.working = False
        self._carried = self._refused = None

    # -- waiting for a card -------------------------------------------------------------
    def on_enter(self, *_):
        if not self.service:
            return
        self._cancel = threading.Event()
        self._decoder = WedgeDecoder(validators=(_valid_inpatient_no,))
        Window.bind(on_textinput=self._on_text, on_key_down=self._on_key)
        self._poll = Clock.schedule_interval(self._poll_decoder, 0.05)
        carried, self._carried = getattr(self, "_carried", None), None
        if carried is not None:
            self._identified(identity=carried)
        else:
            self._start_wait()

    def on_leave(self, *_):
        self._stop_waiting()

    def _stop_waiting(self) -> None:
        self._scan_stop = False
        cancel = getattr(self, "_cancel", None)
        if cancel is not None:
            cancel.set()
        Window.unbind(on_textinput=self._on_text, on_key_down=self._on_key)
        if getattr(self, "_poll", None) is not None:
            self._poll.cancel()
            self._poll = None

    def _identity_urls(self) -> list[tuple[str, str]]:
        devices = App.get_running_app().site.devices
        urls = []
        for role in IDENTITY_ROLES:
            url = devices.get(role, "")
            if url and not url.startswith("sim://"):   # in-process sim:// devices carry no cards
                urls.append((role, url))
        return urls

    def _start_wait(self) -> None:
        from drivers.identity_wait import wait_for_identity

        cancel = self._cancel
        urls = self._identity_urls()
        if not urls:
            log.error("no identity device is configured (roles %s)", ", ".join(IDENTITY_ROLES))
            self.message = "Please go to window {window}."
            return

        def wait():
            while not cancel.is_set():
                try:
                    return wait_for_identity(urls, timeout=5, cancel=cancel)
                except DeviceTimeout:
                    continue
                except OnestopError as exc:
                    Clock.schedule_once(lambda _dt, e=exc: setattr(self, "message", e.user_message))
                    log.warning("identity read: %s", exc)
                    cancel.wait(2.0)
            return None

        def got(identity):
            if identity is None or cancel.is_set():
                return
            refused = getattr(self, "_refused", None)
            if refused and refused[0] == identity.id_number and time.monotonic() - refused[1] < REFUSED_QUIET_S:
                Clock.schedule_once(lambda _dt: self._rewait(cancel), 0.5)   # the same card, still lying there
                return
            self._identified(identity=identity)

        worker.submit(wait, got)

    def _rewait(self, cancel) -> None:
        """Wait for the next card again (after a refusal), unless the screen has been left."""
        # a wait stopped by leaving the screen (or the app stopping) stays stopped; only one
        # stopped by a wristband scan is taken up again
        if cancel is not self._cancel or (cancel.is_set() and not getattr(self, "_scan_stop", False)) \
                or self.manager is None or self.manager.current != self.name or not self.service \
                or App.get_running_app() is None:
            return
        self._scan_stop = False
        self._cancel = threading.Event()
        self._start_wait()

    # -- keyboard-wedge scanner (wristband barcode) -------------------------------------
    def _on_text(self, _win, text):
        for ev in self._decoder.feed(text, time.monotonic()):
            self._on_scan_event(ev)

    def _on_key(self, _win, key, *_args):
        if key in (13, 271):  # Enter on the main keyboard or the keypad
            for ev in self._decoder.feed("\r", time.monotonic()):
                self._on_scan_event(ev)
        return False

    def _poll_decoder(self, _dt):
        for ev in self._decoder.poll(time.monotonic()):
            self._on_scan_event(ev)

    def _on_scan_event(self, ev) -> None:
        if isinstance(ev, Scan):
            log.info("wristband scanned: %s", ev.text)
            self._scan_stop = True
            self._cancel.set()
            self._identified(inpatient_no=ev.text)
        elif isinstance(ev, ScanError):
            self.message = ev.error.user_message

    # -- identity -> flow -> next screen ------------------------------------------------
    def _identified(self, identity=None, inpatient_no: str | None = None) -> None:
        app = App.get_running_app()
        service = self.service
        self.working = True

        def decide(_store):
            flow = make_flow(service, app.site_services, operator_id=app.store.device_id, lang=app.lang)
            if service == "admission":
                if identity is None:
                    flow.move("no_notice")
                else:
                    flow.identified(identity)
            else:
                flow.identified(identity, inpatient_no)
            if service == "discharge" and flow.state in ("not_ready", "not_admitted"):
                from pos.hospital import views

                conn = app.site_services.hospital.conn
                no = flow.inpatient_no if flow.state == "not_ready" else (inpatient_no or "").strip()
                # a stay registered on another device: what this kiosk pulled of it (by the wristband)
                if flow.state == "not_ready" or (no and views.pulled_admission(conn, no)):
                    flow.notice, flow.notice_no = views.discharge_notice(conn, no), no
            return flow

        def decided(flow):
            self.working = False
            if service != self.service:      # the patient left meanwhile
                return
            nxt = NEXT_SCREEN.get((service, flow.state))
            if nxt:
                app.flow = flow
                app.go(nxt)
                return
            self.message = flow.problem or MESSAGES.get(flow.state, "Please go to window {window}.")
            self.number = (getattr(flow, "admission", None) or {}).get("inpatient_no") or ""
            self.offers = OFFERS.get((service, flow.state), [])
            self.can_ask, self.date = False, ""
            notice = getattr(flow, "notice", None) if service == "discharge" else None
            if notice is not None:
                self.number = flow.notice_no
                if flow.state == "not_admitted":
                    from pos.flows.discharge import NOT_READY

                    self.message = NOT_READY
                if notice["scheduled_for"]:
                    self.message, self.date = DISCHARGE_SCHEDULED, notice["scheduled_for"]
                elif notice["requested_at"]:
                    self.message = DISCHARGE_ASKED
                else:
                    self.can_ask = True
            self._offer_identity = identity
            log.info("%s: %s for the card presented; waiting for the next card", service, flow.state)
            if identity is not None:
                self._refused = (identity.id_number, time.monotonic())
            self._rewait(self._cancel)

        def failed(exc):
            self.working = False
            self.message = getattr(exc, "user_message", "Please go to window {window}.")

        app.with_store(decide, decided, failed)

    def take_offer(self, service: str) -> None:
        """The patient takes a service offered instead (already admitted: top-up, daily list),
        with the card already read."""
        identity = getattr(self, "_offer_identity", None)
        self._stop_waiting()
        self.prepare(service, identity=identity)
        self.on_enter()

    def ask_discharge(self) -> None:
        """H-D3: the patient asks for a scheduled discharge; the request reaches every ward station
        through sync (``hospital.discharge.requested``)."""
        app = App.get_running_app()
        no = self.number
        if not no or self.working:
            return
        self.working, self.can_ask = True, False

        def asked(_req):
            self.working = False
            self.message = DISCHARGE_ASKED
            log.info("discharge: %s asked for a scheduled discharge", no)

        def failed(exc):
            self.working = False
            log.warning("discharge: the request of %s was refused: %s", no, exc)
            self.message = getattr(exc, "user_message", "Please go to window {window}.")

        app.with_store(lambda _s: app.site_services.hospital.request_discharge(no), asked, failed)

    def place_demo_card(self, index: int) -> None:
        App.get_running_app().demo_world.place_card(self.demo_cards[index])

    def back(self) -> None:
        App.get_running_app().go_home()


SCREEN = IdentifyScreen
KV_FILE = "patient/identify"
