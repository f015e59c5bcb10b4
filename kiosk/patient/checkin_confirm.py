"""Check-in step 2: the admission notice found for this person; the patient confirms it."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import DictProperty, StringProperty
from kivy.uix.screenmanager import Screen

__all__ = ["CheckinConfirmScreen", "SCREEN", "mask_id"]


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

        app.with_store(lambda _s: flow.confirm(), done, failed)

    def reset(self) -> None:
        self.notice = {}
        self.ward = ""
        self.card_kind = ""
        self.message = ""


SCREEN = CheckinConfirmScreen
KV_FILE = "patient/checkin_confirm"
