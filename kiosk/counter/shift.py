"""Shift close: the cash counted by denomination against what the drawer should hold, the card
total of this shift against the terminal's end-of-day, and the printed shift report."""

from __future__ import annotations

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import DictProperty, NumericProperty

from pos.payments.cash import DENOMINATIONS_FEN

from .base import N_, CounterScreen, yuan

__all__ = ["CounterShiftScreen", "SCREEN"]


class CounterShiftScreen(CounterScreen):
    status = DictProperty({})
    counted_fen = NumericProperty(0)
    report = DictProperty({})

    def prepare(self, **_kw) -> None:
        self.reset()
        self._build_counts()
        self.call(lambda d: d.shift_status(), self._status)

    def _build_counts(self) -> None:
        app = App.get_running_app()
        grid = self.ids.counts
        grid.clear_widgets()
        self.fields = {}
        for d in DENOMINATIONS_FEN:
            grid.add_widget(Factory.OLabel(text=yuan(d), font_size=24 * app.scale))
            f = Factory.CounterInput(input_filter="int")
            f.bind(text=lambda *_: self.recount())
            self.fields[d] = f
            grid.add_widget(f)

    def counts(self) -> dict[int, int]:
        return {d: int(f.text) for d, f in self.fields.items() if f.text.strip().isdigit() and int(f.text) > 0}

    def recount(self) -> None:
        self.counted_fen = sum(d * n for d, n in self.counts().items())

    def _status(self, st: dict) -> None:
        self.status = st

    def on_status(self, *_):
        self.figures()

    def on_report(self, *_):
        self.figures()

    def on_counted_fen(self, *_):
        self.figures()

    def figures(self) -> None:
        """The figure lines (set here: kv does not rebind on a dict's .get)."""
        ids = self.ids
        if "f_expected" not in ids:
            return
        expected = self.report.get("expected_fen", self.status.get("expected_fen", 0))
        ids.f_expected.value = yuan(expected)
        ids.f_counted.value = yuan(self.counted_fen)
        ids.f_diff.value = yuan(self.counted_fen - expected)
        ids.f_cards.value = f"{yuan(self.status.get('card_fen', 0))}  ({self.status.get('card_count', 0)})"
        eod = self.report.get("eod")
        ids.f_eod.value = f"{yuan(eod['total_fen'])}  ({eod['count']})" if eod else "-"

    def close(self) -> None:
        counts = self.counts()

        def done(rep):
            self.report = {k: v for k, v in rep.items() if k != "print"}
            self.say_printed(rep["print"], N_("Shift closed. Cash difference {diff}; card difference {card}."),
                             diff=yuan(rep["difference_fen"]),
                             card=yuan((rep["eod"] or {}).get("total_fen", 0) - rep["card_fen"]))

        self.call(lambda d: d.close_shift(counts), done)

    def reset(self) -> None:
        super().reset()
        for f in getattr(self, "fields", {}).values():
            f.text = ""
        self.status, self.report, self.counted_fen = {}, {}, 0


SCREEN = CounterShiftScreen
KV_FILE = "counter/shift"
