"""Admission registration at the counter: pick an open admission notice (or enter one from a
paper notice), check the patient's ID document against it, register; then the deposit."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import StringProperty

from pos.money import parse_yuan

from .base import CounterScreen, ward_name, yuan

__all__ = ["CounterRegisterScreen", "SCREEN"]


class CounterRegisterScreen(CounterScreen):
    notice_no = StringProperty("")
    ward = StringProperty("")

    def prepare(self, notice_no: str = "", **_kw) -> None:
        self.reset()
        self.notice_no = notice_no
        self.load()

    def load(self) -> None:
        if self.notice_no:
            self.call(lambda d: d.hospital.notice(self.notice_no), self._show_notice)
        else:
            self.call(lambda d: (d.notices(), d.wards()), self._show_list)

    # -- one notice: check the ID, register -------------------------------------------------
    def _show_notice(self, n: dict) -> None:
        app = App.get_running_app()
        t = lambda m: app.t(m, app.lang)  # noqa: E731
        self.id_field = Factory.CounterInput()
        lines = [self.line(t("Admission notice") + app.fx(f"  {n['notice_no']}"), bold=True),
                 self.line(t("Patient") + ": " + app.fx(n["patient_name"])),
                 self.line(t("Ward") + ": " + app.fx(ward_name(n["ward_code"])) + "   " + t("Deposit asked") + ": " +
                           yuan(n["suggested_deposit_fen"])),
                 self.line(t("Diagnosis") + ": " + app.fx(n["diagnosis"] or "-")),
                 self.line(t("Check the ID document and type its number:")),
                 self.id_field,
                 self.button(t("Register"), self.register)]
        self.fill(self.ids.body, lines)

    def register(self) -> None:
        idno = self.id_field.text.strip()
        if not idno:
            self.say("Please type the ID number from the document.", error=True)
            return

        def done(adm):
            App.get_running_app().go("counter_deposit", inpatient_no=adm["inpatient_no"])

        self.call(lambda d: d.register(self.notice_no, idno), done)

    # -- the open notices, and a new one typed from paper -------------------------------------
    def _show_list(self, got) -> None:
        notices, wards = got
        app = App.get_running_app()
        t = lambda m: app.t(m, app.lang)  # noqa: E731
        out = [self.line(t("Open admission notices"), bold=True)]
        for n in notices:
            out.append(self.row(app.fx(f"{n['name']}  {n['notice_no']}  {ward_name(n['ward_code'])}  "
                                       f"{yuan(n['suggested_deposit_fen'])}"),
                                [(t("Select"), lambda no=n["notice_no"]: self.prepare(notice_no=no))]))
        if not notices:
            out.append(self.line(t("No open notices.")))
        out.append(self.line(t("Enter a paper admission notice"), bold=True))
        self.fields = {k: Factory.CounterInput() for k in ("name", "id_number", "deposit")}
        self.fields["deposit"].input_filter = "float"
        for key, msgid in (("name", "Patient name"), ("id_number", "ID number"), ("deposit", "Deposit asked (yuan)")):
            out.append(self.line(t(msgid)))
            out.append(self.fields[key])
        self.fields["deposit"].input_filter = "float"
        out.append(self.line(t("Ward")))
        grid = Factory.GridLayout(cols=3, size_hint_y=None, spacing=6)
        grid.bind(minimum_height=grid.setter("height"))
        self.ward_buttons = {}
        for w in wards:
            b = self.button(app.fx(f"{w['code']} {w['name']}"), lambda c=w["code"]: self.pick_ward(c), secondary=True)
            self.ward_buttons[w["code"]] = b
            grid.add_widget(b)
        out.append(grid)
        out.append(self.button(t("Save the notice"), self.save_notice))
        self.fill(self.ids.body, out)

    def pick_ward(self, code: str) -> None:
        self.ward = code
        for c, b in self.ward_buttons.items():
            b.background_color = (0.04, 0.30, 0.62, 1) if c == code else (0.85, 0.87, 0.90, 1)
            b.color = (1, 1, 1, 1) if c == code else (0.07, 0.09, 0.12, 1)

    def save_notice(self) -> None:
        f = {k: v.text.strip() for k, v in self.fields.items()}
        try:
            deposit = parse_yuan(f["deposit"] or "0")
        except ValueError:
            deposit = -1
        if not f["name"] or not f["id_number"] or not self.ward or deposit < 0:
            self.say("Please fill in the name, the ID number, the ward and the deposit.", error=True)
            return
        self.call(lambda d: d.record_notice(f["name"], f["id_number"], self.ward, deposit),
                  lambda n: self.prepare(notice_no=n["notice_no"]))

    def reset(self) -> None:
        super().reset()
        self.notice_no = self.ward = ""
        if "body" in self.ids:
            self.ids.body.clear_widgets()


SCREEN = CounterRegisterScreen
KV_FILE = "counter/register"
