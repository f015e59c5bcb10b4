"""``onestop desk-staff``: the technicians' front end for a phone or tablet (portrait): my orders,
start, defer with a reason, resume, complete with a note and photos taken with the device's camera
(the ``camera`` role). Works offline: each step is the desk service's transaction and outbox
command; sync sends it."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from . import Says

__all__ = ["SCREEN", "KV", "DeskTechScreen"]


def _(msgid: str) -> str:
    return msgid


ERRORS = {"note_and_photos": _("Completion needs a note and at least one photo."),
          "reason_required": _("Say why the work is deferred."),
          "not_allowed": _("This step does not fit the order's state.")}

KV = """
<DeskTechScreen>:
    BoxLayout:
        orientation: "vertical"
        padding: 8 * app.scale
        spacing: 6 * app.scale
        canvas.before:
            Color:
                rgba: 0.95, 0.96, 0.97, 1
            Rectangle:
                pos: self.pos
                size: self.size
        OLabel:
            id: title
            size_hint_y: None
            height: max(40, 40 * app.scale)
            font_size: max(26, 26 * app.scale)
            bold: True
            text: app.t("My orders", app.lang)
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 48 * app.scale)
            spacing: 6
            TechInput:
                id: me
                hint_text: "li"
            OButton:
                id: show
                size_hint_x: 0.35
                font_size: max(20, 20 * app.scale)
                text: app.t("Show", app.lang)
                on_release: root.refresh()
        ScrollView:
            size_hint_y: 0.35
            BoxLayout:
                id: mine
                orientation: "vertical"
                size_hint_y: None
                height: self.minimum_height
                spacing: 4
        OLabel:
            id: detail
            font_size: max(18, 18 * app.scale)
            size_hint_y: 0.2
            text: root.detail
        TechInput:
            id: text
            hint_text: app.t("Note or reason", app.lang)
        GridLayout:
            cols: 2
            size_hint_y: None
            height: (max(app.touch_min, 52 * app.scale) + 6) * 3
            spacing: 6
            OButton:
                id: start
                font_size: max(20, 20 * app.scale)
                text: app.t("Start", app.lang)
                on_release: root.act("start")
            OButton:
                id: defer
                font_size: max(20, 20 * app.scale)
                text: app.t("Defer", app.lang)
                on_release: root.act("defer")
            OButton:
                id: resume
                font_size: max(20, 20 * app.scale)
                text: app.t("Resume", app.lang)
                on_release: root.act("resume")
            OButton:
                id: photo
                font_size: max(20, 20 * app.scale)
                text: app.t("Take photo", app.lang)
                on_release: root.take_photo()
            OButton:
                id: complete
                font_size: max(20, 20 * app.scale)
                text: app.t("Complete", app.lang)
                on_release: root.act("complete")
        OLabel:
            id: message
            size_hint_y: None
            height: max(56, 56 * app.scale)
            font_size: max(18, 18 * app.scale)
            color: 0.7, 0.1, 0.1, 1
            text: root.message

<TechInput@TextInput>:
    font_name: app.font
    font_size: max(20, 20 * app.scale)
    multiline: False
    write_tab: False
    size_hint_y: None
    height: max(app.touch_min, 48 * app.scale)
"""


class DeskTechScreen(Says, Screen):
    message = StringProperty("")
    detail = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self.selected: str | None = None
        self.photos: list[str] = []
        self.rows: dict[str, object] = {}
        self._said = None

    @property
    def desk(self):
        return App.get_running_app().site_services.desk

    def on_pre_enter(self, *_):
        from . import demo_camera

        demo_camera(App.get_running_app())
        App.get_running_app().bind(lang=lambda *_: self.refresh(), site_services=lambda *_: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        app = App.get_running_app()
        if app.site_services is None:
            return
        self.retell()
        me = self.ids.me.text.strip()
        box = self.ids.mine
        box.clear_widgets()
        self.rows = {}
        if not me:
            return
        from .console import STATE_MSGIDS
        for o in self.desk.queue(states=("dispatched", "in_progress", "deferred")):
            if o["assignee"] != me:
                continue
            b = Factory.SecondaryButton(size_hint_y=None, height=max(app.touch_min, 48 * app.scale))
            b.font_size = max(17, 17 * app.scale)      # a phone's screen: never smaller than this
            b.text = app.fx(f"{o['order_no']}  {o['unit']}  ", app.lang) + app.t(STATE_MSGIDS[o["state"]], app.lang)
            b.bind(on_release=lambda btn, no=o["order_no"]: self.select(no))
            self.rows[o["order_no"]] = b
            box.add_widget(b)
        if self.selected:
            self.select(self.selected)

    def select(self, no: str) -> None:
        app = App.get_running_app()
        if no != self.selected:
            self.photos = []
        self.selected = no
        o = self.desk.order(no)
        self.detail = app.fx(f"{no}  {o['unit']}\n{o['description']}", app.lang)
        last = self.desk.history(no)[-1]
        if last["event"] == "qc_failed":            # back from QC: what the supervisor found
            from .qc import REASON_MSGIDS

            said = [app.t(REASON_MSGIDS[r]) if r in REASON_MSGIDS else app.fx(r) for r in last["data"]["reasons"]]
            self.detail += "\n" + app.t("QC failed: {reasons}", reasons="、".join(said) if app.lang != "en"
                                         else ", ".join(said))

    def take_photo(self) -> None:
        """A frame from the ``camera`` device (read in a worker), kept as a JPEG beside the store
        (named after the order)."""
        from . import take_photo

        app = App.get_running_app()
        if not self.selected:
            self.say("Pick an order first.")
            return
        no = self.selected

        def taken(name):
            if name is None:
                self.say("The camera is not working.")
            elif self.selected == no:
                self.photos.append(name)
                self.say("Photo {n} taken.", n=len(self.photos))
        take_photo(app, f"{no}-{len(self.photos) + 1}", taken)

    def act(self, step: str) -> None:
        from pos.desk.service import DeskError

        if not self.selected:
            self.say("Pick an order first.")
            return
        me, text = self.ids.me.text.strip(), self.ids.text.text.strip()
        try:
            if step == "start":
                self.desk.start(self.selected, by=me)
            elif step == "defer":
                self.desk.defer(self.selected, by=me, reason=text)
            elif step == "resume":
                self.desk.resume(self.selected, by=me)
            else:
                self.desk.complete(self.selected, by=me, note=text, photos=self.photos)
                self.photos = []
        except DeskError as exc:
            self.say(ERRORS.get(exc.code, "This step does not fit the order's state."))
            return
        self.ids.text.text = ""
        self.say({"start": "Started.", "defer": "Deferred.", "resume": "Resumed.", "complete": "Completed."}[step])
        self.refresh()


SCREEN = DeskTechScreen
