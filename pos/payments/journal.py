"""The payment journal: one row per attempt, every state change recorded and emitted.

State machine (see docs/payments.md)::

    intent ─► sent ─► waiting_card ─► approved ─► posted ─► reversed
       │        │          │             └──────────────► reversed
       │        ├──────────┴─► declined | aborted
       │        └──────────┴─► in_doubt ─► approved | declined | aborted | unresolved
       └─► aborted (nothing was sent)                         unresolved ─► approved | aborted

Each change is one store transaction: the row update, a ``payment_events`` row and an outbox
command ``payment.<state>`` commit together (:mod:`pos.journal`); intent, waiting_card and
approved are committed without a flush, so an approved payment makes two durable commits: sent,
before the first byte, and posted, which flushes the approval with it. Only card fields a POS may keep are written: masked
PAN (re-masked here as a second guard), brand, auth code, terminal ID, trace and receipt numbers.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Callable

from drivers.errors import TerminalBusy
from drivers.pci import mask_pan
from pos.ids import utcnow_iso, uuid7
from pos.journal import IntentJournal, JournalSpec
from pos.store import Store, Tx

from .schema import ACTIVE

__all__ = ["Journal", "SPEC", "TRANSITIONS", "FINAL", "CARD_FIELDS", "ACTIVE_SQL"]

log = logging.getLogger(__name__)

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "intent": ("sent", "aborted"),
    "sent": ("waiting_card", "approved", "declined", "aborted", "in_doubt"),
    "waiting_card": ("approved", "declined", "aborted", "in_doubt"),
    "in_doubt": ("approved", "declined", "aborted", "unresolved"),
    "unresolved": ("approved", "aborted"),
    "approved": ("posted", "reversed"),
    "posted": ("reversed",),
    "declined": (),
    "aborted": (),
    "reversed": (),
}
FINAL = ("declined", "aborted", "reversed", "posted")
CARD_FIELDS = ("trace_no", "receipt_no", "terminal_id", "auth_code", "masked_pan", "brand", "result_code", "reason")

Poster = Callable[[Tx, dict], None]


def _clean(fields: dict) -> dict:
    out = {k: v for k, v in fields.items() if k in CARD_FIELDS or k in ("baseline_known", "baseline_trace")}
    if out.get("masked_pan"):
        out["masked_pan"] = mask_pan(out["masked_pan"])
    if out.get("reason"):
        from drivers.pci import redact
        out["reason"] = redact(str(out["reason"]))[:500]
    return out


SPEC = JournalSpec(
    table="payment_attempts", key="attempt_id", events="payment_events", prefix="payment",
    transitions=TRANSITIONS, active=ACTIVE,
    # Not flushed: a lost intent was never sent; a lost waiting_card is recovered as sent; a lost
    # approval (flushed by the posting that follows it) is found again on the terminal.
    lazy=frozenset({"intent", "waiting_card", "approved"}),
    emit_fields=("attempt_id", "kind", "amount_fen", "purpose", "account", "original_id", "trace_no",
                 "receipt_no", "terminal_id", "auth_code", "masked_pan", "brand"),
    clean=lambda fields: _clean(fields),
)
ACTIVE_SQL = SPEC.active_sql


class Journal(IntentJournal):
    """The card payment journal: pos.journal's intent -> call -> recover journal for card terminals."""

    def __init__(self, store: Store, spec: JournalSpec = SPEC):
        super().__init__(store, spec)

    # -- reads ---------------------------------------------------------------------------
    def pending(self, terminal: str | None = None) -> list[dict]:
        """Unfinished attempts (index payment_one_active_per_terminal)."""
        if terminal is None:
            return self.unfinished()
        return self.unfinished("terminal = ?", (terminal,))

    def approved(self, terminal: str | None = None) -> list[dict]:
        """Approved attempts not yet posted (index payment_attempts_approved)."""
        if terminal is None:
            return self.rows("state = 'approved'")
        return self.rows("state = 'approved' AND terminal = ?", (terminal,))

    def terminal_baseline(self, terminal: str) -> tuple[bool, str | None]:
        row = self.store.conn.execute("SELECT known, last_trace FROM payment_terminals WHERE terminal = ?",
                                      (terminal,)).fetchone()
        return (bool(row[0]), row[1]) if row else (False, None)

    def blocked(self, account: str) -> list[dict]:
        cur = self.store.conn.execute(
            "SELECT * FROM payment_supervisor_queue WHERE account = ? AND resolved_at IS NULL", (account,))
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def refundable(self, sale_id: str) -> int:
        sale = self.get(sale_id)
        if sale["kind"] not in ("sale", "booking") or sale["state"] != "posted":
            return 0
        done = self.store.conn.execute(
            "SELECT coalesce(sum(amount_fen), 0) FROM payment_attempts WHERE original_id = ? AND kind = 'refund' "
            "AND state NOT IN ('declined', 'aborted')", (sale_id,)).fetchone()[0]
        return sale["amount_fen"] - done

    # -- writes --------------------------------------------------------------------------
    def _emit(self, tx: Tx, row: dict, state: str) -> None:
        self.emit(tx, row, state)

    def create_intent(self, *, kind: str, amount_fen: int, purpose: str, account: str, terminal: str,
                      terminal_url: str, original_id: str | None = None) -> dict:
        now = utcnow_iso()
        known, trace = self.terminal_baseline(terminal)
        row = {
            "attempt_id": str(uuid7()), "kind": kind, "amount_fen": amount_fen, "purpose": purpose,
            "account": account, "terminal": terminal, "terminal_url": terminal_url, "state": "intent",
            "original_id": original_id, "baseline_known": int(known), "baseline_trace": trace,
            "created_at": now, "updated_at": now,
        }
        try:
            return self.begin(row)
        except sqlite3.IntegrityError as exc:
            if "payment_attempts.terminal" in str(exc) or "UNIQUE" in str(exc):
                raise TerminalBusy(f"terminal {terminal} already has a transaction in progress") from exc
            raise

    def set_baseline(self, attempt_id: str, known: bool, trace: str | None) -> None:
        with self.store.transaction(durable=False) as tx:     # flushed by the commit of sent
            tx.execute("UPDATE payment_attempts SET baseline_known = ?, baseline_trace = ? WHERE attempt_id = ?",
                       (int(known), trace, attempt_id))

    @staticmethod
    def note_terminal(tx: Tx, terminal: str, url: str, trace: str | None, terminal_id: str | None = None) -> None:
        """Remember the terminal's latest trace number (the baseline of the next attempt)."""
        tx.execute(
            "INSERT INTO payment_terminals (terminal, url, last_trace, known, terminal_id, updated_at) "
            "VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT(terminal) DO UPDATE SET url = excluded.url, "
            "last_trace = coalesce(excluded.last_trace, payment_terminals.last_trace), known = 1, "
            "terminal_id = coalesce(excluded.terminal_id, payment_terminals.terminal_id), updated_at = excluded.updated_at",
            (terminal, url, trace, terminal_id, utcnow_iso()))

    def queue_for_supervisor(self, tx: Tx, row: dict, reason: str) -> None:
        tx.insert("payment_supervisor_queue", {
            "attempt_id": row["attempt_id"], "account": row["account"], "terminal": row["terminal"],
            "amount_fen": row["amount_fen"], "reason": reason, "created_at": utcnow_iso()})
        tx.emit("payment.supervisor_queued", {"attempt_id": row["attempt_id"], "account": row["account"],
                                              "amount_fen": row["amount_fen"], "reason": reason})

    def supervisor_queue(self, open_only: bool = True) -> list[dict]:
        cur = self.store.conn.execute(
            "SELECT q.*, a.kind, a.purpose, a.created_at AS attempt_at FROM payment_supervisor_queue q "
            "JOIN payment_attempts a USING (attempt_id)" + (" WHERE q.resolved_at IS NULL" if open_only else "")
            + " ORDER BY q.id")
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def dumps(obj) -> str:  # pragma: no cover - helper for debugging
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)
