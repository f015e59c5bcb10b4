"""The end of a kiosk service: what happened, with the figures the patient needs (amount, new
balance, the card a refund went to), where to go next, which receipts are now void, and (in the
demo) pictures of what the printers printed for this patient."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import DictProperty, ListProperty, StringProperty
from kivy.uix.screenmanager import Screen

__all__ = ["FinishScreen", "SCREEN", "outcome", "masked_card"]

DONE = {
    "admission": "Check-in is complete.",
    "topup": "Your deposit has been paid.",
    "discharge": "Your discharge is settled.",
}
TROUBLE = {
    "in_doubt": "We could not confirm the payment. Please go to the counter; you will not be charged twice.",
    "device_fault": "The card terminal is not working. Please go to window {window}.",
    "refund_at_counter": "Please collect your refund of {amount} at window {window}.",
}


def masked_card(masked_pan: str | None) -> str:
    """``****1234``: the last four digits only, whatever the terminal's mask was."""
    digits = [c for c in (masked_pan or "") if c.isdigit()]
    return "****" + "".join(digits[-4:]) if digits else "****"


def outcome(flow, money) -> tuple[str, dict, list[tuple[str, dict]]]:
    """(headline msgid, its values, detail lines as (msgid, values)) for the flow as it ended.
    ``money`` formats fen for the screen."""
    service = {"CheckinFlow": "admission", "TopupFlow": "topup", "DischargeFlow": "discharge"}[type(flow).__name__]
    details = []
    if flow.state == "refund_at_counter":
        for out in flow.refunds:
            if out.public_status == "approved":
                details.append(("Refunded {amount} to card {card}.",
                                {"amount": money(out.amount_fen), "card": masked_card(out.masked_pan)}))
        if flow.refund_reason:
            details.append((flow.refund_reason, {}))
        if flow.void_receipts:
            details.append(("These deposit receipts are now void: {receipts}", {"receipts": ", ".join(flow.void_receipts)}))
        return TROUBLE[flow.state], {"amount": money(flow.refund_left_fen)}, details
    if flow.state in TROUBLE:
        return TROUBLE[flow.state], {}, []
    if service == "admission":
        w = flow.ward
        details.append(("Please go to {ward}, {building} floor {floor}, and show your wristband at the nurse station.",
                        {"ward": w["name"], "building": w["building"], "floor": w["floor"]}))
        details.append(("Your inpatient number: {number}", {"number": flow.admission["inpatient_no"]}))
    if service == "topup":
        details.append(("Paid {amount}. Your deposit balance now: {balance}",
                        {"amount": money(flow.amount_fen), "balance": money(flow.new_balance_fen or 0)}))
    if service == "discharge":
        for out in flow.refunds:
            if out.public_status == "approved":
                details.append(("Refunded {amount} to card {card}.",
                                {"amount": money(out.amount_fen), "card": masked_card(out.masked_pan)}))
        if flow.void_receipts:
            details.append(("These deposit receipts are now void: {receipts}", {"receipts": ", ".join(flow.void_receipts)}))
    problems = getattr(flow, "print_problems", None) or getattr(getattr(flow, "result", None), "print_problems", [])
    for p in problems:
        details.append((p, {}))
    if service == "discharge" and not problems:
        details.append(("Your settlement list has been printed.", {}))
    return DONE[service], {}, details


class FinishScreen(Screen):
    headline = StringProperty("")
    headline_args = DictProperty({})
    lines = ListProperty([])        # rendered text lines
    pictures = ListProperty([])     # PNG paths of printed documents (demo)
    trouble = StringProperty("")

    def on_pre_enter(self, *_):
        app = App.get_running_app()
        flow = app.flow
        head, args, details = outcome(flow, app.money)
        self.trouble = "1" if flow.state in TROUBLE else ""
        self.headline_args = args
        self.headline = head
        window = app.site.get("site", "counter_window")
        self.lines = [app.t(m, app.lang, window=window, **kw) for m, kw in details]
        self.pictures = self._printed() if app.demo_world is not None else []

    def _printed(self) -> list[str]:
        app = App.get_running_app()
        mark = getattr(app, "demo_print_mark", None)
        return app.demo_world.printed_since(mark)[-3:] if mark is not None else []

    def reset(self) -> None:
        self.headline, self.lines, self.pictures, self.trouble = "", [], [], ""
        self.headline_args = {}


SCREEN = FinishScreen
KV_FILE = "patient/finish"
