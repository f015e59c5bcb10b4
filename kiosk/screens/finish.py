"""The end of a kiosk service: what happened, where to go next, which receipts are now void, and
(in the demo) pictures of what the printers printed."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.properties import ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

__all__ = ["FinishScreen", "SCREEN", "outcome"]

DONE = {
    "admission": "Check-in is complete.",
    "topup": "Your deposit has been paid.",
    "discharge": "Your discharge is settled.",
}
TROUBLE = {
    "in_doubt": "We could not confirm the payment. Please go to the counter; you will not be charged twice.",
    "device_fault": "The card terminal is not working. Please go to window {window}.",
    "refund_at_counter": "Please collect your refund at window {window}.",
}


def outcome(flow) -> tuple[str, list[str]]:
    """(headline msgid, detail lines as (msgid, kwargs)) for the flow as it ended."""
    service = {"CheckinFlow": "admission", "TopupFlow": "topup", "DischargeFlow": "discharge"}[type(flow).__name__]
    if flow.state in TROUBLE:
        return TROUBLE[flow.state], []
    details = []
    if service == "admission":
        w = flow.ward
        details.append(("Please go to {ward}, {building} floor {floor}, and show your wristband at the nurse station.",
                        {"ward": w["name"], "building": w["building"], "floor": w["floor"]}))
        details.append(("Your inpatient number: {number}", {"number": flow.admission["inpatient_no"]}))
    if service == "discharge" and flow.void_receipts:
        details.append(("These deposit receipts are now void: {receipts}", {"receipts": ", ".join(flow.void_receipts)}))
    problems = getattr(flow, "print_problems", None) or getattr(getattr(flow, "result", None), "print_problems", [])
    for p in problems:
        details.append((p, {}))
    return DONE[service], details


class FinishScreen(Screen):
    headline = StringProperty("")
    lines = ListProperty([])        # rendered text lines
    pictures = ListProperty([])     # PNG paths of printed documents (demo)
    trouble = StringProperty("")

    def on_pre_enter(self, *_):
        app = App.get_running_app()
        flow = app.flow
        head, details = outcome(flow)
        self.trouble = "1" if flow.state in TROUBLE else ""
        self.headline = head
        window = app.site.get("site", "counter_window")
        self.lines = [app.t(m, app.lang, window=window, **kw) for m, kw in details]
        self.pictures = self._printed() if app.demo_world is not None else []

    def _printed(self) -> list[str]:
        world = App.get_running_app().demo_world
        pngs = sorted(Path(world.printed).rglob("*.png"), key=lambda p: p.stat().st_mtime)
        return [str(p) for p in pngs[-3:]]

    def reset(self) -> None:
        self.headline, self.lines, self.pictures, self.trouble = "", [], [], ""


SCREEN = FinishScreen
