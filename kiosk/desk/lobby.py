"""``onestop desk-kiosk``: the residents' lobby kiosk (touch only). The resident identifies the
household by its QR card (the scanner), by the resident card (the card reader: its UID) or by the
phone number and the code the desk gave the household; then submits a request or a complaint
(anonymous if wished) with a description and a camera photo and gets a printed slip with the
order's number and a QR code; looks an order's progress up by its number or the slip's QR code;
rates a completed order of the household (the resident's own follow-up: dissatisfied reopens it);
and reads the answers to common enquiries. Offline-safe: each step is the desk service's
transaction and outbox command. The rules (who a household is, when an order may be rated) are
:mod:`pos.desk.service`'s."""

from __future__ import annotations

import logging
import threading

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from . import Says, community_name, demo_camera

__all__ = ["SCREEN", "KV", "DeskLobbyScreen", "read_card_uid"]

log = logging.getLogger(__name__)


def _(msgid: str) -> str:
    return msgid


#: the resident's three choices -> the category the order starts in (the desk may change it)
CHOICES = {"repair": ("Report a repair", "repair"), "complaint": ("Make a complaint", "complaint"),
           "enquiry": ("Ask a question", "enquiry.general")}
ERRORS = {"unknown_household": _("No household matches. Check the phone number and the code."),
          "not_your_order": _("This order is not your household's."),
          "follow_up_before_qc": _("This order can be rated once its work has been checked."),
          "payment_first": _("This order can be rated once it is paid."),
          "reasons_required": _("Please say what was wrong."),
          "comment_required": _("Please say what was wrong."),
          "not_allowed": _("This order cannot be rated now.")}
#: the states in which a household may rate its order (the follow-up is open, or opens with the rating)
RATEABLE = ("qc_passed", "follow_up")

KV = """
<LobbyToggle@ToggleButton>:
    markup: True
    font_name: app.font
    font_size: 24 * app.scale

<DeskLobbyScreen>:
    BoxLayout:
        orientation: "vertical"
        padding: 12 * app.scale
        spacing: 7 * app.scale
        canvas.before:
            Color:
                rgba: 0.95, 0.96, 0.97, 1
            Rectangle:
                pos: self.pos
                size: self.size
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 56 * app.scale)
            spacing: 8
            OLabel:
                id: title
                font_size: 36 * app.scale
                bold: True
                text: app.t("Resident services", app.lang)
            OButton:
                id: faq
                size_hint_x: 0.42
                font_size: 22 * app.scale
                text: app.t("Common questions", app.lang)
                on_release: app.go("desk_faq")
            OButton:
                id: pay
                size_hint_x: 0.26
                font_size: 22 * app.scale
                text: app.t("Pay a fee", app.lang)
                on_release: app.go("desk_pay")
            SecondaryButton:
                id: lang_hans
                size_hint_x: 0.1
                font_size: 20 * app.scale
                text: app.fx("简体", app.lang)
                on_release: app.set_language("zh-Hans")
            SecondaryButton:
                id: lang_hant
                size_hint_x: 0.1
                font_size: 20 * app.scale
                text: app.fx("繁體", app.lang)
                on_release: app.set_language("zh-Hant")
            SecondaryButton:
                id: lang_en
                size_hint_x: 0.12
                font_size: 20 * app.scale
                text: app.fx("English", app.lang)
                on_release: app.set_language("en")
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 62 * app.scale)
            spacing: 8
            LobbyInput:
                id: phone
                size_hint_x: 0.26
                font_size: 22 * app.scale
                hint_text: app.t("Phone number", app.lang)
                input_filter: "int"
            LobbyInput:
                id: code
                size_hint_x: 0.2
                font_size: 22 * app.scale
                password: True
                hint_text: app.t("Household code", app.lang)
                input_filter: "int"
                on_text_validate: root.identify()
            OButton:
                id: identify_button
                size_hint_x: 0.24
                font_size: 22 * app.scale
                text: app.t("Identify", app.lang)
                on_release: root.identify()
            OLabel:
                id: who
                font_size: 20 * app.scale
                text: root.who
            SecondaryButton:
                id: sign_out
                size_hint_x: 0.14
                font_size: 20 * app.scale
                disabled: not root.identified
                opacity: 1 if root.identified else 0
                text: app.t("Done", app.lang)
                on_release: root.reset()
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 64 * app.scale)
            spacing: 10
            LobbyToggle:
                id: repair
                group: "lobby_choice"
                state: "down"
                allow_no_selection: False
                text: app.t("Report a repair", app.lang)
            LobbyToggle:
                id: complaint
                group: "lobby_choice"
                allow_no_selection: False
                text: app.t("Make a complaint", app.lang)
            LobbyToggle:
                id: enquiry
                group: "lobby_choice"
                allow_no_selection: False
                text: app.t("Ask a question", app.lang)
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 62 * app.scale)
            spacing: 10
            LobbyInput:
                id: unit
                disabled: root.identified
                hint_text: app.t("Unit, e.g. 3-1201", app.lang)
            LobbyToggle:
                id: anonymous
                size_hint_x: 0.4
                text: app.t("Stay anonymous", app.lang)
        LobbyInput:
            id: description
            hint_text: app.t("What do you need?", app.lang)
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 64 * app.scale)
            spacing: 10
            SecondaryButton:
                id: photo
                size_hint_x: 0.3
                font_size: 24 * app.scale
                text: app.t("Take a photo", app.lang)
                on_release: root.take_photo()
            OButton:
                id: submit
                font_size: 26 * app.scale
                text: app.t("Submit and print my slip", app.lang)
                on_release: root.submit()
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 62 * app.scale)
            spacing: 10
            LobbyInput:
                id: lookup
                hint_text: app.t("Order number", app.lang)
                on_text_validate: root.look_up()
            OButton:
                id: lookup_button
                size_hint_x: 0.4
                font_size: 24 * app.scale
                text: app.t("Check progress", app.lang)
                on_release: root.look_up()
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 62 * app.scale)
            spacing: 8
            disabled: not root.rating_open
            opacity: 1 if root.rating_open else 0.35
            SecondaryButton:
                id: rate_satisfied
                font_size: 22 * app.scale
                text: app.t("Satisfied", app.lang)
                on_release: root.rate("satisfied")
            SecondaryButton:
                id: rate_acceptable
                font_size: 22 * app.scale
                text: app.t("Acceptable", app.lang)
                on_release: root.rate("acceptable")
            SecondaryButton:
                id: rate_dissatisfied
                font_size: 22 * app.scale
                text: app.t("Dissatisfied", app.lang)
                on_release: root.rate("dissatisfied")
            LobbyInput:
                id: rate_comment
                size_hint_x: 1.4
                hint_text: app.t("Your comment", app.lang)
        OLabel:
            id: message
            font_size: 24 * app.scale
            text: root.message

<LobbyInput@TextInput>:
    font_name: app.font
    font_size: 26 * app.scale
    multiline: False
    write_tab: False
    size_hint_y: None
    height: max(app.touch_min, 62 * app.scale)
"""


class DeskLobbyScreen(Says, Screen):
    message = StringProperty("")
    who = StringProperty("")
    identified = BooleanProperty(False)
    rating_open = BooleanProperty(False)

    def __init__(self, **kw):
        from kiosk.screens.scan import ScanCatcher

        super().__init__(**kw)
        self._said = None
        self.household = None
        self.photos: list[str] = []
        self.rating_order: str | None = None
        self.scanner = ScanCatcher(self.on_scan)
        self._cancel = threading.Event()
        self._card_thread = None
        App.get_running_app().bind(lang=lambda *_: self.retell(), site_services=lambda *_: self.watch_card())

    @property
    def desk(self):
        return App.get_running_app().site_services.desk

    def on_pre_enter(self, *_):
        app = App.get_running_app()
        app.site_name = community_name(app)     # the header names the community, not the platform's site
        demo_camera(app)
        self.retell()
        self.scanner.start()
        self.watch_card()

    def on_leave(self, *_):
        self.scanner.stop()

    def cancel_waits(self) -> None:
        self._cancel.set()
        self.scanner.stop()

    def retell(self) -> None:
        app = App.get_running_app()
        h = self.household
        self.who = app.t("Unit {unit}, {party}", unit=h.unit, party=h.party) if h else app.t(
            "Scan your QR card, tap your resident card, or type your phone and code.")
        super().retell()

    def reset(self) -> None:
        for name in ("unit", "description", "lookup", "phone", "code", "rate_comment"):
            self.ids[name].text = ""
        self.ids.anonymous.state = "normal"
        self.household, self.photos, self.rating_order = None, [], None
        self.identified = self.rating_open = False
        self._said = None
        self.retell()

    # -- who is at the kiosk ------------------------------------------------------------------
    def _households(self):
        from pos.desk.service import load_households

        return load_households()

    def identify(self, **how) -> None:
        """By phone and code (the fields) or by ``qr=`` / ``card_uid=``."""
        from pos.desk.service import DeskError, identify_household

        if not how:
            how = {"phone": self.ids.phone.text, "code": self.ids.code.text}
        try:
            h = identify_household(self._households(), **how)
        except DeskError as exc:
            log.info("lobby: no household for %s", ", ".join(how))
            self.ids.code.text = ""
            self.say(ERRORS.get(exc.code, "No household matches. Check the phone number and the code."))
            return
        log.info("lobby: household %s identified by %s", h.unit, ", ".join(how))
        self.household, self.identified = h, True
        self.ids.phone.text = self.ids.code.text = ""
        self.ids.unit.text = h.unit
        self.say("Welcome. What can we do for you?")

    def on_scan(self, code: str) -> None:
        """The scanner: a household's QR card identifies it; a slip's QR code looks the order up."""
        from pos.desk.service import HOUSEHOLD_QR

        if code.startswith(HOUSEHOLD_QR):
            self.identify(qr=code)
        else:
            self.ids.lookup.text = code
            self.look_up()

    def watch_card(self) -> None:
        """The card reader (if any): each card tapped identifies its household by the card's UID."""
        app = App.get_running_app()
        url = app.site_services.device("card_reader") if app.site_services else ""
        if not url or (self._card_thread is not None and self._card_thread.is_alive()):
            return
        self._cancel.clear()

        def loop():
            from drivers.errors import DeviceTimeout, OnestopError
            from drivers.registry import open_device

            try:
                reader = open_device(url, "card_reader")
            except (OnestopError, ValueError) as exc:
                log.warning("lobby: card reader %s: %s", url, exc)
                return
            try:
                while not self._cancel.is_set():
                    try:
                        uid = read_card_uid(reader, 1.0, self._cancel)
                    except DeviceTimeout:
                        continue
                    except OnestopError as exc:
                        log.warning("lobby: card read failed: %s", exc)
                        Clock.schedule_once(lambda _dt: self.say("The card could not be read. Please try again."))
                        self._cancel.wait(1.0)
                        continue
                    Clock.schedule_once(lambda _dt, u=uid: self.identify(card_uid=u))
                    reader_gone = _wait_removed(reader, self._cancel)
                    if reader_gone:
                        return
            finally:
                reader.close()
        self._card_thread = threading.Thread(target=loop, name="lobby-card", daemon=True)
        self._card_thread.start()

    # -- a request or a complaint ------------------------------------------------------------
    def take_photo(self) -> None:
        from pos.ids import uuid7

        from . import take_photo

        def taken(name):
            if name is None:
                self.say("The camera is not working. You can still send your request.")
                return
            self.photos.append(name)
            self.say("Photo {n} taken.", n=len(self.photos))
        take_photo(App.get_running_app(), f"lobby-{uuid7().hex}", taken)

    def submit(self) -> None:
        from pos.desk.service import DeskError
        from pos.desk.slips import resident_slip

        app = App.get_running_app()
        choice = next(k for k in CHOICES if self.ids[k].state == "down")
        anonymous = self.ids.anonymous.state == "down" and choice == "complaint"
        h = self.household
        unit = "" if anonymous else (h.unit if h else self.ids.unit.text.strip())
        party, role = ("", "") if anonymous or not h else (h.party, h.role)
        desk = self.desk
        try:
            no = desk.receive("lobby_kiosk", unit=unit, party=party, party_role=role,
                              description=self.ids.description.text.strip(), photos=list(self.photos),
                              by="lobby_kiosk", category=CHOICES[choice][1] if choice == "enquiry" else "")
        except DeskError:
            self.say("Please say what you need.")
            return
        self.photos = []
        o = desk.order(no)
        cat = desk.catalogue.categories.get(CHOICES[choice][1])
        slip = resident_slip(o, cat.label(app.lang) if cat else "", site_name=community_name(app), lang=app.lang)
        out = app.site_services.printing.print("desk_resident_slip", slip, ref=no)
        self.ids.description.text = ""
        self.say("Your number is {no}. Please take your slip." if out.ok else
                 "Your number is {no}. The slip did not print; please note the number.", no=no)

    # -- progress and rating ------------------------------------------------------------------
    def look_up(self) -> None:
        from pos.errors import NotFound

        from .console import STATE_MSGIDS

        no = self.ids.lookup.text.strip()
        if no.startswith("onestop:desk:"):
            no = no[len("onestop:desk:"):]
        self.rating_order, self.rating_open = None, False
        try:
            o = self.desk.order(no)
        except NotFound:
            self.say("No order has this number.")
            return
        h = self.household
        if o["state"] in RATEABLE and not (o["payable"] and o["state"] == "qc_passed"):
            if h and h.unit == o["unit"]:
                self.rating_order, self.rating_open = no, True
                self.say("Order {no}: {state}. How was the work? Tap your rating.", no=no,
                         state=STATE_MSGIDS[o["state"]])
                return
            if not h:
                self.say("Order {no}: {state}. Identify your household to rate it.", no=no,
                         state=STATE_MSGIDS[o["state"]])
                return
        self.say("Order {no}: {state}", no=no, state=STATE_MSGIDS[o["state"]])

    def rate(self, rating: str) -> None:
        from pos.desk.service import DeskError, resident_rating

        if not (self.rating_order and self.household):
            return
        no = self.rating_order
        try:
            out = resident_rating(self.desk, self.household, no, rating, comment=self.ids.rate_comment.text)
        except DeskError as exc:
            self.say(ERRORS.get(exc.code, "This order cannot be rated now."))
            return
        self.rating_order, self.rating_open = None, False
        self.ids.rate_comment.text = ""
        self.say("Thank you. Order {no} is closed." if out["state"] == "closed" else
                 "Sorry. Order {no} is reopened; the desk will contact you.", no=no)


def read_card_uid(reader, timeout: float, cancel: threading.Event | None = None) -> str:
    """The UID of the card on ``reader`` (a :class:`drivers.pcsc.PcscCardReader`), by the PC/SC
    GET DATA command (``FF CA 00 00 00``, PC/SC part 3, 3.2.2.1.3), as upper-case hex."""
    from drivers.errors import ProtocolError

    reader.wait_for_card(timeout, cancel)
    conn = reader.ctx.connect(reader.reader_name())
    try:
        data, sw1, sw2 = conn.transmit([0xFF, 0xCA, 0x00, 0x00, 0x00])
    finally:
        try:
            conn.disconnect()
        except Exception:  # noqa: BLE001 - the card is already gone
            pass
    if (sw1, sw2) != (0x90, 0x00) or not data:
        raise ProtocolError(f"GET DATA (UID) answered {bytes(data).hex(' ').upper()} {sw1:02X} {sw2:02X}")
    return bytes(data).hex().upper()


def _wait_removed(reader, cancel: threading.Event) -> bool:
    """Wait until the card is taken away (one tap, one identification); True if the reader went."""
    from drivers.errors import OnestopError

    while not cancel.is_set():
        try:
            if not reader.card_present():
                return False
        except OnestopError:
            return True
        cancel.wait(0.2)
    return False


SCREEN = DeskLobbyScreen
