"""``onestop demo ward --autoplay DIR``: the nurse station plays a stay by itself, by touches and
wristband scans on the real widgets (the engine of :mod:`kiosk.autoplay`): a patient arrives from
the counter (registered, deposit paid, wristband printed: done through the domain service, as the
counter's part is not this front end's), the nurse logs in, scans the wristband and gives a bed,
checks the person against the ID, posts charges; the doctor orders the discharge; the nurse reviews
every line, locks, schedules the discharge for today and prints the ward's daily lists. Every step
is written into DIR as a PNG, with the printed lists."""

from __future__ import annotations

import logging
import time

from kivy.core.window import Window

from ..autoplay import Autoplay

log = logging.getLogger(__name__)

__all__ = ["WardAutoplay"]


def arrive(h) -> str:
    """A patient registered for the first ward, with a deposit and a wristband: the inpatient number."""
    from pos.hospital import views
    from pos.hospital.records import IdentityRecord, Payment

    ward = views.wards(h.conn)[0]["code"]
    idno = f"110101197501{time.time_ns() // 1000 % 10**6:06d}"     # a new person on every run of the demo
    notice = h.record_notice(patient_name="赵六", id_number=idno, ward_code=ward, suggested_deposit_fen=300000)
    no = h.register_admission(notice["notice_no"], IdentityRecord("counter", "赵六", idno, scheme="self_pay",
                                                                  sex="M", birth_date="1975-01-01"))["inpatient_no"]
    h.record_deposit(no, Payment(300000))
    h.print_wristband(no)
    return no


class WardAutoplay(Autoplay):
    def _fail(self, why: str) -> None:
        said = getattr(self.screen(), "message", "")
        super()._fail(f"{why} (the screen says: {said!r})" if said else why)

    @staticmethod
    def reveal(widget) -> None:
        """Scroll the enclosing ScrollView so that ``widget`` is on screen (as the nurse would);
        tap it a moment later."""
        from kivy.uix.scrollview import ScrollView

        p = widget.parent
        while p is not None and not isinstance(p, ScrollView):
            p = p.parent
        if isinstance(p, ScrollView) and p.children and p.children[0].height > p.height:
            p.scroll_to(widget, padding=10, animate=False)

    def scan(self, code: str) -> None:
        for ch in code:
            Window.dispatch("on_textinput", ch)
        Window.dispatch("on_key_down", 13, 0, "\r", [])

    def login(self, role: str, staff: str, pin: str):
        yield self.on("ward_login")
        s = self.screen()
        self.tap(s.ids[f"role_{role}"])
        yield self.sleep(0.2)
        s.ids.staff.text, s.ids.pin.text = staff, pin
        self.tap(s.ids.ok)
        yield self.on("ward_board")
        yield self.sleep(0.3)

    def logout(self):
        if self.app.sm.current != "ward_board":
            self.tap(self.screen().ids.back)
            yield self.on("ward_board")
            yield self.sleep(0.2)
        self.tap(self.screen().ids.logout)
        yield self.on("ward_login")
        yield self.sleep(0.2)

    def open_stay(self, bed: str):
        b = self.screen()
        self.tap(b.cells[bed])
        yield self.sleep(0.3)
        self.tap(b.ids.stay)
        yield self.on("ward_stay")
        yield self.sleep(0.3)

    def _run(self):
        app = self.app
        self._printed_since = time.time()
        yield self.until(lambda: app.site_services is not None, "the store")
        yield self.sleep(1.0)
        h = app.site_services.hospital
        no = arrive(h)
        self.shot("ward-login")
        yield from self.login("nurse", "N07", "1111")
        self.shot("ward-board")
        # the bed: scan the wristband, tap a free bed
        b = self.screen()
        self.scan(no)
        yield self.until(lambda: b.picked == no, "the scanned patient")
        bed = next(c["bed_no"] for c in b.board if c["state"] == "free")
        self.tap(b.cells[bed])
        yield self.until(lambda: h.admission(no)["bed_id"] is not None, "the bed given")
        yield self.sleep(0.5)
        self.shot("ward-bed-given")
        # person matches ID
        self.tap(b.cells[bed])
        yield self.sleep(0.3)
        self.tap(b.ids.id_check)
        yield self.on("ward_identity")
        yield self.sleep(0.3)
        self.scan(no)
        yield self.sleep(0.3)
        self.tap(self.screen().ids.confirm)
        yield self.until(lambda: h.identity_check(no).get("outcome") == "confirmed", "the identity confirmed")
        yield self.sleep(0.3)
        self.shot("ward-identity")
        self.tap(self.screen().ids.back)
        yield self.on("ward_board")
        yield self.sleep(0.3)
        # charges from the catalogue
        yield from self.open_stay(bed)
        s = self.screen()
        for code, price in (("B001", "45.00"), ("N001", "28.00"), ("D101", "12.60")):
            self.reveal(s.fee_buttons[code])
            yield self.sleep(0.3)
            self.tap(s.fee_buttons[code])
            yield self.sleep(0.3)
            s.ids.price.text = price
            before = len(h.stay_charges(no))
            self.reveal(s.ids.post)
            yield self.sleep(0.3)
            self.tap(s.ids.post)
            yield self.until(lambda n=before: len(h.stay_charges(no)) == n + 1, f"the charge {code}")
        yield self.sleep(0.3)
        self.shot("ward-charges")
        # the doctor's order
        yield from self.logout()
        yield from self.login("doctor", "D01", "3333")
        yield from self.open_stay(bed)
        s = self.screen()
        s.ids.summary.text, s.ids.ebill.text = "好转出院", f"EB-{no}"
        self.reveal(s.ids.order)
        yield self.sleep(0.3)
        self.tap(s.ids.order)
        yield self.until(lambda: h.discharge_state(no) == "ordered", "the discharge order")
        yield self.sleep(0.3)
        self.shot("ward-order")
        # the nurse reviews every line, locks and schedules
        yield from self.logout()
        yield from self.login("nurse", "N07", "1111")
        yield from self.open_stay(bed)
        s = self.screen()
        for cid in list(s.rows):
            self.reveal(s.rows[cid]["tick"])
            yield self.sleep(0.3)
            self.tap(s.rows[cid]["tick"])                 # each tap redraws the lines: look them up again
            yield self.sleep(0.4)
        self.reveal(s.ids.lock)
        yield self.sleep(0.3)
        self.tap(s.ids.lock)
        yield self.until(lambda: h.discharge_state(no) == "charges_locked", "the charges locked")
        yield self.sleep(0.2)
        s.ids.when.text = h.today()
        self.reveal(s.ids.schedule)
        yield self.sleep(0.3)
        self.tap(s.ids.schedule)
        yield self.until(lambda: h.discharge_state(no) == "scheduled", "the discharge scheduled")
        yield self.sleep(0.5)
        self.shot("ward-scheduled")
        # the day's lists on the station's printer
        self.tap(s.ids.back)
        yield self.on("ward_board")
        yield self.sleep(0.3)
        b = self.screen()
        self.tap(b.ids.print_lists)
        yield self.until(lambda: b.printing, "the batch print started")
        yield self.until(lambda: not b.printing, "the daily lists printed")
        yield self.sleep(0.5)
        self.shot("ward-daily-lists")
        self.collect_prints("printed-ward-lists")
        log.info("ward autoplay: %s bed %s scheduled for %s", no, bed, h.today())
