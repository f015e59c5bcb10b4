"""``onestop desk``: the dispatcher's console. Enter a hotline call or a walk-in, search, see the
queue of open orders most urgent first with a live SLA timer each, classify an order (the
suggestion from its text and the category history is shown; the dispatcher confirms it), route it
to its team (the next in turn, or the person picked), print the dispatch slip, and see the
finance hand-off queue. Keyboard-friendly: Enter in the description receives, Enter in the search
searches. Everything works offline (the desk service writes the outbox; sync sends it)."""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from . import Says

__all__ = ["SCREEN", "KV", "DeskConsoleScreen", "due_text"]


def _(msgid: str) -> str:
    return msgid


#: DeskError codes -> what the dispatcher reads
ERRORS = {
    "description_required": _("Type what the resident needs first."),
    "classify_first": _("Confirm a category first."),
    "dispatch_first": _("Dispatch the order first."),
    "not_allowed": _("This step does not fit the order's state."),
    "follow_up_before_qc": _("A follow-up needs a passed QC first."),
}
PAID_MSGIDS = {"cash": _("{amount} paid in cash"), "card": _("{amount} paid by card")}
CHANNEL_MSGIDS = {"hotline": _("Hotline"), "service_desk": _("Walk-in")}
STATE_MSGIDS = {"received": _("New order"), "classified": _("Classified"), "dispatched": _("Dispatched"),
                "in_progress": _("In progress"), "deferred": _("Deferred"), "completed": _("Completed"),
                "qc_passed": _("QC passed"), "awaiting_payment": _("Awaiting payment"),
                "follow_up": _("Follow-up"), "closed": _("Closed"), "cancelled": _("Cancelled")}


def due_text(app, seconds: int | None) -> str:
    if seconds is None:
        return app.t("No deadline", app.lang)
    m = abs(seconds) // 60
    span = f"{m // 60}h{m % 60:02d}m"
    return app.t("Due in {t}", app.lang, t=span) if seconds >= 0 else app.t("Overdue {t}", app.lang, t=span)


KV = """
<DeskConsoleScreen>:
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
                font_size: 28 * app.scale
                bold: True
                text: app.t("Service desk", app.lang)
            OLabel:
                size_hint_x: 0.4
                font_size: 16 * app.scale
                text: app.sync_text
            OButton:
                id: to_qc
                size_hint_x: 0.4
                font_size: 18 * app.scale
                text: app.t("QC and follow-up", app.lang)
                on_release: app.go("desk_qc")
            OButton:
                id: to_cash
                size_hint_x: 0.22
                font_size: 18 * app.scale
                text: app.t("Cash", app.lang)
                on_release: app.go("desk_cash")
            SecondaryButton:
                id: lang_hans
                size_hint_x: 0.12
                font_size: 18 * app.scale
                text: app.fx("简体", app.lang)
                on_release: root.set_lang("zh-Hans")
            SecondaryButton:
                id: lang_hant
                size_hint_x: 0.12
                font_size: 18 * app.scale
                text: app.fx("繁體", app.lang)
                on_release: root.set_lang("zh-Hant")
            SecondaryButton:
                id: lang_en
                size_hint_x: 0.16
                font_size: 16 * app.scale
                text: app.fx("English", app.lang)
                on_release: root.set_lang("en")
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 48 * app.scale)
            spacing: 6
            ToggleButton:
                id: ch_hotline
                group: "desk_channel"
                state: "down"
                allow_no_selection: False
                markup: True
                font_name: app.font
                font_size: 18 * app.scale
                size_hint_x: 0.12
                text: app.t("Hotline", app.lang)
            ToggleButton:
                id: ch_walkin
                group: "desk_channel"
                allow_no_selection: False
                markup: True
                font_name: app.font
                font_size: 18 * app.scale
                size_hint_x: 0.12
                text: app.t("Walk-in", app.lang)
            ToggleButton:
                id: fee
                markup: True
                font_name: app.font
                font_size: 18 * app.scale
                size_hint_x: 0.12
                text: app.t("Fee item", app.lang)
            DeskInput:
                id: unit
                size_hint_x: 0.14
                hint_text: "3-1201"
            DeskInput:
                id: description
                on_text_validate: root.receive(by_keyboard=True)
            OButton:
                id: receive
                size_hint_x: 0.16
                font_size: 20 * app.scale
                text: app.t("Receive", app.lang)
                on_release: root.receive()
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 48 * app.scale)
            spacing: 6
            DeskInput:
                id: search
                on_text_validate: root.refresh()
            OButton:
                id: search_button
                size_hint_x: 0.16
                font_size: 20 * app.scale
                text: app.t("Search", app.lang)
                on_release: root.refresh()
        OLabel:
            id: message
            size_hint_y: None
            height: 30 * app.scale
            font_size: 18 * app.scale
            color: 0.7, 0.1, 0.1, 1
            text: root.message
        BoxLayout:
            spacing: 8
            BoxLayout:
                orientation: "vertical"
                OLabel:
                    size_hint_y: None
                    height: 28 * app.scale
                    font_size: 20 * app.scale
                    bold: True
                    text: app.t("Queue", app.lang)
                ScrollView:
                    BoxLayout:
                        id: queue
                        orientation: "vertical"
                        size_hint_y: None
                        height: self.minimum_height
                        spacing: 4
            BoxLayout:
                orientation: "vertical"
                size_hint_x: 0.45
                spacing: 6
                OLabel:
                    id: selected
                    font_size: 18 * app.scale
                    text: root.selected_text
                OLabel:
                    id: suggestion
                    size_hint_y: None
                    height: 30 * app.scale
                    font_size: 18 * app.scale
                    text: root.suggestion_text
                BoxLayout:
                    size_hint_y: None
                    height: max(app.touch_min, 48 * app.scale)
                    spacing: 6
                    OButton:
                        id: confirm
                        font_size: 18 * app.scale
                        text: app.t("Confirm category", app.lang)
                        on_release: root.confirm()
                    OButton:
                        id: dispatch
                        font_size: 18 * app.scale
                        text: app.t("Dispatch", app.lang)
                        on_release: root.dispatch_order()
                    OButton:
                        id: slip
                        font_size: 18 * app.scale
                        text: app.t("Print slip", app.lang)
                        on_release: root.print_slip()
                OLabel:
                    size_hint_y: None
                    height: 28 * app.scale
                    font_size: 20 * app.scale
                    bold: True
                    text: app.t("Finance queue", app.lang)
                ScrollView:
                    BoxLayout:
                        id: finance
                        orientation: "vertical"
                        size_hint_y: None
                        height: self.minimum_height
                        spacing: 4

<DeskInput@TextInput>:
    font_name: app.font
    font_size: 20 * app.scale
    multiline: False
    write_tab: False
    size_hint_y: None
    height: max(app.touch_min, 48 * app.scale)
"""


class DeskConsoleScreen(Says, Screen):
    message = StringProperty("")
    selected_text = StringProperty("")
    suggestion_text = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self.selected: str | None = None
        self.suggested: str | None = None
        self.rows: dict[str, object] = {}
        self._timer = None

    @property
    def desk(self):
        return App.get_running_app().site_services.desk

    def on_pre_enter(self, *_):
        from . import community_name

        app = App.get_running_app()
        app.site_name = community_name(app)     # the header names the community, not the platform's site
        app.bind(lang=lambda *_: self.refresh(), site_services=lambda *_: self.refresh())
        self.refresh()
        self._timer = Clock.schedule_interval(lambda dt: self.tick(), 1.0)
        Window.bind(on_key_down=self._arrow)

    def on_leave(self, *_):
        if self._timer is not None:
            self._timer.cancel()
        Window.unbind(on_key_down=self._arrow)

    def cancel_waits(self) -> None:
        """The app stops: no key of a later app reaches this screen, and its SLA timer stops."""
        Window.unbind(on_key_down=self._arrow)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arrow(self, _win, key, *_args) -> bool:
        """Up and down move the selection through the queue (when no field has the keyboard)."""
        from kivy.uix.textinput import TextInput

        if key not in (273, 274) or not self.rows or self.get_root_window() is None or \
                self.manager is None or self.manager.current != self.name:
            return False
        if any(isinstance(w, TextInput) and w.focus for w in self.walk()):
            return False
        nos = list(self.rows)
        i = nos.index(self.selected) if self.selected in nos else -1
        i = min(len(nos) - 1, i + 1) if key == 274 else max(0, i - 1)
        self.select(nos[i])
        return True

    def set_lang(self, lang: str) -> None:
        App.get_running_app().set_language(lang)
        self.refresh()

    def _fail(self, exc) -> None:
        self.say(ERRORS.get(getattr(exc, "code", ""), "This step does not fit the order's state."))

    # -- intake ---------------------------------------------------------------------------------
    def receive(self, by_keyboard: bool = False) -> None:
        from pos.desk.service import DeskError

        channel = "hotline" if self.ids.ch_hotline.state == "down" else "service_desk"
        try:
            no = self.desk.receive(channel, unit=self.ids.unit.text.strip(),
                                   description=self.ids.description.text.strip(), by="dispatcher",
                                   fee_related=self.ids.fee.state == "down")
        except DeskError as exc:
            self._fail(exc)
            return
        self.ids.description.text = ""
        self.ids.fee.state = "normal"
        self.selected = no
        self.refresh()
        self.say("Order {no} received.", no=no)
        if by_keyboard:                     # Enter received it: the unit field is ready for the next call
            Clock.schedule_once(lambda _dt: setattr(self.ids.unit, "focus", True))

    # -- the queue --------------------------------------------------------------------------------
    def refresh(self) -> None:
        app = App.get_running_app()
        if app.site_services is None:
            return                          # the store is still opening: refreshed when it is open
        self.retell()
        box = self.ids.queue
        box.clear_widgets()
        self.rows = {}
        for o in self.desk.queue(search=self.ids.search.text.strip()):
            b = Factory.SecondaryButton(size_hint_y=None, height=max(app.touch_min, 44 * app.scale))
            b.font_size = 17 * app.scale                # after the kv rule, which sets the button size
            b.order = o
            b.bind(on_release=lambda btn: self.select(btn.order["order_no"]))
            self.rows[o["order_no"]] = b
            box.add_widget(b)
        self.tick()
        fin = self.ids.finance
        fin.clear_widgets()
        for f in self.desk.finance_queue("all"):
            if f["state"] == "cancelled":
                continue
            amount = app.money(f["amount_fen"]) if f["amount_fen"] is not None else app.t("amount to be set", app.lang)
            if f["state"] == "charged":     # paid: how, so the finance staff see it settled
                amount = app.t(PAID_MSGIDS.get(f["pay_method"], PAID_MSGIDS["card"]), amount=app.money(f["paid_fen"]))
            row = Factory.OLabel(size_hint_y=None, height=28 * app.scale,
                                 text=app.fx(f"{f['order_no']}  {f['unit'] or ''}  ", app.lang) + amount)
            row.font_size = 16 * app.scale
            fin.add_widget(row)
        if self.selected:
            self.select(self.selected)

    def tick(self) -> None:
        """The SLA timers, once a second."""
        from pos.desk.service import _parse
        from pos.ids import utcnow_iso

        app = App.get_running_app()
        if app is None or getattr(app, "site_services", None) is None or not self.rows:
            return
        now = _parse(utcnow_iso())
        cat = self.desk.catalogue
        for no, b in self.rows.items():
            o = b.order
            due = int((_parse(o["deadline"]) - now).total_seconds()) if o["deadline"] else None
            c = cat.categories.get(o["category"])
            b.text = (app.fx(f"{no}  {o['unit']}  {c.label(app.lang) if c else ''}  ", app.lang)
                      + app.t(STATE_MSGIDS[o["state"]], app.lang) + "  " + due_text(app, due))
            b.overdue = due is not None and due < 0
            b.color = (0.75, 0.05, 0.05, 1) if b.overdue else (0.07, 0.09, 0.12, 1)     # overdue: red
            b.bold = b.overdue

    def select(self, no: str) -> None:
        app = App.get_running_app()
        self.selected = no
        o = self.desk.order(no)
        c = self.desk.catalogue.categories.get(o["category"])
        self.selected_text = app.fx(f"{no}  {o['unit']}\n{o['description']}\n"
                                    f"{c.label(app.lang) if c else ''}  {o['assignee'] or ''}", app.lang)
        best = self.desk.suggest(o["description"], unit=o["unit"])
        self.suggested = best[0][0] if best else None
        if self.suggested:
            label = self.desk.catalogue.get(self.suggested).label(app.lang)
            self.suggestion_text = app.t("Suggested: {category}", app.lang, category=label)
        else:
            self.suggestion_text = app.t("No suggestion", app.lang)

    # -- classify, route, print -----------------------------------------------------------------
    def confirm(self) -> None:
        from pos.desk.service import DeskError

        if not self.selected or not self.suggested:
            self.say("Pick an order first.")
            return
        try:
            self.desk.classify(self.selected, self.suggested, by="dispatcher", suggested=self.suggested)
        except DeskError as exc:
            self._fail(exc)
            return
        self.say("Category confirmed.")
        self.refresh()

    def dispatch_order(self) -> None:
        from pos.desk.service import DeskError

        if not self.selected:
            self.say("Pick an order first.")
            return
        try:
            out = self.desk.dispatch(self.selected, by="dispatcher")
        except DeskError as exc:
            self._fail(exc)
            return
        self.say("Dispatched to {who}.", who=out["assignee"])
        self.refresh()

    def print_slip(self) -> None:
        from pos.desk.service import DeskError

        app = App.get_running_app()
        if not self.selected:
            self.say("Pick an order first.")
            return
        try:
            out = self.desk.print_dispatch_slip(app.site_services.printing, self.selected, lang=app.lang,
                                                site_name=app.site_name)
        except DeskError as exc:
            self._fail(exc)
            return
        self.say("Slip printed." if out.ok else "The slip did not print; it is kept for a reprint.")


SCREEN = DeskConsoleScreen
#: what plays this front end by itself (``onestop demo desk --autoplay DIR``)
AUTOPLAY = "kiosk.desk.autoplay:DeskAutoplay"
