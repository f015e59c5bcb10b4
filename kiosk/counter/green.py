"""Green-channel admissions: the 催繳 reminder list (every open item, oldest first, with the
arrears); an item is closed when the papers are brought (the deposit closes itself once paid)."""

from __future__ import annotations

from kivy.app import App

from .base import CounterScreen, ward_name, yuan
from .home import local_time
from .patient import GREEN_KINDS

__all__ = ["CounterGreenScreen", "SCREEN"]


class CounterGreenScreen(CounterScreen):
    def prepare(self, **_kw) -> None:
        self.reset()
        self.load()

    def load(self) -> None:
        self.call(lambda d: d.reminders(), self._show)

    def _show(self, items) -> None:
        app = App.get_running_app()
        t = lambda m: app.t(m, app.lang)  # noqa: E731
        self.items = items
        out = []
        if not items:
            self.say("No open green-channel items.")
        for r in items:
            text = (app.fx(f"{r['name']}  {r['inpatient_no']}  {ward_name(r['ward_code'])}  ") + t(GREEN_KINDS.get(r["kind"], r["kind"]))
                    + app.fx(f"  {local_time(r['opened_at'])}  ") + t("Owed") + f" {yuan(r['arrears_fen'])}")
            acts = [(t("Open"), lambda no=r["inpatient_no"]: app.go("counter_patient", inpatient_no=no))]
            if r["kind"] != "deposit":
                acts.append((t("Received"), lambda no=r["inpatient_no"], k=r["kind"]: self.close_item(no, k), True))
            out.append(self.row(text, acts))
        self.fill(self.ids.rows, out)

    def on_lang(self) -> None:
        if getattr(self, "items", None):
            self._show(self.items)

    def close_item(self, inpatient_no: str, kind: str) -> None:
        self.call(lambda d: d.close_green_item(inpatient_no, kind), lambda _r: self.load())

    def reset(self) -> None:
        super().reset()
        self.items = []
        if "rows" in self.ids:
            self.ids.rows.clear_widgets()


SCREEN = CounterGreenScreen
KV_FILE = "counter/green"
