"""Check-in step 2: the admission notice found for this person; the patient confirms it. The
screen tells them that the camera then takes their photo for the ward's person-matches-ID check
(H-A4); the photo is taken right after the registration, in the same worker, and kept by
:mod:`pos.hospital.photos`. A camera that gives no photo does not stop the check-in (logged; the
ward then shows that there is none)."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.properties import DictProperty, StringProperty
from kivy.uix.screenmanager import Screen

__all__ = ["CheckinConfirmScreen", "SCREEN", "mask_id", "take_checkin_photo", "PHOTO_NOTICE"]

log = logging.getLogger(__name__)

PHOTO_NOTICE = "When you confirm, the camera takes a photo of you for the nurse's identity check."


def take_checkin_photo(site, inpatient_no: str) -> bool:
    """The kiosk's camera takes the patient's photo (call from a worker). False, with a log line,
    when there is no camera that takes photos or it fails: the check-in goes on without one."""
    from drivers.errors import DeviceError
    from drivers.registry import open_device
    from pos.hospital import photos
    from pos.hospital.errors import HospitalError

    url = site.device("camera")
    if not url:
        log.info("check-in photo of %s: no camera configured", inpatient_no)
        return False
    try:
        dev = open_device(url, "camera")
    except DeviceError as exc:
        log.warning("check-in photo of %s: camera %s cannot be opened: %s", inpatient_no, url, exc)
        return False
    try:
        if not hasattr(dev, "take_photo"):
            log.info("check-in photo of %s: %s takes no photos", inpatient_no, url)
            return False
        photos.save_checkin_photo(site.hospital, inpatient_no, dev.take_photo(max_side=photos.MAX_SIDE))
        return True
    except (DeviceError, HospitalError) as exc:
        log.warning("check-in photo of %s: not taken: %s", inpatient_no, exc)
        return False
    finally:
        dev.close()


def mask_id(number: str) -> str:
    """An ID number as a screen in a public lobby shows it: the first 6 and last 4 only."""
    return number[:6] + "*" * max(0, len(number) - 10) + number[-4:] if len(number) > 10 else number


class CheckinConfirmScreen(Screen):
    notice = DictProperty({})
    ward = StringProperty("")
    card_kind = StringProperty("")      # msgid: what the person identified with
    message = StringProperty("")
    working = False

    def on_pre_enter(self, *_):
        flow = App.get_running_app().flow
        self.notice = dict(flow.notice)
        self.message = ""
        w = flow.site.hospital.ward(flow.notice["ward_code"])
        self.ward = f"{w['name']}  {w['building']} {w['floor']}F"
        from drivers.identity import SOURCE_LABELS

        self.card_kind = SOURCE_LABELS.get(getattr(flow.identity, "source", ""), "")

    def confirm(self) -> None:
        if self.working:
            return
        app = App.get_running_app()
        flow = app.flow
        self.working = True

        def done(_adm):
            self.working = False
            app.go("amount")

        def failed(exc):
            self.working = False
            self.message = getattr(exc, "user_message", "Please go to window {window}.")

        def work(_s):
            adm = flow.confirm()
            take_checkin_photo(flow.site, adm["inpatient_no"])
            return adm

        app.with_store(work, done, failed)

    def reset(self) -> None:
        self.notice = {}
        self.ward = ""
        self.card_kind = ""
        self.message = ""


SCREEN = CheckinConfirmScreen
KV_FILE = "patient/checkin_confirm"
