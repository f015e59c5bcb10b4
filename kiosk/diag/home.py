"""Technician diagnostics: every configured and discovered device with its status, last error and
counters; a probe and a self-test per device; the log viewer; the diagnostics bundle."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import DictProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from drivers.discovery import discover
from drivers.registry import probe

from .. import selftest, worker
from ..screens.shell import STATE_COLORS

log = logging.getLogger(__name__)

__all__ = ["DiagScreen", "DeviceRow", "SCREEN", "site_services"]

_site_cache: dict = {}


def site_services(app, store):
    """The app's :class:`pos.site.Site` (the lead's ``app.site_services`` once it exists)."""
    ready = getattr(app, "site_services", None)
    if ready is not None:
        return ready
    key = (id(app), id(store))
    if key not in _site_cache:
        from pos.site import Site

        _site_cache.clear()
        _site_cache[key] = Site(app.site, store)
    return _site_cache[key]


def _(msgid: str) -> str:
    """Marks a msgid for the catalogues (tests/test_i18n.py scans ``_(`` literals)."""
    return msgid


#: device-list words the technician reads in their language (the drivers' own reasons stay as sent)
COUNTER_MSGIDS = {"tests": _("tests run {n}"), "failures": _("failed {n}")}
REASON_MSGIDS = {"not configured": _("not configured (no URL for this role in the config)"),
                 "probing...": _("checking the connection...")}


class DeviceRow(BoxLayout):
    role = StringProperty("")
    url = StringProperty("")
    state = StringProperty("disconnected")
    reason = StringProperty("")
    last_error = StringProperty("")
    counters = DictProperty({})

    def color(self, state):
        return STATE_COLORS.get(state, STATE_COLORS["disconnected"])

    def counters_text(self, counters, _lang=None) -> str:
        """``tests 2`` as the technician reads it: "tests run 2, failed 1" in the screen's language."""
        app = App.get_running_app()
        return "  ".join(app.t(COUNTER_MSGIDS[k], app.lang, n=v) if k in COUNTER_MSGIDS else app.fx(f"{k} {v}")
                         for k, v in sorted(counters.items()))

    def reason_text(self, reason: str, _lang=None) -> str:
        app = App.get_running_app()
        return app.t(REASON_MSGIDS[reason], app.lang) if reason in REASON_MSGIDS else app.fx(reason)

    def refresh_counters(self) -> None:
        self.counters = dict(selftest.COUNTERS.get(self.role, {}))
        self.last_error = selftest.LAST_ERRORS.get(self.role, "")

    def probe_now(self) -> None:
        self.state, self.reason = "busy", "probing..."
        role, url = self.role, self.url

        def done(st):
            self.state, self.reason = st.state.value, st.reason
            if st.state.value == "error":
                self.last_error = st.reason
            log.info("technician probe %s %s: %s %s", role, url, st.state.value, st.reason)

        worker.submit(lambda: probe(url, role), done)

    def self_test(self) -> None:
        App.get_running_app().go("diag_test", role=self.role)


class DiagScreen(Screen):
    discovered = ListProperty([])
    message = StringProperty("")       # msgid
    uncertain_prints = ListProperty([])
    detail = StringProperty("")        # data shown after the message (a path, an error)

    def on_pre_enter(self, *_):
        app = App.get_running_app()
        box = self.ids.devices
        box.clear_widgets()
        self.rows = {}
        for role, url in app.site.devices.items():
            row = DeviceRow(role=role, url=url or "-")
            if not url:
                row.state, row.reason = "disconnected", "not configured"
            row.refresh_counters()
            self.rows[role] = row
            box.add_widget(row)
        self.refresh(app, app.device_status)
        app.bind(device_status=self.refresh)
        app.with_store(lambda store: site_services(app, store).printing.uncertain(), self._uncertain_prints)
        worker.submit(lambda: [d.as_dict() for d in discover()], self._found)

    def on_leave(self, *_):
        App.get_running_app().unbind(device_status=self.refresh)

    def refresh(self, _app, status):
        for role, st in status.items():
            row = self.rows.get(role)
            if row is not None and row.state != "busy":
                row.state, row.reason = st.state.value, st.reason
                if st.state.value == "error" and not row.last_error:
                    row.last_error = st.reason

    def _uncertain_prints(self, jobs) -> None:
        """Print jobs that may or may not be on paper (a silent printer, a crash while printing)."""
        self.uncertain_prints = jobs
        if jobs and not self.message:
            self.message = "Print jobs that may have printed (reprint them as copies):"
            self.detail = ", ".join(f"{j['kind']} {j['ref']} {j['job_id'][:13]}" for j in jobs[:5]) + \
                (f" (+{len(jobs) - 5})" if len(jobs) > 5 else "")

    def _found(self, found):
        app = App.get_running_app()
        self.discovered = found
        box = self.ids.discovered
        box.clear_widgets()
        if not found:
            box.add_widget(Factory.OLabel(text=app.t("Nothing found on serial, PC/SC or video buses.", app.lang),
                                          font_size=max(14, 20 * app.scale), size_hint_y=None, height=max(24, 40 * app.scale)))
        for d in found:       # as tall as its text: a long description or URL wraps, never cut off
            lbl = Factory.OLabel(text=app.fx(f"{d['bus']}: {d['id']} - {d['description']} -> {d['url_hint']}"),
                                 font_size=max(13, 18 * app.scale), size_hint_y=None)
            lbl.bind(texture_size=lambda w, ts: setattr(w, "height", max(22 * app.scale, ts[1] + 8)))
            box.add_widget(lbl)

    # -- actions -------------------------------------------------------------------------
    def show_logs(self) -> None:
        App.get_running_app().go("diag_logs")

    def export_bundle(self) -> None:
        from ..diagbundle import write_bundle

        app = App.get_running_app()
        statuses = dict(app.device_status)
        found = list(self.discovered)
        self.message, self.detail = "Writing the diagnostics bundle...", ""

        def done(path):
            self.message, self.detail = "Diagnostics bundle written:", str(path)
            self.last_bundle = path

        def failed(exc):
            log.error("diagnostics bundle failed: %s", exc)
            self.message, self.detail = "The diagnostics bundle could not be written.", str(exc)

        worker.submit(lambda: write_bundle(app.site, None, statuses=statuses, discovered=found), done, failed)

    def reset(self) -> None:
        self.message, self.detail = "", ""


SCREEN = DiagScreen
KV_FILE = "diag/home"
