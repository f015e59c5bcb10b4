"""One patient at the counter: who and where, the money picture, the deposit receipts, and the
tasks for this stay (deposit, wristband, green channel, discharge settlement)."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import DictProperty, StringProperty

from .base import N_, CounterScreen, yuan
from .home import STATE_LABELS

__all__ = ["CounterPatientScreen", "SCREEN", "RECEIPT_STATES"]

_ = N_
RECEIPT_STATES = {"issued": _("Issued"), "taken_back": _("Taken back"), "voided": _("Void")}
GREEN_KINDS = {"deposit": _("Deposit"), "id_document": _("ID document"), "insurance_card": _("Insurance card"),
               "outpatient_record": _("Outpatient record")}
#: discharge states in which the counter settles (or finishes a settlement)
SETTLEABLE = ("scheduled", "settled", "balanced", "list_printed")


TEXTS = (_("Daily list given at the ward: {day} {time}"), _("No daily list given at the ward yet"))


def daily_given(d, inpatient_no: str) -> dict | None:
    """The newest daily list the ward station gave this patient, as this counter pulled it."""
    from pos.hospital import views

    return views.daily_list_given(d.hospital.conn, inpatient_no)


def local_hhmm(app, at: str) -> str:
    import datetime as dt
    import zoneinfo

    tz = zoneinfo.ZoneInfo(app.site.get("site", "timezone"))
    return dt.datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(tz).strftime("%H:%M")


class CounterPatientScreen(CounterScreen):
    inpatient_no = StringProperty("")
    info = DictProperty({})

    def prepare(self, inpatient_no: str = "", **_kw) -> None:
        self.reset()
        self.inpatient_no = inpatient_no
        self.load()

    def load(self) -> None:
        self.call(lambda d: dict(d.patient(self.inpatient_no), daily_list_given=daily_given(d, self.inpatient_no)),
                  self._show)

    def _show(self, info: dict) -> None:
        app = App.get_running_app()
        self.info = info
        a, acc = info["admission"], info["account"]
        t = lambda m, **k: app.t(m, app.lang, **k)  # noqa: E731
        place = f"{info['ward_name']} {info['building']} {info['floor']}F {info['bed']}".strip()
        lines = [
            self.line(app.fx(f"{info['name']}   {a['inpatient_no']}"), bold=True, size=30),
            self.line(t("Ward") + ": " + app.fx(place)),
            self.line(t("State") + ": " + t(STATE_LABELS.get(a["state"], a["state"])) +
                      ("   " + t(STATE_LABELS.get(info["discharge"], info["discharge"])) if info["discharge"] else "")),
            self.line(t("Deposits") + f": {yuan(acc['deposit_fen'])}   " + t("Charges") +
                      f": {yuan(acc['charges_total_fen'])}   " + t("Available") + f": {yuan(acc['available_fen'])}"),
        ]
        given = info.get("daily_list_given")
        lines.append(self.line(t("Daily list given at the ward: {day} {time}", day=given["day"],
                                 time=local_hhmm(app, given["as_of"])) if given else
                               t("No daily list given at the ward yet")))
        if a["green_channel"]:
            items = ", ".join(t(GREEN_KINDS.get(g["kind"], g["kind"])) for g in info["green_items"]
                              if g["state"] == "open")
            lines.append(self.line(t("Green channel") + ": " + (items or t("No open items"))))
        lines.append(self.line(t("Deposit receipts"), bold=True))
        for r in info["receipts"]:
            lines.append(self.line(app.fx(f"{r['receipt_no']}  {yuan(r['amount_fen'])}  ") +
                                   t(RECEIPT_STATES.get(r["state"], r["state"]))))
        self.fill(self.ids.details, lines)
        open_stay = a["state"] not in ("identity_checked", "discharged") and info["discharge"] in (None, "ordered",
                                                                                                  "charges_locked",
                                                                                                  "scheduled")
        acts = []
        if open_stay:
            acts.append(self.button(t("Take a deposit"), lambda: app.go("counter_deposit", inpatient_no=self.inpatient_no)))
        if a["state"] == "registered":
            acts.append(self.button(t("Green channel"), self.green_channel, secondary=True))
        if a["state"] not in ("identity_checked", "registered", "discharged"):
            acts.append(self.button(t("Print wristband"), self.wristband, secondary=True))
        if info["discharge"] in SETTLEABLE:
            acts.append(self.button(t("Discharge settlement"),
                                    lambda: app.go("counter_discharge", inpatient_no=self.inpatient_no)))
        self.fill(self.ids.actions, acts)

    def on_lang(self) -> None:
        if self.info:
            self._show(self.info)

    def green_channel(self) -> None:
        def done(_kinds):
            self.say("Green channel opened; the wristband is printing.")
            self.load()

        self.call(lambda d: d.open_green_channel(self.inpatient_no), done)

    def wristband(self) -> None:
        self.call(lambda d: d.print_wristband(self.inpatient_no), self.say_printed)

    def reset(self) -> None:
        super().reset()
        self.inpatient_no = ""
        self.info = {}
        if "details" in self.ids:
            self.ids.details.clear_widgets()
            self.ids.actions.clear_widgets()


SCREEN = CounterPatientScreen
KV_FILE = "counter/patient"
