"""``onestop ward``: the green channel at the nurse station (H-A6). Every open item of the ward's
patients (deposit, ID, insurance card, outpatient record), discharged stays included since the
reminders go on after discharge, the overdue first, with the due date, the number of chases and
the last answer. The nurse picks an item and records a chase: how (phone, in person, SMS) and what
was answered; her staff ID and the time are recorded (``pos.hospital.green``). A patient admitted
without an ID shows under the temporary name (无名氏 / 無名氏 / Unknown + number)."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

log = logging.getLogger(__name__)

__all__ = ["SCREEN", "KV", "WardGreenScreen", "ITEM_LABELS", "METHOD_LABELS"]


def _(msgid: str) -> str:
    return msgid


ITEM_LABELS = {"deposit": _("Deposit"), "id_document": _("ID document"), "insurance_card": _("Insurance card"),
               "outpatient_record": _("Outpatient record")}
METHOD_LABELS = {"phone": _("Phone"), "in_person": _("In person"), "sms": _("SMS")}
TEXTS = (_("Green channel at the ward"), _("No open green-channel items for this ward."),
         _("Due {date}"), _("OVERDUE"), _("discharged"), _("{n} chases, last: {answer}"), _("not chased yet"),
         _("Pick an item, then say how it was chased and what was answered."),
         _("Chase of {item} for {no} recorded: {answer}"), _("What was answered"), _("Record the chase"),
         _("Back to the beds"), _("Picked: {item} of {name} ({no})."))


def _kv() -> str:
    from importlib import resources

    return resources.files("assets").joinpath("kv", "ward", "ward_green.kv").read_text(encoding="utf-8")


KV = _kv()


class WardGreenScreen(Screen):
    message = StringProperty("")
    method = StringProperty("phone")
    picked_text = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self.items: list[dict] = []
        self.rows: dict[tuple[str, str], object] = {}
        self.picked: tuple[str, str] | None = None
        self._said = None
        App.get_running_app().bind(lang=lambda *_: self.show())

    @property
    def hospital(self):
        return App.get_running_app().site_services.hospital

    def prepare(self, **_kw) -> None:
        self.picked, self._said, self.message, self.picked_text = None, None, "", ""
        self.ids.answer.text = ""

    def on_pre_enter(self, *_):
        self.show()

    def reset(self) -> None:
        self.picked, self._said, self.message = None, None, ""

    def say(self, msgid: str, **kw) -> None:
        """Show a message; an ``item`` is a msgid, translated again when the language changes."""
        self._said = (msgid, kw)
        self.message = self._render()

    def _render(self) -> str:
        app = App.get_running_app()
        msgid, kw = self._said
        return app.t(msgid, **{k: app.t(v) if k == "item" else v for k, v in kw.items()})

    def name_of(self, r: dict) -> str:
        from pos.hospital.green import temp_name

        return temp_name(r["temp_no"], App.get_running_app().lang) if r["temp_no"] else r["name"]

    def row_text(self, r: dict) -> str:
        app = App.get_running_app()
        parts = [app.fx(f"{self.name_of(r)}  {r['inpatient_no']}"), app.t(ITEM_LABELS.get(r["kind"], r["kind"])),
                 app.t("Due {date}", date=r["due_on"] or "")]
        if r["overdue"]:
            parts.append(app.t("OVERDUE"))
        if r["stay_state"] == "discharged":
            parts.append(app.t("discharged"))
        parts.append(app.t("{n} chases, last: {answer}", n=r["chases"], answer=r["last_answer"]) if r["chases"]
                     else app.t("not chased yet"))
        return "  ".join(parts)

    def show(self) -> None:
        app = App.get_running_app()
        if getattr(app, "site_services", None) is None or self.manager is None:
            return
        ward = app.screen("ward_board").ward_code()
        self.items = self.hospital.green_board(ward)
        box = self.ids.rows
        box.clear_widgets()
        self.rows = {}
        if not self.items:
            box.add_widget(Factory.OLabel(text=app.t("No open green-channel items for this ward."),
                                          size_hint_y=None, height=max(app.touch_min, 60 * app.scale)))
        for r in self.items:
            key = (r["inpatient_no"], r["kind"])
            b = Factory.OButton(text=self.row_text(r), size_hint_y=None, height=max(app.touch_min, 72 * app.scale),
                                font_size=max(17, 17 * app.scale), halign="left", valign="middle")
            b.font_size = max(17, 17 * app.scale)
            b.bind(width=lambda w, width: setattr(w, "text_size", (width - 20, None)))
            if r["overdue"]:
                b.background_color = (0.75, 0.2, 0.2, 1)
            b.bind(on_release=lambda _b, k=key: self.pick(k))
            self.rows[key] = b
            box.add_widget(b)
        self.show_picked()
        if self._said:
            self.message = self._render()

    def show_picked(self) -> None:
        app = App.get_running_app()
        r = next((r for r in self.items if (r["inpatient_no"], r["kind"]) == self.picked), None)
        self.picked_text = app.t("Picked: {item} of {name} ({no}).", item=app.t(ITEM_LABELS[r["kind"]]),
                                 name=self.name_of(r), no=r["inpatient_no"]) if r else ""

    def pick(self, key: tuple[str, str]) -> None:
        self.picked = key
        self._said, self.message = None, ""
        self.show_picked()

    def set_method(self, method: str) -> None:
        self.method = method

    def record(self) -> None:
        from pos.hospital.errors import HospitalError

        app = App.get_running_app()
        answer = self.ids.answer.text.strip()
        if self.picked is None:
            self.say("Pick an item, then say how it was chased and what was answered.")
            return
        no, kind = self.picked
        staff = app.screen("ward_board").staff
        try:
            self.hospital.record_chase(no, kind, staff=staff, method=self.method, answer=answer)
        except HospitalError as exc:
            log.warning("ward: chase of %s %s refused: %s", no, kind, exc)
            self.say(exc.user_message)
            return
        log.info("ward: %s chased %s of %s by %s", staff, kind, no, self.method)
        self.say("Chase of {item} for {no} recorded: {answer}", item=ITEM_LABELS[kind], no=no, answer=answer)
        self.ids.answer.text = ""
        self.show()


SCREEN = WardGreenScreen
