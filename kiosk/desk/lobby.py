"""``onestop desk-kiosk``: the residents' lobby kiosk (touch only). Submit a request or a complaint
(anonymous if the resident wishes) with the unit and a description, get a printed slip with the
order's number and a QR code, and look an order's progress up by its number. Offline-safe: the
order is the desk service's transaction and outbox command. Not here yet: identifying the unit by
resident card or phone and code, the camera photo, rating, paying a fee, common answers."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from . import community_name

__all__ = ["SCREEN", "KV", "DeskLobbyScreen"]


def _(msgid: str) -> str:
    return msgid


#: the resident's three choices -> the category the order starts in (the desk may change it)
CHOICES = {"repair": ("Report a repair", "repair"), "complaint": ("Make a complaint", "complaint"),
           "enquiry": ("Ask a question", "enquiry.general")}

KV = """
<DeskLobbyScreen>:
    BoxLayout:
        orientation: "vertical"
        padding: 16 * app.scale
        spacing: 10 * app.scale
        canvas.before:
            Color:
                rgba: 0.95, 0.96, 0.97, 1
            Rectangle:
                pos: self.pos
                size: self.size
        OLabel:
            id: title
            size_hint_y: None
            height: 60 * app.scale
            font_size: 40 * app.scale
            bold: True
            text: app.t("Resident services", app.lang)
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 80 * app.scale)
            spacing: 10
            ToggleButton:
                id: repair
                group: "lobby_choice"
                state: "down"
                allow_no_selection: False
                markup: True
                font_name: app.font
                font_size: 28 * app.scale
                text: app.t("Report a repair", app.lang)
            ToggleButton:
                id: complaint
                group: "lobby_choice"
                allow_no_selection: False
                markup: True
                font_name: app.font
                font_size: 28 * app.scale
                text: app.t("Make a complaint", app.lang)
            ToggleButton:
                id: enquiry
                group: "lobby_choice"
                allow_no_selection: False
                markup: True
                font_name: app.font
                font_size: 28 * app.scale
                text: app.t("Ask a question", app.lang)
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 70 * app.scale)
            spacing: 10
            LobbyInput:
                id: unit
                hint_text: app.t("Unit, e.g. 3-1201", app.lang)
            ToggleButton:
                id: anonymous
                markup: True
                font_name: app.font
                font_size: 24 * app.scale
                size_hint_x: 0.4
                text: app.t("Stay anonymous", app.lang)
        LobbyInput:
            id: description
            hint_text: app.t("What do you need?", app.lang)
        OButton:
            id: submit
            size_hint_y: None
            height: max(app.touch_min, 90 * app.scale)
            text: app.t("Submit and print my slip", app.lang)
            on_release: root.submit()
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 70 * app.scale)
            spacing: 10
            LobbyInput:
                id: lookup
                hint_text: app.t("Order number", app.lang)
            OButton:
                id: lookup_button
                size_hint_x: 0.4
                font_size: 26 * app.scale
                text: app.t("Check progress", app.lang)
                on_release: root.look_up()
        OLabel:
            id: message
            font_size: 28 * app.scale
            text: root.message

<LobbyInput@TextInput>:
    font_name: app.font
    font_size: 28 * app.scale
    multiline: False
    write_tab: False
    size_hint_y: None
    height: max(app.touch_min, 70 * app.scale)
"""


class DeskLobbyScreen(Screen):
    message = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self._said = None
        App.get_running_app().bind(lang=lambda *_: self._retell())

    def say(self, msgid: str, **kw) -> None:
        self._said = (msgid, kw)
        self._retell()

    def _retell(self) -> None:
        if self._said:
            app = App.get_running_app()
            kw = {k: (app.t(v, app.lang) if k == "state" else v) for k, v in self._said[1].items()}
            self.message = app.t(self._said[0], app.lang, **kw)

    def reset(self) -> None:
        for name in ("unit", "description", "lookup"):
            self.ids[name].text = ""
        self.ids.anonymous.state = "normal"
        self._said, self.message = None, ""

    def submit(self) -> None:
        from pos.desk.service import DeskError
        from pos.desk.slips import resident_slip

        app = App.get_running_app()
        choice = next(k for k in CHOICES if self.ids[k].state == "down")
        anonymous = self.ids.anonymous.state == "down" and choice == "complaint"
        desk = app.site_services.desk
        try:
            no = desk.receive("lobby_kiosk", unit="" if anonymous else self.ids.unit.text.strip(),
                              description=self.ids.description.text.strip(), by="lobby_kiosk",
                              category=CHOICES[choice][1] if choice == "enquiry" else "")
        except DeskError:
            self.say("Please say what you need.")
            return
        o = desk.order(no)
        cat = desk.catalogue.categories.get(CHOICES[choice][1])
        slip = resident_slip(o, cat.label(app.lang) if cat else "", site_name=community_name(app), lang=app.lang)
        out = app.site_services.printing.print("desk_resident_slip", slip, ref=no)
        self.ids.description.text = ""
        self.say("Your number is {no}. Please take your slip." if out.ok else
                 "Your number is {no}. The slip did not print; please note the number.", no=no)

    def look_up(self) -> None:
        from pos.errors import NotFound

        from .console import STATE_MSGIDS

        app = App.get_running_app()
        no = self.ids.lookup.text.strip()
        if no.startswith("onestop:desk:"):
            no = no[len("onestop:desk:"):]
        try:
            o = app.site_services.desk.order(no)
        except NotFound:
            self.say("No order has this number.")
            return
        self.say("Order {no}: {state}", no=no, state=STATE_MSGIDS[o["state"]])


SCREEN = DeskLobbyScreen
