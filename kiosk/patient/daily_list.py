"""The daily fee list (日費用清單) for any day of the stay: shown, and printed on request."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import BooleanProperty, DictProperty, StringProperty
from kivy.uix.screenmanager import Screen

__all__ = ["DailyListScreen", "SCREEN", "qty_text"]


def qty_text(qty_milli: int) -> str:
    q = qty_milli / 1000
    return f"{q:g}"


class DailyListScreen(Screen):
    day = StringProperty("")
    totals = DictProperty({})
    message = StringProperty("")
    low_balance = BooleanProperty(False)
    first = BooleanProperty(True)
    last = BooleanProperty(True)
    printing = BooleanProperty(False)     # one print at a time (a second tap waits for it)

    def on_pre_enter(self, *_):
        self.message = ""
        self._show()

    def _show(self) -> None:
        app = App.get_running_app()
        flow = app.flow
        dl = flow.daily
        self.day = flow.day
        self.first, self.last = flow.day <= flow.first_day, flow.day >= flow.last_day
        self.low_balance = dl.low_balance
        self.totals = {"day": dl.day_total_fen, "running": dl.running_total_fen, "deposits": dl.deposits_fen,
                       "balance": dl.balance_fen, "name": dl.patient_name, "no": dl.inpatient_no}
        box = self.ids.fee_rows
        box.clear_widgets()
        for item in dl.items:
            row = Factory.FeeRow()
            row.name = app.fx(item.name + (f" {item.spec}" if item.spec else ""))
            row.price = app.money(item.unit_price_fen)
            row.qty = qty_text(item.qty_milli)
            row.amount = app.money(item.amount_fen)
            row.category = item.category
            box.add_widget(row)
        if not dl.items:
            box.add_widget(Factory.OLabel(text=app.t("No charges on this day.", app.lang), size_hint_y=None,
                                          height=50 * app.scale))

    def step(self, days: int) -> None:
        app = App.get_running_app()
        app.with_store(lambda _s: app.flow.step(days), lambda _dl: self._show())

    def print_list(self) -> None:
        app = App.get_running_app()
        flow = app.flow
        if self.printing or flow is None:
            return
        self.message, self.printing = "Printing your documents...", True

        def done(problems):
            if app.flow is not flow:        # the patient has gone; the next one sees nothing of it
                return
            self.printing = False
            self.message = problems[0] if problems else "Your daily fee list has been printed."

        def failed(exc):
            if app.flow is not flow:
                return
            self.printing = False
            self.message = getattr(exc, "user_message", None) or "Please go to window {window}."

        app.with_store(lambda _s: flow.print(), done, failed)

    def reset(self) -> None:
        self.day, self.totals, self.message, self.printing = "", {}, "", False
        if "fee_rows" in self.ids:
            self.ids.fee_rows.clear_widgets()


SCREEN = DailyListScreen
KV_FILE = "patient/daily_list"
