"""The cashier counter's main screen: sync queue, recent activity of this counter."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import NumericProperty
from kivy.uix.screenmanager import Screen


__all__ = ["CounterHomeScreen", "SCREEN", "local_time"]


def local_time(utc_iso: str) -> str:
    """Stored UTC → the local time shown to people."""
    dt = datetime.strptime(utc_iso[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return dt.astimezone().strftime("%H:%M:%S")


class CounterHomeScreen(Screen):
    waiting = NumericProperty(0)

    def on_pre_enter(self, *_):
        self.reload()
        self._ev = Clock.schedule_interval(lambda _dt: self.reload(), 5)

    def on_leave(self, *_):
        self._ev.cancel()

    def reload(self) -> None:
        def read(store):
            rows = store.conn.execute(
                "SELECT created_at, kind, payload FROM outbox ORDER BY device_seq DESC LIMIT 12").fetchall()
            return store.outbox_depth(), rows

        App.get_running_app().with_store(read, self._show)

    def _show(self, result) -> None:
        app = App.get_running_app()
        self.waiting, rows = result
        box = self.ids.activity
        box.clear_widgets()
        for created, kind, payload in rows:
            detail = ", ".join(f"{k}={v}" for k, v in sorted(json.loads(payload).items()))
            box.add_widget(Factory.OLabel(text=app.fx(f"{local_time(created)}  {kind}  {detail}"),
                                          font_size=18 * app.scale, size_hint_y=None, height=34 * app.scale))


SCREEN = CounterHomeScreen
