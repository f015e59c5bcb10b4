"""Green channel at the counter (H-A6): the 催繳 list of every open item of every stay (discharged
ones included: the reminders go on after discharge; overdue first, with the due date, the chases
and what is owed), and what the cashier does with it:

* admit an emergency patient with no ID under a temporary identity (无名氏 + number, sex and an
  estimated age) and, later, merge it with the person on the ID card (a stay whose patient has an
  ID already is refused);
* open any item (deposit, ID, insurance card, outpatient record) with a due date, close it when it
  is brought in, and record a chase (how, and what was answered);
* a supervisor's override (their PIN and a reason) so the stay may close with items open;
* the bedside discharges the wards opened (``counter_bedside``).

The rules are :mod:`pos.hospital.green`'s; this screen only calls it, in the worker."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.properties import StringProperty

from .base import CounterScreen, ward_name, ward_names, yuan
from .patient import GREEN_KINDS

log = logging.getLogger(__name__)

__all__ = ["CounterGreenScreen", "SCREEN"]


def _(msgid: str) -> str:
    return msgid


SEXES = {"M": _("Male"), "F": _("Female"), "U": _("Sex unknown")}
METHODS = {"phone": _("Phone"), "in_person": _("In person"), "sms": _("SMS")}
TEXTS = (_("Admit without ID"), _("Estimated age"), _("Admitted as {name} ({no}). Print the wristband at the patient's page."),
         _("Enter the estimated age in years (0 to 130)."), _("Pick a stay in the list first."),
         _("Picked: {name} ({no})"), _("Open item"), _("Due date (e.g. 2026-03-05)"),
         _("Item {item} opened for {no}, due {date}."), _("Record chase"), _("What was answered"),
         _("Chase recorded for {no}."), _("Name on the ID card"), _("ID number"), _("Merge with the ID card"),
         _("{no} is now the stay of {name}; the merge is recorded."), _("Supervisor PIN"), _("Reason for the override"),
         _("Supervisor override"), _("Override recorded: {no} may be discharged with {n} items open."),
         _("Bedside discharges"), _("Pick"), _("Received"), _("Owed"), _("Due {date}"), _("OVERDUE"),
         _("discharged"), _("{n} chases, last: {answer}"), _("Item closed."), _("Wrong supervisor PIN."),
         _("No supervisor PIN is configured. Technician: set staff.supervisor_pin."),
         _("No open green-channel items."))


class CounterGreenScreen(CounterScreen):
    ward = StringProperty("")
    ward_label = StringProperty("")
    sex = StringProperty("U")
    kind = StringProperty("insurance_card")
    method = StringProperty("phone")
    picked_text = StringProperty("")

    def prepare(self, **_kw) -> None:
        self.reset()
        self.load()

    def load(self) -> None:
        self.call(lambda d: (d.hospital.green_board(), list(ward_names(d))), self._show)

    def _show(self, got) -> None:
        app = App.get_running_app()
        t = lambda m: app.t(m, app.lang)  # noqa: E731
        self.items, self.wards = got
        if not self.ward and self.wards:
            self.ward = self.wards[0]
        out = []
        self.row_of = {}
        if not self.items and not self.message:
            self.say("No open green-channel items.")
        for r in self.items:
            parts = [app.fx(f"{self.name_of(r)}  {r['inpatient_no']}  {ward_name(r['ward_code'])}"),
                     t(GREEN_KINDS.get(r["kind"], r["kind"])), app.t("Due {date}", app.lang, date=r["due_on"] or "")]
            if r["overdue"]:
                parts.append(t("OVERDUE"))
            if r["stay_state"] == "discharged":
                parts.append(t("discharged"))
            if r["chases"]:
                parts.append(app.t("{n} chases, last: {answer}", app.lang, n=r["chases"], answer=r["last_answer"]))
            if r["kind"] == "deposit":
                parts.append(t("Owed") + f" {yuan(r['arrears_fen'])}")
            acts = [(t("Pick"), lambda r=r: self.pick(r)),
                    (t("Received"), lambda no=r["inpatient_no"], k=r["kind"]: self.close_item(no, k), True)]
            w = self.row("  ".join(parts), acts, height=max(app.touch_min, 84 * app.scale))
            self.row_of[(r["inpatient_no"], r["kind"])] = w
            out.append(w)
        self.fill(self.ids.rows, out)
        self.show_picked()

    def name_of(self, r: dict) -> str:
        from pos.hospital.green import temp_name

        return temp_name(r["temp_no"], App.get_running_app().lang) if r.get("temp_no") else r["name"]

    def on_lang(self) -> None:
        if getattr(self, "items", None) is not None:
            self._show((self.items, self.wards))

    # -- choices --------------------------------------------------------------------------------
    @staticmethod
    def _next(options, current):
        options = list(options)
        return options[(options.index(current) + 1) % len(options)] if current in options else options[0]

    def next_ward(self) -> None:
        if self.wards:
            self.ward = self._next(self.wards, self.ward)

    def on_ward(self, *_):
        self.ward_label = ward_name(self.ward)

    def next_sex(self) -> None:
        self.sex = self._next(SEXES, self.sex)

    def next_kind(self) -> None:
        self.kind = self._next(GREEN_KINDS, self.kind)

    def next_method(self) -> None:
        self.method = self._next(METHODS, self.method)

    def pick(self, r: dict) -> None:
        self.picked = r
        self.say("")
        self.show_picked()

    def show_picked(self) -> None:
        app = App.get_running_app()
        r = getattr(self, "picked", None)
        self.picked_text = app.t("Picked: {name} ({no})", app.lang, name=self.name_of(r), no=r["inpatient_no"]) if r else ""

    def _need_pick(self) -> str | None:
        r = getattr(self, "picked", None)
        if r is None:
            self.say("Pick a stay in the list first.", error=True)
            return None
        return r["inpatient_no"]

    # -- actions --------------------------------------------------------------------------------
    def admit(self) -> None:
        text = self.ids.age.text.strip()
        if not text.isdigit() or not 0 <= int(text) <= 130:
            self.say("Enter the estimated age in years (0 to 130).", error=True)
            return
        ward, sex, age = self.ward, self.sex, int(text)

        def done(a):
            log.info("counter: %s admitted %s without ID as %s", a["staff"], a["inpatient_no"], a["temp_no"])
            self.ids.age.text = ""
            self.picked = {"inpatient_no": a["inpatient_no"], "temp_no": a["temp_no"], "name": a["name"],
                           "kind": "deposit"}
            self.say("Admitted as {name} ({no}). Print the wristband at the patient's page.",
                     name=self.name_of(self.picked), no=a["inpatient_no"])
            self.load()

        self.call(lambda d: {**d.hospital.admit_unidentified(ward_code=ward, sex=sex, est_age=age, staff=d.cashier),
                             "staff": d.cashier}, done)

    def open_item(self) -> None:
        if (no := self._need_pick()) is None:
            return
        kind, due = self.kind, self.ids.due.text.strip() or None

        def done(it):
            self.ids.due.text = ""
            self.say("Item {item} opened for {no}, due {date}.", item=App.get_running_app().t(GREEN_KINDS[kind]),
                     no=no, date=it["due_on"])
            self.load()

        self.call(lambda d: d.hospital.open_item(no, kind, d.cashier, due_on=due), done)

    def close_item(self, inpatient_no: str, kind: str) -> None:
        def done(_r):
            self.say("Item closed.")
            self.load()

        self.call(lambda d: d.hospital.close_item(inpatient_no, kind, d.cashier), done)

    def chase(self) -> None:
        if (no := self._need_pick()) is None:
            return
        kind, method, answer = self.picked["kind"], self.method, self.ids.answer.text

        def done(_c):
            self.ids.answer.text = ""
            self.say("Chase recorded for {no}.", no=no)
            self.load()

        self.call(lambda d: d.hospital.record_chase(no, kind, staff=d.cashier, method=method, answer=answer), done)

    def merge(self) -> None:
        if (no := self._need_pick()) is None:
            return
        name, number = self.ids.id_name.text.strip(), self.ids.id_number.text.strip().upper()

        def run(d):
            from drivers.identity import cn_id_facts
            from pos.hospital.records import IdentityRecord

            sex, birth = cn_id_facts(number) or ("", "")
            return d.hospital.merge_identity(no, IdentityRecord("counter", name, number, sex=sex, birth_date=birth),
                                             d.cashier)

        def done(m):
            log.info("counter: %s merged %s into %s (%s)", m["staff"], m["from_uid"], m["to_uid"], no)
            self.ids.id_name.text = self.ids.id_number.text = ""
            self.picked = None
            self.say("{no} is now the stay of {name}; the merge is recorded.", no=no, name=m["name"])
            self.load()

        self.call(run, done)

    def override(self) -> None:
        from pos.staff import verify_pin

        from ..screens.login import supervisor_logins

        if (no := self._need_pick()) is None:
            return
        app = App.get_running_app()
        pin, reason = self.ids.supervisor.text.strip(), self.ids.reason.text
        stored = supervisor_logins(app.site)
        if not stored:
            self.say("No supervisor PIN is configured. Technician: set staff.supervisor_pin.", error=True)
            return

        def run(d):
            who = next((name for name, h in stored if verify_pin(pin, h)), None)
            if who is None:
                log.warning("counter: green-channel override of %s: wrong supervisor PIN (by %s)", no, d.cashier)
                return None
            return d.hospital.override_block(no, who, reason, cashier=d.cashier)

        def done(o):
            self.ids.supervisor.text = ""
            if o is None:
                self.say("Wrong supervisor PIN.", error=True)
                return
            log.info("counter: supervisor %s overrode the green-channel block of %s: %s", o["supervisor"], no, reason)
            self.ids.reason.text = ""
            self.say("Override recorded: {no} may be discharged with {n} items open.", no=no, n=len(o["items"]))

        self.call(run, done)

    def reset(self) -> None:
        super().reset()
        self.items, self.wards, self.picked, self.row_of = None, [], None, {}
        self.picked_text = ""
        if "rows" in self.ids:
            self.ids.rows.clear_widgets()


SCREEN = CounterGreenScreen
KV_FILE = "counter/green"
