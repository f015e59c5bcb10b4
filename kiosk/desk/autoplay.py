"""``onestop demo desk --autoplay DIR``: the desk plays itself on the demo store and the simulated
devices (printer over a real socket, the file camera), one order's whole life through every front
end's screens: the seeded queue, a hotline call taken at the console, its suggested category
confirmed, dispatched to the next in its team and the dispatch slip printed; the technician's
screen: started, a photo taken, completed with a note; the supervisor's QC passed and the
follow-up call recorded (closed); the lobby kiosk: a household identified by phone and code, a
request with a photo and its printed slip, a finished order rated by the resident, the common
answers; then the month's report charts (from the desk's own log) and its PDF. Every screen, the
printed slips and the report's charts are written into DIR as PNGs. The engine (real touches on
the running app, one step per Clock tick) is the patient kiosk's :class:`kiosk.autoplay.Autoplay`."""

from __future__ import annotations

import time

from ..autoplay import Autoplay

__all__ = ["DeskAutoplay"]

CALL = ("3-1201", "厨房水管漏水，楼下滴水")
#: the demo household at the lobby (assets/config/desk_households.toml: the code on its letter)
HOUSEHOLD = ("13800002003", "4468")
#: the demo household whose paid service (carpet cleaning) waits for its payment
PAYER = ("13800000303", "2094")


class DeskAutoplay(Autoplay):
    def tap_row(self, widget):
        """A tap on a row of a scrolled list, scrolled into view first (as a person scrolls to it)."""
        from kivy.uix.scrollview import ScrollView

        view = widget.parent
        while view is not None and not isinstance(view, ScrollView):
            view = view.parent
        if view is not None:
            view.scroll_to(widget, padding=0, animate=False)
            yield self.sleep(0.3)
        self.tap(widget)

    def _run(self):
        yield from self._console()
        yield from self._staff()
        yield from self._qc()
        yield from self._lobby()
        self._report()

    def _console(self):
        app = self.app
        self._printed_since = time.time()
        yield self.until(lambda: app.site_services is not None, "the store")
        yield self.on("desk_console")
        s = self.screen()
        yield self.until(lambda: len(s.rows) > 0, "the seeded queue")
        yield self.sleep(1.0)
        self.shot("desk-queue")
        s.ids.ch_hotline.state, s.ids.ch_walkin.state = "down", "normal"
        s.ids.unit.text, s.ids.description.text = CALL
        self.tap(s.ids.receive)
        yield self.until(lambda: s.selected and s.selected in s.rows and s.suggestion_text, "the new order")
        self.no = no = s.selected
        yield self.sleep(0.5)
        self.shot("desk-intake")
        desk = app.site_services.desk
        self.tap(s.ids.confirm)
        yield self.until(lambda: desk.order(no)["state"] == "classified", "the confirmed category")
        yield self.sleep(0.5)
        self.shot("desk-classified")
        self.tap(s.ids.dispatch)
        yield self.until(lambda: desk.order(no)["state"] == "dispatched", "the dispatch")
        yield self.sleep(0.5)
        self.shot("desk-dispatched")
        printer = app.demo_world.start().receipt_printer
        before = len(printer.docs)
        self.tap(s.ids.slip)
        yield self.until(lambda: len(printer.docs) > before and getattr(printer.docs[-1], "png_path", None),
                         "the printed slip")
        yield self.sleep(0.5)
        self.shot("desk-slip-printed")
        self.collect_prints("desk-slip")

    def _staff(self):
        app, no = self.app, self.no
        desk = app.site_services.desk
        app.go("desk_tech")
        yield self.on("desk_tech")
        s = self.screen()
        s.ids.me.text = desk.order(no)["assignee"]
        self.tap(s.ids.show)
        yield self.until(lambda: no in s.rows, "the technician's orders")
        yield self.sleep(0.5)                   # laid out before it is tapped
        yield from self.tap_row(s.rows[no])
        yield self.until(lambda: s.selected == no, "the order picked")
        self.tap(s.ids.start)
        yield self.until(lambda: desk.order(no)["state"] == "in_progress", "the work started")
        yield self.sleep(0.5)
        yield from self.tap_row(s.rows[no])
        yield self.sleep(0.3)
        self.tap(s.ids.photo)
        yield self.until(lambda: s.photos, "the photo")
        s.ids.text.text = "更换阀门，已试水不漏"
        yield self.sleep(0.5)
        self.shot("desk-staff-working")
        self.tap(s.ids.complete)
        yield self.until(lambda: desk.order(no)["state"] == "completed", "the completion")
        yield self.sleep(0.5)
        self.shot("desk-staff-completed")

    def _qc(self):
        app, no = self.app, self.no
        desk = app.site_services.desk
        app.go("desk_qc")
        yield self.on("desk_qc")
        s = self.screen()
        yield self.until(lambda: no in s.rows, "the order waiting for QC")
        yield self.sleep(0.5)
        s.ids.me.text = "主管 王"
        yield from self.tap_row(s.rows[no])
        yield self.until(lambda: s.selected == no, "the order picked")
        s.ids.qc_note.text = "现场已清理，照片齐全"
        yield self.sleep(0.5)
        self.shot("desk-qc")
        self.tap(s.ids.qc_pass)
        yield self.until(lambda: desk.order(no)["state"] == "qc_passed", "the passed QC")
        yield self.sleep(0.5)
        yield from self.tap_row(s.rows[no])
        yield self.sleep(0.3)
        self.tap(s.ids.satisfied)
        s.ids.comment.text = "师傅来得很快"
        yield self.sleep(0.5)
        self.shot("desk-follow-up")
        self.tap(s.ids.record)
        yield self.until(lambda: desk.order(no)["state"] == "closed", "the follow-up")
        yield self.sleep(0.5)
        self.shot("desk-follow-up-closed")

    def _lobby(self):
        app = self.app
        desk = app.site_services.desk
        app.go("desk_lobby")
        yield self.on("desk_lobby")
        s = self.screen()
        s.ids.phone.text, s.ids.code.text = HOUSEHOLD
        self.tap(s.ids.identify_button)
        yield self.until(lambda: s.identified, "the household")
        yield self.sleep(0.5)
        self.shot("desk-lobby-identified")
        self.tap(s.ids.photo)
        yield self.until(lambda: s.photos, "the resident's photo")
        s.ids.description.text = "阳台下水道反味"
        printer = app.demo_world.start().receipt_printer
        before = len(printer.docs)
        self.tap(s.ids.submit)
        yield self.until(lambda: len(printer.docs) > before and getattr(printer.docs[-1], "png_path", None),
                         "the resident's slip")
        yield self.sleep(0.5)
        self.shot("desk-lobby-submitted")
        self.collect_prints("desk-lobby-slip")
        unit = s.household.unit
        done = [o["order_no"] for o in desk.queue(states=("follow_up",)) if o["unit"] == unit
                and o["kind"] != "complaint"]
        if done:                        # the household's finished order, waiting for its rating
            s.ids.lookup.text = done[0]
            self.tap(s.ids.lookup_button)
            yield self.until(lambda: s.rating_open, "the rating")
            self.tap(s.ids.rate_satisfied)
            yield self.until(lambda: desk.order(done[0])["state"] == "closed", "the resident's rating")
            yield self.sleep(0.5)
            self.shot("desk-lobby-rated")
        yield from self._pay(s)
        self.tap(s.ids.faq)
        yield self.on("desk_faq")
        f = self.screen()
        yield self.until(lambda: f.buttons, "the questions")
        yield self.sleep(0.5)
        yield from self.tap_row(f.buttons[0])
        yield self.until(lambda: f.answer, "the answer")
        yield self.sleep(0.5)
        self.shot("desk-lobby-faq")

    def _pay(self, lobby):
        """Another household pays its paid service by card on the demo's card terminal."""
        app = self.app
        desk = app.site_services.desk
        self.tap(lobby.ids.sign_out)
        yield self.until(lambda: not lobby.identified, "the first household gone")
        lobby.ids.phone.text, lobby.ids.code.text = PAYER
        self.tap(lobby.ids.identify_button)
        yield self.until(lambda: lobby.identified, "the paying household")
        self.tap(lobby.ids.pay)
        yield self.on("desk_pay")
        p = self.screen()
        yield self.until(lambda: p.rows, "the fee due")
        no = next(iter(p.rows))
        yield self.sleep(0.5)
        self.shot("desk-lobby-pay")
        yield from self.tap_row(p.rows[no])
        yield self.until(lambda: desk.order(no)["state"] == "follow_up" and not p.busy, "the card payment")
        yield self.sleep(1.0)
        self.shot("desk-lobby-paid")
        self.collect_prints("desk-lobby-paid-slip")
        self.tap(p.ids.back)
        yield self.on("desk_lobby")

    def _report(self) -> None:
        """The month's report from the desk's own log: its charts as PNGs, and the PDF."""
        from datetime import datetime
        from zoneinfo import ZoneInfo

        from pos.desk.report import monthly
        from pos.desk.report_pdf import charts, render_pdf
        from pos.desk.service import local_events

        from . import community_name

        app = self.app
        tz = app.site.get("site", "timezone")
        month = datetime.now(ZoneInfo(tz)).strftime("%Y-%m")
        report = monthly(local_events(app.site_services.desk), month, tz)
        for name, png in charts(report, app.lang).items():
            self.n += 1
            (self.out / f"{self.n:02d}-desk-report-{name}.png").write_bytes(png)
        (self.out / "desk-report.pdf").write_bytes(render_pdf(report, app.lang, site_name=community_name(app)))
