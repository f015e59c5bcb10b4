"""QR payments (WeChat Pay, Alipay, UnionPay QR) on the card payments' journal.

Two ways to pay (docs/payments.md, "QR payments"):

* **shown**: the kiosk asks the provider for a dynamic QR (WeChat ``NATIVE`` unified order,
  Alipay ``alipay.trade.precreate``, UnionPay ``txnSubType=07``), shows it, and polls the order
  until the patient's phone has paid it, or closes it;
* **scanned**: the patient shows the payment code of the wallet app and the kiosk's scanner reads
  it (WeChat micropay, Alipay ``alipay.trade.pay`` with ``scene=bar_code``, UnionPay
  ``txnSubType=06``); a reply "the payer is entering the password" is followed by polling.

The attempt is a row of ``payment_attempts`` like a card payment: ``intent`` (lazy), ``sent``
(flushed before the first byte of the HTTP call), ``waiting_card`` (the QR is on the screen or
the payer confirms on the phone), ``approved`` and ``posted`` (the purpose's poster in the same
transaction). The merchant order number sent to the provider is the attempt id without its dashes
(32 characters: WeChat's ``out_trade_no`` allows 32, Alipay 64, UnionPay ``orderId`` 40), so
recovery can always ask for *this* order. The terminal key is ``qr+<provider>:<device>``: one QR
payment per provider and device at a time. A lost reply leaves the attempt ``in_doubt``; it is
never sent again: the **order query** settles it (paid -> approved and posted; unknown or closed
-> aborted; still waiting -> closed first, then asked again), so nobody pays twice.

The HTTP adapters live in :mod:`sync.qrpay` (``pos`` has no network); they implement
:class:`QrGateway`. The payer's payment code is a bearer credential: it is sent once and never
stored or logged.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol

from drivers.errors import PaymentBlocked, PaymentInDoubt, TerminalBusy
from drivers.payment import NotSent
from pos.errors import DomainError

from .journal import Journal, Poster
from .locks import terminal_lock
from .service import InvalidAmount, PaymentOutcome, _check_amount, _say

__all__ = ["QrOrder", "QrGateway", "QrPaymentService", "provider_of_code", "PROVIDERS", "InvalidPaymentCode",
           "MSG_SCAN_QR", "MSG_CONFIRM_ON_PHONE", "MSG_CHECKING_QR"]

log = logging.getLogger(__name__)

PROVIDERS = ("wechat", "alipay", "unionpay")
MSG_SCAN_QR = "Scan the code with your phone to pay"
MSG_CONFIRM_ON_PHONE = "Please confirm the payment on your phone"
MSG_CHECKING_QR = "Checking an earlier QR payment"

# Payment-code formats the providers publish: WeChat 18 digits starting 10-15; Alipay 16-24
# digits starting 25-30; UnionPay 19 digits starting 62.
_CODE_RULES = (("wechat", re.compile(r"^1[0-5]\d{16}$")), ("alipay", re.compile(r"^(2[5-9]|30)\d{14,22}$")),
               ("unionpay", re.compile(r"^62\d{17}$")))


class InvalidPaymentCode(DomainError):
    user_message = "This is not a payment code. Please show the payment code of your wallet app."


def provider_of_code(code: str) -> str:
    """Which wallet a scanned payment code belongs to (:class:`InvalidPaymentCode` if none)."""
    code = (code or "").strip()
    for provider, rule in _CODE_RULES:
        if rule.match(code):
            return provider
    raise InvalidPaymentCode(f"scanned text of {len(code)} characters is no known payment code")


@dataclass(frozen=True)
class QrOrder:
    """What the provider says about one order (or one refund)."""

    state: str                        # paid | pending | closed | failed | unknown (no such order)
    transaction_id: str | None = None
    amount_fen: int | None = None
    reason: str = ""


class QrGateway(Protocol):
    """One provider's API (``sync.qrpay``). Every call raises :class:`NotSent` when nothing reached
    the provider and :class:`PaymentInDoubt` when the request went out and no usable reply came."""

    provider: str
    url: str

    def precreate(self, order_no: str, amount_fen: int, subject: str) -> str: ...       # the QR's text
    def micropay(self, order_no: str, amount_fen: int, subject: str, auth_code: str) -> QrOrder: ...
    def query(self, order_no: str) -> QrOrder: ...
    def close(self, order_no: str) -> None: ...
    def refund(self, order_no: str, refund_no: str, amount_fen: int, total_fen: int) -> QrOrder: ...


def order_no(attempt_id: str) -> str:
    return attempt_id.replace("-", "")


class QrPaymentService:
    """QR payments journalled in ``store``; ``gateways`` maps a provider to its :class:`QrGateway`.

    ``poll`` is the seconds between order queries while a QR is shown; ``wait`` how long the QR
    stays before the order is closed. ``sleep`` waits (an :class:`threading.Event`'s ``wait`` in
    the kiosk, so a cancel ends the wait at once)."""

    def __init__(self, store, gateways: dict[str, QrGateway], *, posters: dict[str, Poster] | None = None,
                 device: str = "kiosk", poll: float = 1.0, wait: float = 120.0, lock_wait: float = 2.0):
        self.store = store
        self.journal = Journal(store)
        self.gateways = dict(gateways)
        self.posters = dict(posters or {})
        self.device = device
        self.poll, self.wait, self.lock_wait = poll, wait, lock_wait

    def key(self, provider: str) -> str:
        return f"qr+{provider}:{self.device}"

    def gateway(self, provider: str) -> QrGateway:
        if provider not in self.gateways:
            raise DomainError(f"QR payment by {provider} is not configured",
                              user_message="This payment method is not available. Please choose another.")
        return self.gateways[provider]

    # -- public operations ----------------------------------------------------------------
    def pay_shown(self, amount_fen: int, *, provider: str, account: str, purpose: str = "deposit",
                  subject: str = "", on_qr: Callable[[str], None] | None = None, on_status=None,
                  cancel: threading.Event | None = None, **_ignored) -> PaymentOutcome:
        """Show a dynamic QR (``on_qr(text)``) and wait for the phone to pay it."""
        def call(gw, row, on_status):
            text = gw.precreate(order_no(row["attempt_id"]), amount_fen, subject or purpose)
            self.journal.transition(row["attempt_id"], "waiting_card", detail="qr shown")
            if on_qr is not None:
                on_qr(text)
            _say(on_status, MSG_SCAN_QR)
            return self._poll(gw, row, cancel)
        return self._operation(provider, "sale", amount_fen, account, purpose, None, call, on_status)

    def pay_scanned(self, amount_fen: int, *, auth_code: str, account: str, purpose: str = "deposit",
                    subject: str = "", on_status=None, cancel: threading.Event | None = None,
                    provider: str | None = None, **_ignored) -> PaymentOutcome:
        """Charge the payment code the scanner read (the provider follows from the code)."""
        provider = provider or provider_of_code(auth_code)

        def call(gw, row, on_status):
            res = gw.micropay(order_no(row["attempt_id"]), amount_fen, subject or purpose, auth_code.strip())
            if res.state == "pending":           # the payer confirms with a password on the phone
                self.journal.transition(row["attempt_id"], "waiting_card", detail="payer confirming")
                _say(on_status, MSG_CONFIRM_ON_PHONE)
                return self._poll(gw, row, cancel)
            return res
        return self._operation(provider, "sale", amount_fen, account, purpose, None, call, on_status)

    def refund(self, sale_id: str, amount_fen: int, *, on_status=None) -> PaymentOutcome:
        """Refund part or all of a posted QR payment to the payer's wallet (out_refund_no = the
        refund attempt's number: the provider refunds one number once)."""
        sale = self.journal.get(sale_id)
        provider = sale["brand"]
        if not sale["terminal"].startswith("qr+") or provider not in PROVIDERS:
            raise DomainError(f"payment {sale_id} is no QR payment")
        _check_amount(amount_fen)
        left = self.journal.refundable(sale_id)
        if amount_fen > left:
            raise InvalidAmount(f"refund of {amount_fen} fen is more than the {left} fen left on payment {sale_id}",
                                user_message="The refund is more than was paid.")

        def call(gw, row, _on_status):
            return gw.refund(sale["receipt_no"], order_no(row["attempt_id"]), amount_fen, sale["amount_fen"])
        return self._operation(provider, "refund", amount_fen, sale["account"], sale["purpose"], sale, call, on_status)

    def recover(self, provider: str | None = None, on_status=None) -> list[dict]:
        """Settle every unfinished QR attempt by asking the provider (at start, before each
        payment, on the counter's demand)."""
        report = []
        for p in ([provider] if provider else list(self.gateways)):
            with terminal_lock(self.store.path, self.key(p), self.lock_wait):
                report += self._recover(p, on_status)
        return report

    # -- the flow ---------------------------------------------------------------------------
    def _operation(self, provider, kind, amount_fen, account, purpose, original, call, on_status) -> PaymentOutcome:
        _check_amount(amount_fen)
        if not account:
            raise DomainError("a payment needs an account")
        gw = self.gateway(provider)
        if self.journal.blocked(account) and kind == "sale":
            raise PaymentBlocked(f"account {account} has a payment waiting for a supervisor")
        key = self.key(provider)
        with terminal_lock(self.store.path, key, self.lock_wait):
            self._recover(provider, on_status)
            if self.journal.pending(key):
                raise TerminalBusy(f"an earlier {provider} payment could not be checked yet")
            row = self.journal.create_intent(kind=kind, amount_fen=amount_fen, purpose=purpose, account=account,
                                             terminal=key, terminal_url=gw.url,
                                             original_id=original["attempt_id"] if original else None)
            aid = row["attempt_id"]
            self.journal.transition(aid, "sent", {"receipt_no": order_no(aid), "brand": provider})
            try:
                res = call(gw, row, on_status)
            except NotSent as exc:
                self.journal.transition(aid, "aborted", {"reason": f"not sent: {exc}"})
                raise
            except PaymentInDoubt as exc:
                self.journal.transition(aid, "in_doubt", {"reason": str(exc)[:300]})
                log.warning("%s payment %s in doubt (%s); asking the provider", provider, aid, exc)
                self._recover(provider, on_status)      # never resent: the order query settles it
                return PaymentOutcome.from_row(self.journal.get(aid))
            return PaymentOutcome.from_row(self._settle(self.journal.get(aid), res))

    def _poll(self, gw: QrGateway, row: dict, cancel: threading.Event | None) -> QrOrder:
        """Ask for the order until it is paid or over; past ``wait`` (or on cancel) close it and
        ask once more (the phone may have paid in between)."""
        no = order_no(row["attempt_id"])
        deadline = time.monotonic() + self.wait
        waiter = cancel or threading.Event()
        last = QrOrder("pending")
        while not waiter.is_set() and time.monotonic() < deadline:
            try:
                last = gw.query(no)
            except (NotSent, PaymentInDoubt) as exc:      # a query moves no money: ask again
                log.warning("order %s: query failed (%s); asking again", no, exc)
                last = QrOrder("pending")
            if last.state not in ("pending", "unknown"):   # Alipay knows a pre-created trade once scanned
                return last
            waiter.wait(self.poll)
        return self._close_and_ask(gw, no)

    @staticmethod
    def _close_and_ask(gw: QrGateway, no: str) -> QrOrder:
        try:
            gw.close(no)
        except (NotSent, PaymentInDoubt) as exc:
            raise PaymentInDoubt(f"order {no} could not be closed: {exc}") from exc
        res = gw.query(no)
        if res.state == "pending":
            raise PaymentInDoubt(f"order {no} still waits for payment after it was closed")
        return res

    def _settle(self, row: dict, res: QrOrder) -> dict:
        aid = row["attempt_id"]
        if res.state == "paid" and res.amount_fen is not None and res.amount_fen != row["amount_fen"]:
            reason = f"provider reports {res.amount_fen} fen, we asked {row['amount_fen']} fen"
            log.error("payment %s: %s", aid, reason)
            return self._to_supervisor(row, reason)
        to = {"paid": "approved", "failed": "declined"}.get(res.state, "aborted")
        fields = {"trace_no": res.transaction_id, "reason": res.reason or res.state, "result_code": 0 if to == "approved" else None}
        row = self.journal.transition(aid, to, fields)
        if to == "approved":
            poster = self.posters.get(row["purpose"])
            row = self.journal.transition(aid, "posted", also=(lambda tx, r: poster(tx, r)) if poster else None)
        return row

    def _to_supervisor(self, row: dict, reason: str) -> dict:
        aid = row["attempt_id"]
        if row["state"] != "in_doubt":
            row = self.journal.transition(aid, "in_doubt", {"reason": reason})
        return self.journal.transition(aid, "unresolved", {"reason": reason},
                                       also=lambda tx, r: self.journal.queue_for_supervisor(tx, r, reason))

    def _recover(self, provider: str, on_status=None) -> list[dict]:
        report = []
        gw = self.gateways.get(provider)
        for row in self.journal.pending(self.key(provider)):
            aid = row["attempt_id"]
            if row["state"] == "intent":
                self.journal.transition(aid, "aborted", {"reason": "never sent (stopped before sending)"})
                report.append({"attempt_id": aid, "action": "aborted", "state": "aborted"})
                continue
            _say(on_status, MSG_CHECKING_QR)
            if row["state"] != "in_doubt":
                row = self.journal.transition(aid, "in_doubt", {"reason": "interrupted (restart)"})
            try:
                if gw is None:
                    raise NotSent(f"no gateway configured for {provider}")
                if row["kind"] == "refund":
                    orig = self.journal.get(row["original_id"])   # same out_refund_no: refunded once
                    res = gw.refund(orig["receipt_no"], order_no(aid), row["amount_fen"], orig["amount_fen"])
                else:
                    res = gw.query(order_no(aid))
                    if res.state in ("pending", "unknown"):   # nobody can pay it any more: close it, ask again
                        res = self._close_and_ask(gw, order_no(aid))
            except (NotSent, PaymentInDoubt) as exc:
                log.warning("%s payment %s still in doubt: %s", provider, aid, exc)
                report.append({"attempt_id": aid, "action": "pending", "state": "in_doubt", "why": str(exc)})
                continue
            row = self._settle(row, res)
            log.warning("%s payment %s recovered as %s (provider: %s)", provider, aid, row["state"], res.state)
            report.append({"attempt_id": aid, "action": res.state, "state": row["state"],
                           "amount_fen": row["amount_fen"], "account": row["account"]})
        return report
