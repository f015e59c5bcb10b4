"""Reprints from the print journal: every document printed here, newest first; a reprint is a new
job marked as a copy (副本 COPY #n)."""

from __future__ import annotations

from kivy.app import App

from .base import N_, CounterScreen
from .home import local_time

__all__ = ["CounterReprintsScreen", "SCREEN", "KINDS", "JOB_STATES", "REASONS"]

_ = N_
KINDS = {"deposit_receipt": _("Deposit receipt"), "wristband": _("Wristband"),
         "settlement_list": _("Settlement list"), "shift_report": _("Shift report"),
         "where_to_go": _("Directions slip"), "daily_fee_list": _("Daily fee list")}
#: why a copy is printed (recorded with it: ``print.reprint_requested``)
REASONS = [("not_printed", _("Did not print / jammed")), ("lost", _("Patient lost it")),
           ("damaged", _("Damaged or unreadable")), ("other", _("Other reason"))]
JOB_STATES = {"printed": _("Printed"), "failed": _("Not printed"), "queued": _("Waiting"), "printing": _("Printing")}
UNCERTAIN = _("May have printed")


class CounterReprintsScreen(CounterScreen):
    def prepare(self, **_kw) -> None:
        self.reset()
        self.load()

    def load(self) -> None:
        self.call(lambda d: d.journal(), self._show)

    def _show(self, jobs) -> None:
        app = App.get_running_app()
        t = lambda m: app.t(m, app.lang)  # noqa: E731
        self.jobs = jobs
        out = []
        for j in jobs:
            copy = f"  {t('Copy')} #{j['copy_no']}" if j["copy_no"] else ""
            state = UNCERTAIN if j.get("uncertain") else JOB_STATES.get(j["state"], j["state"])
            text = (app.fx(f"{local_time(j['created_at'])}  ") + t(KINDS.get(j["kind"], j["kind"])) +
                    app.fx(f"  {j['ref']}  ") + t(state) + copy)
            actions = [(t("Reprint"), lambda jid=j["job_id"]: self.ask_reason(jid))]
            if j.get("uncertain"):
                actions.append((t("Did not print"), lambda jid=j["job_id"]: self.not_printed(jid)))
            out.append(self.row(text, actions))
        if any(j.get("uncertain") for j in jobs):
            self.say(_("Some documents may have printed: check the printer. Reprint gives a marked copy."))
        if not jobs:
            self.say("Nothing has been printed yet.")
        self.fill(self.ids.rows, out)

    def on_lang(self) -> None:
        if getattr(self, "jobs", None):
            self._show(self.jobs)

    def ask_reason(self, job_id: str) -> None:
        """A copy needs a reason: the reason buttons appear above the list."""
        app = App.get_running_app()
        self.asking = job_id
        self.say("Why is a copy needed? Choose the reason.")
        self.fill(self.ids.reasons, [self.button(app.t(msgid, app.lang), lambda r=r: self.reprint(job_id, r))
                                     for r, msgid in REASONS])

    def reprint(self, job_id: str, reason: str) -> None:
        if self.busy:                   # a second tap while the copy prints is not a second copy
            return
        self.asking = ""
        self.ids.reasons.clear_widgets()
        who = (App.get_running_app().staff_name or App.get_running_app().staff_role or "cashier")

        def done(out):
            self.say_printed(out, _("Copy printed."))
            self.call(lambda d: d.journal(), self._show)

        def run(d):
            from pos.counter.activity import record_reprint_reason

            record_reprint_reason(d.site.store, job_id, reason, who)
            return d.reprint(job_id)

        self.call(run, done)

    def not_printed(self, job_id: str) -> None:
        """The cashier checked the printer: the uncertain job did not come out; send the original."""
        if self.busy:
            return

        def send(d):
            d.site.printing.confirm_not_printed(job_id, d.operator)
            return d.site.printing.retry(job_id)

        def done(out):
            self.say_printed(out, _("Printed."))
            self.call(lambda d: d.journal(), self._show)

        self.call(send, done)

    def reset(self) -> None:
        super().reset()
        self.jobs = []
        self.asking = ""
        if "rows" in self.ids:
            self.ids.rows.clear_widgets()
            self.ids.reasons.clear_widgets()


SCREEN = CounterReprintsScreen
KV_FILE = "counter/reprints"
