"""The cashier's screen: the cashier's role screen (its calls, one large acknowledge button), and
behind the butler's "coming to pay" call the room's bill: the guest confirms it (a signature
drawn on the screen, or on the printed bill), pays by cash with change, bank card on the ZVT
terminal, member card on the PC/SC reader with its PIN, or several of them; then the fapiao on
request (the title scanned from the guest's WeChat or typed) and the receipt; and the day's close.

The rules are :class:`pos.club.cashier.Cashier`'s; this module shows and touches. Every device
(the terminal, the card reader, the scanner, the printer) and every store write runs in a worker
(:func:`kiosk.worker.submit`); results come back on the Kivy clock.
"""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import datetime, timezone
from importlib import resources
from zoneinfo import ZoneInfo

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.graphics import Color, Line, Rectangle
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager
from kivy.uix.widget import Widget

from kiosk.worker import submit
from pos.club.cashier import METHOD_MSGIDS, close_day, close_layout, day_totals, receipt_layout
from pos.club.errors import ClubError
from pos.club.wxtitle import clean_tax_no
from pos.money import fmt_fen, parse_yuan

from .screen import KIND_MSGIDS, RoleApp, RoleScreen, _load_kv

__all__ = ["CashierApp", "SignaturePad", "CARD_OUTCOME_MSGIDS"]

log = logging.getLogger(__name__)

CARD_OUTCOME_MSGIDS = {
    "approved": "Paid by bank card: {amount} yuan.",
    "declined": "The bank card was declined. Nothing was charged.",
    "aborted": "The card payment was cancelled. Nothing was charged.",
    "in_doubt": "The card payment is not confirmed. Check the card terminal before taking another payment.",
}
MSG_CARD_READ = ("Member card …{tail} of {holder}: balance {total} yuan (principal {principal}, bonus {bonus}). "
                 "The guest enters the PIN.")
MSG_PAID_MEMBER = "Paid by member card: {amount} yuan (principal {principal}, bonus {bonus}). Balance {balance} yuan."
WECHAT_TITLE_LINK = "https://mp.weixin.qq.com/"
STATE_MSGIDS = {"open": "To confirm with the guest", "confirmed": "Confirmed by the guest", "paid": "Paid"}
FAPIAO_STATE_MSGIDS = {"intent": "requested", "submitted": "being issued", "in_doubt": "being issued",
                       "issued": "issued", "failed": "failed"}

_kv_loaded = False


def _load_cashier_kv() -> None:
    global _kv_loaded
    _load_kv()
    if not _kv_loaded:
        path = resources.files("assets").joinpath("kv", "club", "cashier.kv")
        Builder.load_string(path.read_text(encoding="utf-8"), filename="club/cashier.kv")
        _kv_loaded = True


def yuan(fen: int) -> str:
    return fmt_fen(fen)


def _error_text(app, exc: BaseException) -> str:
    msg = getattr(exc, "user_message", None)
    if not msg:
        return app.tr("Something went wrong. Please ask the staff for help.")
    try:
        return app.tr(msg, **getattr(exc, "params", {}))
    except (KeyError, IndexError):
        return app.tr(msg)


class SignaturePad(Widget):
    """The guest signs with a finger: each stroke is a line on a white card."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.strokes: list[Line] = []
        self.bind(pos=self._paint, size=self._paint)
        self._paint()

    def _paint(self, *_):
        self.canvas.before.clear()
        with self.canvas.before:
            Color(1, 1, 1, 1)
            Rectangle(pos=self.pos, size=self.size)
            Color(0.6, 0.6, 0.65, 1)
            Line(points=[self.x + 20, self.y + self.height * 0.25, self.right - 20, self.y + self.height * 0.25],
                 width=1)

    def on_touch_down(self, touch):
        if not self.collide_point(*touch.pos):
            return super().on_touch_down(touch)
        touch.grab(self)
        with self.canvas:
            Color(0.05, 0.05, 0.15, 1)
            line = Line(points=[touch.x, touch.y], width=2.2)
        self.strokes.append(line)
        touch.ud["stroke"] = line
        return True

    def on_touch_move(self, touch):
        if touch.grab_current is self and "stroke" in touch.ud:
            touch.ud["stroke"].points += [touch.x, touch.y]
            return True
        return super().on_touch_move(touch)

    def on_touch_up(self, touch):
        if touch.grab_current is self:
            touch.ungrab(self)
            return True
        return super().on_touch_up(touch)

    @property
    def signed(self) -> bool:
        return any(len(s.points) >= 4 for s in self.strokes)

    def clear(self) -> None:
        self.canvas.clear()
        self.strokes = []

    def png(self) -> bytes:
        """The drawing as PNG bytes (rendered on the UI thread, where the GL context is)."""
        fd, path = tempfile.mkstemp(suffix=".png")
        os.close(fd)
        try:
            self.export_to_png(path)
            with open(path, "rb") as fh:
                return fh.read()
        finally:
            os.unlink(path)


class CashierCalls(RoleScreen):
    """The cashier's role screen: acknowledging a "coming to pay" call opens that room's bill."""

    def acknowledge(self) -> None:
        app = App.get_running_app()
        top = next((c for c in app.device.current() if c["call_id"] == self.top_call_id), None)
        super().acknowledge()
        if top is not None and top["kind"] == "pay":
            app.open_bill(top["room"], top["call_id"])

    def describe(self, call: dict, short: bool = False) -> str:
        text = super().describe(call, short)
        total = App.get_running_app().pay_totals.get(call["room"]) if call["kind"] == "pay" else None
        if total is not None and not short:
            text += " · " + App.get_running_app().tr("Bill {amount} yuan", amount=yuan(total))
        return text

    def _buttons(self, app, dev) -> None:
        sends = self.ids.sends
        if getattr(sends, "lang", "") != app.lang or len(sends.children) != 2:
            sends.clear_widgets()
            help_btn = Factory.SecondaryButton(text=app.t(KIND_MSGIDS["help"]), font_size=24 * app.scale)
            help_btn.kind = "help"
            help_btn.bind(on_release=lambda _b: self.send("help"))
            close = Factory.SecondaryButton(text=app.t("Close the day"), font_size=24 * app.scale)
            close.kind = "close_day"
            close.bind(on_release=lambda _b: app.go("close"))
            sends.add_widget(help_btn)
            sends.add_widget(close)
            sends.lang = app.lang
        self.ids.ticks.clear_widgets()


class BillScreen(Screen):
    header = StringProperty("")
    lines_text = StringProperty("")
    summary = StringProperty("")
    message = StringProperty("")
    error = BooleanProperty(False)
    state = StringProperty("")
    busy = BooleanProperty(False)
    in_doubt = BooleanProperty(False)
    field = StringProperty("amount")
    amount_text = StringProperty("")
    tendered_text = StringProperty("")
    bill_no = StringProperty("")

    _refused = False

    def say(self, text: str, error: bool = False) -> None:
        self.message = App.get_running_app().fx(text)
        self.error = error
        self._refused = False

    def fail(self, exc: BaseException) -> None:
        log.warning("cashier: bill %s: %s: %s", self.bill_no, type(exc).__name__, exc)
        self.busy = False
        self.say(_error_text(App.get_running_app(), exc), error=True)
        self._refused = hasattr(exc, "code")          # a rule's refusal (not a fault) is what stays on screen
        self.reload()

    def show(self, bill: dict, keep_message: bool = False) -> None:
        app = App.get_running_app()
        t = app.tr
        self.bill = bill
        self.bill_no = bill["bill_no"]
        self.state = bill["state"]
        self.in_doubt = bool(bill["in_doubt"])
        self.header = app.fx(f"{t('Room {room}', room=bill['room'])} · {t('Bill no.')} {bill['bill_no']} · "
                             f"{t(STATE_MSGIDS[bill['state']])}")
        rows = [f"{x['name']}  {x['qty']} × {yuan(x['unit_fen'])} = {yuan(x['amount_fen'])}" for x in bill["lines"]]
        for p in bill["payments"]:
            extra = ""
            if p["method"] == "member":
                extra = f" ({t('Principal')} {yuan(p['principal_fen'])} · {t('Bonus')} {yuan(p['bonus_fen'])})"
            elif p["method"] == "card" and p.get("masked_pan"):
                extra = f" ({p['masked_pan'][-4:]})"
            rows.append(f"{t(METHOD_MSGIDS[p['method']])}  -{yuan(p['amount_fen'])}{extra}")
        for f in bill["fapiao"]:
            rows.append(t("Fapiao {amount} yuan for {title}: {state}", amount=yuan(f["amount_fen"]),
                          title=f["buyer_name"], state=t(FAPIAO_STATE_MSGIDS[f["state"]])))
        self.lines_text = app.fx("\n".join(rows))
        self.summary = app.fx(f"{t('Total')} {yuan(bill['total_fen'])}    {t('Paid')} {yuan(bill['paid_fen'])}\n"
                              f"{t('Still due')} {yuan(bill['due_fen'])}")
        if (bill["bill_no"], bill["due_fen"]) != getattr(self, "_entry_for", None):    # keep what is being typed
            self._entry_for = (bill["bill_no"], bill["due_fen"])
            # the whole bill is offered once; after a part is paid the next amount is typed or
            # taken with "Still due", so a stray second tap never pays the rest by itself
            self.amount_text = self._due_text() if bill["paid_fen"] == 0 else ""
            self.tendered_text = ""
            self.field = "amount"
        if not keep_message:
            self.message = ""
        if self.in_doubt and not (keep_message and self._refused):  # a refusal just shown stays
            self.say(app.tr(CARD_OUTCOME_MSGIDS["in_doubt"]), error=True)

    def reload(self, keep_message: bool = True) -> None:
        app = App.get_running_app()
        if self.bill_no:
            submit(lambda: app.cashier.bill(self.bill_no), lambda b: self.show(b, keep_message), self._log)

    def _log(self, exc):
        log.warning("cashier: reload of %s failed: %s", self.bill_no, exc)

    # -- the keypad -------------------------------------------------------------------
    def key(self, k: str) -> None:
        name = f"{self.field}_text"
        text = getattr(self, name)
        if k == "back":
            text = text[:-1]
        elif k == "." and "." in text:
            return
        elif "." in text and len(text.split(".")[1]) >= 2:
            return
        else:
            text += k
        setattr(self, name, text)

    def _due_text(self) -> str:
        due = self.bill["due_fen"]
        return yuan(due).replace(",", "") if due > 0 else ""

    def rest(self) -> None:
        self.amount_text = self._due_text()
        self.field = "amount"

    def _amounts(self) -> tuple[int, int | None]:
        amount = parse_yuan(self.amount_text or "0")
        tendered = parse_yuan(self.tendered_text) if self.tendered_text else None
        return amount, tendered

    def _amount(self) -> int | None:
        """The amount typed, in fen; None (and a message) when it is not a number."""
        try:
            return self._amounts()[0]
        except ValueError:
            self.say(App.get_running_app().tr("Please enter an amount greater than zero."), error=True)
            return None

    def _open(self, name: str) -> None:
        app = App.get_running_app()
        getattr(app, f"{name}_screen").start(self.bill)
        app.go(name)

    # -- confirmation -----------------------------------------------------------------
    def sign(self) -> None:
        self._open("sign")

    def signed_on_paper(self) -> None:
        app = App.get_running_app()
        self.busy = True
        self.say(app.tr("Printing the bill for the guest to sign…"))

        def work():
            out = app.print_layout("club_bill", receipt_layout(self.bill, app.tr, lang=app.doc_lang, tz=app.tz,
                                                               venue=app.venue, for_signature=True), self.bill_no)
            if not out.ok:
                return out
            return app.cashier.confirm_printed(self.bill_no)

        def done(res):
            self.busy = False
            if isinstance(res, dict):
                self.show(res)
                self.say(app.tr("Signed on the printed bill. Take the payment."))
            else:
                self.say(app.tr(res.user_message), error=True)

        submit(work, done, self.fail)

    # -- payment ----------------------------------------------------------------------
    def pay_cash(self) -> None:
        app = App.get_running_app()
        try:
            amount, tendered = self._amounts()
        except ValueError:
            self.say(app.tr("Please enter an amount greater than zero."), error=True)
            return
        self.busy = True
        submit(lambda: app.cashier.pay_cash(self.bill_no, amount, tendered if tendered is not None else amount),
               self._cash_done, self.fail)

    def _cash_done(self, res: dict) -> None:
        app = App.get_running_app()
        self.busy = False
        self.show(res["bill"])
        self.say(app.tr("Cash {amount} yuan received. Change: {change} yuan.", amount=yuan(res["amount_fen"]),
                        change=yuan(res["change_fen"])))

    def pay_card(self) -> None:
        app = App.get_running_app()
        amount = self._amount()
        if amount is None:
            return
        self.busy = True
        self.say(app.tr("Connecting to the card terminal"))

        def status(msg):
            Clock.schedule_once(lambda _dt: self.say(app.tr(msg.message_id)))

        submit(lambda: app.cashier.pay_card(self.bill_no, amount, on_status=status), self._card_done, self.fail)

    def _card_done(self, res: dict) -> None:
        app = App.get_running_app()
        self.busy = False
        self.show(res["bill"])
        self.say(app.tr(CARD_OUTCOME_MSGIDS[res["status"]], amount=yuan(res["amount_fen"])),
                 error=res["status"] != "approved")

    def check_terminal(self) -> None:
        app = App.get_running_app()
        self.busy = True
        self.say(app.tr("Checking an earlier card payment"))

        def done(res):
            self.busy = False
            self.message = ""
            self.reload()
            if res["queue"]:
                self.say(app.tr("The terminal could not say whether the card was charged. A supervisor must decide."),
                         error=True)

        submit(app.cashier.check_terminal, done, self.fail)

    def pay_member(self) -> None:
        app = App.get_running_app()
        amount = self._amount()
        if amount is None:
            return
        if amount <= 0 or amount > self.bill["due_fen"]:
            self.say(app.tr("That is more than the {due} yuan still due on this bill.",
                            due=yuan(self.bill["due_fen"])), error=True)
            return
        app.pin_screen.start(self.bill_no, amount)
        app.go("pin")

    # -- after payment ----------------------------------------------------------------
    def fapiao(self) -> None:
        self._open("fapiao")

    def print_receipt(self) -> None:
        app = App.get_running_app()
        self.busy = True

        def work():
            bill = app.cashier.bill(self.bill_no)
            balances = {p["card_no"]: app.cashier.cards.balance(p["card_no"]).total_fen
                        for p in bill["payments"] if p["method"] == "member"}
            return app.print_layout("club_receipt", receipt_layout(bill, app.tr, lang=app.doc_lang, tz=app.tz,
                                                                   venue=app.venue, balances=balances), self.bill_no)

        def done(out):
            self.busy = False
            self.say(app.tr("Receipt printed.") if out.ok else app.tr(out.user_message), error=not out.ok)

        submit(work, done, self.fail)


class SignScreen(Screen):
    header = StringProperty("")
    message = StringProperty("")

    def start(self, bill: dict) -> None:
        app = App.get_running_app()
        self.bill_no = bill["bill_no"]
        self.header = app.fx(app.tr("Please sign to confirm the bill of {amount} yuan",
                                    amount=yuan(bill["total_fen"])))
        self.message = ""
        self.ids.pad.clear()

    def done(self) -> None:
        app = App.get_running_app()
        pad = self.ids.pad
        if not pad.signed:
            self.message = app.fx(app.tr("Please sign in the box first."))
            return
        png = pad.png()

        def ok(bill):
            app.go("bill")
            app.bill_screen.show(bill)
            app.bill_screen.say(app.tr("Signed by the guest. Take the payment."))

        def failed(exc):
            self.message = app.fx(_error_text(app, exc))

        submit(lambda: app.cashier.confirm_signature(self.bill_no, png), ok, failed)


class PinScreen(Screen):
    prompt = StringProperty("")
    message = StringProperty("")
    pin = StringProperty("")
    card_no = StringProperty("")
    busy = BooleanProperty(False)

    def start(self, bill_no: str, amount_fen: int) -> None:
        app = App.get_running_app()
        self.bill_no, self.amount_fen = bill_no, amount_fen
        self.pin = self.card_no = self.message = ""
        self.prompt = app.fx(app.tr("Hold the member card on the reader ({amount} yuan).", amount=yuan(amount_fen)))
        self.busy = True
        submit(self._read, self._card, self._no_card)

    def _read(self):
        app = App.get_running_app()
        uid = app.card_reader.read(timeout=app.card_timeout)
        card = app.cashier.cards.card(uid)
        return uid, card, app.cashier.cards.balance(uid)

    def _card(self, res) -> None:
        app = App.get_running_app()
        uid, card, bal = res
        self.busy = False
        self.card_no = uid
        text = app.tr(MSG_CARD_READ, tail=uid[-4:], holder=card["holder"], total=yuan(bal.total_fen),
                      principal=yuan(bal.principal_fen), bonus=yuan(bal.bonus_fen))
        self.prompt = app.fx(text)
        if card["locked_at"]:
            self.message = app.fx(app.tr("This member card is locked after 3 wrong PINs. Please ask the manager to unlock it."))

    def _no_card(self, exc) -> None:
        log.warning("cashier: member card not read: %s", exc)
        self.busy = False
        self.message = App.get_running_app().fx(_error_text(App.get_running_app(), exc))

    def key(self, k: str) -> None:
        if k == "back":
            self.pin = self.pin[:-1]
        elif k.isdigit() and len(self.pin) < 6:
            self.pin += k

    def back(self) -> None:
        self.pin = ""
        App.get_running_app().go("bill")

    def confirm(self) -> None:
        app = App.get_running_app()
        pin, self.pin = self.pin, ""
        self.busy = True

        def done(res):
            self.busy = False
            app.go("bill")
            app.bill_screen.show(res["bill"])
            app.bill_screen.say(app.tr(MSG_PAID_MEMBER, amount=yuan(res["amount_fen"]),
                                       principal=yuan(res["principal_fen"]), bonus=yuan(res["bonus_fen"]),
                                       balance=yuan(res["balance"].total_fen)))

        def failed(exc):
            self.busy = False
            log.info("cashier: member card %s refused: %s", self.card_no[-4:], type(exc).__name__)
            self.message = app.fx(_error_text(app, exc))

        submit(lambda: app.cashier.pay_member(self.bill_no, self.card_no, self.amount_fen, pin), done, failed)


class FapiaoScreen(Screen):
    header = StringProperty("")
    message = StringProperty("")
    error = BooleanProperty(False)
    busy = BooleanProperty(False)

    def start(self, bill: dict) -> None:
        app = App.get_running_app()
        self.bill_no = bill["bill_no"]
        member = sum(p["amount_fen"] for p in bill["payments"] if p["method"] == "member")
        self.header = app.fx(app.tr("Fapiao for bill {bill}", bill=bill["bill_no"]))
        self.ids.title.text = self.ids.tax_no.text = ""
        self.ids.special.state = "normal"
        self.error = False
        self.message = app.fx(app.tr("The member-card part is not on the fapiao (stored value is invoiced at top-up).")
                              if member else "")

    def scan(self, code: str | None = None) -> None:
        """Read the title QR on the serial scanner (or take ``code``, what a keyboard-wedge scanner
        typed into the title field) and ask WeChat for the title behind it."""
        app = App.get_running_app()
        self.busy = True
        self.error = False
        self.message = app.fx(app.tr("Scan the guest's WeChat invoice title (我的发票抬头)."))

        def work():
            if app.wechat is None or (code is None and not app.scanner_url):
                raise ClubError("no WeChat access or no scanner at this desk", code="title_lookup_failed")
            return app.wechat.lookup(code if code is not None else app.scan_code())

        def done(title):
            self.busy = False
            self.ids.title.text = title.title
            self.ids.tax_no.text = title.tax_no
            self.message = app.fx(app.tr("Title read from WeChat. Check it with the guest."))

        def failed(exc):
            self.busy = False
            self.error = True
            log.warning("cashier: invoice title not read: %s", exc)
            self.message = app.fx(_error_text(app, exc))

        submit(work, done, failed)

    def request(self) -> None:
        app = App.get_running_app()
        title, tax = self.ids.title.text, self.ids.tax_no.text
        if title.strip().startswith(WECHAT_TITLE_LINK):                 # a wedge scanner typed the QR code
            self.scan(title.strip())
            return
        kind = "bs" if self.ids.special.state == "down" else "pc"          # 专票 or 普票
        self.busy = True

        def done(req):
            self.busy = False
            self.error = False
            text = app.tr("Fapiao requested: {amount} yuan.", amount=yuan(req["amount_fen"]))
            if req["excluded_fen"]:
                text += " " + app.tr("The member-card part ({excluded} yuan) is left out.",
                                     excluded=yuan(req["excluded_fen"]))
            self.message = app.fx(text)
            app.bill_screen.reload()

        def failed(exc):
            self.busy = False
            self.error = True
            log.info("cashier: fapiao for %s refused: %s", self.bill_no, exc)
            self.message = app.fx(_error_text(app, exc))

        submit(lambda: app.cashier.request_fapiao(self.bill_no, title, clean_tax_no(tax), kind), done, failed)


class CloseScreen(Screen):
    totals_text = StringProperty("")
    message = StringProperty("")
    busy = BooleanProperty(False)

    def on_pre_enter(self, *_):
        app = App.get_running_app()
        submit(lambda: day_totals(app.cashier.store.conn, app.today(), app.tz), self.show,
               lambda exc: setattr(self, "message", app.fx(_error_text(app, exc))))

    def show(self, totals: dict) -> None:
        app = App.get_running_app()
        t = app.tr
        self.totals = totals
        rows = [f"{t('End-of-day close')} · {totals['day']}",
                f"{t('Cash')}  {totals['cash_count']}  {yuan(totals['cash_fen'])}",
                f"{t('Bank card')}  {totals['card_count']}  {yuan(totals['card_fen'])}",
                f"{t('Member card')}  {totals['member_count']}  {yuan(totals['member_fen'])}  "
                f"({t('Principal')} {yuan(totals['member_principal_fen'])} · {t('Bonus')} {yuan(totals['member_bonus_fen'])})",
                f"{t('Total')}  {yuan(totals['total_fen'])}",
                f"{t('Fapiao issued')}  {totals['fapiao_count']}  {yuan(totals['fapiao_fen'])}"]
        if totals["card_in_doubt"]:
            rows.append(t("Card payments in doubt: {n}. Check the card terminal.", n=totals["card_in_doubt"]))
        self.totals_text = app.fx("\n".join(rows))

    def close_day(self) -> None:
        app = App.get_running_app()
        self.busy = True

        def work():
            totals = close_day(app.cashier.store, app.today(), app.cashier.cashier, app.tz)
            out = app.print_layout("club_close", close_layout(totals, app.tr, lang=app.doc_lang,
                                                              cashier=app.cashier.cashier), totals["day"])
            return totals, out

        def done(res):
            totals, out = res
            self.busy = False
            self.show(totals)
            self.message = app.fx(app.tr("Day closed and printed.") if out.ok else app.tr(out.user_message))

        submit(work, done, lambda exc: setattr(self, "message", app.fx(_error_text(app, exc))))


class CashierApp(RoleApp):
    """The cashier's station: a :class:`~kiosk.club.device.ClubDevice` of role ``cashier`` for the
    calls, a :class:`pos.club.cashier.Cashier` for the bills, and its devices."""

    def __init__(self, device, cashier, *, language: str = "zh-Hans", card_reader=None, scanner_url: str = "",
                 wechat=None, printing=None, printer_url: str = "", venue: str = "", tz: str = "Asia/Shanghai",
                 card_timeout: float = 30.0, **kwargs):
        super().__init__(device, language, **kwargs)
        self.title = "onestop club - cashier"
        self.cashier = cashier
        self.card_reader = card_reader
        self.scanner_url = scanner_url
        self.wechat = wechat
        self.printing = printing
        self.printer_url = printer_url
        self.venue = venue
        self.tz = tz
        self.card_timeout = card_timeout
        self.pay_totals: dict[str, int] = {}              # room -> its bill so far (fen), for the pay calls

    @property
    def doc_lang(self) -> str:
        return self.lang

    def today(self) -> str:
        return datetime.now(timezone.utc).astimezone(ZoneInfo(self.tz)).date().isoformat()

    def build(self):
        _load_cashier_kv()
        self.sm = ScreenManager(transition=NoTransition())
        self.role_screen = CashierCalls(name="role")
        self.bill_screen = BillScreen(name="bill")
        self.sign_screen = SignScreen(name="sign")
        self.pin_screen = PinScreen(name="pin")
        self.fapiao_screen = FapiaoScreen(name="fapiao")
        self.close_screen = CloseScreen(name="close")
        for s in (self.role_screen, self.bill_screen, self.sign_screen, self.pin_screen, self.fapiao_screen,
                  self.close_screen):
            self.sm.add_widget(s)
        from kivy.core.window import Window

        self._rescale(Window, Window.size)
        Window.bind(size=self._rescale)
        self._status_ev = Clock.schedule_interval(lambda _dt: self._tick(), 1.0)
        self.role_screen.refresh()
        return self.sm

    def _tick(self) -> None:
        self._refresh()
        rooms = {c["room"] for c in self.device.current() if c["kind"] == "pay"}
        if rooms:                                          # the bill the butler's call brings
            submit(lambda: self._totals(rooms), self._got_totals, lambda exc: log.warning("cashier: %s", exc))
        if self.sm.current == "bill" and not self.bill_screen.busy:
            self.bill_screen.reload()                    # a fapiao issued, a payment settled by recovery

    def _totals(self, rooms) -> dict:
        from pos.club.bill import club_bill_lines

        out = {}
        for room in rooms:
            r = self.cashier.store.conn.execute(
                "SELECT res_id FROM club_reservations WHERE room = ? AND state = 'arrived' ORDER BY arrived_at DESC "
                "LIMIT 1", (room,)).fetchone()
            if r is not None:
                out[room] = sum(x["amount_fen"] for x in club_bill_lines(self.cashier.store, r[0]))
        return out

    def _got_totals(self, totals: dict) -> None:
        if totals != {k: self.pay_totals.get(k) for k in totals}:
            self.pay_totals.update(totals)
            self.role_screen.refresh()

    def go(self, name: str) -> None:
        self.sm.current = name
        if name == "role":
            self.role_screen.refresh()

    def open_bill(self, room: str, call_id: str = "") -> None:
        def done(bill):
            self.bill_screen.show(bill)
            self.go("bill")

        def failed(exc):
            log.warning("cashier: no bill for room %s: %s", room, exc)
            self.role_screen.message = self.fx(_error_text(self, exc))

        submit(lambda: self.cashier.open_for_room(room, call_id), done, failed)

    def print_layout(self, kind: str, layout, ref: str):
        """Print on the receipt printer through the platform's print journal (worker thread)."""
        return self.printing.print(kind, layout, printer_url=self.printer_url or None, ref=ref)

    def scan_code(self) -> str:
        """One code from the cashier's scanner (worker thread)."""
        from drivers.registry import open_device

        dev = open_device(self.scanner_url, "scanner")
        try:
            return dev.read_code(timeout=30)
        finally:
            dev.close()
