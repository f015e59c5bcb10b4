"""``onestop ward``: 人證合一 (H-A4). Side by side, what the ID card said at check-in (name, sex,
birth date, ID number masked to its last four) and the wristband the nurse scans on the patient.
She confirms (only after a matching scan) or refuses with a reason; her staff ID and the time are
recorded (the hospital pack's identity checks). A refusal stops charges and the discharge order until a
confirmation; a second confirmation is refused. Beside the ID facts: the photo the kiosk's camera
took at check-in (:mod:`pos.hospital.photos`, pulled with the other devices' events), or a line
saying there is none. The ID card readers we drive give no card photo, so none is shown."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from ..screens.scan import ScanCatcher

log = logging.getLogger(__name__)

__all__ = ["SCREEN", "KV", "WardIdentityScreen"]


def _(msgid: str) -> str:
    return msgid


SEX = {"M": _("Male"), "F": _("Female")}
TEXTS = (_("Name: {name}"), _("Sex: {sex}"), _("Birth date: {date}"), _("ID number: {id}"),
         _("Scan the wristband on the patient's wrist."), _("Inpatient no.: {no}"),
         _("The wristband matches the ID."), _("This wristband belongs to another stay ({no}). Do not confirm."),
         _("Scan the wristband first."), _("Say why you refuse."),
         _("Confirmed by {staff} at {time}."), _("Refused by {staff} at {time}: {reason}"),
         _("Already confirmed by {staff} at {time}. A second confirmation is not needed."),
         _("Only nurses confirm the identity."), _("Kiosk photo"), _("No photo from the kiosk for this stay."))


def _kv() -> str:
    from importlib import resources

    return resources.files("assets").joinpath("kv", "ward", "ward_identity.kv").read_text(encoding="utf-8")


KV = _kv()


class WardIdentityScreen(Screen):
    id_text = StringProperty("")
    band_text = StringProperty("")
    message = StringProperty("")
    photo = StringProperty("")                  # the kiosk's check-in photo (a file beside the store), or ''

    def __init__(self, **kw):
        super().__init__(**kw)
        self.inpatient_no: str | None = None
        self.scanned: str | None = None
        self._said = None
        self._scans = ScanCatcher(self.on_scan)
        App.get_running_app().bind(lang=lambda *_: self.show())

    @property
    def hospital(self):
        return App.get_running_app().site_services.hospital

    def prepare(self, inpatient_no: str) -> None:
        self.inpatient_no, self.scanned, self._said = inpatient_no, None, None
        self.message = ""
        self.ids.reason.text = ""
        last = self.hospital.identity_check(inpatient_no)
        if last:
            self.tell_check(last)

    def on_pre_enter(self, *_):
        self._scans.start()
        self.show()

    def on_leave(self, *_):
        self._scans.stop()

    def reset(self) -> None:
        self.inpatient_no = self.scanned = None
        self._said = None
        self.message = ""

    def say(self, msgid: str, **kw) -> None:
        self._said = (msgid, kw)
        self.message = App.get_running_app().t(msgid, **kw)

    def local_time(self, at: str) -> str:
        import datetime as dt
        import zoneinfo

        tz = zoneinfo.ZoneInfo(App.get_running_app().site.get("site", "timezone"))
        return dt.datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(tz).strftime("%Y-%m-%d %H:%M")

    def tell_check(self, c: dict) -> None:
        if c["outcome"] == "confirmed":
            self.say("Confirmed by {staff} at {time}.", staff=c["staff"], time=self.local_time(c["at"]))
        else:
            self.say("Refused by {staff} at {time}: {reason}", staff=c["staff"], time=self.local_time(c["at"]),
                     reason=c["reason"])

    def show(self) -> None:
        app = App.get_running_app()
        if self.inpatient_no is None or getattr(app, "site_services", None) is None:
            return
        from pos.hospital import photos

        f = self.hospital.id_facts(self.inpatient_no)
        self.photo = photos.photo_path(self.hospital.store, self.inpatient_no)
        self.id_text = "\n".join((app.t("Name: {name}", name=f["name"]),
                                  app.t("Sex: {sex}", sex=app.t(SEX[f["sex"]]) if f["sex"] in SEX else ""),
                                  app.t("Birth date: {date}", date=f["birth_date"] or ""),
                                  app.t("ID number: {id}", id=f["id_masked"])))
        if self.scanned is None:
            self.band_text = app.t("Scan the wristband on the patient's wrist.")
        else:
            from pos.hospital import views

            b = views.admission_page(self.hospital.conn, self.hospital.admission(self.scanned))
            verdict = (app.t("The wristband matches the ID.") if self.scanned == self.inpatient_no else
                       app.t("This wristband belongs to another stay ({no}). Do not confirm.", no=self.scanned))
            self.band_text = "\n".join((app.t("Inpatient no.: {no}", no=self.scanned),
                                        app.t("Name: {name}", name=b["name"]),
                                        app.t("Sex: {sex}", sex=app.t(SEX[b["sex"]]) if b["sex"] in SEX else ""),
                                        app.t("Birth date: {date}", date=b["birth_date"] or ""), verdict))
        if self._said:
            self.message = app.t(self._said[0], **self._said[1])

    def on_scan(self, code: str) -> None:
        from pos.hospital.errors import HospitalNotFound

        try:
            self.hospital.admission(code)
        except HospitalNotFound:
            self.say("{no} is not a patient of this hospital.", no=code)
            return
        self.scanned = code
        self.show()

    def staff(self):
        board = App.get_running_app().screen("ward_board")
        return board.staff, board.role

    def confirm(self) -> None:
        from pos.hospital.errors import HospitalError

        staff, role = self.staff()
        if role not in ("nurse", "charge_nurse"):
            self.say("Only nurses confirm the identity.")
            return
        last = self.hospital.identity_check(self.inpatient_no)
        if last.get("outcome") == "confirmed":
            self.say("Already confirmed by {staff} at {time}. A second confirmation is not needed.",
                     staff=last["staff"], time=self.local_time(last["at"]))
            return
        if self.scanned != self.inpatient_no:
            self.say("Scan the wristband first." if self.scanned is None else
                     "This wristband belongs to another stay ({no}). Do not confirm.", no=self.scanned)
            return
        try:
            self.hospital.confirm_identity(self.inpatient_no, staff)
        except HospitalError as exc:
            log.warning("ward: identity confirmation refused: %s", exc)
            self.say(exc.user_message)
            return
        log.info("ward: %s %s confirmed the identity of %s", role, staff, self.inpatient_no)
        self.tell_check(self.hospital.identity_check(self.inpatient_no))
        self.show()

    def refuse(self) -> None:
        from pos.hospital.errors import HospitalError

        staff, role = self.staff()
        if role not in ("nurse", "charge_nurse"):
            self.say("Only nurses confirm the identity.")
            return
        last = self.hospital.identity_check(self.inpatient_no)
        if last.get("outcome") == "confirmed":
            self.say("Already confirmed by {staff} at {time}. A second confirmation is not needed.",
                     staff=last["staff"], time=self.local_time(last["at"]))
            return
        reason = self.ids.reason.text.strip()
        if not reason:
            self.say("Say why you refuse.")
            return
        try:
            self.hospital.refuse_identity(self.inpatient_no, staff, reason)
        except HospitalError as exc:
            log.warning("ward: identity refusal refused: %s", exc)
            last = self.hospital.identity_check(self.inpatient_no)
            if exc.code == "already_confirmed" and last:
                self.say("Already confirmed by {staff} at {time}. A second confirmation is not needed.",
                         staff=last["staff"], time=self.local_time(last["at"]))
            else:
                self.say(exc.user_message)
            return
        log.info("ward: %s %s refused the identity of %s: %s", role, staff, self.inpatient_no, reason)
        self.tell_check(self.hospital.identity_check(self.inpatient_no))
        self.show()


SCREEN = WardIdentityScreen
