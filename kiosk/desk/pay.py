"""The lobby kiosk's fee payment (from the lobby's "Pay a fee", once the household is identified):
the household's orders awaiting payment with the amount due; a tap pays it by card on the kiosk's
card terminal through the platform's payment journal (:meth:`pos.desk.service.DeskService.pay_by_card`,
run in a worker: the terminal's own messages show while it runs, the idle timeout waits). Approved:
the order goes on to its follow-up and a receipt slip prints; declined: nothing changes, try again;
in doubt: the journal settles it (never pay twice)."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from . import Says

__all__ = ["SCREEN", "KV", "DeskPayScreen"]

log = logging.getLogger(__name__)


def _(msgid: str) -> str:
    return msgid


RESULTS = {"approved": _("Paid. Thank you: the order goes on to its follow-up."),
           "declined": _("The card was declined. Nothing was charged; you can try again."),
           "aborted": _("The payment was cancelled. Nothing was charged."),
           "in_doubt": _("The payment is being checked with the bank. Do not pay again; ask the desk.")}

KV = """
<DeskPayScreen>:
    BoxLayout:
        orientation: "vertical"
        padding: 12 * app.scale
        spacing: 8 * app.scale
        canvas.before:
            Color:
                rgba: 0.95, 0.96, 0.97, 1
            Rectangle:
                pos: self.pos
                size: self.size
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 56 * app.scale)
            spacing: 8
            OLabel:
                id: title
                font_size: 36 * app.scale
                bold: True
                text: app.t("Pay a fee", app.lang)
            OButton:
                id: back
                size_hint_x: 0.25
                font_size: 24 * app.scale
                disabled: root.busy
                text: app.t("Back", app.lang)
                on_release: app.go("desk_lobby")
        OLabel:
            id: who
            size_hint_y: None
            height: 40 * app.scale
            font_size: 24 * app.scale
            text: root.who
        ScrollView:
            BoxLayout:
                id: dues
                orientation: "vertical"
                size_hint_y: None
                height: self.minimum_height
                spacing: 6
        OLabel:
            id: message
            size_hint_y: None
            height: 110 * app.scale
            font_size: 26 * app.scale
            text: root.message
"""


class DeskPayScreen(Says, Screen):
    message = StringProperty("")
    who = StringProperty("")
    busy = BooleanProperty(False)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.rows: dict[str, object] = {}
        self._said = None
        App.get_running_app().bind(lang=lambda *_: self.refresh())

    @property
    def household(self):
        return App.get_running_app().screen("desk_lobby").household

    def on_pre_enter(self, *_):
        self.refresh()

    def reset(self) -> None:
        self._said, self.message = None, ""

    def refresh(self) -> None:
        app = App.get_running_app()
        if app.site_services is None or "dues" not in self.ids:
            return
        self.retell()
        h = self.household
        box = self.ids.dues
        box.clear_widgets()
        self.rows = {}
        if h is None:
            self.who = app.t("Identify your household first.")
            return
        self.who = app.t("Unit {unit}, {party}", unit=h.unit, party=h.party)
        desk = app.site_services.desk
        cats = desk.catalogue.categories
        for o in desk.queue(states=("awaiting_payment",)):
            due = desk.amount_due(o["order_no"]) if o["unit"] == h.unit else None
            if not due:
                continue
            c = cats.get(o["category"])
            b = Factory.OButton(size_hint_y=None, height=max(app.touch_min, 70 * app.scale))
            b.font_size = 24 * app.scale
            b.text = app.t("Pay {amount} by card: {no} {what}", amount=app.money(due), no=o["order_no"],
                           what=c.label(app.lang) if c else "")
            b.bind(on_release=lambda _b, no=o["order_no"]: self.pay(no))
            b.disabled = self.busy
            self.rows[o["order_no"]] = b
            box.add_widget(b)
        if not self.rows and not self.busy and not self._said:
            self.message = app.t("Nothing to pay for your household.")

    def pay(self, order_no: str) -> None:
        """The card payment in a worker; the terminal's messages on the screen meanwhile."""
        from .. import worker

        app = App.get_running_app()
        if self.busy or self.household is None:
            return
        url = app.site_services.device("payment_terminal")
        if not url:
            self.say("The card terminal is not working. Please pay at the desk.")
            return
        self.busy = True
        for b in self.rows.values():
            b.disabled = True
        self.say("Connecting to the card terminal")
        desk, payments, who = app.site_services.desk, app.site_services.payments, f"resident {self.household.unit}"

        def on_status(msg):
            Clock.schedule_once(lambda _dt: self.say(msg.message_id))

        hold = app.hold_idle()

        def done(out):
            app.release_idle(hold)
            self.busy = False
            status = out.public_status
            log.info("lobby: %s paid by card: %s (attempt %s)", order_no, status, out.attempt_id)
            self.say(RESULTS.get(status, RESULTS["in_doubt"]))
            if status == "approved":
                self._receipt(order_no, out)
            self.refresh()

        def failed(exc):
            app.release_idle(hold)
            self.busy = False
            log.error("lobby: card payment of %s failed: %s", order_no, exc)
            self.say(getattr(exc, "user_message", "") or "The card terminal is not working. Please pay at the desk.")
            self.refresh()

        worker.submit(lambda: desk.pay_by_card(payments, order_no, terminal_url=url, by=who, on_status=on_status),
                      done, failed)

    def _receipt(self, order_no: str, out) -> None:
        """The resident's slip for the paid order (number, QR code, the amount and the card's last
        digits as the terminal masked them), through the print journal."""
        from pos.desk.slips import resident_slip

        from . import community_name

        app = App.get_running_app()
        desk = app.site_services.desk
        o = desk.order(order_no)
        c = desk.catalogue.categories.get(o["category"])
        label = (c.label(app.lang) if c else "") + f"  {app.money(out.amount_fen)}"
        if out.masked_pan:
            label += f"  {out.masked_pan[-4:]}"
        slip = resident_slip(o, label, site_name=community_name(app), lang=app.lang)
        res = app.site_services.printing.print("desk_resident_slip", slip, ref=f"{order_no}-paid")
        if not res.ok:
            self.say("Paid. The receipt did not print; the desk can reprint it.")


SCREEN = DeskPayScreen
