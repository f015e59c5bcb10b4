"""The supervisor's QC and follow-up screen of ``onestop desk`` (from the console's "QC and follow-up"
button): the orders the workers completed wait for QC, those past QC for their follow-up. QC passes
or fails with the ticked reasons and a note (a fail sends the order back to the worker, in progress);
the follow-up call or visit records the rating (satisfied, acceptable, dissatisfied), the reasons of
the order's own procedure and the resident's comment: a complaint follows the complaint procedure
(the resident's words are kept), a paid special service the special-service procedure (once paid),
the rest the desk's own. Dissatisfied reopens the order. A follow-up before QC is refused with a
message. The rules are :mod:`pos.desk.service`'s (``record_qc``, ``record_follow_up``)."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

from . import Says

__all__ = ["SCREEN", "KV", "DeskQcScreen", "REASON_MSGIDS", "PROCEDURE_MSGIDS"]


def _(msgid: str) -> str:
    return msgid


ERRORS = {
    "follow_up_before_qc": _("A follow-up needs a passed QC first."),
    "reasons_required": _("Tick or write why it failed."),
    "name_required": _("Type your name first."),
    "comment_required": _("The complaint procedure keeps the resident's own words: write them down."),
    "payment_first": _("A paid service is followed up once it is paid."),
    "not_allowed": _("This step does not fit the order's state."),
}
REASON_MSGIDS = {"not_fixed": _("Not fixed"), "no_photos": _("Photos missing"), "unsafe": _("Unsafe"),
                 "left_untidy": _("Left untidy"), "not_resolved": _("Not resolved"),
                 "slow_response": _("Slow response"), "staff_attitude": _("Staff attitude"),
                 "happened_again": _("Happened again"), "work_quality": _("Work quality"), "price": _("The charge"),
                 "late_arrival": _("Came late")}
PROCEDURE_MSGIDS = {
    "complaint": _("Complaint procedure: call or visit, write down the resident's own words."),
    "special_service": _("Special-service procedure: followed up once paid; rate the work and the price."),
    "service": _("Service desk follow-up: a call or a visit after QC."),
}
RATINGS = ("satisfied", "acceptable", "dissatisfied")
STATES = ("completed", "qc_passed", "awaiting_payment", "follow_up")

KV = """
<QcToggle@ToggleButton>:
    markup: True
    font_name: app.font
    font_size: 17 * app.scale
    size_hint_y: None
    height: max(app.touch_min, 44 * app.scale)

<QcInput@TextInput>:
    font_name: app.font
    font_size: 18 * app.scale
    multiline: False
    write_tab: False
    size_hint_y: None
    height: max(app.touch_min, 44 * app.scale)

<DeskQcScreen>:
    BoxLayout:
        orientation: "vertical"
        padding: 10 * app.scale
        spacing: 6 * app.scale
        canvas.before:
            Color:
                rgba: 0.95, 0.96, 0.97, 1
            Rectangle:
                pos: self.pos
                size: self.size
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 48 * app.scale)
            spacing: 6
            OLabel:
                id: title
                font_size: 26 * app.scale
                bold: True
                text: app.t("QC and follow-up", app.lang)
            QcInput:
                id: me
                size_hint_x: 0.2
                hint_text: app.t("Your name", app.lang)
            SecondaryButton:
                id: lang_hans
                size_hint_x: 0.09
                font_size: 18 * app.scale
                text: app.fx("简体", app.lang)
                on_release: root.set_lang("zh-Hans")
            SecondaryButton:
                id: lang_hant
                size_hint_x: 0.09
                font_size: 18 * app.scale
                text: app.fx("繁體", app.lang)
                on_release: root.set_lang("zh-Hant")
            SecondaryButton:
                id: lang_en
                size_hint_x: 0.1
                font_size: 16 * app.scale
                text: app.fx("English", app.lang)
                on_release: root.set_lang("en")
            OButton:
                id: back
                size_hint_x: 0.16
                font_size: 18 * app.scale
                text: app.t("Back to the queue", app.lang)
                on_release: app.go("desk_console")
        OLabel:
            id: message
            size_hint_y: None
            height: 30 * app.scale
            font_size: 17 * app.scale
            color: 0.7, 0.1, 0.1, 1
            text: root.message
        BoxLayout:
            spacing: 8
            BoxLayout:
                orientation: "vertical"
                size_hint_x: 0.42
                OLabel:
                    size_hint_y: None
                    height: 28 * app.scale
                    font_size: 20 * app.scale
                    bold: True
                    text: app.t("Waiting for QC or follow-up", app.lang)
                ScrollView:
                    BoxLayout:
                        id: queue
                        orientation: "vertical"
                        size_hint_y: None
                        height: self.minimum_height
                        spacing: 4
                OLabel:
                    id: detail
                    size_hint_y: 0.7
                    font_size: 17 * app.scale
                    valign: "top"
                    text: root.detail
                OLabel:
                    id: procedure
                    size_hint_y: None
                    height: 52 * app.scale
                    font_size: 16 * app.scale
                    color: 0.04, 0.30, 0.62, 1
                    text: root.procedure
            BoxLayout:
                orientation: "vertical"
                spacing: 5
                OLabel:
                    size_hint_y: None
                    height: 26 * app.scale
                    font_size: 19 * app.scale
                    bold: True
                    text: app.t("Quality check", app.lang)
                GridLayout:
                    cols: 4
                    size_hint_y: None
                    height: self.minimum_height
                    spacing: 4
                    QcToggle:
                        id: qc_not_fixed
                        text: app.t("Not fixed", app.lang)
                    QcToggle:
                        id: qc_no_photos
                        text: app.t("Photos missing", app.lang)
                    QcToggle:
                        id: qc_unsafe
                        text: app.t("Unsafe", app.lang)
                    QcToggle:
                        id: qc_left_untidy
                        text: app.t("Left untidy", app.lang)
                QcInput:
                    id: qc_note
                    hint_text: app.t("QC note", app.lang)
                BoxLayout:
                    size_hint_y: None
                    height: max(app.touch_min, 46 * app.scale)
                    spacing: 6
                    OButton:
                        id: qc_pass
                        font_size: 18 * app.scale
                        text: app.t("QC passed", app.lang)
                        on_release: root.qc(True)
                    OButton:
                        id: qc_fail
                        font_size: 18 * app.scale
                        text: app.t("QC failed: back to the worker", app.lang)
                        on_release: root.qc(False)
                OLabel:
                    size_hint_y: None
                    height: 26 * app.scale
                    font_size: 19 * app.scale
                    bold: True
                    text: app.t("Follow-up", app.lang)
                GridLayout:
                    cols: 5
                    size_hint_y: None
                    height: self.minimum_height
                    spacing: 4
                    QcToggle:
                        id: by_call
                        group: "qc_method"
                        state: "down"
                        allow_no_selection: False
                        text: app.t("Call", app.lang)
                    QcToggle:
                        id: by_visit
                        group: "qc_method"
                        allow_no_selection: False
                        text: app.t("Visit", app.lang)
                    QcToggle:
                        id: satisfied
                        group: "qc_rating"
                        allow_no_selection: False
                        text: app.t("Satisfied", app.lang)
                    QcToggle:
                        id: acceptable
                        group: "qc_rating"
                        allow_no_selection: False
                        text: app.t("Acceptable", app.lang)
                    QcToggle:
                        id: dissatisfied
                        group: "qc_rating"
                        allow_no_selection: False
                        text: app.t("Dissatisfied", app.lang)
                GridLayout:
                    cols: 4
                    size_hint_y: None
                    height: self.minimum_height
                    spacing: 4
                    QcToggle:
                        id: fu_r0
                        text: root.reason_texts[0] if root.reason_texts else ""
                    QcToggle:
                        id: fu_r1
                        text: root.reason_texts[1] if root.reason_texts else ""
                    QcToggle:
                        id: fu_r2
                        text: root.reason_texts[2] if root.reason_texts else ""
                    QcToggle:
                        id: fu_r3
                        text: root.reason_texts[3] if root.reason_texts else ""
                QcInput:
                    id: comment
                    hint_text: app.t("The resident's comment", app.lang)
                    on_text_validate: root.follow_up()
                OButton:
                    id: record
                    size_hint_y: None
                    height: max(app.touch_min, 46 * app.scale)
                    font_size: 18 * app.scale
                    text: app.t("Record the follow-up", app.lang)
                    on_release: root.follow_up()
"""


class DeskQcScreen(Says, Screen):
    message = StringProperty("")
    detail = StringProperty("")
    procedure = StringProperty("")
    reason_texts = ListProperty([])

    def __init__(self, **kw):
        super().__init__(**kw)
        self.selected: str | None = None
        self.reason_codes: tuple[str, ...] = ()
        self.rows: dict[str, object] = {}
        self._said = None
        App.get_running_app().bind(lang=lambda *_: self.refresh())

    @property
    def desk(self):
        return App.get_running_app().site_services.desk

    def on_pre_enter(self, *_):
        self.refresh()

    def set_lang(self, lang: str) -> None:
        App.get_running_app().set_language(lang)

    def _fail(self, exc, errors: dict | None = None) -> None:
        code = getattr(exc, "code", "")
        self.say((errors or {}).get(code) or ERRORS.get(code, "This step does not fit the order's state."))

    def refresh(self) -> None:
        from kivy.factory import Factory

        from .console import STATE_MSGIDS

        app = App.get_running_app()
        if app.site_services is None or "queue" not in self.ids:
            return
        self.retell()
        box = self.ids.queue
        box.clear_widgets()
        self.rows = {}
        cats = self.desk.catalogue.categories
        for o in self.desk.queue(states=STATES):
            c = cats.get(o["category"])
            b = Factory.SecondaryButton(size_hint_y=None, height=max(app.touch_min, 44 * app.scale))
            b.font_size = 16 * app.scale
            b.text_size = (None, None)
            b.shorten, b.shorten_from = True, "right"
            b.text = (app.fx(f"{o['order_no']}  {o['unit']}  {c.label(app.lang) if c else ''}  ")
                      + app.t(STATE_MSGIDS[o["state"]]))
            b.bind(width=lambda btn, w: setattr(btn, "text_size", (w - 12, None)))
            b.bind(on_release=lambda btn, no=o["order_no"]: self.select(no))
            self.rows[o["order_no"]] = b
            box.add_widget(b)
        if self.selected:
            self.select(self.selected, keep=True)

    def select(self, no: str, keep: bool = False) -> None:
        from pos.desk.service import FOLLOW_UPS, follow_up_procedure

        from .console import STATE_MSGIDS

        app = App.get_running_app()
        if not keep and no != self.selected:
            self._clear_ticks()
        self.selected = no
        o = self.desk.order(no)
        note = next((h["data"].get("note", "") for h in reversed(self.desk.history(no))
                     if h["event"] == "completed"), "")
        c = self.desk.catalogue.categories.get(o["category"])
        self.detail = (app.fx(f"{no}  {o['unit']}  {o['party']}  {c.label(app.lang) if c else ''}  ")
                       + app.t(STATE_MSGIDS[o["state"]]) + app.fx(f"\n{o['description']}\n")
                       + app.t("Worker {who}: {note} ({n} photos)", who=o["assignee"] or "", note=note,
                               n=len(o["photos"])))
        proc = follow_up_procedure(o)
        self.procedure = app.t(PROCEDURE_MSGIDS[proc])
        self.reason_codes = FOLLOW_UPS[proc]["reasons"]
        self.reason_texts = [app.t(REASON_MSGIDS[r]) for r in self.reason_codes]

    def _clear_ticks(self) -> None:
        for name in ("qc_not_fixed", "qc_no_photos", "qc_unsafe", "qc_left_untidy", "satisfied", "acceptable",
                     "dissatisfied", "fu_r0", "fu_r1", "fu_r2", "fu_r3"):
            self.ids[name].state = "normal"
        self.ids.qc_note.text = self.ids.comment.text = ""

    def reset(self) -> None:
        self.selected, self._said, self.message, self.detail, self.procedure = None, None, "", "", ""
        self.reason_texts = []
        self._clear_ticks()

    # -- QC and follow-up ------------------------------------------------------------------------
    def qc(self, passed: bool) -> None:
        from pos.desk.service import QC_REASONS, DeskError, record_qc

        if not self.selected:
            self.say("Pick an order first.")
            return
        reasons = [r for r in QC_REASONS if self.ids[f"qc_{r}"].state == "down"]
        try:
            out = record_qc(self.desk, self.selected, self.ids.me.text, passed, reasons=reasons,
                            note=self.ids.qc_note.text)
        except DeskError as exc:
            self._fail(exc)
            return
        no = self.selected
        self._clear_ticks()
        if out["state"] == "awaiting_payment":
            self.say("QC passed: {no} waits for its payment of {amount}.", no=no,
                     amount=App.get_running_app().money(out["amount_fen"]))
        else:
            self.say("QC passed for {no}." if passed else "QC failed: {no} is back with the worker.", no=no)
        self.refresh()

    def follow_up(self) -> None:
        from pos.desk.service import DeskError, record_follow_up

        if not self.selected:
            self.say("Pick an order first.")
            return
        rating = next((r for r in RATINGS if self.ids[r].state == "down"), None)
        if rating is None:
            self.say("Tap the resident's rating first.")
            return
        reasons = [code for i, code in enumerate(self.reason_codes) if self.ids[f"fu_r{i}"].state == "down"]
        method = "visit" if self.ids.by_visit.state == "down" else "call"
        try:
            out = record_follow_up(self.desk, self.selected, self.ids.me.text, rating, reasons=reasons,
                                   comment=self.ids.comment.text, method=method)
        except DeskError as exc:
            self._fail(exc, {"reasons_required": _("Tick or write why the resident is dissatisfied.")})
            return
        no = self.selected
        self._clear_ticks()
        self.say("{no} is closed." if out["state"] == "closed" else
                 "{no} is reopened and back with its team.", no=no)
        self.refresh()


SCREEN = DeskQcScreen
