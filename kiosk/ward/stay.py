"""``onestop ward``: one stay's charges and its discharge (H-D1..H-D3) at the nurse station.

Charges: posted from the fee catalogue or by hand (code, name, 甲/乙/丙, unit price, quantity),
never deleted: a line is taken back by a reversal line. The doctor orders the discharge with the
summary and the e-bill number; the nurse ticks every line as reviewed and locks the charges; after
the lock a charge is refused until the charge nurse unlocks with a reason; the scheduled date is
checked (not in the past, not before the lock) and, once scheduled, reaches the counter and the
patient's kiosk through sync (``hospital.discharge.scheduled``). Lines that arrived from the HIS
are read-only here (marked "from HIS", no reversal: the HIS sends its own), and an order received
from the HIS says so. The patient's discharge request from the kiosk shows above the order."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

log = logging.getLogger(__name__)

__all__ = ["SCREEN", "KV", "WardStayScreen"]


def _(msgid: str) -> str:
    return msgid


#: the service's refusal codes, as the ward says them
REFUSALS = {"charges_locked": _("Charges locked: the charge nurse must unlock them, with a reason, first."),
            "identity_refused": _("The identity check was refused for this stay. Resolve it first."),
            "needs_server": _("This needs the server and the station is offline. Try again when it is back."),
            "invalid_transition": _("This step does not fit the discharge's stage."),
            "not_found": _("No fee item has this code. Give a name and a category to post it by hand."),
            "bad_input": _("Check the quantity and the price."),
            "bad_amount": _("Check the quantity and the price."),
            "bad_date": _("This is not a date. Use the form 2026-03-05."),
            "date_past": _("The discharge date is in the past. Pick today or a later day."),
            "date_before_lock": _("The discharge date is before the charges were locked. Pick a later day.")}
STATES = {None: _("No discharge ordered"), "ordered": _("Discharge ordered"),
          "charges_locked": _("Charges locked"), "scheduled": _("Discharge scheduled for {date}"),
          "settled": _("Settled at the counter"), "balanced": _("Settled at the counter"),
          "list_printed": _("Settled at the counter"), "discharged": _("Discharged")}
TEXTS = (_("Review"), _("Reviewed"), _("Reverse"), _("Reversed"), _("Reversal"), _("Posted: {name} {amount}."),
         _("Reversed: {name}."), _("Discharge ordered."), _("Charges locked: {amount} in all."),
         _("Charges unlocked."), _("Discharge scheduled for {date}. The counter sees it after the next sync."),
         _("Tick every line as reviewed before the lock."), _("Only the doctor orders a discharge."),
         _("Only the charge nurse unlocks the charges."), _("Say why the charges are unlocked."),
         _("Give the summary and the e-bill number."), _("Only nurses post charges."),
         _("Pick a fee item or give a fee code."), _("Give the discharge date."), _("Give the unit price."),
         _("From HIS"), _("This line came from the HIS: it is changed there, not at the ward."),
         _("Order received from the HIS."), _("The patient asked at the kiosk for a discharge on {date}."),
         _("The patient asked at the kiosk for a scheduled discharge."))


def _kv() -> str:
    from importlib import resources

    return resources.files("assets").joinpath("kv", "ward", "ward_stay.kv").read_text(encoding="utf-8")


KV = _kv()


class WardStayScreen(Screen):
    who = StringProperty("")
    state_text = StringProperty("")
    message = StringProperty("")
    category = StringProperty("甲")

    def __init__(self, **kw):
        super().__init__(**kw)
        self.inpatient_no: str | None = None
        self.reviewed: set[int] = set()
        self.rows: dict[int, dict] = {}          # charge id -> {"tick", "reverse", "label"}
        self.fee_buttons: dict[str, object] = {}
        self.his_lines: set[int] = set()         # charge ids that came from the HIS (read-only here)
        self._said = None
        App.get_running_app().bind(lang=lambda *_: self.refresh())

    @property
    def hospital(self):
        return App.get_running_app().site_services.hospital

    def prepare(self, inpatient_no: str) -> None:
        self.inpatient_no, self._said, self.message = inpatient_no, None, ""
        self.reviewed = set()
        for f in ("code", "qty", "price", "name", "summary", "ebill", "unlock_reason", "when"):
            self.ids[f].text = ""

    def on_pre_enter(self, *_):
        self.refresh()

    def reset(self) -> None:
        self.inpatient_no, self._said, self.message = None, None, ""

    def staff(self):
        board = App.get_running_app().screen("ward_board")
        return board.staff, board.role

    def say(self, msgid: str, **kw) -> None:
        self._said = (msgid, kw)
        self.message = App.get_running_app().t(msgid, **kw)

    def refused(self, exc) -> None:
        log.warning("ward: %s refused: %s", self.inpatient_no, exc)
        self.say(REFUSALS.get(exc.code, exc.user_message))
        self.refresh()

    # -- reading ----------------------------------------------------------------------
    def discharge(self) -> dict | None:
        a = self.hospital.admission(self.inpatient_no)
        return self.hospital._discharge_row(self.hospital.conn, a["id"])

    def refresh(self) -> None:
        app = App.get_running_app()
        if self.inpatient_no is None or getattr(app, "site_services", None) is None:
            return
        from pos.hospital import views

        page = views.admission_page(self.hospital.conn, self.hospital.admission(self.inpatient_no))
        self.who = app.fx(f"{page['name']}  {self.inpatient_no}  {page['bed']}")
        d = self.discharge()
        state = d["state"] if d else None
        said = [app.t(STATES.get(state, STATES[None]), date=(d or {}).get("scheduled_for") or "")]
        if d and views.discharge_order_from_his(self.hospital.conn, self.inpatient_no):
            said.append(app.t("Order received from the HIS."))
        asked = views.discharge_notice(self.hospital.conn, self.inpatient_no)
        if asked["requested_at"] and not asked["scheduled_for"]:
            said.append(app.t("The patient asked at the kiosk for a discharge on {date}.", date=asked["wanted_for"])
                        if asked["wanted_for"] else app.t("The patient asked at the kiosk for a scheduled discharge."))
        self.state_text = "  ".join(said)
        self.his_lines = views.his_charge_ids(self.hospital.conn, self.inpatient_no)
        box = self.ids.lines
        box.clear_widgets()
        self.rows = {}
        h = max(app.touch_min, 64 * app.scale)
        small = max(15, 15 * app.scale)
        for c in self.hospital.stay_charges(self.inpatient_no):
            line = Factory.BoxLayout(size_hint_y=None, height=h, spacing=4)
            tick = Factory.SecondaryButton(size_hint_x=0.18)
            tick.font_size = small                     # after the kv rule, which sets the buttons' size
            tick.text = app.t("Reviewed" if c["id"] in self.reviewed else "Review")
            tick.bind(on_release=lambda _b, cid=c["id"]: self.toggle(cid))
            qty = c["qty_milli"] / 1000
            text = (f"{c['name']} {c['spec']}  {c['category']}\n{c['service_date']}  "
                    f"{app.money(c['unit_price_fen'])} × {qty:g} = {app.money(c['amount_fen'])}")
            label = Factory.OLabel(text=app.fx(text), halign="left", valign="middle")
            label.font_size = small
            label.bind(size=lambda w, s: setattr(w, "text_size", s))
            rev = Factory.OButton(size_hint_x=0.18)
            rev.font_size = small
            if c["id"] in self.his_lines:
                rev.text, rev.disabled = app.t("From HIS"), True
            elif c["reverses_id"] is not None:
                rev.text, rev.disabled = app.t("Reversal"), True
            elif c["reversed_by"] is not None:
                rev.text, rev.disabled = app.t("Reversed"), True
            else:
                rev.text = app.t("Reverse")
                rev.bind(on_release=lambda _b, cid=c["id"]: self.reverse(cid))
            for w in (tick, label, rev):
                line.add_widget(w)
            self.rows[c["id"]] = {"tick": tick, "reverse": rev, "label": label, "line": c}
            box.add_widget(line)
        if not self.fee_buttons:
            for f in self.hospital.fee_catalogue():
                b = Factory.SecondaryButton(size_hint_y=None, height=max(app.touch_min, 52 * app.scale))
                b.font_size = small
                b.text = app.fx(f"{f['code']} {f['name']}")
                b.bind(on_release=lambda _b, code=f["code"]: self.pick_fee(code))
                self.fee_buttons[f["code"]] = b
                self.ids.fees.add_widget(b)
        if self._said:
            self.message = app.t(self._said[0], **self._said[1])

    # -- steps ------------------------------------------------------------------------
    def toggle(self, cid: int) -> None:
        self.reviewed ^= {cid}
        self.refresh()

    def pick_fee(self, code: str) -> None:
        self.ids.code.text = code
        if not self.ids.qty.text:
            self.ids.qty.text = "1"

    def next_category(self) -> None:
        self.category = {"甲": "乙", "乙": "丙", "丙": "甲"}[self.category]

    def post(self) -> None:
        from pos.hospital.errors import HospitalError
        from pos.money import parse_qty, parse_yuan

        staff, role = self.staff()
        if role not in ("nurse", "charge_nurse"):
            self.say("Only nurses post charges.")
            return
        code = self.ids.code.text.strip()
        if not code:
            self.say("Pick a fee item or give a fee code.")
            return
        try:
            qty = parse_qty(self.ids.qty.text or "1")
            price = parse_yuan(self.ids.price.text) if self.ids.price.text.strip() else None
        except ValueError:
            self.say("Check the quantity and the price.")
            return
        if price is None:
            price = self.last_price(code)
        if price is None:
            self.say("Give the unit price.")
            return
        name = self.ids.name.text.strip() or None
        try:
            c = self.hospital.add_charge(self.inpatient_no, code, qty, unit_price_fen=price,
                                         department=self.hospital.admission(self.inpatient_no)["ward_code"],
                                         name=name, category=self.category if name else None)
        except HospitalError as exc:
            self.refused(exc)
            return
        log.info("ward: %s %s posted %s x%s for %s", role, staff, code, qty, self.inpatient_no)
        fee = next(f for f in self.hospital.fee_catalogue() if f["code"] == code)
        for f in ("code", "qty", "price", "name"):
            self.ids[f].text = ""
        self.say("Posted: {name} {amount}.", name=fee["name"], amount=App.get_running_app().money(c["amount_fen"]))
        self.refresh()

    def last_price(self, code: str) -> int | None:
        """The fee item's unit price as last charged on this device (the catalogue has no prices)."""
        from pos.hospital.views import last_unit_price

        return last_unit_price(self.hospital.conn, code)

    def reverse(self, cid: int) -> None:
        from pos.hospital.errors import HospitalError

        staff, role = self.staff()
        if role not in ("nurse", "charge_nurse"):
            self.say("Only nurses post charges.")
            return
        name = self.rows[cid]["line"]["name"]
        if cid in self.his_lines:
            self.say("This line came from the HIS: it is changed there, not at the ward.")
            return
        try:
            self.hospital.reverse_charge(self.inpatient_no, cid)
        except HospitalError as exc:
            self.refused(exc)
            return
        log.info("ward: %s %s reversed charge %s of %s", role, staff, cid, self.inpatient_no)
        self.say("Reversed: {name}.", name=name)
        self.refresh()

    def order(self) -> None:
        from pos.hospital.errors import HospitalError

        staff, role = self.staff()
        if role != "doctor":
            self.say("Only the doctor orders a discharge.")
            return
        summary, ebill = self.ids.summary.text.strip(), self.ids.ebill.text.strip()
        if not summary or not ebill:
            self.say("Give the summary and the e-bill number.")
            return
        try:
            self.hospital.order_discharge(self.inpatient_no, summary=summary, ebill_no=ebill, doctor=staff)
        except HospitalError as exc:
            self.refused(exc)
            return
        self.say("Discharge ordered.")
        self.refresh()

    def lock(self) -> None:
        from pos.hospital.errors import HospitalError

        staff, role = self.staff()
        if role not in ("nurse", "charge_nurse"):
            self.say("Only nurses post charges.")
            return
        if set(self.rows) - self.reviewed:
            self.say("Tick every line as reviewed before the lock.")
            return
        try:
            total = self.hospital.lock_charges(self.inpatient_no, staff)
        except HospitalError as exc:
            self.refused(exc)
            return
        self.say("Charges locked: {amount} in all.", amount=App.get_running_app().money(total))
        self.refresh()

    def unlock(self) -> None:
        from pos.hospital.errors import HospitalError

        staff, role = self.staff()
        if role != "charge_nurse":
            self.say("Only the charge nurse unlocks the charges.")
            return
        reason = self.ids.unlock_reason.text.strip()
        if not reason:
            self.say("Say why the charges are unlocked.")
            return
        try:
            self.hospital.unlock_charges(self.inpatient_no, staff, reason)
        except HospitalError as exc:
            self.refused(exc)
            return
        log.info("ward: charge nurse %s unlocked the charges of %s: %s", staff, self.inpatient_no, reason)
        self.ids.unlock_reason.text = ""
        self.reviewed = set()
        self.say("Charges unlocked.")
        self.refresh()

    def schedule(self) -> None:
        from pos.hospital.errors import HospitalError

        staff, role = self.staff()
        if role not in ("nurse", "charge_nurse"):
            self.say("Only nurses post charges.")
            return
        when = self.ids.when.text.strip()
        if not when:
            self.say("Give the discharge date.")
            return
        try:
            when = self.hospital.check_discharge_date(self.inpatient_no, when)
            self.hospital.schedule_discharge(self.inpatient_no, when)
        except HospitalError as exc:
            self.refused(exc)
            return
        log.info("ward: %s %s scheduled the discharge of %s for %s", role, staff, self.inpatient_no, when)
        self.say("Discharge scheduled for {date}. The counter sees it after the next sync.", date=when)
        self.refresh()


SCREEN = WardStayScreen
