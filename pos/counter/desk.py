"""The counter's operations, each one call from a worker thread.

``CounterDesk(site, cashier, lang)`` composes the hospital service, card payments, the cash
drawer and the print journal of a :class:`pos.site.Site`. Money is fen; each operation commits
in the domain's own transactions and prints through the journal (a printer fault never loses the
money: the job stays in the journal for a reprint).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pos.errors import DomainError
from pos.hospital import views
from pos.hospital.search import open_notices, search
from pos.hospital import card_refunds
from pos.hospital.payments_bridge import card_payment
from pos.hospital.records import IdentityRecord, Payment
from pos.ids import utcnow_iso
from pos.staff import verify_pin

from . import docs

__all__ = ["CounterDesk", "DepositResult"]

log = logging.getLogger(__name__)


@dataclass
class DepositResult:
    status: str                       # posted | declined | aborted | in_doubt | ...
    amount_fen: int
    method: str
    receipt_no: str = ""
    change_fen: int = 0
    drawer_opened: bool = False
    reason: str = ""
    prints: list = field(default_factory=list)     # PrintOutcome of each document

    @property
    def ok(self) -> bool:
        return self.status in ("posted", "approved")


class CounterDesk:
    def __init__(self, site, cashier: str = "cashier", lang: str = "zh-Hans"):
        self.site = site
        self.cashier = cashier
        self.lang = lang

    # -- composition ---------------------------------------------------------------------
    @property
    def hospital(self):
        return self.site.hospital

    @property
    def conn(self):
        return self.site.store.conn

    @property
    def operator(self) -> str:
        return f"{self.cashier}@{self.site.store.device_id}"

    @property
    def terminal_url(self) -> str:
        url = self.site.device("payment_terminal")
        if not url:
            raise DomainError("no payment terminal configured", user_message="No card terminal is configured.")
        return url

    def doc_site(self):
        return docs.doc_site(self.site.config, self.lang)

    # -- search and the patient's page --------------------------------------------------------
    def search(self, query: str) -> list[dict]:
        return search(self.conn, query)

    def notices(self) -> list[dict]:
        return open_notices(self.conn)

    def patient(self, inpatient_no: str) -> dict:
        """Everything the patient page shows: who, where, state, money, receipts, open items."""
        a = self.hospital.admission(inpatient_no)
        page = views.admission_page(self.conn, a)
        return {"admission": a, **page, "account": self.hospital.account(a["inpatient_no"]),
                "discharge": self.hospital.discharge_state(a["inpatient_no"]),
                "receipts": self.receipts(a["inpatient_no"])}

    def receipts(self, inpatient_no: str, state: str | None = None) -> list[dict]:
        return views.receipts(self.conn, inpatient_no, state)

    def receipt(self, receipt_no: str) -> dict:
        r = views.receipt_holder(self.conn, receipt_no)
        if r is None:
            raise DomainError(f"no receipt {receipt_no}", user_message="This receipt is not known here.")
        return next(x for x in self.receipts(r["inpatient_no"]) if x["receipt_no"] == receipt_no)

    # -- registration ---------------------------------------------------------------------
    def record_notice(self, name: str, id_number: str, ward_code: str, deposit_fen: int) -> dict:
        return self.hospital.record_notice(patient_name=name.strip(), id_number=id_number.strip().upper(),
                                           ward_code=ward_code, suggested_deposit_fen=deposit_fen, source="counter")

    def wards(self) -> list[dict]:
        return views.wards(self.conn)

    def register(self, notice_no: str, id_number: str) -> dict:
        """Register from a notice; the cashier has checked the ID document (its number must match)."""
        from drivers.identity import cn_id_facts

        n = self.hospital.notice(notice_no)
        number = (id_number or "").strip().upper()
        sex, birth = cn_id_facts(number) or ("", "")      # a resident ID number says both
        rec = IdentityRecord("counter", n["patient_name"], number, sex=sex, birth_date=birth)
        return self.hospital.register_admission(notice_no, rec)

    # -- deposits ---------------------------------------------------------------------------
    def deposit_card(self, inpatient_no: str, amount_fen: int, on_status=None) -> DepositResult:
        out = self.site.payments.pay(amount_fen, terminal_url=self.terminal_url, account=inpatient_no,
                                     purpose="deposit", on_status=on_status)
        res = DepositResult(out.public_status, amount_fen, "card", reason=out.reason)
        if out.status == "posted":
            jrow = self.site.payments.journal.get(out.attempt_id)
            ref = card_payment(jrow).reference
            res.receipt_no = views.card_deposit_receipt(self.conn, ref)
            res.status = "posted"
            self._after_deposit(inpatient_no, res)
        return res

    def ensure_shift(self) -> dict:
        try:
            return self.site.cash.shift(self.cashier)
        except DomainError:
            try:
                self.site.cash.open_shift(self.cashier, 0)
            except DomainError:     # another screen opened it a moment ago: use that one
                pass
            return self.site.cash.shift(self.cashier)

    def deposit_cash(self, inpatient_no: str, amount_fen: int, tendered_fen: int) -> DepositResult:
        """Cash into the drawer and the deposit on the ledger, in one transaction."""
        self.hospital.admission(inpatient_no)
        res = self._cash_in(inpatient_no, amount_fen, tendered_fen, "deposit", self.hospital.record_deposit_in)
        self._after_deposit(inpatient_no, res)
        return res

    def _cash_in(self, inpatient_no: str, amount_fen: int, tendered_fen: int, purpose: str, book) -> DepositResult:
        """Cash into the drawer and ``book(tx, inpatient_no, payment)`` on the ledger in the same
        transaction: a booking the hospital refuses leaves the drawer's expected cash as it was.
        The drawer opens after the commit."""
        self.ensure_shift()
        cash = self.site.cash
        with self.site.store.transaction() as tx:
            cr = cash.take_in(tx, self.cashier, amount_fen, tendered_fen, account=inpatient_no, purpose=purpose)
            booked = book(tx, inpatient_no, Payment(amount_fen, "cash", reference=cr.receipt_no))
        cr = cash.open_drawer(cr)
        return DepositResult("posted", amount_fen, "cash", receipt_no=booked["receipt_no"], change_fen=cr.change_fen,
                             drawer_opened=cr.drawer_opened)

    def _after_deposit(self, inpatient_no: str, res: DepositResult) -> None:
        if res.receipt_no:
            res.prints.append(self.print_receipt(res.receipt_no))
        a = self.hospital.admission(inpatient_no)
        if a["state"] == "deposit_paid":                      # first deposit: the wristband follows
            res.prints.append(self.print_wristband(inpatient_no))

    # -- printing ---------------------------------------------------------------------------
    def documents(self):
        """The document printer every front end uses (kiosk and counter print the same papers)."""
        return self.site.documents(self.lang)

    def print_receipt(self, receipt_no: str):
        return self.documents().deposit_receipt(receipt_no, self.operator)

    def print_wristband(self, inpatient_no: str):
        return self.documents().wristband(inpatient_no)

    def journal(self, limit: int = 30) -> list[dict]:
        return self.site.printing.journal(limit)

    def reprint(self, job_id: str):
        return self.site.printing.reprint(job_id)

    # -- green channel ----------------------------------------------------------------------
    def open_green_channel(self, inpatient_no: str, missing=("deposit",)) -> list[str]:
        kinds = self.hospital.open_green_channel(inpatient_no, missing)
        self.print_wristband(inpatient_no)
        return kinds

    def reminders(self) -> list[dict]:
        return self.hospital.reminders()

    def close_green_item(self, inpatient_no: str, kind: str) -> None:
        self.hospital.close_green_item(inpatient_no, kind)

    # -- discharge ---------------------------------------------------------------------------
    def pre_settle(self, inpatient_no: str) -> dict:
        ps = self.hospital.pre_settle(inpatient_no)
        return {"total_fen": ps.split.total_fen, "pooled_fen": ps.split.pooled_fen,
                "selfpay_fen": ps.split.selfpay_fen, "acct_fen": ps.acct_fen, "cash_fen": ps.cash_fen,
                "deposits_fen": ps.deposits_fen, "refund_fen": ps.refund_due_fen, "collect_fen": ps.collect_due_fen,
                "source": ps.source, "reason": ps.reason, "setlinfo": ps.split.setlinfo()}

    def take_back(self, inpatient_no: str, code: str) -> dict:
        """A scanned deposit receipt: it must be this patient's and still issued."""
        r = views.receipt_holder(self.conn, code.strip().upper())
        if r is None:
            raise DomainError(f"receipt {code!r} unknown", user_message="This receipt is not known here.")
        if r["inpatient_no"] != inpatient_no:
            raise DomainError(f"receipt {code} belongs to {r['inpatient_no']}",
                              user_message="This receipt belongs to another patient.")
        if r["state"] != "issued":
            raise DomainError(f"receipt {code} is {r['state']}", user_message="This receipt was already taken back.")
        return r

    def settle(self, inpatient_no: str) -> dict:
        st = self.hospital.settle(inpatient_no)
        return {"settlement_no": st["settlement_no"], "total_fen": st["total_fen"], "pooled_fen": st["pooled_fen"],
                "selfpay_fen": st["selfpay_fen"], "acct_fen": st["acct_fen"] or 0, "cash_fen": st["cash_fen"],
                "setlinfo": st["breakdown"], "refund_fen": st["refund_due_fen"],
                "collect_fen": st["collect_due_fen"]}

    def refund_cash(self, inpatient_no: str, amount_fen: int) -> dict:
        """Cash out of the drawer and the refund on the ledger, in one transaction: a refund the
        hospital refuses (too much, wrong state) never leaves the drawer short, and a drawer
        without that much cash refunds nothing."""
        self.hospital._need_server("hospital.refund.paid")
        self.ensure_shift()
        cash = self.site.cash
        with self.site.store.transaction() as tx:
            cr = cash.pay_out_in(tx, self.cashier, amount_fen, account=inpatient_no, purpose="refund")
            out = self.hospital.refund_in(tx, inpatient_no, Payment(amount_fen, "cash", reference=cr.receipt_no))
        cash.open_drawer(cr)
        return out

    def card_deposits(self, inpatient_no: str) -> list[dict]:
        """The stay's card deposits that can still be refunded (newest first), last four digits only."""
        return card_refunds.card_deposits(self.site.payments, inpatient_no)

    def refund_card(self, inpatient_no: str, amount_fen: int, parts=None, on_status=None) -> card_refunds.CardRefund:
        """Refund to the original card(s) through the terminal (reversal of a whole payment, else
        a refund), spread over several cards when one is not enough; what the cards cannot take
        is ``left_fen``, which the cashier may pay with :meth:`refund_cash`."""
        self.hospital._need_server("hospital.refund.paid")
        return card_refunds.refund_to_cards(self.site.payments, inpatient_no, amount_fen, parts, on_status,
                                            hospital=self.hospital)

    # -- deposit reversal (沖銷) -----------------------------------------------------------------
    def reverse_deposit(self, receipt_no: str, supervisor: str, reason: str, *, supervisor_pin: str,
                        to_cash: bool = False, on_status=None) -> dict:
        """Reverse one deposit receipt with a supervisor's approval (their name and the supervisor
        PIN of the site config): a card deposit goes back to its card (or, if the cashier chooses,
        in cash), a cash deposit from the drawer; the receipt is voided and reprinted as void."""
        stored = self.site.config.get("staff", "supervisor_pin")
        if not stored:
            raise DomainError("no staff.supervisor_pin is configured",
                              user_message="No supervisor PIN is configured; reversals are not possible here.")
        if not verify_pin(supervisor_pin or "", stored):
            log.warning("deposit reversal of %s: wrong supervisor PIN (by %s)", receipt_no, self.operator)
            raise DomainError("wrong supervisor PIN", user_message="The supervisor PIN is not correct.")
        r = self.receipt(receipt_no)
        self.hospital.approve_reversal(receipt_no, supervisor=supervisor, cashier=self.operator, reason=reason)
        out: dict = {"receipt_no": receipt_no, "amount_fen": r["amount_fen"], "method": r["method"]}
        if r["method"] == "card" and not to_cash:
            cands = [p for p in self.card_deposits(r["inpatient_no"])
                     if card_payment(self.site.payments.journal.get(p["attempt_id"])).reference == r["reference"]]
            if not cands:
                raise DomainError(f"receipt {receipt_no}: its card payment is not in the journal",
                                  user_message="This card payment cannot be found; refund it in cash.")
            res = card_refunds.refund_to_cards(self.site.payments, r["inpatient_no"], r["amount_fen"],
                                               [(cands[0]["attempt_id"], r["amount_fen"])], on_status,
                                               hospital=self.hospital)
            out.update(status=res.status, reason=res.reason)
        else:
            self.ensure_shift()
            cash = self.site.cash
            with self.site.store.transaction() as tx:
                cr = cash.pay_out_in(tx, self.cashier, r["amount_fen"], account=r["inpatient_no"], purpose="reversal")
                self.hospital.reverse_cash_in(tx, receipt_no, cr.receipt_no)
            cash.open_drawer(cr)
            out.update(status="posted", reason="")
        if out["status"] == "posted":
            out["print"] = self.print_receipt(receipt_no)        # reprinted with its void mark
        return out

    def collect_card(self, inpatient_no: str, amount_fen: int, on_status=None) -> DepositResult:
        out = self.site.payments.pay(amount_fen, terminal_url=self.terminal_url, account=inpatient_no,
                                     purpose="collection", on_status=on_status)
        return DepositResult("posted" if out.status == "posted" else out.public_status, amount_fen, "card",
                             reason=out.reason)

    def collect_cash(self, inpatient_no: str, amount_fen: int, tendered_fen: int) -> DepositResult:
        """Cash into the drawer and the collection on the ledger, in one transaction."""
        self.hospital._need_server("hospital.collection.received")
        return self._cash_in(inpatient_no, amount_fen, tendered_fen, "collection", self.hospital.collect_in)

    def finish_discharge(self, inpatient_no: str):
        """Print the settlement list, then discharge (frees the bed)."""
        out = self.documents().settlement(inpatient_no, self.operator)
        self.hospital.discharge(inpatient_no)
        return out

    # -- payments in doubt ----------------------------------------------------------------------
    def in_doubt(self) -> list[dict]:
        return self.site.payments.supervisor_queue()

    def resolve(self, attempt_id: str, resolution: str, supervisor: str):
        return self.site.payments.resolve(attempt_id, resolution, supervisor=supervisor.strip())

    # -- shift ---------------------------------------------------------------------------------
    def shift_status(self) -> dict:
        sh = self.ensure_shift()
        return dict(sh, expected_fen=self.site.cash.expected_fen(sh["shift_id"]), **self._card_totals(sh["opened_at"]))

    def _card_totals(self, since: str) -> dict:
        sign = {"sale": 1, "booking": 1, "refund": -1}
        total = count = 0
        for kind, amount in self.conn.execute(
                "SELECT kind, amount_fen FROM payment_attempts WHERE created_at >= ? AND state IN ('posted', "
                "'approved') AND kind IN ('sale', 'booking', 'refund')", (since,)):
            total += sign[kind] * amount
            count += 1
        return {"card_fen": total, "card_count": count}

    def close_shift(self, counts: dict[int, int], with_end_of_day: bool = True) -> dict:
        sh = self.shift_status()
        sums = dict(self.conn.execute(
            "SELECT kind, coalesce(sum(amount_fen), 0) FROM cash_movements WHERE shift_id = ? GROUP BY kind",
            (sh["shift_id"],)).fetchall())
        eod = None
        if with_end_of_day:
            eod = self.site.payments.end_of_day(self.terminal_url)
        sc = self.site.cash.count(self.cashier, counts)
        rep = {"cashier": self.operator, "opened_at": sh["opened_at"], "closed_at": utcnow_iso(),
               "float_fen": sh["float_fen"], "cash_in_fen": sums.get("payment", 0), "cash_out_fen": sums.get("refund", 0),
               "expected_fen": sc.expected_fen, "counted_fen": sc.counted_fen, "difference_fen": sc.difference_fen,
               "counts": dict(counts), "card_fen": sh["card_fen"], "card_count": sh["card_count"], "eod": eod}
        rep["print"] = self.site.printing.print("shift_report", docs.shift_report_layout(self.doc_site(), rep),
                                                "receipt_printer", ref=sc.shift_id)
        return rep
