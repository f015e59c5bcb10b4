"""The desk's work orders on a device: intake from every channel, classification (a suggestion,
always confirmed by a person), routing, the worker's steps, QC, payment, follow-up and cancel.

Every transition runs in one store transaction that updates ``desk_orders``, appends to
``desk_events`` and emits the command ``desk.order.<event>`` (the sync unit): a crash at any
instant leaves all three or none. Everything here works offline; the server decides an edit of an
order it already closed (:mod:`pos.desk.server`). Money is integer fen.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta, timezone

from ..errors import DomainError, NotFound
from ..ids import utcnow_iso
from .catalogue import Catalogue, load_catalogue
from .events import CHANNELS, RATINGS
from .fsm import TransitionRefused, next_state

__all__ = ["DeskService", "DeskError", "PAY_PURPOSE"]

log = logging.getLogger(__name__)

#: the payment journal's purpose of a paid special service (its poster: pos.desk.payments_bridge)
PAY_PURPOSE = "desk_service"


class DeskError(DomainError):
    """A desk action refused; ``code`` is the message key the screen shows."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.code = code


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def deadline_for(received_at: str, sla_hours: int) -> str:
    return _iso(_parse(received_at) + timedelta(hours=sla_hours))


_COLS = ("order_no", "channel", "unit", "building", "party", "party_role", "kind", "category", "priority",
         "deadline", "payable", "fee_related", "emergency", "description", "photos", "team", "assignee", "cause_code",
         "reopen_count", "alarm_count", "source_ref", "state", "version", "received_at", "updated_at")


class DeskService:
    def __init__(self, store, catalogue: Catalogue | None = None):
        self.store = store
        self.catalogue = catalogue or load_catalogue()

    @classmethod
    def from_config(cls, store, config) -> "DeskService":
        return cls(store, load_catalogue(config.get("desk", "categories") or None))

    # -- reading ----------------------------------------------------------------------------
    def order(self, order_no: str) -> dict:
        row = self.store.conn.execute(f"SELECT {', '.join(_COLS)} FROM desk_orders WHERE order_no = ?",
                                      (order_no,)).fetchone()
        if row is None:
            raise NotFound(f"no work order {order_no}")
        out = dict(zip(_COLS, row))
        out["photos"] = json.loads(out["photos"])
        return out

    def history(self, order_no: str) -> list[dict]:
        cur = self.store.conn.execute("SELECT event, from_state, to_state, at, by, data, source FROM desk_events "
                                      "WHERE order_no = ? ORDER BY id", (order_no,))
        return [{"event": e, "from_state": f, "to_state": t, "at": a, "by": b, "data": json.loads(d), "source": s}
                for e, f, t, a, b, d, s in cur.fetchall()]

    def queue(self, search: str = "", states: tuple[str, ...] | None = None, limit: int = 200,
              now: str | None = None) -> list[dict]:
        """Open orders (or ``states``), most urgent first: emergency, then the nearest deadline; each
        with ``due_in_s`` (seconds to its deadline, negative = overdue). ``search`` matches the number,
        unit, party or description."""
        states = states or ("received", "classified", "dispatched", "in_progress", "deferred", "completed",
                            "qc_passed", "awaiting_payment", "follow_up")
        sql = (f"SELECT {', '.join(_COLS)} FROM desk_orders WHERE state IN ({', '.join('?' * len(states))})")
        params: list = list(states)
        if search:
            sql += " AND (order_no LIKE ? OR unit LIKE ? OR party LIKE ? OR description LIKE ?)"
            params += [f"%{search}%"] * 4
        sql += " ORDER BY emergency DESC, deadline IS NULL, deadline, received_at LIMIT ?"
        params.append(limit)
        now_dt = _parse(now or utcnow_iso())
        out = []
        for row in self.store.conn.execute(sql, params).fetchall():
            o = dict(zip(_COLS, row))
            o["due_in_s"] = int((_parse(o["deadline"]) - now_dt).total_seconds()) if o["deadline"] else None
            out.append(o)
        return out

    def finance_queue(self, state: str = "open") -> list[dict]:
        """The finance hand-offs (``open``, ``charged``, ``cancelled`` or ``all``) with the amount,
        what was paid and what is still unpaid (fen; unpaid is None while the amount is unknown)."""
        where, params = ("", ()) if state == "all" else ("WHERE f.state = ? ", (state,))
        cur = self.store.conn.execute(
            "SELECT f.handoff_id, f.order_no, f.amount_fen, f.paid_fen, f.pay_method, f.payment_ref, f.paid_at, "
            "f.category, f.state, f.created_at, o.unit, o.party, o.state AS order_state "
            f"FROM desk_finance f LEFT JOIN desk_orders o USING (order_no) {where}ORDER BY f.created_at", params)
        cols = [d[0] for d in cur.description]
        out = []
        for r in cur.fetchall():
            f = dict(zip(cols, r))
            f["paid_fen"] = f["paid_fen"] or 0
            f["unpaid_fen"] = None if f["amount_fen"] is None or f["state"] == "cancelled" else \
                f["amount_fen"] - f["paid_fen"]
            out.append(f)
        return out

    def finance_totals(self) -> dict:
        """Over the open and charged hand-offs: how many, the amounts known, paid and unpaid (fen)."""
        rows = [f for f in self.finance_queue("all") if f["state"] != "cancelled"]
        return {"count": len(rows), "amount_fen": sum(f["amount_fen"] or 0 for f in rows),
                "paid_fen": sum(f["paid_fen"] for f in rows),
                "unpaid_fen": sum(f["unpaid_fen"] or 0 for f in rows)}

    # -- intake (C-1, C-2) -------------------------------------------------------------------
    def receive(self, channel: str, *, unit: str = "", building: str = "", party: str = "", party_role: str = "",
                description: str = "", photos: list[str] | None = None, category: str = "", by: str = "",
                fee_related: bool = False, amount_fen: int | None = None, source_ref: str = "",
                at: str | None = None) -> str:
        """A new work order (status received); a fee-related one hands off to finance in the same
        transaction. Returns its number (``<device>-<seq>``, unique across offline devices)."""
        if channel not in CHANNELS:
            raise DeskError(f"unknown channel {channel!r}", "bad_channel")
        if not description.strip() and not photos:
            raise DeskError("a work order needs a description or a photo", "description_required")
        if amount_fen is not None and (not isinstance(amount_fen, int) or amount_fen < 0):
            raise DeskError("the amount is a non-negative whole number of fen", "bad_amount")
        at = at or utcnow_iso()
        cat = self.catalogue.get(category) if category else None
        with self.store.transaction() as tx:
            no = tx.next_number("desk.order")
            order = {"order_no": no, "channel": channel, "unit": unit, "building": building or unit.split("-")[0],
                     "party": party, "party_role": party_role, "description": description, "photos": photos or [],
                     "at": at, "by": by, "source_ref": source_ref,
                     "fee_related": bool(fee_related or (cat and (cat.fee_related or cat.payable)))}
            if cat:
                order.update(kind=cat.kind, category=cat.code, priority=cat.priority, payable=cat.payable,
                             emergency=cat.emergency, deadline=deadline_for(at, cat.sla_hours))
            self._insert(tx, order, "received")
            tx.emit("desk.order.received", order)
            if order["fee_related"]:
                self._handoff(tx, no, at, amount_fen if amount_fen is not None else (cat.fee_fen if cat else None),
                              cat.code if cat else "")
        return no

    def _insert(self, tx, o: dict, state: str, seq: int = 0) -> None:
        tx.execute(
            "INSERT INTO desk_orders (order_no, channel, unit, building, party, party_role, kind, category, priority, "
            "deadline, payable, fee_related, emergency, description, photos, source_ref, state, version, received_at, "
            "updated_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
            (o["order_no"], o["channel"], o.get("unit", ""), o.get("building", ""), o.get("party", ""),
             o.get("party_role", ""), o.get("kind"), o.get("category", ""), o.get("priority"), o.get("deadline"),
             int(bool(o.get("payable"))), int(bool(o.get("fee_related"))), int(bool(o.get("emergency"))),
             o.get("description", ""), json.dumps(o.get("photos") or []), o.get("source_ref", ""), state,
             o["at"], o["at"], seq))
        tx.execute("INSERT INTO desk_events (order_no, event, from_state, to_state, at, by, data, source) "
                   "VALUES (?, 'received', NULL, ?, ?, ?, ?, ?)",
                   (o["order_no"], state, o["at"], o.get("by", ""),
                    json.dumps({"channel": o["channel"]}, ensure_ascii=False), "pulled" if seq else "local"))

    def _handoff(self, tx, order_no: str, at: str, amount_fen: int | None, category: str, hid: str = "") -> None:
        hid = hid or f"{order_no}-F"
        tx.execute("INSERT INTO desk_finance (handoff_id, order_no, amount_fen, category, created_at) "
                   "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", (hid, order_no, amount_fen, category, at))
        p = {"handoff_id": hid, "order_no": order_no, "at": at, "category": category}
        if amount_fen is not None:
            p["amount_fen"] = amount_fen
        tx.emit("desk.finance.handoff", p)

    # -- the complaint box ------------------------------------------------------------------------
    def print_complaint_slips(self, journal, n: int = 1, *, lang: str = "zh-Hans", site_name: str = "") -> list:
        """Blank complaint-box slips, each with its own number (``<device>-S<seq>``) and QR code."""
        from .slips import complaint_slip

        out = []
        for _ in range(n):
            with self.store.transaction() as tx:
                slip_no = tx.next_number("desk.slip")
            out.append(journal.print("desk_complaint_slip", complaint_slip(slip_no, site_name=site_name, lang=lang),
                                     ref=slip_no))
        return out

    def receive_slip(self, scanned: str, description: str, *, unit: str = "", party: str = "", by: str = "",
                     at: str | None = None) -> str:
        """A filled slip from the box, scanned and keyed in (anonymous when no name was written). A
        slip is keyed once: its number becomes the order's source reference."""
        from .slips import parse_slip_code

        slip_no = parse_slip_code(scanned)
        if slip_no is None:
            raise DeskError("this code is not a complaint-box slip", "not_a_slip")
        if self.store.conn.execute("SELECT 1 FROM desk_orders WHERE channel = 'complaint_box' AND source_ref = ?",
                                   (slip_no,)).fetchone():
            raise DeskError(f"slip {slip_no} has been keyed in already", "slip_already_keyed")
        return self.receive("complaint_box", unit=unit, party=party, party_role="owner" if party else "",
                            description=description, by=by, source_ref=slip_no, at=at)

    # -- classify and route (C-3) -----------------------------------------------------------------
    def suggest(self, text: str, unit: str = "", n: int = 3) -> list[tuple[str, float]]:
        """Categories for ``text``, best first: the category's keywords found in the text, and the
        history of confirmed orders with those words (and of this unit). A suggestion only: the
        dispatcher confirms (:meth:`classify`)."""
        low = text.lower()
        scores: dict[str, float] = {}
        hits: list[str] = []
        for c in self.catalogue.leaves():
            found = [k for k in c.keywords if k.lower() in low]
            if found:
                scores[c.code] = scores.get(c.code, 0) + 2.0 * len(found)
                hits += found
        words = sorted(set(hits) | set(re.findall(r"[a-z]{4,}", low)))[:8]
        for w in words:
            rows = self.store.conn.execute(
                "SELECT category, count(*) FROM desk_orders WHERE category != '' AND lower(description) LIKE ? "
                "GROUP BY category", (f"%{w.lower()}%",)).fetchall()
            total = sum(r[1] for r in rows) or 1
            for cat, cnt in rows:
                scores[cat] = scores.get(cat, 0) + cnt / total
        if unit:
            rows = self.store.conn.execute("SELECT category, count(*) FROM desk_orders WHERE unit = ? AND "
                                           "category != '' GROUP BY category", (unit,)).fetchall()
            total = sum(r[1] for r in rows) or 1
            for cat, cnt in rows:
                scores[cat] = scores.get(cat, 0) + 0.5 * cnt / total
        return sorted(((c, round(s, 3)) for c, s in scores.items() if c in self.catalogue.categories),
                      key=lambda cs: (-cs[1], cs[0]))[:n]

    def classify(self, order_no: str, category: str, by: str, *, suggested: str | None = None,
                 at: str | None = None) -> dict:
        """The dispatcher's confirmed category: kind, priority and deadline follow it; a fee-related
        category hands off to finance if the order had not already."""
        if not by:
            raise DeskError("a person confirms the category", "confirm_required")
        cat = self.catalogue.get(category)
        o = self.order(order_no)
        fields = {"kind": cat.kind, "category": cat.code, "priority": cat.priority, "payable": cat.payable,
                  "fee_related": bool(o["fee_related"] or cat.fee_related or cat.payable), "emergency": cat.emergency,
                  "deadline": deadline_for(o["received_at"], cat.sla_hours)}
        if suggested:
            fields["suggested"] = suggested

        def more(tx, o):
            if fields["fee_related"] and not tx.execute("SELECT 1 FROM desk_finance WHERE order_no = ?",
                                                        (order_no,)).fetchone():
                self._handoff(tx, order_no, fields.get("at") or at or utcnow_iso(), cat.fee_fen, cat.code)
        return self._step(order_no, "classified", by, at, fields, more)

    def dispatch(self, order_no: str, by: str, assignee: str | None = None, at: str | None = None) -> dict:
        """Route to the category's team: the dispatcher's choice, or the team's next person in turn."""
        o = self.order(order_no)
        if not o["category"]:
            raise DeskError("classify the order before dispatching it", "classify_first")
        team = self.catalogue.get(o["category"]).team
        members = self.catalogue.teams[team]
        if assignee is not None and assignee not in members:
            raise DeskError(f"{assignee} is not in team {team}", "not_in_team")
        fields = {"team": team, "assignee": assignee, "mode": "choice" if assignee else "round_robin"}

        def pick(tx, o):
            if fields["assignee"] is None:
                row = tx.execute("INSERT INTO desk_rr (team, next) VALUES (?, 1) ON CONFLICT(team) DO UPDATE "
                                 "SET next = next + 1 RETURNING next", (team,)).fetchone()
                fields["assignee"] = members[(row[0] - 1) % len(members)]
        return self._step(order_no, "dispatched", by, at, fields, pick, before=True)

    def print_dispatch_slip(self, journal, order_no: str, *, lang: str = "zh-Hans", site_name: str = "",
                            tz: str = "Asia/Shanghai"):
        """The assignee's dispatch slip through the print journal (a printer fault keeps the job
        for a retry; the outcome says what happened)."""
        from .slips import dispatch_slip

        o = self.order(order_no)
        if not o["assignee"]:
            raise DeskError("dispatch the order before printing its slip", "dispatch_first")
        cat = self.catalogue.categories.get(o["category"])
        layout = dispatch_slip(o, cat.label(lang) if cat else o["category"], site_name=site_name, lang=lang, tz=tz)
        return journal.print("desk_dispatch_slip", layout, ref=order_no)

    # -- the work ---------------------------------------------------------------------------------
    def start(self, order_no: str, by: str, at: str | None = None) -> dict:
        return self._step(order_no, "started", by, at)

    def defer(self, order_no: str, by: str, reason: str, at: str | None = None) -> dict:
        if not reason.strip():
            raise DeskError("say why the work is deferred", "reason_required")
        return self._step(order_no, "deferred", by, at, {"reason": reason})

    def resume(self, order_no: str, by: str, at: str | None = None) -> dict:
        return self._step(order_no, "resumed", by, at)

    def complete(self, order_no: str, by: str, note: str, photos: list[str], cause_code: str = "",
                 at: str | None = None) -> dict:
        if not note.strip() or not photos:
            raise DeskError("completion needs the worker's note and at least one photo", "note_and_photos")
        fields = {"note": note, "photos": list(photos)}
        if cause_code:
            fields["cause_code"] = cause_code

        def keep_photos(tx, o):                 # the order's photos: the intake's and every completion's
            old = json.loads(tx.execute("SELECT photos FROM desk_orders WHERE order_no = ?", (order_no,)).fetchone()[0])
            tx.execute("UPDATE desk_orders SET photos = ? WHERE order_no = ?",
                       (json.dumps(old + [p for p in photos if p not in old]), order_no))
        return self._step(order_no, "completed", by, at, fields, keep_photos)

    def qc(self, order_no: str, by: str, passed: bool, reasons: list[str] | None = None,
           at: str | None = None) -> dict:
        """The supervisor's QC: the gate before the follow-up; a failed QC sends the order back."""
        if not passed and not reasons:
            raise DeskError("a failed QC needs its reasons", "reasons_required")
        fields = {"result": "passed" if passed else "failed", "reasons": list(reasons or [])}
        return self._step(order_no, "qc_passed" if passed else "qc_failed", by, at, fields)

    def request_payment(self, order_no: str, by: str, amount_fen: int, at: str | None = None) -> dict:
        if not isinstance(amount_fen, int) or amount_fen <= 0:
            raise DeskError("the amount is a positive whole number of fen", "bad_amount")

        def queue(tx, o):
            if tx.execute("UPDATE desk_finance SET amount_fen = ? WHERE order_no = ? AND state = 'open'",
                          (amount_fen, order_no)).rowcount == 0:
                # a reopened order paid before (or one never handed off): a new hand-off for this round
                n = tx.execute("SELECT count(*) FROM desk_finance WHERE order_no = ?", (order_no,)).fetchone()[0]
                cat = tx.execute("SELECT category FROM desk_orders WHERE order_no = ?", (order_no,)).fetchone()[0]
                self._handoff(tx, order_no, at or utcnow_iso(), amount_fen, cat, f"{order_no}-F{n + 1}" if n else "")
        return self._step(order_no, "payment_requested", by, at, {"amount_fen": amount_fen}, queue)

    # -- paid special services (C-2): through the platform's payments ------------------------------
    def amount_due(self, order_no: str) -> int | None:
        """Fen still to pay for an order awaiting payment (None when it is not awaiting payment)."""
        row = self.store.conn.execute(
            "SELECT o.state, f.amount_fen, f.paid_fen FROM desk_orders o LEFT JOIN desk_finance f "
            "ON f.order_no = o.order_no AND f.state = 'open' WHERE o.order_no = ?", (order_no,)).fetchone()
        if row is None:
            raise NotFound(f"no work order {order_no}")
        state, amount, paid = row
        if state != "awaiting_payment" or amount is None:
            return None
        return amount - (paid or 0)

    def _due_or_refuse(self, order_no: str) -> int:
        due = self.amount_due(order_no)
        if due is None or due <= 0:
            raise DeskError(f"{order_no} is not awaiting payment", "not_awaiting_payment")
        return due

    def pay_by_card(self, payments, order_no: str, *, terminal_url: str, by: str, on_status=None):
        """The card payment through the platform's journal (:class:`pos.payments.PaymentService`,
        purpose ``desk_service``, account = the order number). The order moves to the follow-up in
        the transaction that posts the approval (:mod:`pos.desk.payments_bridge`), also when the
        journal's recovery posts it later. Returns the :class:`~pos.payments.PaymentOutcome`."""
        due = self._due_or_refuse(order_no)
        out = payments.pay(due, terminal_url=terminal_url, account=order_no, purpose=PAY_PURPOSE,
                           on_status=on_status)
        log.info("desk %s: card payment %s of %d fen by %s: %s", order_no, out.attempt_id, due, by or "-",
                 out.public_status)
        return out

    def pay_cash(self, cash, order_no: str, *, cashier: str, tendered_fen: int, by: str = "",
                 at: str | None = None):
        """Cash at the desk: the drawer's movement and the order's payment in one transaction; the
        drawer is kicked after the commit. Returns the :class:`~pos.payments.cash.CashReceipt`."""
        due = self._due_or_refuse(order_no)
        with self.store.transaction() as tx:
            receipt = cash.take_in(tx, cashier, due, tendered_fen, account=order_no, purpose=PAY_PURPOSE)
            self.record_payment_in(tx, order_no, by or cashier, due, "cash", receipt.receipt_no, at)
        log.info("desk %s: cash %d fen (tendered %d) receipt %s by %s", order_no, due, tendered_fen,
                 receipt.receipt_no, cashier)
        return cash.open_drawer(receipt)

    def record_payment_in(self, tx, order_no: str, by: str, amount_fen: int, method: str, ref: str,
                          at: str | None = None) -> dict:
        """Inside the transaction that holds the money's own record (the card journal's posting, the
        cash movement): the finance row charged and the order's ``paid`` transition."""
        row = tx.execute("SELECT amount_fen FROM desk_finance WHERE order_no = ? AND state = 'open'",
                         (order_no,)).fetchone()
        if row is None or row[0] != amount_fen:
            raise DeskError(f"{order_no}: {amount_fen} fen is not the amount due", "bad_amount")
        fields = {"amount_fen": amount_fen, "pay_method": method, "payment_ref": ref}

        def settle(tx, o):
            tx.execute("UPDATE desk_finance SET state = 'charged', paid_fen = ?, pay_method = ?, payment_ref = ?, "
                       "paid_at = ? WHERE order_no = ? AND state = 'open'",
                       (amount_fen, method, ref, at or utcnow_iso(), order_no))
        return self._step_in(tx, order_no, "paid", by, at, fields, settle)

    def open_follow_up(self, order_no: str, by: str, at: str | None = None) -> dict:
        return self._step(order_no, "follow_up_opened", by, at)

    def follow_up(self, order_no: str, by: str, rating: str, *, reasons: list[str] | None = None, comment: str = "",
                  method: str = "call", at: str | None = None) -> dict:
        """The follow-up call or visit (only after QC): satisfied or acceptable closes the order;
        dissatisfied reopens it (back to its team, reopen count + 1)."""
        if rating not in RATINGS:
            raise DeskError(f"rating must be one of {', '.join(RATINGS)}", "bad_rating")
        if rating == "dissatisfied" and not (reasons or comment.strip()):
            raise DeskError("a dissatisfied rating needs its reasons", "reasons_required")
        return self._step(order_no, "followed_up", by, at, {"rating": rating, "reasons": list(reasons or []),
                                                            "comment": comment, "method": method})

    def answer(self, order_no: str, by: str, note: str, at: str | None = None) -> dict:
        if self.order(order_no)["kind"] != "enquiry":
            raise DeskError("only an enquiry is answered at the desk", "not_enquiry")
        return self._step(order_no, "answered", by, at, {"note": note})

    def cancel(self, order_no: str, by: str, reason: str, at: str | None = None) -> dict:
        def drop(tx, o):
            tx.execute("UPDATE desk_finance SET state = 'cancelled' WHERE order_no = ? AND state = 'open'",
                       (order_no,))
        return self._step(order_no, "cancelled", by, at, {"reason": reason}, drop)

    # -- one transition ----------------------------------------------------------------------------
    def _step(self, order_no: str, event: str, by: str, at: str | None, fields: dict | None = None,
              extra=None, before: bool = False) -> dict:
        with self.store.transaction() as tx:
            return self._step_in(tx, order_no, event, by, at, fields, extra, before)

    def _step_in(self, tx, order_no: str, event: str, by: str, at: str | None, fields: dict | None = None,
                 extra=None, before: bool = False) -> dict:
        fields = {} if fields is None else fields       # the caller's dict: extra() may fill it
        row = tx.execute("SELECT state, version, payable, reopen_count, received_at FROM desk_orders "
                         "WHERE order_no = ?", (order_no,)).fetchone()
        if row is None:
            raise NotFound(f"no work order {order_no}")
        state, version, payable, reopens, received_at = row
        at = at or utcnow_iso()
        if at < received_at:
            at = received_at
        try:
            to = next_state(state, event, fields, bool(fields.get("payable", payable)))
        except TransitionRefused as exc:
            raise DeskError(f"{order_no}: {exc}", exc.code) from None
        if extra is not None and before:
            extra(tx, row)
        sets = {k: fields[k] for k in ("kind", "category", "priority", "deadline", "payable", "fee_related",
                                       "emergency", "team", "assignee", "cause_code") if k in fields}
        if event == "followed_up" and to == "dispatched":
            sets["reopen_count"] = reopens + 1
        sets.update(state=to, version=version + 1, updated_at=at)
        tx.execute(f"UPDATE desk_orders SET {', '.join(f'{k} = ?' for k in sets)} WHERE order_no = ?",
                   [*(int(v) if isinstance(v, bool) else v for v in sets.values()), order_no])
        tx.execute("INSERT INTO desk_events (order_no, event, from_state, to_state, at, by, data, source) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, 'local')",
                   (order_no, event, state, to, at, by, json.dumps(fields, ensure_ascii=False)))
        tx.emit(f"desk.order.{event}", {"order_no": order_no, "from_state": state, "at": at, "by": by,
                                        "version": version + 1, **{k: v for k, v in fields.items()
                                                                   if v is not None}})
        if extra is not None and not before:
            extra(tx, row)
        return {"order_no": order_no, "state": to, **fields}


# -- the front ends' rules: QC, the follow-up procedures, the households, common answers --------------
# (module functions over a DeskService, for the console's QC and follow-up screen and the lobby kiosk)
import hashlib  # noqa: E402 - this block's own imports, kept with it
import hmac  # noqa: E402
import tomllib  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

#: which procedure's follow-up an order follows (the seed, 1.5: complaints by the complaint procedure,
#: special services by the special-service procedure, the rest by the dispatch centre's own): the reasons
#: a person may tick, the ways it is done, and whether the resident's own words must be written down
FOLLOW_UPS = {
    "complaint": {"reasons": ("not_resolved", "slow_response", "staff_attitude", "happened_again"),
                  "methods": ("call", "visit", "kiosk"), "comment_required": True},
    "special_service": {"reasons": ("work_quality", "price", "late_arrival", "left_untidy"),
                        "methods": ("call", "visit", "kiosk"), "comment_required": False},
    "service": {"reasons": ("not_fixed", "slow_response", "staff_attitude", "left_untidy"),
                "methods": ("call", "visit", "kiosk"), "comment_required": False},
}
#: the reasons a supervisor ticks when the work fails QC
QC_REASONS = ("not_fixed", "no_photos", "unsafe", "left_untidy")
_BEFORE_QC = ("received", "classified", "dispatched", "in_progress", "deferred", "completed")


def follow_up_procedure(order: dict) -> str:
    """``complaint`` (《客户投诉处理程序》), ``special_service`` (a paid category: 《特约服务处理程序》)
    or ``service`` (the dispatch centre's own follow-up)."""
    if order.get("kind") == "complaint":
        return "complaint"
    return "special_service" if order.get("payable") else "service"


def record_qc(desk: DeskService, order_no: str, by: str, passed: bool, *, reasons: list[str] | tuple = (),
              note: str = "", at: str | None = None) -> dict:
    """The supervisor's QC with a note: the ticked reasons (:data:`QC_REASONS`) and the note are kept
    as the QC's reasons; a fail needs one of them and sends the order back to in progress."""
    if not by.strip():
        raise DeskError("the supervisor's name is needed for QC", "name_required")
    bad = [r for r in reasons if r not in QC_REASONS]
    if bad:
        raise DeskError(f"unknown QC reasons {bad}", "bad_reason")
    kept = [*reasons, *([note.strip()] if note.strip() else [])]
    if not passed and not kept:
        raise DeskError("a failed QC needs its reasons", "reasons_required")
    o = desk.order(order_no)
    out = o if passed and o["state"] == "qc_passed" else desk.qc(order_no, by.strip(), passed, kept, at=at)
    if passed and o["payable"]:
        # a paid special service: passed QC asks for its payment (the finance row's amount, else the
        # category's price); with no amount known it waits in qc_passed for the finance staff, and a
        # second "passed" (after a crash between the two steps) only asks for the payment
        row = desk.store.conn.execute("SELECT amount_fen FROM desk_finance WHERE order_no = ? AND state = 'open'",
                                      (order_no,)).fetchone()
        cat = desk.catalogue.categories.get(o["category"])
        fen = (row[0] if row and row[0] else None) or (cat.fee_fen if cat else None)
        if fen:
            return desk.request_payment(order_no, by.strip(), fen, at=at)
    return out


def record_follow_up(desk: DeskService, order_no: str, by: str, rating: str, *, reasons: list[str] | tuple = (),
                     comment: str = "", method: str = "call", at: str | None = None) -> dict:
    """The follow-up call, visit or the resident's own rating, by the order's procedure
    (:func:`follow_up_procedure`): refused before a passed QC; a passed non-payable order's follow-up
    opens here; satisfied or acceptable closes the order, dissatisfied reopens it."""
    o = desk.order(order_no)
    if o["state"] in _BEFORE_QC:
        raise DeskError(f"{order_no}: a follow-up needs a passed QC first (order is {o['state']})",
                        "follow_up_before_qc")
    if not by.strip():
        raise DeskError("who made the follow-up is needed", "name_required")
    spec = FOLLOW_UPS[follow_up_procedure(o)]
    if method not in spec["methods"]:
        raise DeskError(f"follow-up method {method!r} is not one of {spec['methods']}", "bad_method")
    bad = [r for r in reasons if r not in spec["reasons"]]
    if bad:
        raise DeskError(f"reasons {bad} are not this procedure's", "bad_reason")
    if rating not in RATINGS:
        raise DeskError(f"rating must be one of {', '.join(RATINGS)}", "bad_rating")
    if spec["comment_required"] and not comment.strip():
        raise DeskError("the complaint procedure keeps the resident's own words", "comment_required")
    if o["state"] in ("qc_passed", "awaiting_payment") and o["payable"]:
        raise DeskError(f"{order_no}: a paid service is followed up once it is paid", "payment_first")
    if o["state"] == "qc_passed":
        desk.open_follow_up(order_no, by.strip(), at=at)
    # the event's schema knows calls and visits; the resident's own rating at the kiosk carries no
    # method (its ``by`` names the household)
    return desk.follow_up(order_no, by.strip(), rating, reasons=list(reasons), comment=comment.strip(),
                          method=None if method == "kiosk" else method, at=at)


HOUSEHOLDS_PATH = Path(__file__).resolve().parents[2] / "assets" / "config" / "desk_households.toml"
FAQ_PATH = Path(__file__).resolve().parents[2] / "assets" / "config" / "desk_faq.toml"
HOUSEHOLD_QR = "onestop:desk:household:"


@dataclass(frozen=True)
class Household:
    """One household of the community (一户一档): the unit, the owner or tenant, the phone the desk
    has, the digest of the code the desk gave the household, and the resident card's UID."""
    unit: str
    party: str
    role: str
    phone: str = ""
    code_sha256: str = ""
    card_uid: str = ""


def code_digest(unit: str, code: str) -> str:
    """What the households file keeps of a household's code (never the code itself)."""
    return hashlib.sha256(f"{unit}:{code.strip()}".encode()).hexdigest()


def load_households(path: str | Path | None = None) -> dict[str, Household]:
    """unit -> :class:`Household` from the desk's households file (TOML ``[[household]]``)."""
    with open(path or HOUSEHOLDS_PATH, "rb") as fh:
        data = tomllib.load(fh)
    out = {}
    for h in data.get("household", []):
        out[h["unit"]] = Household(h["unit"], h.get("party", ""), h.get("role", "owner"), h.get("phone", ""),
                                   h.get("code_sha256", ""), h.get("card_uid", "").upper().replace(" ", ""))
    return out


def identify_household(households: dict[str, Household], *, phone: str = "", code: str = "", card_uid: str = "",
                       qr: str = "") -> Household:
    """The household by its resident card's UID, its QR code (``onestop:desk:household:<unit>:<code>``)
    or its phone number and code; :class:`DeskError` ``unknown_household`` otherwise (the same
    refusal for a wrong phone and a wrong code: the kiosk tells no one whose number it is)."""
    if card_uid:
        uid = card_uid.upper().replace(" ", "")
        for h in households.values():
            if h.card_uid and hmac.compare_digest(h.card_uid, uid):
                return h
    elif qr:
        unit, _, qcode = qr[len(HOUSEHOLD_QR):].partition(":") if qr.startswith(HOUSEHOLD_QR) else ("", "", "")
        h = households.get(unit)
        if h and qcode and hmac.compare_digest(h.code_sha256, code_digest(unit, qcode)):
            return h
    elif phone.strip() and code.strip():
        digits = re.sub(r"\D", "", phone)
        for h in households.values():
            if h.phone and re.sub(r"\D", "", h.phone) == digits and \
                    hmac.compare_digest(h.code_sha256, code_digest(h.unit, code)):
                return h
    raise DeskError("no household matches", "unknown_household")


def resident_rating(desk: DeskService, household: Household, order_no: str, rating: str, *, comment: str = "",
                    at: str | None = None) -> dict:
    """The resident's own follow-up at the lobby kiosk: only for an order of their unit, after QC."""
    if desk.order(order_no)["unit"] != household.unit:
        raise DeskError(f"{order_no} is not an order of unit {household.unit}", "not_your_order")
    return record_follow_up(desk, order_no, f"resident {household.unit}", rating, comment=comment, method="kiosk",
                            at=at)


def load_faq(path: str | Path | None = None) -> list[dict]:
    """The answers to common enquiries: ``[{"q": {lang: text}, "a": {lang: text}}]`` (TOML ``[[faq]]``)."""
    with open(path or FAQ_PATH, "rb") as fh:
        data = tomllib.load(fh)
    return [{"q": dict(f["q"]), "a": dict(f["a"])} for f in data.get("faq", [])]


def local_events(desk: DeskService) -> list[tuple[int, str, dict]]:
    """This device's own desk log (``desk_events``) as the ``(seq, kind, payload)`` events that
    :func:`pos.desk.report.monthly` folds (the server's log has the same shape), for a report on
    the desk itself (the demo's report pages): a received event carries the order's channel and
    building, each later one its recorded fields and the state it led to."""
    rows = desk.store.conn.execute(
        "SELECT e.id, e.order_no, e.event, e.to_state, e.at, e.by, e.data, o.channel, o.building, o.unit "
        "FROM desk_events e JOIN desk_orders o USING (order_no) ORDER BY e.id").fetchall()
    out = []
    for seq, no, event, to, at, by, data, channel, building, unit in rows:
        p = {"order_no": no, "at": at, "by": by, **json.loads(data)}
        if event == "received":
            p.update(channel=channel, building=building, unit=unit)
        else:
            p["to_state"] = to
        out.append((seq, f"desk.order.{event}", p))
    return out
