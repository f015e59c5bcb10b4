"""Discharge settlement at the counter (or at the bedside on a tablet): the insurance
pre-settlement (pooled / self-pay / deposits / refund or due), taking back the deposit receipts by
scanning them, the settlement, then the refund in cash or the collection, the settlement list and
the discharge."""

from __future__ import annotations

import logging

from kivy.app import App
from kivy.properties import BooleanProperty, DictProperty, ListProperty, StringProperty

from .base import N_, CounterScreen, ScanCatcher, yuan

__all__ = ["CounterDischargeScreen", "SCREEN"]

log = logging.getLogger(__name__)
VOID_NEEDS_SUPERVISOR = N_("These deposit receipts are not back: {receipts} ({amount}). Settling voids them: "
                          "the supervisor enters their PIN, then tap Settle anyway.")

_ = N_
BUTTONS = [_("Settle"), _("Settle anyway")]


class CounterDischargeScreen(CounterScreen):
    inpatient_no = StringProperty("")
    patient = StringProperty("")
    stage = StringProperty("")            # presettle | settled | balanced | done
    card_refund_ok = BooleanProperty(False)    # a surplus and card deposits left to take it
    figures = DictProperty({})            # the split shown: total, pooled, selfpay, deposits, refund, collect
    receipts = ListProperty([])           # issued deposit receipts: {receipt_no, amount_fen, scanned}
    need_supervisor = BooleanProperty(False)   # voiding receipts waits for the supervisor's PIN (site policy)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.scanner = ScanCatcher(self.on_scan)

    def on_pre_enter(self, *_):
        self.scanner.start()

    def on_leave(self, *_):
        self.scanner.stop()

    def prepare(self, inpatient_no: str = "", **_kw) -> None:
        self.reset()
        self.inpatient_no = inpatient_no
        self.load()

    def load(self) -> None:
        no = self.inpatient_no

        def read(d):
            info = d.patient(no)
            fig = d.pre_settle(no) if info["discharge"] == "scheduled" else None
            return info, fig

        self.call(read, self._show)

    def _show(self, got) -> None:
        info, fig = got
        self.patient = f"{info['name']}  {self.inpatient_no}"
        state = info["discharge"]
        if fig is not None:
            self.stage, self.figures = "presettle", fig
            scanned = {r["receipt_no"] for r in self.receipts if r["scanned"]}
            self.receipts = [{"receipt_no": r["receipt_no"], "amount_fen": r["amount_fen"],
                              "scanned": r["receipt_no"] in scanned}
                             for r in info["receipts"] if r["state"] == "issued"]
            self.say("Pre-settlement: check the figures, then scan the deposit receipts.")
        elif state == "settled":
            acc = info["account"]
            bal = acc["ledger_balance_fen"]
            self.stage = "settled"
            self.figures = dict(self.figures, refund_fen=max(bal, 0), collect_fen=max(-bal, 0))
        elif state in ("balanced", "list_printed"):
            self.stage = "balanced"
        elif info["admission"]["state"] == "discharged":
            self.stage = "done"
        else:
            self.stage = ""
            self.say("The discharge is not scheduled yet, or the charges are not locked.", error=True)
        self._receipt_rows()

    def on_figures(self, _w, fig) -> None:
        self.card_refund_ok = bool(fig.get("refund_fen")) and bool(fig.get("card_refundable_fen"))
        for key in ("total_fen", "pooled_fen", "selfpay_fen", "acct_fen", "cash_fen", "deposits_fen", "refund_fen",
                    "collect_fen"):
            w = self.ids.get(f"fig_{key}")
            if w is not None:
                w.value = yuan(fig[key]) if key in fig else "-"

    def on_lang(self) -> None:
        self._receipt_rows()

    def _receipt_rows(self) -> None:
        app = App.get_running_app()
        t = lambda m: app.t(m, app.lang)  # noqa: E731
        rows = []
        for r in self.receipts:
            text = app.fx(f"{r['receipt_no']}  {yuan(r['amount_fen'])}  ")
            if r["scanned"]:
                rows.append(self.line(text + t("Taken back"), size=22))
            else:       # a receipt that will not scan is taken back by hand
                rows.append(self.row(text + t("Not yet scanned"),
                                     [(t("Mark as taken back"), lambda no=r["receipt_no"]: self.on_scan(no))]))
        self.fill(self.ids.receipts, rows)

    # -- receipts back -----------------------------------------------------------------------
    def on_scan(self, code: str) -> None:
        if self.stage != "presettle":
            return

        def ok(r):
            self.receipts = [dict(x, scanned=x["scanned"] or x["receipt_no"] == r["receipt_no"]) for x in self.receipts]
            self.say("Receipt {receipt} taken back.", receipt=r["receipt_no"])
            self._receipt_rows()

        self.call(lambda d: d.take_back(self.inpatient_no, code), ok)

    def missing(self) -> int:
        return sum(1 for r in self.receipts if not r["scanned"])

    # -- settle, then refund or collect, then finish -------------------------------------------
    def settle(self, force: bool = False, supervisor: str = "") -> None:
        left = [r for r in self.receipts if not r["scanned"]]
        named = {"receipts": ", ".join(r["receipt_no"] for r in left), "amount": yuan(sum(r["amount_fen"] for r in left))}
        policy = App.get_running_app().site.get("hospital", "void_receipts_supervisor")
        if left and not force:
            self.need_supervisor = bool(policy)
            self.say(VOID_NEEDS_SUPERVISOR if policy else
                     "These deposit receipts are not back: {receipts} ({amount}). Settling voids them. "
                     "Scan them, mark them as taken back, or tap Settle anyway to void them.", error=True, **named)
            self.ids.settle.text_key = "Settle anyway"
            self._force = True
            return
        if left and policy and not supervisor:
            self._ask_supervisor(named)
            return
        if left:
            log.warning("discharge %s: settled with deposit receipts not taken back, voided: %s (%s)%s",
                        self.inpatient_no, named["receipts"], named["amount"],
                        f"; approved by supervisor {supervisor}" if supervisor else "")

        def done(st):
            self.figures = dict(self.figures, **st)
            self.stage = "settled"
            self.say("Settled. Refund {refund} / collect {collect}.", refund=yuan(st["refund_fen"]),
                     collect=yuan(st["collect_fen"]))
            if not st["refund_fen"] and not st["collect_fen"]:
                self.stage = "balanced"

        def work(d):
            st = d.settle(self.inpatient_no)
            return dict(st, card_refundable_fen=sum(p["left_fen"] for p in d.card_deposits(self.inpatient_no)))

        self.call(work, done)

    def press_settle(self) -> None:
        self.settle(force=getattr(self, "_force", False))

    def _ask_supervisor(self, named: dict) -> None:
        """The site's policy: voiding receipts takes the supervisor's own PIN (their login, else the
        shared supervisor PIN), typed in the field under the receipts."""
        from pos.staff import verify_pin

        from ..screens.login import supervisor_logins

        app = App.get_running_app()
        pin = self.ids.void_pin.text.strip()
        stored = supervisor_logins(app.site)
        if not stored:
            self.say("No supervisor PIN is configured. Technician: set staff.supervisor_pin.", error=True)
            return
        if not pin:
            self.say(VOID_NEEDS_SUPERVISOR, error=True, **named)
            return

        def checked(who):
            self.ids.void_pin.text = ""
            if not who:
                log.warning("discharge %s: wrong supervisor PIN for voiding receipts", self.inpatient_no)
                self.say("Wrong supervisor PIN.", error=True)
                return
            self.need_supervisor = False
            self.settle(force=True, supervisor=who)

        self.call(lambda _d: next((name for name, h in stored if verify_pin(pin, h)), None), checked)

    def refund(self) -> None:
        amount = self.figures.get("refund_fen", 0)

        def done(_r):
            self.stage = "balanced"
            self.say("Refunded {amount} in cash. Hand it to the patient.", amount=yuan(amount))

        self.call(lambda d: d.refund_cash(self.inpatient_no, amount), done)

    def refund_card(self) -> None:
        """Back to the card(s) the deposits came from; what they cannot take stays for cash."""
        amount = self.figures.get("refund_fen", 0)

        def done(res):
            if res.left_fen == 0:
                self.stage = "balanced"
                self.say("Refunded {amount} to the card.", amount=yuan(res.refunded_fen))
            else:
                self.figures = dict(self.figures, refund_fen=res.left_fen, card_refundable_fen=0)
                self.say("{amount} could not go back to a card; refund it in cash.", error=True,
                         amount=yuan(res.left_fen))

        self.call(lambda d: d.refund_card(self.inpatient_no, amount), done)

    def collect(self) -> None:
        App.get_running_app().go("counter_deposit", inpatient_no=self.inpatient_no, purpose="collection",
                                 amount_fen=self.figures.get("collect_fen", 0))

    def finish(self) -> None:
        def done(out):
            self.stage = "done"
            self.say_printed(out, _("Discharged. The settlement list is printing."))

        self.call(lambda d: d.finish_discharge(self.inpatient_no), done)

    def reset(self) -> None:
        super().reset()
        self.inpatient_no = self.patient = self.stage = ""
        self.figures, self.receipts, self._force = {}, [], False
        self.need_supervisor = False
        if "void_pin" in self.ids:
            self.ids.void_pin.text = ""
        if "receipts" in self.ids:
            self.ids.receipts.clear_widgets()


SCREEN = CounterDischargeScreen
KV_FILE = "counter/discharge"
