"""The cashier's side of a room (R-5): the bill, the guest's confirmation, payment and the fapiao.

    butler's "coming to pay" ──▶ open (lines frozen from pos.club.bill) ──signature | printed──▶
    confirmed ──cash / card / member card, one or several until nothing is due──▶ paid

* **No second payment path.** Cash goes through the platform's drawer (``cash_movements``), a card
  through the platform's payment service and its journal (``payment_attempts``, purpose
  ``club_bill``, the bill number as its account), a member card through :class:`MemberCards`
  (``club_card_entries``, the bill number as its reference). A bill keeps no payment rows of its
  own: what it was paid is read from those three ledgers, so a payment is never counted twice
  and none is missed.
* **Never charged twice.** A card payment whose answer was lost is *in doubt* (the platform's
  rule): while one of the bill's card payments is in doubt or waits for a supervisor, the bill
  takes no other payment; :meth:`Cashier.check_terminal` runs the platform's recovery (it asks
  the terminal), and the card poster settles the bill in the transaction that posts the money.
* **Split.** Each payment takes at most what is still due; the bill is paid when nothing is due.
* **Fapiao.** The request goes through :class:`pos.club.einvoice.FapiaoRequests` with the bill's
  payments: the member-card part is left out, a bill paid wholly by member card is refused with
  the reason.
* The signature is the PNG the screen drew, written beside the store (``signatures/<bill>.png``,
  written to a temporary file, flushed, then renamed) before the bill refers to it.

Amounts are integer fen throughout; nothing is rounded (lines are quantity × unit price in fen).
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from pos.ids import utcnow_iso

from .bill import club_bill_lines
from .cards import MemberCards
from .einvoice import FapiaoRequests
from .errors import ClubError, ClubNotFound
from .fapiao import Payment
from .ids import ulid

__all__ = ["Cashier", "PURPOSE", "POSTERS", "post_card", "settle", "bill_view", "day_totals", "receipt_layout",
           "close_layout", "METHOD_MSGIDS"]

PURPOSE = "club_bill"
_OPEN_CARD = ("intent", "sent", "waiting_card", "in_doubt", "unresolved", "approved")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
METHOD_MSGIDS = {"cash": "Cash", "card": "Bank card", "member": "Member card"}


def _rows(cur) -> list[dict]:
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def payments_of(conn, bill_no: str) -> list[dict]:
    """The bill's payments, read from the platform's ledgers (cash, card journal, member cards)."""
    out = []
    for r in _rows(conn.execute(
            "SELECT receipt_no AS ref, amount_fen, tendered_fen, change_fen, at FROM cash_movements "
            "WHERE account = ? AND purpose = ? AND kind = 'payment' ORDER BY at", (bill_no, PURPOSE))):
        out.append({"method": "cash", **r})
    for r in _rows(conn.execute(
            "SELECT attempt_id AS ref, amount_fen, masked_pan, brand, receipt_no, trace_no, terminal_id, "
            "updated_at AS at FROM payment_attempts WHERE account = ? AND purpose = ? AND kind = 'sale' "
            "AND state = 'posted' ORDER BY created_at", (bill_no, PURPOSE))):
        out.append({"method": "card", **r})
    for r in _rows(conn.execute(
            "SELECT entry_id AS ref, card_no, -principal_fen AS principal_fen, -bonus_fen AS bonus_fen, "
            "created_at AS at FROM club_card_entries e WHERE ref = ? AND kind = 'spend' AND NOT EXISTS "
            "(SELECT 1 FROM club_card_entries r WHERE r.kind = 'refund' AND r.ref = e.entry_id) ORDER BY created_at",
            (bill_no,))):
        out.append({"method": "member", "amount_fen": r["principal_fen"] + r["bonus_fen"], **r})
    return sorted(out, key=lambda p: p["at"])


def bill_view(conn, bill_no: str) -> dict:
    cur = conn.execute("SELECT * FROM club_bills WHERE bill_no = ?", (bill_no,))
    rows = _rows(cur)
    if not rows:
        raise ClubNotFound(f"no bill {bill_no}")
    b = rows[0]
    b["lines"] = _rows(conn.execute("SELECT name, qty, unit_fen, amount_fen, course FROM club_bill_lines "
                                    "WHERE bill_no = ? ORDER BY line_no", (bill_no,)))
    b["payments"] = payments_of(conn, bill_no)
    b["paid_fen"] = sum(p["amount_fen"] for p in b["payments"])
    b["due_fen"] = b["total_fen"] - b["paid_fen"]
    b["in_doubt"] = _rows(conn.execute(
        f"SELECT attempt_id, amount_fen, state FROM payment_attempts WHERE account = ? AND purpose = ? "
        f"AND state IN ({', '.join('?' * len(_OPEN_CARD))})", (bill_no, PURPOSE, *_OPEN_CARD)))
    b["fapiao"] = _rows(conn.execute("SELECT order_no, kind, amount_fen, excluded_fen, buyer_name, state, invoice_no, "
                                     "reason FROM club_fapiao_requests WHERE purpose = 'bill' AND ref = ? "
                                     "ORDER BY created_at", (bill_no,)))
    return b


def settle(tx, bill_no: str) -> bool:
    """Mark the bill paid when nothing is due (in the transaction that took the last payment)."""
    b = bill_view(tx.conn, bill_no)
    if b["state"] == "paid" or b["due_fen"] > 0:
        return b["state"] == "paid"
    now = utcnow_iso()
    tx.execute("UPDATE club_bills SET state = 'paid', paid_at = ? WHERE bill_no = ?", (now, bill_no))
    if tx.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'club_orders'").fetchone():
        # the room's order is closed with its bill (pos.club.orders: "the cashier's part")
        tx.execute("UPDATE club_orders SET state = 'closed', closed_at = ? WHERE res_id = ? AND state = 'open'",
                   (now, b["res_id"]))
    by = {m: sum(p["amount_fen"] for p in b["payments"] if p["method"] == m) for m in METHOD_MSGIDS}
    tx.emit("club.bill.paid", {"bill_no": bill_no, "res_id": b["res_id"], "room": b["room"],
                               "total_fen": b["total_fen"], "cash_fen": by["cash"], "card_fen": by["card"],
                               "member_fen": by["member"], "paid_at": now})
    return True


def post_card(_service, tx, row: dict) -> None:
    """The card poster (``Pack.posters``): an approved card payment settles its bill with it."""
    settle(tx, row["account"])


POSTERS = {PURPOSE: post_card}


class Cashier:
    """The cashier's operations over the club's store. Call the payment methods from a worker
    thread (a card payment waits for the guest at the terminal)."""

    def __init__(self, store, *, payments=None, cash=None, cards: MemberCards | None = None,
                 fapiao: FapiaoRequests | None = None, terminal_url: str = "", cashier: str = "",
                 signatures: str | os.PathLike | None = None, clock: Callable[[], float] = time.time):
        from pos.payments.cash import CashDrawer
        from pos.payments.service import PaymentService

        self.store = store
        self.payments = payments or PaymentService(store, posters={PURPOSE: lambda tx, row: post_card(None, tx, row)})
        self.cash = cash or CashDrawer(store)
        self.cards = cards or MemberCards(store)
        self.fapiao = fapiao or FapiaoRequests(store)
        self.terminal_url = terminal_url
        self.cashier = cashier
        self.signatures = Path(signatures) if signatures else Path(store.path).resolve().parent / "signatures"
        self.clock = clock

    # -- the bill -------------------------------------------------------------------------
    def open_for_room(self, room: str, call_id: str = "") -> dict:
        r = self.store.conn.execute(
            "SELECT res_id FROM club_reservations WHERE room = ? AND state IN ('arrived', 'closed') "
            "ORDER BY (state = 'arrived') DESC, arrived_at DESC LIMIT 1", (str(room),)).fetchone()
        if r is None:
            raise ClubNotFound(f"no guests in room {room}")
        return self.open_bill(r[0], call_id)

    def open_bill(self, res_id: str, call_id: str = "") -> dict:
        """The reservation's bill, opened once: its lines are taken from the bill source now and
        frozen; asking again gives the same bill (an open one takes lines added since)."""
        with self.store.transaction() as tx:
            r = tx.execute("SELECT bill_no, state FROM club_bills WHERE res_id = ?", (res_id,)).fetchone()
            if r is not None and r[1] != "open":
                return bill_view(tx.conn, r[0])
            room = tx.execute("SELECT room FROM club_reservations WHERE res_id = ?", (res_id,)).fetchone()
            if room is None:
                raise ClubNotFound(f"no reservation {res_id}")
            lines = club_bill_lines(self.store, res_id, tx.conn)
            total = sum(x["amount_fen"] for x in lines)
            if r is None:
                bill_no = tx.next_number("club_bill")
                tx.insert("club_bills", {"bill_no": bill_no, "res_id": res_id, "room": room[0], "total_fen": total,
                                         "state": "open", "call_id": call_id, "cashier": self.cashier,
                                         "opened_at": utcnow_iso(self.clock())})
            else:
                bill_no = r[0]
                tx.execute("DELETE FROM club_bill_lines WHERE bill_no = ?", (bill_no,))
                tx.execute("UPDATE club_bills SET total_fen = ? WHERE bill_no = ?", (total, bill_no))
            for n, x in enumerate(lines, 1):
                tx.insert("club_bill_lines", {"bill_no": bill_no, "line_no": n, **x})
            return bill_view(tx.conn, bill_no)

    def bill(self, bill_no: str) -> dict:
        return bill_view(self.store.conn, bill_no)

    def confirm_signature(self, bill_no: str, png: bytes) -> dict:
        """The guest signed on the screen: the PNG is stored beside the store, then referenced."""
        if not png.startswith(PNG_MAGIC):
            raise ClubError(f"bill {bill_no}: the signature is not a PNG image")
        self._must_be(bill_no, "open")
        self.signatures.mkdir(parents=True, exist_ok=True)
        name = f"{bill_no}.png"
        tmp = self.signatures / f".{name}.{ulid()}"
        with open(tmp, "wb") as fh:
            fh.write(png)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.signatures / name)
        return self._confirm(bill_no, "signature", name)

    def confirm_printed(self, bill_no: str) -> dict:
        """The guest signed the printed bill (kept with the day's papers)."""
        self._must_be(bill_no, "open")
        return self._confirm(bill_no, "printed", None)

    def _confirm(self, bill_no, how, signature) -> dict:
        with self.store.transaction() as tx:
            if tx.execute("UPDATE club_bills SET state = 'confirmed', confirm = ?, signature = ?, confirmed_at = ? "
                          "WHERE bill_no = ? AND state = 'open'",
                          (how, signature, utcnow_iso(self.clock()), bill_no)).rowcount != 1:
                raise ClubError(f"bill {bill_no} is not open", code="bad_transition")
            settle(tx, bill_no)                  # a bill of 0 fen is paid once confirmed
            return bill_view(tx.conn, bill_no)

    def signature_path(self, bill_no: str) -> Path | None:
        b = self.bill(bill_no)
        return self.signatures / b["signature"] if b["signature"] else None

    def _must_be(self, bill_no: str, state: str) -> dict:
        b = self.bill(bill_no)
        if b["state"] != state:
            code = "bill_not_confirmed" if state == "confirmed" and b["state"] == "open" else "bad_transition"
            raise ClubError(f"bill {bill_no} is {b['state']}, not {state}", code=code)
        return b

    def _payable(self, bill_no: str, amount_fen) -> dict:
        b = self._must_be(bill_no, "confirmed")
        if b["in_doubt"]:
            raise ClubError(f"bill {bill_no}: card payment {b['in_doubt'][0]['attempt_id']} is "
                            f"{b['in_doubt'][0]['state']}", code="card_in_doubt")
        if type(amount_fen) is not int or amount_fen <= 0:
            raise ClubError(f"amount {amount_fen!r} is not a positive number of fen")
        if amount_fen > b["due_fen"]:
            raise ClubError(f"bill {bill_no}: {amount_fen} fen > {b['due_fen']} fen due", code="more_than_due",
                            due=_yuan(b["due_fen"]))
        return b

    # -- payment --------------------------------------------------------------------------
    def pay_cash(self, bill_no: str, amount_fen: int, tendered_fen: int) -> dict:
        """Cash for ``amount_fen`` of the bill; the change is ``tendered - amount``."""
        self._payable(bill_no, amount_fen)
        with self.store.transaction() as tx:
            receipt = self.cash.take_in(tx, self.cashier, amount_fen, tendered_fen, account=bill_no, purpose=PURPOSE)
            settle(tx, bill_no)
        receipt = self.cash.open_drawer(receipt)
        return {"method": "cash", "amount_fen": amount_fen, "tendered_fen": tendered_fen,
                "change_fen": receipt.change_fen, "receipt_no": receipt.receipt_no, "bill": self.bill(bill_no)}

    def pay_card(self, bill_no: str, amount_fen: int, on_status=None) -> dict:
        """A bank card on the ZVT terminal through the platform's payment service. ``status`` is
        the platform's: approved (posted on the bill), declined, aborted or in_doubt."""
        self._payable(bill_no, amount_fen)
        if not self.terminal_url:
            raise ClubError("no card terminal is configured for the cashier", code="no_terminal")
        out = self.payments.pay(amount_fen, terminal_url=self.terminal_url, account=bill_no, purpose=PURPOSE,
                                on_status=on_status)
        return {"method": "card", "status": out.public_status, "amount_fen": amount_fen, "attempt_id": out.attempt_id,
                "masked_pan": out.masked_pan, "reason": out.reason, "bill": self.bill(bill_no)}

    def check_terminal(self) -> dict:
        """Settle the card payments in doubt (the platform's recovery asks the terminal)."""
        report = self.payments.recover(self.terminal_url or None)
        return {"report": report, "queue": self.payments.supervisor_queue()}

    def pay_member(self, bill_no: str, card_no: str, amount_fen: int, pin: str) -> dict:
        """Stored value: principal first, then bonus. A wrong PIN is counted (3 lock the card)."""
        self._payable(bill_no, amount_fen)
        taken = self.cards.spend(card_no, amount_fen, pin, staff=self.cashier, ref=bill_no)
        with self.store.transaction() as tx:
            settle(tx, bill_no)
        return {"method": "member", "amount_fen": amount_fen, **taken, "balance": self.cards.balance(card_no),
                "bill": self.bill(bill_no)}

    def recover(self) -> list[str]:
        """After a restart: a bill whose last payment committed but was not yet marked paid."""
        done = []
        for (bill_no,) in self.store.conn.execute("SELECT bill_no FROM club_bills WHERE state = 'confirmed'").fetchall():
            with self.store.transaction() as tx:
                if settle(tx, bill_no):
                    done.append(bill_no)
        return done

    # -- fapiao ---------------------------------------------------------------------------
    def request_fapiao(self, bill_no: str, buyer_name: str, buyer_tax_no: str = "", kind: str = "pc") -> dict:
        b = self._must_be(bill_no, "paid")
        payments = [Payment(p["method"], p["amount_fen"]) for p in b["payments"] if p["amount_fen"] > 0]
        return self.fapiao.for_bill(bill_no, payments, buyer_name, buyer_tax_no, kind)


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


# -- the day's close -------------------------------------------------------------------------
def _utc_range(day: str, tz: str) -> tuple[str, str]:
    start = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(tz))
    fmt = "%Y-%m-%dT%H:%M:%S.000000Z"
    return (start.astimezone(timezone.utc).strftime(fmt),
            (start + timedelta(days=1)).astimezone(timezone.utc).strftime(fmt))


def day_totals(conn, day: str, tz: str = "Asia/Shanghai") -> dict:
    """The club's takings of one local day, in fen: each payment counted on the day it was taken."""
    lo, hi = _utc_range(day, tz)
    one = lambda sql, *a: conn.execute(sql, (lo, hi, *a)).fetchone()   # noqa: E731
    cash = one("SELECT coalesce(sum(amount_fen), 0), count(*) FROM cash_movements WHERE at >= ? AND at < ? "
               "AND purpose = ? AND kind = 'payment'", PURPOSE)
    card = one("SELECT coalesce(sum(amount_fen), 0), count(*) FROM payment_attempts WHERE updated_at >= ? "
               "AND updated_at < ? AND purpose = ? AND kind = 'sale' AND state = 'posted'", PURPOSE)
    member = one("SELECT coalesce(-sum(principal_fen), 0), coalesce(-sum(bonus_fen), 0), count(*) FROM "
                 "club_card_entries e WHERE created_at >= ? AND created_at < ? AND kind = 'spend' AND NOT EXISTS "
                 "(SELECT 1 FROM club_card_entries r WHERE r.kind = 'refund' AND r.ref = e.entry_id) AND "
                 "ref IN (SELECT bill_no FROM club_bills)")
    fapiao = one("SELECT coalesce(sum(amount_fen), 0), count(*) FROM club_fapiao_requests WHERE updated_at >= ? "
                 "AND updated_at < ? AND state = 'issued'")
    open_fapiao = conn.execute("SELECT count(*) FROM club_fapiao_requests WHERE state IN ('intent', 'submitted', "
                               "'in_doubt')").fetchone()[0]
    bills = one("SELECT count(*), coalesce(sum(total_fen), 0) FROM club_bills WHERE paid_at >= ? AND paid_at < ?")
    in_doubt = conn.execute(f"SELECT count(*) FROM payment_attempts WHERE purpose = ? AND state IN "
                            f"({', '.join('?' * len(_OPEN_CARD))})", (PURPOSE, *_OPEN_CARD)).fetchone()[0]
    return {"day": day, "cash_fen": cash[0], "cash_count": cash[1], "card_fen": card[0], "card_count": card[1],
            "member_fen": member[0] + member[1], "member_principal_fen": member[0], "member_bonus_fen": member[1],
            "member_count": member[2], "total_fen": cash[0] + card[0] + member[0] + member[1],
            "fapiao_fen": fapiao[0], "fapiao_count": fapiao[1], "fapiao_open": open_fapiao,
            "bills_paid": bills[0], "bills_fen": bills[1], "card_in_doubt": in_doubt}


def close_day(store, day: str, cashier: str, tz: str = "Asia/Shanghai") -> dict:
    with store.transaction() as tx:
        totals = day_totals(tx.conn, day, tz)
        close_id, now = ulid(), utcnow_iso()
        tx.insert("club_day_closes", {"close_id": close_id, "day": day, "cashier": cashier,
                                      "totals": json.dumps(totals), "closed_at": now})
        tx.emit("club.day.closed", {"close_id": close_id, "day": day, "cashier": cashier, "cash_fen": totals["cash_fen"],
                                    "card_fen": totals["card_fen"], "member_fen": totals["member_fen"],
                                    "fapiao_fen": totals["fapiao_fen"], "closed_at": now})
    return totals


# -- printed documents (the platform's layouts; text through the caller's catalogue) -------
def _local(iso: str, tz: str) -> str:
    if not iso:
        return ""
    t = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return t.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def receipt_layout(bill: dict, tr: Callable[..., str], *, lang: str = "zh-Hans", tz: str = "Asia/Shanghai",
                   venue: str = "", balances: dict | None = None, for_signature: bool = False):
    """The guest's receipt: lines, total, each payment (change, masked bank card, member card
    principal and bonus), the fapiao asked for, the bill number as a QR code. ``for_signature``:
    the bill printed for the guest to sign (titled "Bill", with a line for the signature)."""
    from pos.documents.layout import Layout

    title = tr("Bill") if for_signature else tr("Receipt")
    doc = Layout(kind="receipt", title=title, lang=lang)
    if venue:
        doc.text(venue, "center", (2, 2), bold=True)
    doc.text(title, "center", (2, 2), bold=True)
    doc.rule()
    doc.columns((tr("Bill no."), 2, "left"), (bill["bill_no"], 3, "right"))
    doc.columns((tr("Room"), 2, "left"), (bill["room"], 3, "right"))
    doc.rule()
    for x in bill["lines"]:
        doc.columns((x["name"], 4, "left"), (f"{x['qty']}×{_yuan(x['unit_fen'])}", 2, "right"),
                    (_yuan(x["amount_fen"]), 2, "right"))
    doc.rule()
    doc.columns((tr("Total"), 2, "left"), ("¥" + _yuan(bill["total_fen"]), 3, "right"), bold=True)
    for p in bill["payments"]:
        doc.columns((tr(METHOD_MSGIDS[p["method"]]), 2, "left"), ("¥" + _yuan(p["amount_fen"]), 3, "right"))
        if p["method"] == "cash" and p.get("change_fen"):
            doc.columns(("  " + tr("Tendered"), 2, "left"), (_yuan(p["tendered_fen"]), 3, "right"))
            doc.columns(("  " + tr("Change"), 2, "left"), (_yuan(p["change_fen"]), 3, "right"))
        elif p["method"] == "card" and p.get("masked_pan"):
            doc.columns(("  " + (p.get("brand") or ""), 2, "left"), (p["masked_pan"], 3, "right"))
        elif p["method"] == "member":
            doc.columns(("  " + tr("Principal"), 2, "left"), (_yuan(p["principal_fen"]), 3, "right"))
            doc.columns(("  " + tr("Bonus"), 2, "left"), (_yuan(p["bonus_fen"]), 3, "right"))
            bal = (balances or {}).get(p["card_no"])
            if bal is not None:
                doc.columns(("  " + tr("Balance"), 2, "left"), (_yuan(bal), 3, "right"))
    if bill["due_fen"] > 0:
        doc.columns((tr("Still due"), 2, "left"), ("¥" + _yuan(bill["due_fen"]), 3, "right"), bold=True)
    for f in bill.get("fapiao", []):
        if f["state"] != "failed":
            doc.text(tr("Fapiao requested for {amount} ({title})", amount="¥" + _yuan(f["amount_fen"]),
                        title=f["buyer_name"]))
    if any(p["method"] == "member" for p in bill["payments"]):
        doc.text(tr("The member-card part is not on the fapiao (stored value is invoiced at top-up)."))
    doc.columns((tr("Time"), 2, "left"), (_local(bill.get("paid_at") or bill.get("opened_at"), tz), 3, "right"))
    if for_signature:
        doc.feed(2)
        doc.text(tr("Guest's signature") + ": ____________________")
    doc.qr(bill["bill_no"], size=5)
    doc.feed(2)
    doc.cut()
    return doc


def close_layout(totals: dict, tr: Callable[..., str], *, lang: str = "zh-Hans", cashier: str = ""):
    from pos.documents.layout import Layout

    doc = Layout(kind="receipt", title=tr("End-of-day close"), lang=lang)
    doc.text(tr("End-of-day close"), "center", (2, 2), bold=True)
    doc.columns((tr("Day"), 2, "left"), (totals["day"], 3, "right"))
    if cashier:
        doc.columns((tr("Cashier"), 2, "left"), (cashier, 3, "right"))
    doc.rule()
    rows = [("Cash", "cash_fen", "cash_count"), ("Bank card", "card_fen", "card_count"),
            ("Member card", "member_fen", "member_count")]
    for msgid, key, count in rows:
        doc.columns((tr(msgid), 3, "left"), (str(totals[count]), 1, "right"), (_yuan(totals[key]), 2, "right"))
    doc.columns(("  " + tr("Principal"), 3, "left"), (_yuan(totals["member_principal_fen"]), 3, "right"))
    doc.columns(("  " + tr("Bonus"), 3, "left"), (_yuan(totals["member_bonus_fen"]), 3, "right"))
    doc.rule()
    doc.columns((tr("Total"), 3, "left"), (_yuan(totals["total_fen"]), 3, "right"), bold=True)
    doc.columns((tr("Bills paid"), 3, "left"), (str(totals["bills_paid"]), 3, "right"))
    doc.columns((tr("Fapiao issued"), 3, "left"), (str(totals["fapiao_count"]), 1, "right"),
                (_yuan(totals["fapiao_fen"]), 2, "right"))
    if totals["fapiao_open"]:
        doc.columns((tr("Fapiao pending"), 3, "left"), (str(totals["fapiao_open"]), 3, "right"))
    if totals["card_in_doubt"]:
        doc.text(tr("Card payments in doubt: {n}. Check the card terminal.", n=totals["card_in_doubt"]), bold=True)
    doc.feed(2)
    doc.cut()
    return doc


def service(site) -> Cashier:
    """The pack's ``club`` service (the card poster's service): the cashier over the site's store,
    with the site's payment service, drawer and card terminal."""
    return Cashier(site.store, payments=site.payments, cash=site.cash, terminal_url=site.device("payment_terminal"))


def fapiao_request_layout(req: dict, tr: Callable[..., str], *, lang: str = "zh-Hans"):
    """The slip the guest keeps for a fapiao asked for: its order number (also as QR code, to find
    it again at the provider), the buyer, the kind and the amount; the member-card part left out."""
    from pos.documents.layout import Layout

    doc = Layout(kind="receipt", title=tr("Fapiao request"), lang=lang)
    doc.text(tr("Fapiao request"), "center", (2, 2), bold=True)
    doc.rule()
    doc.columns((tr("Order no."), 2, "left"), (req["order_no"], 3, "right"))
    doc.columns((tr("Bill no."), 2, "left"), (req["ref"], 3, "right"))
    doc.columns((tr("Buyer"), 2, "left"), (req["buyer_name"], 3, "right"))
    if req["buyer_tax_no"]:
        doc.columns((tr("Tax number"), 2, "left"), (req["buyer_tax_no"], 3, "right"))
    doc.columns((tr("Kind"), 2, "left"), (tr(FAPIAO_KIND_MSGIDS[req["kind"]]), 3, "right"))
    doc.columns((tr("Amount"), 2, "left"), ("¥" + _yuan(req["amount_fen"]), 3, "right"), bold=True)
    if req["excluded_fen"]:
        doc.columns((tr("Left out (member card)"), 2, "left"), (_yuan(req["excluded_fen"]), 3, "right"))
    doc.qr(req["order_no"], size=5)
    doc.feed(2)
    doc.cut()
    return doc


FAPIAO_KIND_MSGIDS = {"pc": "Ordinary fapiao (普票)", "bs": "Special VAT fapiao (专票)"}
