"""Bedside discharges at the counter (床邊辦理, H-D7): the sessions the wards opened, as this
counter pulled them (``pos.hospital.bedside``), and the cashier's join. The join is an outbox
command the ward tablet pulls; the cashier then settles at the bed on the tablet, and the session
shows here as settled once that comes back through sync. The list reloads every few seconds."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.clock import Clock

from .base import CounterScreen, ward_name

log = logging.getLogger(__name__)

__all__ = ["CounterBedsideScreen", "SCREEN", "KV_FILE"]


def _(msgid: str) -> str:
    return msgid


STATES = {"opened": _("waiting for a cashier"), "joined": _("joined by {cashier}"),
          "settled": _("settled at the bed ({no})")}
TEXTS = (_("Bedside discharges"), _("No bedside discharge is open."), _("Join"),
         _("Joined. Go to {ward}, bed {bed}: the ward tablet settles once it has synced."),
         _("Bed {bed}, nurse {nurse}"))


class CounterBedsideScreen(CounterScreen):
    def prepare(self, **_kw) -> None:
        self.reset()
        self.load()

    def on_pre_enter(self, *_):
        self._tick = Clock.schedule_interval(self._reload, 5.0)

    def _reload(self, _dt):
        """Every few seconds while shown (sessions come in by sync); stops once the screen or the app is gone."""
        if App.get_running_app() is None or self.manager is None or self.manager.current != self.name:
            self._tick = None
            return False
        if not self.busy:
            self.load()
        return True

    def on_leave(self, *_):
        if getattr(self, "_tick", None) is not None:
            self._tick.cancel()
            self._tick = None

    def load(self) -> None:
        self.call(lambda d: d.hospital.bedside_sessions(("opened", "joined", "settled")), self._show)

    def _show(self, sessions) -> None:
        app = App.get_running_app()
        self.sessions = sessions
        if not sessions and not self.message:
            self.say("No bedside discharge is open.")
        out = []
        self.row_of = {}
        for s in sessions:
            state = app.t(STATES[s["state"]], app.lang, cashier=s["cashier"] or "", no=s["settlement_no"] or "")
            text = (app.fx(f"{s['inpatient_no']}  {ward_name(s['ward_code'] or '')}  ")
                    + app.t("Bed {bed}, nurse {nurse}", app.lang, bed=s["bed_no"] or "", nurse=s["nurse"] or "")
                    + "  " + state)
            acts = [(app.t("Join", app.lang), lambda sid=s["session_id"]: self.join(sid))] if s["state"] == "opened" else []
            w = self.row(text, acts)
            self.row_of[s["session_id"]] = w
            out.append(w)
        self.fill(self.ids.rows, out)

    def on_lang(self) -> None:
        if getattr(self, "sessions", None) is not None:
            self._show(self.sessions)

    def join(self, session_id: str) -> None:
        def done(s):
            log.info("counter: %s joined bedside session %s of %s", s["cashier"], session_id, s["inpatient_no"])
            self.say("Joined. Go to {ward}, bed {bed}: the ward tablet settles once it has synced.",
                     ward=ward_name(s["ward_code"] or ""), bed=s["bed_no"] or "")
            self.load()

        self.call(lambda d: d.hospital.join_bedside(session_id, d.cashier), done)

    def reset(self) -> None:
        super().reset()
        self.sessions, self.row_of = None, {}
        if "rows" in self.ids:
            self.ids.rows.clear_widgets()


SCREEN = CounterBedsideScreen
KV_FILE = "counter/bedside"
