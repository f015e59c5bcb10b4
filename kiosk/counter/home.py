"""The cashier counter's main screen: patient search (typed or a scanned wristband / receipt),
the menu of counter tasks, the sync queue and this counter's recent activity."""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, NumericProperty

from .base import N_, CounterScreen, ScanCatcher, ward_name, yuan

__all__ = ["CounterHomeScreen", "SCREEN", "local_time", "STATE_LABELS", "MENU"]

_ = N_
#: admission / discharge states as the cashier reads them
STATE_LABELS = {
    "identity_checked": _("Identity checked"), "registered": _("Registered"), "deposit_paid": _("Deposit paid"),
    "green_channel": _("Green channel"), "wristband_printed": _("Wristband printed"),
    "bed_assigned": _("In a bed"), "identity_confirmed": _("In the ward"), "discharged": _("Discharged"),
    "ordered": _("Discharge ordered"), "charges_locked": _("Charges locked"), "scheduled": _("Discharge scheduled"),
    "settled": _("Settled"), "balanced": _("Balanced"), "list_printed": _("Settlement list printed"),
}
#: (msgid, screen) of the menu
MENU = [(_("Register admission"), "counter_register"), (_("Green channel"), "counter_green"),
        (_("Payments in doubt"), "counter_indoubt"), (_("Reprints"), "counter_reprints"),
        (_("Shift close"), "counter_shift")]


def local_time(utc_iso: str) -> str:
    """Stored UTC → the site's local time shown to people (``MM-DD HH:MM``)."""
    from pos.documents.common import local_time as site_local

    return site_local(utc_iso, App.get_running_app().site.get("site", "timezone"))[5:]


class CounterHomeScreen(CounterScreen):
    waiting = NumericProperty(0)
    shift_open = BooleanProperty(True)     # False: the opening float is asked first
    float_fen = NumericProperty(0)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.scanner = ScanCatcher(self.on_scan)
        self.results: list[dict] = []
        self.help_requests: list[dict] = []
        Clock.schedule_once(self._menu)
        self._float_row = self.ids.float_row.__self__      # a strong reference: it leaves the tree
        self._float_box = self._float_row.parent
        self._float_box.remove_widget(self._float_row)   # shown only while no shift is open

    def on_shift_open(self, _w, is_open: bool) -> None:
        row, box = self._float_row, self._float_box
        if is_open and row.parent is not None:
            box.remove_widget(row)
        elif not is_open and row.parent is None:
            box.add_widget(row, index=len(box.children) - 3)   # under the message line

    def _menu(self, *_):
        app = App.get_running_app()
        box = self.ids.menu
        box.clear_widgets()
        for msgid, screen in MENU:
            b = Factory.SecondaryButton(font_size=22 * app.scale)
            b.msgid = msgid
            b.text = app.t(msgid, app.lang)
            b.bind(on_release=lambda _b, s=screen: app.go(s))
            box.add_widget(b)
        app.bind(lang=lambda *_: [setattr(b, "text", app.t(b.msgid, app.lang)) for b in box.children])

    def on_pre_enter(self, *_):
        self._app = App.get_running_app()       # the refresh stops with this app, not with a later one
        self.reload()
        self.check_shift()
        self._ev = Clock.schedule_interval(lambda _dt: self.reload(), 5)
        self.scanner.start()
        if not self.message:
            self.say("Type a name, its pinyin initials (e.g. wz), an ID number or an inpatient number, or scan a wristband.")
        if self.ids.search.text.strip():
            self.search(self.ids.search.text)

    def on_leave(self, *_):
        self._ev.cancel()
        self.scanner.stop()

    # -- the cash shift: opened with the float counted in the drawer ------------------------
    def check_shift(self) -> None:
        def has_shift(d):
            from pos.errors import NotFound

            try:
                d.site.cash.shift(d.cashier)
                return True
            except NotFound:
                return False

        def shown(is_open):
            self.shift_open = is_open
            if not is_open:
                self.say("No shift is open. Count the cash in the drawer, enter it as the opening float, then open the shift.")

        self.call(has_shift, shown)

    def enter_float(self) -> None:
        from ..screens.numpad import NumPad

        app = App.get_running_app()
        self._pad = NumPad(title=app.t("Opening float in yuan", app.lang), when_done=self._float_entered)
        self._pad.open(animation=False)

    def _float_entered(self, fen: int) -> None:
        self.float_fen = fen

    def open_shift(self) -> None:
        fen = self.float_fen

        def done(_shift_id):
            self.shift_open = True
            self.say("Shift opened with a float of {amount}.", amount=yuan(fen))
            self.reload()

        self.call(lambda d: d.site.cash.open_shift(d.cashier, fen), done)

    # -- search -------------------------------------------------------------------------
    def on_scan(self, code: str) -> None:
        self.ids.search.text = code
        self.search(code, scanned=True)

    def search(self, text: str, scanned: bool = False) -> None:
        q = (text or "").strip()
        if not q:
            self.say("Type a name, its pinyin initials (e.g. wz), an ID number or an inpatient number, or scan a wristband.")
            return

        def found(rows):
            self.results = rows
            if not rows:
                self.say("No patient found for {q}.", error=True, q=q)
            elif scanned and len(rows) == 1 and rows[0]["kind"] == "admission":
                App.get_running_app().go("counter_patient", inpatient_no=rows[0]["inpatient_no"])
                return
            else:
                self.say("{n} found.", n=len(rows))
            self._show_results()

        self.call(lambda d: d.search(q), found)

    def _show_results(self) -> None:
        app = App.get_running_app()
        out = []
        for r in self.results:
            if r["kind"] == "admission":
                text = (app.fx(f"{r['name']}  {r['inpatient_no']}  {ward_name(r['ward_code'])}  ") +
                        app.t(STATE_LABELS.get(r["state"], r["state"]), app.lang))
                out.append(self.row(text, [(app.t("Open", app.lang),
                                            lambda no=r["inpatient_no"]: app.go("counter_patient", inpatient_no=no))]))
            else:
                text = (app.t("Admission notice", app.lang) +
                        app.fx(f"  {r['name']}  {r['notice_no']}  {ward_name(r['ward_code'])}  {yuan(r['suggested_deposit_fen'])}"))
                out.append(self.row(text, [(app.t("Register", app.lang),
                                            lambda no=r["notice_no"]: app.go("counter_register", notice_no=no))]))
        self.fill(self.ids.results, out)

    def on_lang(self) -> None:
        if self.results:
            self._show_results()

    # -- sync queue and activity (the lead's) ---------------------------------------------
    def reload(self) -> None:
        app = App.get_running_app()
        if app is None or app is not getattr(self, "_app", app):
            if getattr(self, "_ev", None) is not None:
                self._ev.cancel()
            return

        def read(store):
            from pos.counter.activity import open_help_requests, recent_activity

            return store.outbox_depth(), recent_activity(store.conn, yuan), open_help_requests(store.conn)

        app.with_store(read, self._show)

    def _show(self, result) -> None:
        app = App.get_running_app()
        if app is None:
            return
        self.waiting, rows, helps = result
        if helps != self.help_requests or getattr(self, "_help_lang", None) != app.lang:
            self.help_requests, self._help_lang = helps, app.lang   # rebuilt only when changed: a finger
            self._show_help()                                        # on "Acknowledge" keeps its button
        box = self.ids.activity
        box.clear_widgets()
        for created, msgid, values in rows:
            box.add_widget(Factory.OLabel(text=app.fx(local_time(created) + "  ") + app.t(msgid, app.lang, **values),
                                          font_size=18 * app.scale, size_hint_y=None, height=32 * app.scale,
                                          shorten=True, shorten_from="right"))

    def _show_help(self) -> None:
        app = App.get_running_app()
        self.fill(self.ids.help_requests, [
            self.row(app.t("Help requested at kiosk {device} ({screen}) since {time}", app.lang, device=h["device"],
                           screen=h.get("screen") or "-", time=local_time(h["at"]) if h.get("at") else "-"),
                     [(app.t("Acknowledge", app.lang), lambda h=h: self.acknowledge(h))])
            for h in self.help_requests])

    def acknowledge(self, request: dict) -> None:
        app = App.get_running_app()
        who = app.staff_name or app.staff_role or "cashier"

        def ack(store):
            from pos.counter.activity import acknowledge_help

            return acknowledge_help(store, request, f"{who}@{store.device_id}")

        def done(_cid):
            self.say("Help request of kiosk {device} acknowledged. Please go to the kiosk.", device=request["device"])
            self.reload()

        app.with_store(ack, done, self.show_error)

    def reset(self) -> None:
        super().reset()
        self.results = []
        if "search" in self.ids:
            self.ids.search.text = ""
            self.ids.results.clear_widgets()


SCREEN = CounterHomeScreen
KV_FILE = "counter/home"
