"""Card payments in doubt: recovery could not tell whether the card was charged. The supervisor
checks the terminal's printout or the bank statement and decides: charged (booked) or not."""

from __future__ import annotations

from kivy.app import App

from .counter_base import CounterScreen, yuan

__all__ = ["CounterInDoubtScreen", "SCREEN"]


class CounterInDoubtScreen(CounterScreen):
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
        if not rows:
            self.say("No card payments are waiting for a supervisor.")
        for r in rows:
            out.append(self.line(app.fx(f"{r['account']}  {yuan(r['amount_fen'])}  {r['kind']}  "
                                        f"{r['attempt_at'][:16].replace('T', ' ')} UTC"), bold=True))
            out.append(self.line(app.fx(r["reason"]), size=18))
            out.append(self.row("", [(t("Charged"), lambda a=r["attempt_id"]: self.resolve(a, "charged")),
                                     (t("Not charged"), lambda a=r["attempt_id"]: self.resolve(a, "not_charged"),
                                      True)]))
        self.fill(self.ids.rows, out)

    def on_lang(self) -> None:
        if getattr(self, "rows", None):
            self._show(self.rows)

    def resolve(self, attempt_id: str, resolution: str) -> None:
        who = self.ids.supervisor.text.strip()
        if not who:
            self.say("The supervisor must enter their name.", error=True)
            return

        def done(out):
            self.say("Booked as charged." if out.status == "posted" else "Marked as not charged.")
            self.load()

        self.call(lambda d: d.resolve(attempt_id, resolution, who), done)

    def reset(self) -> None:
        super().reset()
        self.rows = []
        if "rows" in self.ids:
            self.ids.rows.clear_widgets()
            self.ids.supervisor.text = ""


SCREEN = CounterInDoubtScreen
