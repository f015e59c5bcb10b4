"""A deposit at the counter: by card (live terminal status) or in cash (tendered, change, the
drawer); then the deposit receipt (and, for the first deposit, the wristband) print."""

from __future__ import annotations

from kivy.app import App
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from .base import N_, CounterScreen, fen_from_text, yuan

__all__ = ["CounterDepositScreen", "SCREEN", "OUTCOME_MSGIDS"]

_ = N_
OUTCOME_MSGIDS = {
    "declined": _("The card was declined. No money was taken."),
    "aborted": _("The card payment was cancelled. No money was taken."),
    "in_doubt": _("The card payment could not be confirmed. It is in the queue of payments in doubt."),
    "unresolved": _("The card payment could not be confirmed. It is in the queue of payments in doubt."),
}


class CounterDepositScreen(CounterScreen):
    inpatient_no = StringProperty("")
    patient = StringProperty("")
    method = StringProperty("card")          # card | cash
    change_fen = NumericProperty(-1)         # -1: not enough tendered / nothing typed
    done = BooleanProperty(False)
    purpose = StringProperty("deposit")      # deposit | collection (after settlement)
    fixed_fen = NumericProperty(0)           # a collection is exactly the amount owed

    def prepare(self, inpatient_no: str = "", purpose: str = "deposit", amount_fen: int = 0, **_kw) -> None:
        self.reset()
        self.inpatient_no, self.purpose, self.fixed_fen = inpatient_no, purpose, amount_fen
        self.ids.amount.disabled = bool(amount_fen)
        if amount_fen:
            self.ids.amount.text = f"{amount_fen // 100}.{amount_fen % 100:02d}"

        def shown(info):
            self.patient = f"{info['name']}  {inpatient_no}"
            if not amount_fen and info["account"]["deposit_fen"] == 0 and info["suggested_deposit_fen"]:
                f = info["suggested_deposit_fen"]
                self.ids.amount.text = f"{f // 100}.{f % 100:02d}"

        self.call(lambda d: d.patient(inpatient_no), shown)

    def set_method(self, method: str) -> None:
        self.method = method
        self.update_change()

    def update_change(self) -> None:
        due, given = fen_from_text(self.ids.amount.text), fen_from_text(self.ids.tendered.text)
        self.change_fen = given - due if due and given and given >= due else -1

    def pay(self) -> None:
        amount = fen_from_text(self.ids.amount.text)
        if amount is None:
            self.say("Please enter an amount greater than zero.", error=True)
            return
        no = self.inpatient_no
        if self.method == "card":
            self.say("Connecting to the card terminal")
            cb = self.status_callback()
            fn = (lambda d: d.deposit_card(no, amount, on_status=cb)) if self.purpose == "deposit" else \
                (lambda d: d.collect_card(no, amount, on_status=cb))
        else:
            tendered = fen_from_text(self.ids.tendered.text)
            if tendered is None or tendered < amount:
                self.say("The cash given is less than the amount due.", error=True)
                return
            fn = (lambda d: d.deposit_cash(no, amount, tendered)) if self.purpose == "deposit" else \
                (lambda d: d.collect_cash(no, amount, tendered))
        self.call(fn, self._paid)

    def _paid(self, res) -> None:
        if not res.ok:
            self.say(OUTCOME_MSGIDS.get(res.status, OUTCOME_MSGIDS["aborted"]), error=True)
            return
        self.done = True
        if res.method == "cash":
            self.change_fen = res.change_fen
            msg = _("Received {amount}. Give change {change}. Receipt {receipt}.")
        else:
            msg = _("Received {amount} by card. Receipt {receipt}.")
        kw = {"amount": yuan(res.amount_fen), "change": yuan(res.change_fen), "receipt": res.receipt_no or "-"}
        if res.prints:
            self.say_printed(res.prints, msg, **kw)
        else:
            self.say(msg, **kw)

    def finish(self) -> None:
        target = "counter_discharge" if self.purpose == "collection" else "counter_patient"
        App.get_running_app().go(target, inpatient_no=self.inpatient_no)

    def reset(self) -> None:
        super().reset()
        self.inpatient_no = self.patient = ""
        self.method, self.change_fen, self.done, self.purpose, self.fixed_fen = "card", -1, False, "deposit", 0
        if "amount" in self.ids:
            self.ids.amount.text = self.ids.tendered.text = ""
            self.ids.amount.disabled = False


SCREEN = CounterDepositScreen
KV_FILE = "counter/deposit"
