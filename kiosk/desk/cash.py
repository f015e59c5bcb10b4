"""Cash at the desk (``onestop desk``, from the console's "Cash" button): the desk's cash shift
opened with its float, a paid special service awaiting payment taken in cash (the amount due
shown, the cash given typed on the digit keypad, the change shown, too little refused before
anything moves), the resident's receipt slip printed on the desk printer, and the shift closed
against the cash the drawer should hold. The money goes through the platform's cash drawer
(:class:`pos.payments.cash.CashDrawer`, one shift for the desk, cashier :data:`CASHIER`) by
:meth:`pos.desk.service.DeskService.pay_cash` in a worker (the drawer kick and the printer are
devices). The count is typed as one total and kept as notes and coins split largest first."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import Screen

from . import Says

__all__ = ["SCREEN", "KV", "DeskCashScreen", "CASHIER", "split_count"]

log = logging.getLogger(__name__)

#: the desk's drawer: one cash shift for the desk, whoever is on duty (their name is each payment's ``by``)
CASHIER = "desk"


def _(msgid: str) -> str:
    return msgid


HINTS = {"tendered": _("Type the cash given on the keypad."),
         "float": _("Type the opening float on the keypad, then tap Open the shift."),
         "count": _("Count the drawer: type the cash counted, then tap Close the shift.")}


def split_count(fen: int) -> dict[int, int]:
    """A counted total as notes and coins (largest first); whole jiao only (the smallest coin)."""
    from pos.payments.cash import DENOMINATIONS_FEN

    if fen % DENOMINATIONS_FEN[-1]:
        raise ValueError(f"{fen} fen is not whole jiao")
    out = {}
    for d in DENOMINATIONS_FEN:
        n, fen = divmod(fen, d)
        if n:
            out[d] = n
    return out


KV = """
<CashKey@OButton>:
    font_size: 28 * app.scale
    size_hint_y: None
    height: max(app.touch_min, 58 * app.scale)

<CashInput@TextInput>:
    font_name: app.font
    font_size: 18 * app.scale
    multiline: False
    write_tab: False
    size_hint_y: None
    height: max(app.touch_min, 44 * app.scale)

<DeskCashScreen>:
    BoxLayout:
        orientation: "vertical"
        padding: 10 * app.scale
        spacing: 6 * app.scale
        canvas.before:
            Color:
                rgba: 0.95, 0.96, 0.97, 1
            Rectangle:
                pos: self.pos
                size: self.size
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 48 * app.scale)
            spacing: 6
            OLabel:
                id: title
                font_size: 26 * app.scale
                bold: True
                text: app.t("Cash at the desk", app.lang)
            CashInput:
                id: me
                size_hint_x: 0.18
                hint_text: app.t("Your name", app.lang)
            SecondaryButton:
                id: lang_hans
                size_hint_x: 0.09
                font_size: 18 * app.scale
                text: app.fx("简体", app.lang)
                on_release: app.set_language("zh-Hans")
            SecondaryButton:
                id: lang_hant
                size_hint_x: 0.09
                font_size: 18 * app.scale
                text: app.fx("繁體", app.lang)
                on_release: app.set_language("zh-Hant")
            SecondaryButton:
                id: lang_en
                size_hint_x: 0.13
                font_size: 16 * app.scale
                text: app.fx("English", app.lang)
                on_release: app.set_language("en")
            OButton:
                id: back
                size_hint_x: 0.18
                font_size: 18 * app.scale
                disabled: root.busy
                text: app.t("Back to the queue", app.lang)
                on_release: app.go("desk_console")
        OLabel:
            id: message
            size_hint_y: None
            height: 56 * app.scale
            font_size: 18 * app.scale
            color: 0.7, 0.1, 0.1, 1
            text: root.message
        BoxLayout:
            size_hint_y: None
            height: max(app.touch_min, 48 * app.scale)
            spacing: 6
            OLabel:
                id: shift_line
                font_size: 18 * app.scale
                text: root.shift_text
            OButton:
                id: open_shift
                size_hint_x: 0.25
                font_size: 18 * app.scale
                disabled: root.busy
                text: app.t("Open the shift", app.lang)
                on_release: root.open_shift()
            OButton:
                id: close_shift
                size_hint_x: 0.25
                font_size: 18 * app.scale
                disabled: root.busy
                text: app.t("Close the shift", app.lang)
                on_release: root.close_shift()
        BoxLayout:
            spacing: 10
            BoxLayout:
                orientation: "vertical"
                size_hint_x: 0.45
                OLabel:
                    size_hint_y: None
                    height: 28 * app.scale
                    font_size: 20 * app.scale
                    bold: True
                    text: app.t("Awaiting payment", app.lang)
                ScrollView:
                    BoxLayout:
                        id: orders
                        orientation: "vertical"
                        size_hint_y: None
                        height: self.minimum_height
                        spacing: 4
            BoxLayout:
                orientation: "vertical"
                spacing: 4
                OLabel:
                    id: due
                    size_hint_y: None
                    height: 36 * app.scale
                    font_size: 22 * app.scale
                    text: root.due_text
                OLabel:
                    id: entry
                    size_hint_y: None
                    height: 44 * app.scale
                    font_size: 28 * app.scale
                    bold: True
                    text: root.entry_text
                OLabel:
                    id: change
                    size_hint_y: None
                    height: 36 * app.scale
                    font_size: 22 * app.scale
                    text: root.change_text
                GridLayout:
                    cols: 3
                    spacing: 4
                    size_hint_y: None
                    height: self.minimum_height
                    CashKey:
                        id: k7
                        text: "7"
                        on_release: root.key("7")
                    CashKey:
                        id: k8
                        text: "8"
                        on_release: root.key("8")
                    CashKey:
                        id: k9
                        text: "9"
                        on_release: root.key("9")
                    CashKey:
                        id: k4
                        text: "4"
                        on_release: root.key("4")
                    CashKey:
                        id: k5
                        text: "5"
                        on_release: root.key("5")
                    CashKey:
                        id: k6
                        text: "6"
                        on_release: root.key("6")
                    CashKey:
                        id: k1
                        text: "1"
                        on_release: root.key("1")
                    CashKey:
                        id: k2
                        text: "2"
                        on_release: root.key("2")
                    CashKey:
                        id: k3
                        text: "3"
                        on_release: root.key("3")
                    CashKey:
                        id: kdot
                        text: "."
                        on_release: root.key(".")
                    CashKey:
                        id: k0
                        text: "0"
                        on_release: root.key("0")
                    CashKey:
                        id: kback
                        text: "<"
                        on_release: root.key("back")
                OButton:
                    id: take
                    size_hint_y: None
                    height: max(app.touch_min, 56 * app.scale)
                    font_size: 22 * app.scale
                    disabled: root.busy
                    text: app.t("Take the cash", app.lang)
                    on_release: root.take()
"""


class DeskCashScreen(Says, Screen):
    message = StringProperty("")
    shift_text = StringProperty("")
    due_text = StringProperty("")
    entry_text = StringProperty("")
    change_text = StringProperty("")
    busy = BooleanProperty(False)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.selected: str | None = None
        self.mode = "tendered"          # what the keypad types: the cash given, the float, the count
        self.typed = ""
        self.pending: str = ""          # the cash given, kept while the shift is opened
        self.rows: dict[str, object] = {}
        self.last_receipt = None
        App.get_running_app().bind(lang=lambda *_: self.refresh())

    @property
    def desk(self):
        return App.get_running_app().site_services.desk

    @property
    def cash(self):
        return App.get_running_app().site_services.cash

    def on_pre_enter(self, *_):
        self.refresh()

    def reset(self) -> None:
        self.selected, self._said, self.message, self.typed, self.pending = None, None, "", "", ""
        self.mode = "tendered"
        self.refresh()

    # -- what is shown -----------------------------------------------------------------------------
    def shift(self) -> dict | None:
        """The desk's open cash shift, or None."""
        from pos.errors import NotFound

        try:
            return self.cash.shift(CASHIER)
        except NotFound:
            return None

    def refresh(self) -> None:
        app = App.get_running_app()
        if app.site_services is None or "orders" not in self.ids:
            return
        self.retell()
        sh = self.shift()
        self.shift_text = (app.t("No cash shift open at the desk.") if sh is None else
                           app.t("Shift open: float {float}, in the drawer {expected}",
                                 float=app.money(sh["float_fen"]), expected=app.money(self.cash.expected_fen(
                                     sh["shift_id"]))))
        box = self.ids.orders
        box.clear_widgets()
        self.rows = {}
        cats = self.desk.catalogue.categories
        for o in self.desk.queue(states=("awaiting_payment",)):
            due = self.desk.amount_due(o["order_no"])
            if not due:
                continue
            c = cats.get(o["category"])
            b = Factory.SecondaryButton(size_hint_y=None, height=max(app.touch_min, 48 * app.scale))
            b.font_size = 17 * app.scale
            b.text = app.fx(f"{o['order_no']}  {o['unit']}  {c.label(app.lang) if c else ''}  {app.money(due)}")
            b.bind(on_release=lambda _b, no=o["order_no"]: self.select(no))
            b.disabled = self.busy
            self.rows[o["order_no"]] = b
            box.add_widget(b)
        if self.selected and self.selected not in self.rows:
            self.selected = None
        self.figures()

    def due_fen(self) -> int | None:
        return self.desk.amount_due(self.selected) if self.selected else None

    def typed_fen(self) -> int | None:
        from pos.money import parse_yuan

        try:
            return parse_yuan(self.typed) if self.typed else None
        except ValueError:
            return None

    def figures(self) -> None:
        app = App.get_running_app()
        due, given = self.due_fen(), self.typed_fen()
        if self.mode == "tendered":
            self.due_text = (app.t("{no}: due {amount}", no=self.selected, amount=app.money(due))
                             if due else app.t("Pick an order awaiting payment."))
            self.entry_text = app.t("Cash given: {amount}", amount=app.money(given or 0))
            self.change_text = (app.t("Change: {amount}", amount=app.money(given - due)) if due and given and
                                given >= due else app.t("Short by {amount}", amount=app.money(due - (given or 0)))
                                if due and given else "")
        else:
            sh = self.shift()
            self.due_text = app.t(HINTS[self.mode])
            self.entry_text = app.t("Float: {amount}" if self.mode == "float" else "Counted: {amount}",
                                    amount=app.money(given or 0))
            self.change_text = (app.t("Expected in the drawer: {amount}",
                                      amount=app.money(self.cash.expected_fen(sh["shift_id"])))
                                if self.mode == "count" and sh else "")

    # -- the keypad ---------------------------------------------------------------------------------
    def key(self, k: str) -> None:
        t = self.typed
        if k == "back":
            t = t[:-1]
        elif k == "." and "." in t:
            return
        elif "." in t and len(t.split(".")[1]) >= 2:
            return
        elif len(t) >= 9:
            return
        else:
            t += k
        self.typed = t
        self.figures()

    def _typed_or_say(self) -> int | None:
        fen = self.typed_fen()
        if fen is None:
            self.say(HINTS[self.mode])
        return fen

    def _name_or_say(self) -> str | None:
        me = self.ids.me.text.strip()
        if not me:
            self.say("Type your name first.")
            return None
        return me

    def select(self, no: str) -> None:
        self.selected, self.mode, self.typed = no, "tendered", ""
        self.say("")
        self.figures()

    # -- the shift ------------------------------------------------------------------------------------
    def _keypad_for(self, mode: str) -> int | None:
        """The first tap turns the keypad to ``mode`` (the float, the count) and says what to type;
        the next one gives the amount typed (fen), once the person's name is there."""
        if self.mode != mode:
            self.mode, self.typed = mode, ""
            self.say(HINTS[mode])
            self.figures()
            return None
        if self._name_or_say() is None:
            return None
        return self._typed_or_say()

    def open_shift(self) -> None:
        from pos.errors import DomainError

        if self.shift() is not None:
            self.say("The desk's cash shift is already open.")
            return
        fen = self._keypad_for("float")
        if fen is None:
            return
        try:
            self.cash.open_shift(CASHIER, fen)
        except DomainError as exc:
            log.warning("desk cash: shift not opened: %s", exc)
            self.say("The desk's cash shift is already open.")
            self.refresh()
            return
        log.info("desk cash: shift opened by %s with a float of %d fen", self.ids.me.text.strip(), fen)
        self.mode, self.typed, self.pending = "tendered", self.pending, ""
        self.say("Cash shift opened with a float of {amount}.", amount=App.get_running_app().money(fen))
        self.refresh()

    def close_shift(self) -> None:
        from pos.errors import DomainError

        app = App.get_running_app()
        sh = self.shift()
        if sh is None:
            self.say("No cash shift open at the desk.")
            return
        fen = self._keypad_for("count")
        if fen is None:
            return
        try:
            sc = self.cash.count(CASHIER, split_count(fen))
        except ValueError:
            self.say("Type the cash counted in whole jiao.")
            return
        except DomainError as exc:
            log.warning("desk cash: shift not closed: %s", exc)
            self.say("This shift has already been closed.")
            self.refresh()
            return
        log.info("desk cash: shift %s closed by %s: expected %d, counted %d fen", sc.shift_id,
                 self.ids.me.text.strip(), sc.expected_fen, sc.counted_fen)
        self.mode, self.typed = "tendered", ""
        self.say("Shift closed: expected {expected}, counted {counted}, difference {diff}.",
                 expected=app.money(sc.expected_fen), counted=app.money(sc.counted_fen),
                 diff=app.money(sc.difference_fen))
        self.refresh()

    # -- taking the cash -------------------------------------------------------------------------------
    def take(self) -> None:
        from .. import worker

        app = App.get_running_app()
        if self.busy:
            return
        if self.mode != "tendered":
            self.mode, self.typed = "tendered", ""
            self.figures()
        due = self.due_fen()
        if not due:
            self.say("Pick an order awaiting payment.")
            return
        me = self._name_or_say()
        if me is None:
            return
        given = self._typed_or_say()
        if given is None:
            return
        if given < due:                      # refused before anything moves
            self.say("The cash given, {given}, is less than the {due} due. Nothing was taken.",
                     given=app.money(given), due=app.money(due))
            return
        if self.shift() is None:             # the screen asks for the float, the cash given is kept
            self.pending, self.mode, self.typed = self.typed, "float", ""
            self.say("Open the desk's cash shift first: type its float, then tap Open the shift.")
            self.figures()
            return
        no, desk, cash = self.selected, self.desk, self.cash
        self.busy = True
        self.refresh()

        def work():
            receipt = desk.pay_cash(cash, no, cashier=CASHIER, tendered_fen=given, by=me)
            return receipt, self._print_receipt(no, receipt)

        def done(out):
            receipt, printed = out
            self.busy, self.typed, self.selected, self.last_receipt = False, "", None, receipt
            log.info("desk cash: %s paid %d fen, change %d, receipt %s", no, receipt.amount_fen,
                     receipt.change_fen, receipt.receipt_no)
            self.say("Paid {amount} in cash for {no}. Give back {change}. Receipt {receipt}." if printed else
                     "Paid {amount} in cash for {no}. Give back {change}. The receipt did not print; "
                     "it is kept for a reprint.", amount=app.money(receipt.amount_fen), no=no,
                     change=app.money(receipt.change_fen), receipt=receipt.receipt_no)
            self.refresh()

        def failed(exc):
            from pos.payments.cash import InsufficientTender

            self.busy = False
            log.error("desk cash: %s not paid: %s", no, exc)
            if isinstance(exc, InsufficientTender):
                self.say("The cash given, {given}, is less than the {due} due. Nothing was taken.",
                         given=app.money(given), due=app.money(due))
            else:
                self.say(getattr(exc, "user_message", "") or "The cash was not taken: {error}", error=str(exc))
            self.refresh()

        worker.submit(work, done, failed)

    def _print_receipt(self, order_no: str, receipt) -> bool:
        """The resident's slip for the paid order (number, QR code, the amount, cash given and change)
        on the desk printer, through the print journal (in the worker)."""
        from pos.desk.slips import resident_slip

        from ..i18n import tr
        from . import community_name

        app = App.get_running_app()
        o = self.desk.order(order_no)
        c = self.desk.catalogue.categories.get(o["category"])
        label = (f"{c.label(app.lang) if c else ''}  {app.money(receipt.amount_fen)}  "
                 + tr("Cash given: {amount}", app.lang, amount=app.money(receipt.tendered_fen)) + "  "
                 + tr("Change: {amount}", app.lang, amount=app.money(receipt.change_fen)))
        slip = resident_slip(o, label, site_name=community_name(app), lang=app.lang)
        res = app.site_services.printing.print("desk_resident_slip", slip, ref=f"{order_no}-cash")
        if not res.ok:
            log.warning("desk cash: receipt of %s did not print: %s", order_no, getattr(res, "error", res))
        return res.ok


SCREEN = DeskCashScreen
