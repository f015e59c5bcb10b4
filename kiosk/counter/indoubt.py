"""Card payments in doubt: recovery could not tell whether the card was charged. The supervisor
checks the terminal's printout or the bank statement and decides: charged (booked) or not."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.properties import ObjectProperty

from pos.staff import verify_pin

from .base import N_, CounterScreen, yuan
from .home import local_time

__all__ = ["CounterInDoubtScreen", "SCREEN", "KIND_LABELS", "CONFIRM"]

log = logging.getLogger(__name__)
_ = N_
KIND_LABELS = {"sale": _("Card payment"), "refund": _("Card refund"), "reversal": _("Card reversal")}
WHY_IN_DOUBT = _("The terminal's answer was lost. Check the terminal's printout or the bank statement.")
CONFIRM = {
    "charged": _("Book {amount} for {account} as charged? Tap Confirm."),
    "not_charged": _("Mark {amount} for {account} as not charged? Tap Confirm."),
}


class CounterInDoubtScreen(CounterScreen):
    pending = ObjectProperty(None, allownone=True)      # (attempt id, resolution, supervisor) awaiting Confirm

    def prepare(self, **_kw) -> None:
        self.reset()
        self.load()

    def load(self) -> None:
        self.call(lambda d: d.in_doubt(), self._show)

    def _show(self, rows) -> None:
        app = App.get_running_app()
        t = lambda m: app.t(m, app.lang)  # noqa: E731
        self.rows = rows
        out = []
        if not rows and not self.message:      # a decision just taken keeps its message
            self.say("No card payments are waiting for a supervisor.")
        for r in rows:
            out.append(self.line(app.fx(f"{r['account']}  {yuan(r['amount_fen'])}  ") +
                                 t(KIND_LABELS.get(r["kind"], "Card payment")) +
                                 app.fx(f"  {local_time(r['attempt_at'])}"), bold=True))
            out.append(self.line(t(WHY_IN_DOUBT), size=18))   # the technical reason is in the log and journal
            out.append(self.row("", [(t("Charged"), lambda a=r["attempt_id"]: self.resolve(a, "charged")),
                                     (t("Not charged"), lambda a=r["attempt_id"]: self.resolve(a, "not_charged"),
                                      True)]))
        self.fill(self.ids.rows, out)

    def on_lang(self) -> None:
        if getattr(self, "rows", None):
            self._show(self.rows)

    def resolve(self, attempt_id: str, resolution: str) -> None:
        """Step 1: the supervisor's own PIN; step 2 (:meth:`confirm`): a confirmation naming the
        payment and the decision."""
        from ..screens.login import supervisor_logins

        app = App.get_running_app()
        pin = self.ids.supervisor.text.strip()
        # the supervisors' own logins ([[staff.users]], role supervisor), else the shared supervisor PIN
        stored = supervisor_logins(app.site)
        if not stored:
            self.say("No supervisor PIN is configured. Technician: set staff.supervisor_pin.", error=True)
            return
        if not pin:
            self.say("The supervisor must enter their PIN.", error=True)
            return
        row = next(r for r in self.rows if r["attempt_id"] == attempt_id)

        def checked(who):
            self.ids.supervisor.text = ""
            if not who:
                log.warning("in-doubt %s: wrong supervisor PIN", attempt_id)
                self.say("Wrong supervisor PIN.", error=True)
                return
            self.pending = (attempt_id, resolution, who)
            self.say(CONFIRM[resolution], amount=yuan(row["amount_fen"]), account=row["account"])

        self.call(lambda _d: next((name for name, h in stored if verify_pin(pin, h)), None), checked)

    def confirm(self) -> None:
        if not self.pending:
            return
        attempt_id, resolution, who = self.pending
        self.pending = None

        def done(out):
            self.say("Booked as charged." if out.status == "posted" else "Marked as not charged.")
            self.load()

        self.call(lambda d: d.resolve(attempt_id, resolution, who), done)

    def cancel_confirm(self) -> None:
        self.pending = None
        self.say("Nothing was changed.")

    def reset(self) -> None:
        super().reset()
        self.rows = []
        self.pending = None
        if "rows" in self.ids:
            self.ids.rows.clear_widgets()
            self.ids.supervisor.text = ""


SCREEN = CounterInDoubtScreen
KV_FILE = "counter/indoubt"
