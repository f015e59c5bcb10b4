"""``onestop ward``: the bed board. Every bed of the station's ward: free, or occupied (patient,
inpatient number, days in, deposit balance, low-balance flag), or held by a patient of another
device as the server said. The nurse scans an arriving patient's wristband (keyboard-wedge scanner,
as at the counter) or taps an occupied bed to pick a patient, then taps a free bed: an assignment,
or a transfer when the patient already has a bed. The assignment is the hospital service's
``assign_bed`` (``hospital.bed.assigned``, a resource claim the server decides); a claim the server
refused shows on the bed with the server's reason until the nurse picks another bed."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from ..screens.scan import ScanCatcher

log = logging.getLogger(__name__)

__all__ = ["SCREEN", "KV", "WardBoardScreen"]


def _(msgid: str) -> str:
    return msgid


ROLE_MSGIDS = {"nurse": _("Nurse"), "charge_nurse": _("Charge nurse"), "doctor": _("Doctor")}
REASONS = {"bed_taken": _("The server gave this bed to {holder} first. Pick another bed."),
           "": _("The server refused this bed. Pick another bed.")}
TEXTS = (_("Free"), _("Days in: {days}"), _("Balance {amount}"), _("Low balance"), _("On another device"),
         _("Scan the wristband of an arriving patient, or tap an occupied bed."),
         _("{name} ({no}): tap a free bed."), _("{no} is not a patient of this hospital."),
         _("{name} is now in bed {bed}."), _("This bed is taken. Pick a free bed."),
         _("The bed needs the server and this station is offline. Try again when it is back."),
         _("This patient cannot take a bed yet (the wristband is not printed)."),
         _("Only nurses assign beds."), _("Bed {bed}"), _("ID check refused"), _("ID not checked yet"), _("Printing the daily lists..."),
         _("{n} daily lists printed, {low} of them low balance with a top-up prompt (printed first)."),
         _("{n} daily lists printed; {bad} did not print. Check the printer and print again."),
         _("No patient in a bed: no daily list to print."), _("Check the printer and print again."),
         _("Reserved for {no}"), _("Being cleaned"), _("Tap a free bed to reserve it for {name}."),
         _("Tap a free bed to mark it for cleaning."), _("Bed {bed} is reserved for {no}."),
         _("Bed {bed} is marked for cleaning."), _("Bed {bed} is clean and free."),
         _("Scan or pick the patient first."), _("Bed {bed} is reserved for {no}. Pick another bed."),
         _("Other ward"), _("Discharge requests from the kiosk: {list}"), _("{who} for {date}"),
         _("{who}, no date given"), _("Asks for discharge"))


def _kv() -> str:
    from importlib import resources

    return resources.files("assets").joinpath("kv", "ward", "ward_board.kv").read_text(encoding="utf-8")


KV = _kv()


class WardBoardScreen(Screen):
    message = StringProperty("")
    selected_text = StringProperty("")
    ward_name = StringProperty("")
    staff = StringProperty("")
    role = StringProperty("")
    role_msgid = StringProperty("")
    picked_no = StringProperty("")
    printing = BooleanProperty(False)
    mode = StringProperty("")                   # "", "reserve" or "cleaning": what a tap on a free bed does
    requests_text = StringProperty("")         # the patients' discharge requests from the kiosk, pulled

    def __init__(self, **kw):
        super().__init__(**kw)
        self.cells: dict[str, object] = {}
        self.board: list[dict] = []
        self.picked: str | None = None          # inpatient number
        self._said = None
        self._scans = ScanCatcher(self.on_scan)
        self._tick = None
        self.shown_ward = ""                     # another ward than the station's, for a transfer
        self._app = App.get_running_app()
        self._app.bind(lang=lambda *_: self.refresh())

    # -- life cycle -------------------------------------------------------------------
    def on_role(self, *_):
        self.role_msgid = ROLE_MSGIDS.get(self.role, "")

    def on_pre_enter(self, *_):
        self._scans.start()
        self._tick = Clock.schedule_interval(self._on_tick, 5.0)   # pulled claims come in
        self.refresh()

    def _on_tick(self, _dt):
        """The periodic refresh, only while this app runs and shows the board (an app stopped on
        the board never leaves it: its tick must not outlive it)."""
        if App.get_running_app() is not self._app or self.manager is None or self.manager.current != self.name:
            self._tick = None
            return False
        self.refresh()

    def on_leave(self, *_):
        self._scans.stop()
        if self._tick is not None:
            self._tick.cancel()
            self._tick = None

    def next_ward(self) -> None:
        """Show the next ward (a transfer: pick the patient here, then a free bed there)."""
        from pos.hospital import views

        codes = [w["code"] for w in views.wards(self.hospital.conn)]
        here = self.ward_code()
        self.shown_ward = codes[(codes.index(here) + 1) % len(codes)] if here in codes else ""
        self.refresh()

    def reset(self) -> None:
        """Idle timeout or log-out: forget who is logged in and what was picked."""
        self.shown_ward = ""
        self.staff = self.role = ""
        self.picked = None
        self._said = None
        self.message = ""

    # -- reading ----------------------------------------------------------------------
    @property
    def hospital(self):
        return App.get_running_app().site_services.hospital

    def ward_code(self) -> str:
        from pos.hospital import views

        app = App.get_running_app()
        code = self.shown_ward or app.site.get("ward", "ward_code")
        wards = views.wards(self.hospital.conn)
        ward = next((w for w in wards if w["code"] == code), wards[0] if wards else None)
        self.ward_name = ward["name"] if ward else ""
        return ward["code"] if ward else ""

    def say(self, msgid: str, **kw) -> None:
        self._said = (msgid, kw)
        self.message = App.get_running_app().t(msgid, **kw)

    def refresh(self) -> None:
        app = App.get_running_app()
        if getattr(app, "site_services", None) is None or self.manager is None:
            return
        code = self.ward_code()
        self.board = self.hospital.bed_board(code) if code else []
        self.show_requests(code)
        box = self.ids.beds
        box.clear_widgets()
        self.cells = {}
        for cell in self.board:
            b = Factory.OButton(size_hint_y=None, height=max(app.touch_min, 130 * app.scale), halign="center")
            b.font_size = max(18, 18 * app.scale)      # after the kv rule, which sets the buttons' size
            b.text = self.cell_text(cell)
            b.background_color = self.cell_colour(cell)
            b.bind(on_release=lambda _b, c=cell: self.tap_bed(c))
            self.cells[cell["bed_no"]] = b
            box.add_widget(b)
        self.show_selection()
        conflict = next((c for c in self.board if c["conflict"]), None)
        if conflict is not None:
            reason = conflict["conflict"]["reason"]
            self.say(REASONS.get(reason, REASONS[""]), holder=conflict["conflict"]["held_by"])
        elif self._said:
            self.message = app.t(self._said[0], **self._said[1])

    def show_requests(self, code: str) -> None:
        """H-D3: the patients of this ward who asked at the kiosk for a scheduled discharge (pulled
        from every kiosk) and are not scheduled yet."""
        from pos.hospital import views

        app = App.get_running_app()
        reqs = views.discharge_requests(self.hospital.conn, code) if code else []
        self.requested = {r["inpatient_no"] for r in reqs}
        parts = []
        for r in reqs:
            who = (app.fx(r["name"]) + " " if r["name"] else "") + r["inpatient_no"]
            parts.append(app.t("{who} for {date}", who=who, date=r["wanted_for"]) if r["wanted_for"]
                         else app.t("{who}, no date given", who=who))
        self.requests_text = app.t("Discharge requests from the kiosk: {list}", list="; ".join(parts)) if parts else ""

    def cell_text(self, c: dict) -> str:
        app = App.get_running_app()
        head = app.t("Bed {bed}", bed=c["bed_no"])
        if c["state"] == "free":
            return f"{head}\n{app.t('Free')}"
        if c["state"] == "reserved":
            return f"{head}\n{app.t('Reserved for {no}', no=c['inpatient_no'])}"
        if c["state"] == "cleaning":
            return f"{head}\n{app.t('Being cleaned')}"
        if c.get("elsewhere"):
            return f"{head}\n{c['inpatient_no']}\n{app.t('On another device')}"
        lines = [f"{head}  {app.fx(c['name'])}", c["inpatient_no"],
                 app.t("Days in: {days}", days=c["days"]) + "  " + app.t("Balance {amount}",
                                                                          amount=app.money(c["balance_fen"]))]
        if c["low_balance"]:
            lines.append(app.t("Low balance"))
        if c["inpatient_no"] in getattr(self, "requested", ()):
            lines.append(app.t("Asks for discharge"))
        if c["id_check"] == "refused":
            lines.append(app.t("ID check refused"))
        elif c["id_check"] == "":
            lines.append(app.t("ID not checked yet"))
        return "\n".join(lines)

    @staticmethod
    def cell_colour(c: dict):
        if c["conflict"]:
            return (0.85, 0.2, 0.2, 1)
        if c["state"] == "free":
            return (0.2, 0.6, 0.3, 1)
        if c["state"] in ("reserved", "cleaning"):
            return (0.5, 0.5, 0.5, 1)
        if c["low_balance"]:
            return (0.85, 0.55, 0.1, 1)
        return (0.25, 0.4, 0.65, 1)

    def show_selection(self) -> None:
        app = App.get_running_app()
        self.picked_no = self.picked or ""
        if self.picked is None:
            self.selected_text = app.t("Scan the wristband of an arriving patient, or tap an occupied bed.")
            return
        from pos.hospital import views

        name = views.admission_page(self.hospital.conn, self.hospital.admission(self.picked))["name"]
        self.selected_text = app.t("{name} ({no}): tap a free bed.", name=name, no=self.picked)

    # -- the nurse's steps ------------------------------------------------------------
    def on_scan(self, code: str) -> None:
        from pos.hospital.errors import HospitalNotFound

        try:
            self.hospital.admission(code)
        except HospitalNotFound:
            self.say("{no} is not a patient of this hospital.", no=code)
            return
        self.picked = code
        self._said = None
        self.message = ""
        self.show_selection()

    def set_mode(self, mode: str) -> None:
        self.mode = "" if self.mode == mode else mode
        if self.mode == "reserve" and self.picked is None:
            self.mode = ""
            self.say("Scan or pick the patient first.")
        elif self.mode == "reserve":
            from pos.hospital import views

            name = views.admission_page(self.hospital.conn, self.hospital.admission(self.picked))["name"]
            self.say("Tap a free bed to reserve it for {name}.", name=name)
        elif self.mode == "cleaning":
            self.say("Tap a free bed to mark it for cleaning.")

    def mark(self, cell: dict, mark: str) -> None:
        from pos.hospital.errors import HospitalError

        if self.role not in ("nurse", "charge_nurse"):
            self.say("Only nurses assign beds.")
            return
        try:
            self.hospital.mark_bed(self.ward_code(), cell["bed_no"], mark, self.staff,
                                   self.picked if mark == "reserved" else None)
        except HospitalError as exc:
            log.warning("ward: bed mark refused: %s", exc)
            self.say("This bed is taken. Pick a free bed.")
            return
        log.info("ward: %s %s marked bed %s %s", self.role, self.staff, cell["bed_no"], mark)
        self.mode = ""
        if mark == "reserved":
            self.say("Bed {bed} is reserved for {no}.", bed=cell["bed_no"], no=self.picked)
        elif mark == "cleaning":
            self.say("Bed {bed} is marked for cleaning.", bed=cell["bed_no"])
        else:
            self.say("Bed {bed} is clean and free.", bed=cell["bed_no"])
        self.refresh()

    def tap_bed(self, cell: dict) -> None:
        if cell["state"] == "occupied" and not cell.get("elsewhere"):
            self.on_scan(cell["inpatient_no"])
            return
        if cell["state"] == "cleaning":
            self.mark(cell, "ready")
            return
        if cell["state"] == "reserved" and cell["inpatient_no"] != self.picked:
            self.say("Bed {bed} is reserved for {no}. Pick another bed.", bed=cell["bed_no"], no=cell["inpatient_no"])
            return
        if cell["state"] not in ("free", "reserved"):
            self.say("This bed is taken. Pick a free bed.")
            return
        if self.mode in ("reserve", "cleaning") and cell["state"] == "free":
            self.mark(cell, "reserved" if self.mode == "reserve" else "cleaning")
            return
        if self.picked is None:
            self.show_selection()
            return
        if self.role not in ("nurse", "charge_nurse"):
            self.say("Only nurses assign beds.")
            return
        self.assign(self.picked, cell["bed_no"])

    def print_lists(self) -> None:
        """H-A5: today's list for every patient of the ward on the station's printer, one batch,
        low balances first (off the UI thread; the idle timeout waits for it)."""
        app = App.get_running_app()
        if self.printing:
            return
        code = self.ward_code()
        self.printing = True
        self.say("Printing the daily lists...")
        hold = app.hold_idle()

        def done(results):
            app.release_idle(hold)
            self.printing = False
            bad = [r for r in results if not r[2].ok]
            for no, _low, outcome in bad:
                log.error("ward: daily list of %s did not print: %s", no, outcome.technician)
            if not results:
                self.say("No patient in a bed: no daily list to print.")
            elif bad:
                self.say("{n} daily lists printed; {bad} did not print. Check the printer and print again.",
                         n=len(results) - len(bad), bad=len(bad))
            else:
                self.say("{n} daily lists printed, {low} of them low balance with a top-up prompt (printed first).",
                         n=len(results), low=sum(1 for r in results if r[1]))
            self.refresh()

        def failed(exc):
            app.release_idle(hold)
            self.printing = False
            log.error("ward: daily lists: %s", exc)
            self.say(getattr(exc, "user_message", None) or "Check the printer and print again.")

        app.with_store(lambda _s: _print_lists(app, code), done, failed)

    def assign(self, inpatient_no: str, bed_no: str) -> None:
        from pos.hospital.errors import BedOccupied, HospitalTransitionError, NeedsServer

        try:
            a = self.hospital.assign_bed(inpatient_no, bed_no, self.ward_code())
        except BedOccupied:
            self.say("This bed is taken. Pick a free bed.")
        except NeedsServer:
            self.say("The bed needs the server and this station is offline. Try again when it is back.")
        except HospitalTransitionError:
            self.say("This patient cannot take a bed yet (the wristband is not printed).")
        else:
            from pos.hospital import views

            log.info("ward: %s %s put %s in bed %s", self.role, self.staff, inpatient_no, bed_no)
            name = views.admission_page(self.hospital.conn, a)["name"]
            self.picked = None
            self.say("{name} is now in bed {bed}.", name=name, bed=bed_no)
        self.refresh()


def _print_lists(app, ward_code: str):
    lang = "zh-Hant" if app.lang == "zh-Hant" else "zh-Hans"
    return app.site_services.documents(lang).ward_daily_lists(ward_code)


SCREEN = WardBoardScreen
