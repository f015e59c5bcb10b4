"""Card payments with a crash-safe journal: the API the counter and kiosk screens call.

Call from a worker thread; ``on_status`` receives :class:`drivers.payment.StatusMessage` objects
(message ids from the catalogues: "Insert, swipe or tap your card", "Enter your PIN on the card
terminal" ...) for the live screen text.

Order of events for one payment (the rules of docs/payments.md):

1. refuse amounts <= 0 and accounts with an unresolved payment (:class:`PaymentBlocked`);
2. take the terminal lock, then **recover** every unfinished attempt on that terminal;
3. commit the intent row (a database index allows one active attempt per terminal);
4. connect (and register); learn the terminal's last trace number if we do not know it (we do not
   after a result that carried no trace number: a bare ``06 1E`` may have used one up);
5. commit ``sent``, then send the command; commit ``waiting_card`` at the first status;
6. commit the outcome; an approval is then posted (the purpose's poster runs in that transaction).

A timeout, a lost connection or garbage after step 5 leaves the attempt ``in_doubt``; it is never
sent again. Recovery asks the terminal for its last transaction (repeat receipt) and matches it
with the attempt by trace number (the one after the baseline), amount and result.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Callable

from drivers.errors import DeviceError, PaymentBlocked, PaymentError, PaymentInDoubt, TerminalBusy
from drivers.payment import NotSent, PaymentResult, StatusCallback, StatusMessage
from drivers.registry import check_url, open_device
from drivers.url import parse_url
from pos.errors import DomainError, InvalidTransition, StoreError
from pos.ids import utcnow_iso
from pos.store import Store, Tx

from .journal import Journal, Poster
from .locks import terminal_lock

__all__ = ["PaymentService", "PaymentOutcome", "InvalidAmount", "terminal_key", "MSG_CONNECTING", "MSG_RECOVERING"]

log = logging.getLogger(__name__)

MSG_CONNECTING = "Connecting to the card terminal"
MSG_RECOVERING = "Checking an earlier card payment"


class InvalidAmount(DomainError):
    user_message = "Please enter an amount greater than zero."


def terminal_key(url: str) -> str:
    u = parse_url(url)
    return f"{u.scheme}://{u.netloc}{u.path}"


#: what a failing store raises (disk full, I/O error, read-only, closed)
_STORE_FAILURES = (sqlite3.Error, StoreError, OSError)


def _next_trace(trace: str) -> str:
    return f"{int(trace) % 999999 + 1:06d}"


@dataclass
class PaymentOutcome:
    """What one operation ended as; :meth:`as_json` is the CLI's ``--json`` object."""

    status: str                       # approved | declined | aborted | in_doubt | posted | reversed ...
    attempt_id: str
    amount_fen: int
    kind: str = "sale"
    receipt_no: str | None = None
    trace_no: str | None = None
    terminal_id: str | None = None
    auth_code: str | None = None
    masked_pan: str | None = None
    brand: str | None = None
    reason: str = ""
    receipt_lines: list[str] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: dict, lines: list[str] | None = None) -> "PaymentOutcome":
        return cls(status=row["state"], attempt_id=row["attempt_id"], amount_fen=row["amount_fen"], kind=row["kind"],
                   receipt_no=row.get("receipt_no"), trace_no=row.get("trace_no"), terminal_id=row.get("terminal_id"),
                   auth_code=row.get("auth_code"), masked_pan=row.get("masked_pan"), brand=row.get("brand"),
                   reason=row.get("reason") or "", receipt_lines=list(lines or []))

    @property
    def public_status(self) -> str:
        return {"posted": "approved", "intent": "aborted", "sent": "in_doubt", "waiting_card": "in_doubt",
                "unresolved": "in_doubt"}.get(self.status, self.status)

    def as_json(self) -> dict:
        return {
            "status": self.public_status, "amount_fen": self.amount_fen, "attempt_id": self.attempt_id,
            "receipt_no": self.receipt_no, "trace_no": self.trace_no, "terminal_id": self.terminal_id,
            "auth_code": self.auth_code,
            "card": {"masked_pan": self.masked_pan, "brand": self.brand} if self.masked_pan else None,
        }


class PaymentService:
    """Payments on card terminals, journalled in ``store``.

    ``posters`` maps a purpose (``"deposit"``, ``"settlement"`` ...) to ``fn(tx, attempt_row)``,
    run inside the transaction that marks the payment posted (write the deposit receipt there).
    ``recovered_approval`` says what recovery does with an approval found on the terminal:
    ``"post"`` (default: the money was taken, book it) or ``"reverse"`` (give it back).
    """

    def __init__(self, store: Store, *, posters: dict[str, Poster] | None = None,
                 opener: Callable[[str], object] | None = None, recovered_approval: str = "post",
                 busy_wait: float = 10.0, lock_wait: float = 2.0):
        if recovered_approval not in ("post", "reverse"):
            raise ValueError("recovered_approval must be 'post' or 'reverse'")
        self.store = store
        self.journal = Journal(store)
        self.posters = dict(posters or {})
        self._default_opener = opener is None
        self.opener = opener or (lambda url: open_device(url, "payment_terminal"))
        self.recovered_approval = recovered_approval
        self.busy_wait = busy_wait
        self.lock_wait = lock_wait
        self.probe: Callable[[str], None] | None = None   # test hook: called at each step

    # -- public operations ----------------------------------------------------------------
    def pay(self, amount_fen: int, *, terminal_url: str, account: str, purpose: str = "deposit",
            on_status: StatusCallback | None = None) -> PaymentOutcome:
        return self._operation("sale", amount_fen, terminal_url, account, purpose, None, on_status)

    def preauthorise(self, amount_fen: int, *, terminal_url: str, account: str, purpose: str = "deposit",
                     on_status: StatusCallback | None = None) -> PaymentOutcome:
        return self._operation("preauth", amount_fen, terminal_url, account, purpose, None, on_status)

    def book(self, preauth_id: str, amount_fen: int, *, on_status: StatusCallback | None = None) -> PaymentOutcome:
        hold = self.journal.get(preauth_id)
        if hold["kind"] != "preauth" or hold["state"] != "posted":
            raise InvalidTransition(f"payment {preauth_id} is not an open pre-authorisation")
        if amount_fen > hold["amount_fen"]:
            raise InvalidAmount(f"booking {amount_fen} fen is more than the {hold['amount_fen']} fen held")
        return self._operation("booking", amount_fen, hold["terminal_url"], hold["account"], hold["purpose"],
                               hold, on_status)

    def refund(self, sale_id: str, amount_fen: int, *, terminal_url: str | None = None,
               on_status: StatusCallback | None = None) -> PaymentOutcome:
        """Refund part or all of a posted card payment (never more than is left of it)."""
        sale = self.journal.get(sale_id)
        left = self.journal.refundable(sale_id)
        _check_amount(amount_fen)
        if amount_fen > left:
            raise InvalidAmount(f"refund of {amount_fen} fen is more than the {left} fen left on payment {sale_id}",
                                user_message="The refund is more than was paid by card.")
        return self._operation("refund", amount_fen, terminal_url or sale["terminal_url"], sale["account"],
                               sale["purpose"], sale, on_status)

    def reverse(self, attempt_id: str, *, on_status: StatusCallback | None = None) -> PaymentOutcome:
        """Cancel a payment of the current terminal day (a new intent, by receipt number)."""
        orig = self.journal.get(attempt_id)
        if orig["state"] not in ("approved", "posted") or orig["kind"] not in ("sale", "booking", "preauth"):
            raise InvalidTransition(f"payment {attempt_id} ({orig['kind']}, {orig['state']}) cannot be reversed")
        refunds = self.journal.rows("original_id = ? AND kind IN ('refund', 'booking') AND state NOT IN "
                                    "('declined', 'aborted')", (attempt_id,))
        if refunds:
            raise InvalidTransition(f"payment {attempt_id} has refunds or bookings against it and cannot be reversed")
        return self._operation("reversal", orig["amount_fen"], orig["terminal_url"], orig["account"],
                               orig["purpose"], orig, on_status)

    def end_of_day(self, terminal_url: str) -> dict:
        key = terminal_key(terminal_url)
        with terminal_lock(self.store.path, key, self.lock_wait):
            report = self._recover_terminal(key, terminal_url)
            if self.journal.pending(key):
                raise PaymentInDoubt("an earlier card payment on this terminal is not yet recovered")
            term = self._open(terminal_url)
            try:
                res = term.end_of_day()
            except (NotSent, TerminalBusy):
                raise
            except PaymentInDoubt as exc:  # nothing is charged by an end-of-day; say so plainly
                raise DeviceError(f"end-of-day on {terminal_url} did not finish: {exc}") from exc
            finally:
                term.close()
            with self.store.transaction() as tx:
                tx.emit("payment.end_of_day", {"terminal": key, "ok": res.ok, "total_fen": res.total_fen,
                                               "count": res.count, "terminal_id": res.terminal_id})
        return {"ok": res.ok, "total_fen": res.total_fen, "count": res.count, "terminal_id": res.terminal_id,
                "reason": res.reason, "recovered": report, "receipt_lines": res.receipt_lines}

    def recover(self, terminal_url: str | None = None) -> list[dict]:
        """Recover unfinished attempts (on one terminal, or on every terminal in the journal)."""
        report = self._post_approved()
        if terminal_url is not None:
            urls = {terminal_key(terminal_url): terminal_url}
        else:
            urls = {}
            for row in self.journal.pending():
                urls.setdefault(row["terminal"], row["terminal_url"])
        for key, url in urls.items():
            with terminal_lock(self.store.path, key, self.lock_wait):
                report += self._recover_terminal(key, url)
        return report

    def supervisor_queue(self) -> list[dict]:
        return self.journal.supervisor_queue()

    def resolve(self, attempt_id: str, resolution: str, *, supervisor: str, note: str = "") -> PaymentOutcome:
        """A supervisor's decision on an unresolved attempt: ``charged`` (post it) or ``not_charged``."""
        if resolution not in ("charged", "not_charged"):
            raise ValueError("resolution must be 'charged' or 'not_charged'")
        if not supervisor:
            raise DomainError("a supervisor name is required")
        row = self.journal.get(attempt_id)
        if row["state"] != "unresolved":
            raise InvalidTransition(f"payment {attempt_id} is {row['state']}, not waiting for a supervisor")

        def close(tx: Tx, _row: dict) -> None:
            tx.execute("UPDATE payment_supervisor_queue SET resolved_at = ?, resolution = ?, resolved_by = ?, "
                       "note = ? WHERE attempt_id = ?", (utcnow_iso(), resolution, supervisor, note, attempt_id))

        to = "approved" if resolution == "charged" else "aborted"
        row = self.journal.transition(attempt_id, to, {"reason": f"supervisor {supervisor}: {resolution}"},
                                      also=close, detail=f"resolved by {supervisor}")
        if to == "approved":
            row = self._post(row)
        return PaymentOutcome.from_row(row)

    # -- the flow -------------------------------------------------------------------------
    def _step(self, name: str) -> None:
        if self.probe is not None:
            self.probe(name)

    def _open(self, url: str):
        try:
            return self.opener(url)
        except DeviceError as exc:
            raise NotSent(f"{url}: {exc}") from exc

    def _operation(self, kind, amount_fen, terminal_url, account, purpose, original, on_status) -> PaymentOutcome:
        _check_amount(amount_fen)
        if not account:
            raise DomainError("a payment needs an account")
        if self.journal.blocked(account):
            raise PaymentBlocked(f"account {account} has a card payment waiting for a supervisor")
        if self._default_opener:
            check_url(terminal_url, "payment_terminal")    # a bad URL is refused before any intent
        key = terminal_key(terminal_url)
        with terminal_lock(self.store.path, key, self.lock_wait):
            self._post_approved()
            self._recover_terminal(key, terminal_url, on_status)
            if self.journal.pending(key):
                raise TerminalBusy("an earlier card payment on this terminal could not be checked yet; "
                                   "try again when the terminal is reachable")
            if self.journal.blocked(account):
                raise PaymentBlocked(f"account {account} has a card payment waiting for a supervisor")
            return self._execute(kind, amount_fen, key, terminal_url, account, purpose, original, on_status)

    def _execute(self, kind, amount_fen, key, url, account, purpose, original, on_status) -> PaymentOutcome:
        try:
            row = self.journal.create_intent(kind=kind, amount_fen=amount_fen, purpose=purpose, account=account,
                                             terminal=key, terminal_url=url,
                                             original_id=original["attempt_id"] if original else None)
        except _STORE_FAILURES as exc:
            raise StoreError(f"the payment could not be recorded, so it was not started (nothing was charged): "
                             f"{exc}") from exc
        aid = row["attempt_id"]
        sent = []
        try:
            return self._run(aid, row, kind, amount_fen, key, url, original, on_status, sent)
        except _STORE_FAILURES as exc:
            if not sent:
                raise StoreError(f"payment {aid} could not be recorded before it was sent (nothing was charged): "
                                 f"{exc}") from exc
            # bytes reached the terminal: the card may be charged. Never a clean failure, never
            # retried here; the row stays active and recovery asks the terminal once the store works.
            log.error("payment %s in doubt: the store failed after the command reached the terminal %s: %s",
                      aid, url, exc)
            raise PaymentInDoubt(f"payment {aid} is in doubt: the terminal may have charged the card, but the "
                                 f"store could not record the result ({exc}); recover it at the counter") from exc

    def _run(self, aid, row, kind, amount_fen, key, url, original, on_status, sent) -> PaymentOutcome:
        self._step("intent")
        _say(on_status, MSG_CONNECTING)
        term = None
        try:
            try:
                term = self._open(url)
                if not row["baseline_known"]:
                    last = term.last_receipt()      # non-financial: learn where the terminal stands
                    trace = last.trace_no if last else None
                    self.journal.set_baseline(aid, True, trace)
                    with self.store.transaction(durable=False) as tx:   # flushed by the commit of sent
                        Journal.note_terminal(tx, key, url, trace, last.terminal_id if last else None)
                self._step("baseline")
            except (NotSent, TerminalBusy, PaymentInDoubt) as exc:
                self.journal.transition(aid, "aborted", {"reason": f"not sent: {exc}"})
                raise NotSent(str(exc)) if not isinstance(exc, TerminalBusy) else exc
            self.journal.transition(aid, "sent")
            sent.append(True)               # from here on a store failure leaves the payment in doubt
            self._step("sent")
            waiting = []

            def status(msg: StatusMessage) -> None:
                if not waiting:
                    waiting.append(True)
                    self.journal.transition(aid, "waiting_card", detail=f"status {msg.code}")
                    self._step("waiting_card")
                _say(on_status, msg.message_id, msg.code)

            try:
                res = self._send(term, kind, amount_fen, original, status)
            except (NotSent, TerminalBusy) as exc:
                self.journal.transition(aid, "aborted", {"reason": f"refused by the terminal: {exc}"})
                raise
            except PaymentInDoubt as exc:
                self.journal.transition(aid, "in_doubt", {"reason": str(exc)})
                self._step("in_doubt")
                if term is not None:
                    term.close()
                    term = None
                self._recover_terminal(key, url, on_status)   # ask at once; never resend
                return PaymentOutcome.from_row(self.journal.get(aid))
            self._step("result")
            row = self._record_result(aid, res)
            self._step("recorded")
            if row["state"] == "approved":
                row = self._post(row)
                self._step("posted")
            return PaymentOutcome.from_row(row, res.receipt_lines)
        finally:
            if term is not None:
                term.close()

    @staticmethod
    def _send(term, kind, amount_fen, original, status) -> PaymentResult:
        if kind == "sale":
            return term.authorise(amount_fen, on_status=status)
        if kind == "refund":
            return term.refund(amount_fen, on_status=status)
        if kind == "preauth":
            return term.preauthorise(amount_fen, on_status=status)
        if kind == "booking":
            return term.book(original["receipt_no"], amount_fen, on_status=status)
        if kind == "reversal":
            return term.reverse(original["receipt_no"], on_status=status)
        raise ValueError(kind)

    def _record_result(self, aid: str, res: PaymentResult) -> dict:
        row = self.journal.get(aid)
        fields = {"trace_no": res.trace_no, "receipt_no": res.receipt_no, "terminal_id": res.terminal_id,
                  "auth_code": res.auth_code, "masked_pan": res.masked_pan, "brand": res.brand,
                  "result_code": res.result_code, "reason": res.reason}
        to = res.outcome
        if to == "approved" and res.amount_fen is not None and res.amount_fen != row["amount_fen"]:
            # the terminal charged something else than we asked: a person must look at it
            log.error("payment %s: terminal reports %s fen, we asked %s fen", aid, res.amount_fen, row["amount_fen"])

        def also(tx: Tx, r: dict) -> None:
            if res.trace_no:
                Journal.note_terminal(tx, r["terminal"], r["terminal_url"], res.trace_no, res.terminal_id)
            else:
                # a bare 06 1E (decline, host refusal, abort) may have used up a trace number we
                # never saw: the next attempt must learn the terminal's position again (06 20)
                # before anything is judged against it
                _forget_baseline(tx, r["terminal"])
            if to == "approved" and r["kind"] == "reversal" and r["original_id"]:
                self._mark_reversed(tx, r)

        return self.journal.transition(aid, to, fields, also=also)

    def _mark_reversed(self, tx: Tx, reversal: dict) -> None:
        orig = self.journal.get(reversal["original_id"])
        if orig["state"] in ("approved", "posted"):
            now = utcnow_iso()
            tx.execute("UPDATE payment_attempts SET state = 'reversed', updated_at = ? WHERE attempt_id = ?",
                       (now, orig["attempt_id"]))
            tx.insert("payment_events", {"attempt_id": orig["attempt_id"], "at": now, "from_state": orig["state"],
                                         "to_state": "reversed", "detail": f"by {reversal['attempt_id']}"})
            orig["state"] = "reversed"
            self.journal._emit(tx, orig, "reversed")

    def _post(self, row: dict) -> dict:
        poster = self.posters.get(row["purpose"])

        def also(tx: Tx, r: dict) -> None:
            if poster is not None:
                poster(tx, r)

        return self.journal.transition(row["attempt_id"], "posted", also=also)

    def _post_approved(self) -> list[dict]:
        report = []
        for row in self.journal.rows("state = 'approved'"):
            if self.recovered_approval == "reverse" and row["kind"] in ("sale", "booking"):
                continue  # reversed by _recover_terminal, which holds the terminal
            row = self._post(row)
            report.append({"attempt_id": row["attempt_id"], "action": "posted", "state": row["state"]})
        return report

    # -- recovery ---------------------------------------------------------------------------
    def _recover_terminal(self, key: str, url: str, on_status: StatusCallback | None = None) -> list[dict]:
        report = []
        for row in self.journal.pending(key):
            aid = row["attempt_id"]
            if row["state"] == "intent":
                self.journal.transition(aid, "aborted", {"reason": "never sent (stopped before sending)"})
                report.append({"attempt_id": aid, "action": "aborted", "state": "aborted", "why": "never sent"})
                continue
            _say(on_status, MSG_RECOVERING)
            if row["state"] != "in_doubt":
                row = self.journal.transition(aid, "in_doubt", {"reason": "interrupted (restart)"})
            self._step("recover_in_doubt")
            try:
                last = self._last_receipt(url)
            except (NotSent, TerminalBusy, PaymentInDoubt) as exc:
                log.warning("payment %s still in doubt: terminal %s not answering: %s", aid, url, exc)
                report.append({"attempt_id": aid, "action": "pending", "state": "in_doubt", "why": str(exc)})
                continue
            self._step("recover_queried")
            report.append(self._decide(row, last))
        if self.recovered_approval == "reverse":
            for row in self.journal.rows("state = 'approved' AND terminal = ? AND kind IN ('sale', 'booking')", (key,)):
                try:
                    out = self._execute("reversal", row["amount_fen"], key, url, row["account"], row["purpose"], row, None)
                    report.append({"attempt_id": row["attempt_id"], "action": "reversal", "state": out.status})
                except PaymentError as exc:
                    report.append({"attempt_id": row["attempt_id"], "action": "pending", "state": "approved",
                                   "why": str(exc)})
        return report

    def _last_receipt(self, url: str) -> PaymentResult | None:
        deadline = time.monotonic() + self.busy_wait
        while True:
            term = self._open(url)
            try:
                return term.last_receipt()
            except TerminalBusy:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
            finally:
                term.close()

    def _decide(self, row: dict, last: PaymentResult | None) -> dict:
        aid = row["attempt_id"]
        base_known, base = bool(row["baseline_known"]), row["baseline_trace"]
        trace = last.trace_no if last else None
        if not base_known:
            verdict, why = "unresolved", "the terminal's position before this attempt is unknown"
        elif trace == base:
            verdict, why = "aborted", "the terminal has no transaction after ours was sent: nothing charged"
        elif trace is not None and (trace == _next_trace(base) if base else True):
            if last.amount_fen == row["amount_fen"]:
                verdict = "approved" if last.result_code in (0, None) else "declined"
                why = f"terminal's last transaction {trace} matches (amount, trace)"
            else:
                verdict, why = "unresolved", f"terminal's transaction {trace} is for {last.amount_fen} fen"
        else:
            verdict, why = "unresolved", f"terminal's last trace {trace} does not follow {base}"
        fields = {"reason": why}
        if verdict in ("approved", "declined"):
            fields.update({"trace_no": last.trace_no, "receipt_no": last.receipt_no, "terminal_id": last.terminal_id,
                           "auth_code": last.auth_code, "masked_pan": last.masked_pan, "brand": last.brand,
                           "result_code": last.result_code})

        def also(tx: Tx, r: dict) -> None:
            if trace is not None:
                Journal.note_terminal(tx, r["terminal"], r["terminal_url"], trace, last.terminal_id)
            if verdict == "unresolved":
                self.journal.queue_for_supervisor(tx, r, why)
            if verdict == "approved" and r["kind"] == "reversal" and r["original_id"]:
                self._mark_reversed(tx, r)

        row = self.journal.transition(aid, verdict, fields, also=also, detail="recovery")
        if verdict == "approved" and (self.recovered_approval == "post" or row["kind"] not in ("sale", "booking")):
            row = self._post(row)
        log.warning("payment %s recovered as %s: %s", aid, row["state"], why)
        return {"attempt_id": aid, "action": verdict, "state": row["state"], "why": why,
                "amount_fen": row["amount_fen"], "account": row["account"]}


def _forget_baseline(tx: Tx, terminal: str) -> None:
    tx.execute("UPDATE payment_terminals SET known = 0, updated_at = ? WHERE terminal = ?", (utcnow_iso(), terminal))
    log.info("terminal %s: result without a trace number; its trace baseline will be learnt again", terminal)


def _check_amount(amount_fen) -> None:
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise InvalidAmount(f"amount must be a whole number of fen greater than 0, got {amount_fen!r}")


def _say(cb: StatusCallback | None, message_id: str, code: int | None = None) -> None:
    if cb is not None:
        try:
            cb(StatusMessage(message_id, code))
        except Exception:
            log.exception("status callback failed")
