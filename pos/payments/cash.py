"""Cash at the counter: tendered and change, the drawer kick, the shift's cash count.

Everything here is local: each movement is one store transaction with its outbox command
(``cash.received``, ``cash.refunded``, ``cash.shift_opened``, ``cash.shift_closed``), so cash
deposits are taken while the central server is unreachable and sync later. The drawer is opened
through a callable (the receipt printer's kick, or anything else) *after* the commit; a drawer
that does not open is logged and reported, the money is still recorded.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from typing import Callable

from pos.errors import DomainError, NotFound
from pos.ids import utcnow_iso, uuid7
from pos.store import Store

__all__ = ["CashDrawer", "CashReceipt", "ShiftCount", "InsufficientTender", "DENOMINATIONS_FEN"]

log = logging.getLogger(__name__)

#: renminbi notes and coins, in fen
DENOMINATIONS_FEN = (10000, 5000, 2000, 1000, 500, 100, 50, 10)


class InsufficientTender(DomainError):
    user_message = "The cash given is less than the amount due."


@dataclass(frozen=True)
class CashReceipt:
    movement_id: str
    receipt_no: str
    amount_fen: int
    tendered_fen: int | None
    change_fen: int
    drawer_opened: bool


@dataclass(frozen=True)
class ShiftCount:
    shift_id: str
    expected_fen: int
    counted_fen: int
    difference_fen: int     # counted - expected (negative = short)


def _positive(name: str, v) -> None:
    if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
        raise DomainError(f"{name} must be a whole number of fen greater than 0, got {v!r}",
                          user_message="Please enter an amount greater than zero.")


class CashDrawer:
    def __init__(self, store: Store, kick: Callable[[], None] | None = None):
        self.store = store
        self.kick = kick

    # -- shifts -----------------------------------------------------------------------------
    def open_shift(self, cashier: str, float_fen: int = 0) -> str:
        if not isinstance(float_fen, int) or float_fen < 0:
            raise DomainError(f"opening float must be whole fen >= 0, got {float_fen!r}")
        shift_id = str(uuid7())
        with self.store.transaction() as tx:      # checked and opened in one transaction
            if tx.execute("SELECT 1 FROM cash_shifts WHERE cashier = ? AND closed_at IS NULL", (cashier,)).fetchone():
                raise DomainError(f"cashier {cashier} already has an open shift")
            tx.insert("cash_shifts", {"shift_id": shift_id, "cashier": cashier, "opened_at": utcnow_iso(),
                                      "float_fen": float_fen})
            tx.emit("cash.shift_opened", {"shift_id": shift_id, "cashier": cashier, "float_fen": float_fen})
        return shift_id

    def _open_shift_row(self, cashier: str) -> dict | None:
        cur = self.store.conn.execute("SELECT * FROM cash_shifts WHERE cashier = ? AND closed_at IS NULL", (cashier,))
        row = cur.fetchone()
        return dict(zip([c[0] for c in cur.description], row)) if row else None

    def shift(self, cashier: str) -> dict:
        row = self._open_shift_row(cashier)
        if row is None:
            raise NotFound(f"cashier {cashier} has no open shift", user_message="Please open a cash shift first.")
        return row

    def expected_fen(self, shift_id: str, tx=None) -> int:
        q = tx.execute if tx is not None else self.store.conn.execute
        float_fen = q("SELECT float_fen FROM cash_shifts WHERE shift_id = ?", (shift_id,)).fetchone()[0]
        inflow = q(
            "SELECT coalesce(sum(CASE kind WHEN 'payment' THEN amount_fen ELSE -amount_fen END), 0) "
            "FROM cash_movements WHERE shift_id = ?", (shift_id,)).fetchone()[0]
        return float_fen + inflow

    # -- money in and out ------------------------------------------------------------------
    def take(self, cashier: str, amount_due_fen: int, tendered_fen: int, *, account: str,
             purpose: str = "deposit") -> CashReceipt:
        """Cash received for ``amount_due_fen``; returns the change to give back."""
        _positive("amount due", amount_due_fen)
        _positive("cash tendered", tendered_fen)
        if tendered_fen < amount_due_fen:
            raise InsufficientTender(f"tendered {tendered_fen} fen is less than the {amount_due_fen} fen due")
        return self._move(cashier, "payment", amount_due_fen, tendered_fen, tendered_fen - amount_due_fen,
                          account, purpose)

    def pay_out(self, cashier: str, amount_fen: int, *, account: str, purpose: str = "refund") -> CashReceipt:
        """Cash handed to the patient (a deposit surplus refunded in cash)."""
        _positive("amount", amount_fen)
        return self._move(cashier, "refund", amount_fen, None, 0, account, purpose)

    def take_in(self, tx, cashier: str, amount_due_fen: int, tendered_fen: int, *, account: str,
                purpose: str = "deposit") -> CashReceipt:
        """:meth:`take` inside the caller's transaction (the domain's change commits with the cash);
        the drawer is not kicked: call :meth:`open_drawer` after the commit."""
        _positive("amount due", amount_due_fen)
        _positive("cash tendered", tendered_fen)
        if tendered_fen < amount_due_fen:
            raise InsufficientTender(f"tendered {tendered_fen} fen is less than the {amount_due_fen} fen due")
        return self._move_in(tx, cashier, "payment", amount_due_fen, tendered_fen, tendered_fen - amount_due_fen,
                             account, purpose)

    def pay_out_in(self, tx, cashier: str, amount_fen: int, *, account: str, purpose: str = "refund") -> CashReceipt:
        """:meth:`pay_out` inside the caller's transaction; kick the drawer after the commit."""
        _positive("amount", amount_fen)
        return self._move_in(tx, cashier, "refund", amount_fen, None, 0, account, purpose)

    def open_drawer(self, receipt: CashReceipt) -> CashReceipt:
        """Kick the drawer for a movement committed in the caller's transaction."""
        return replace(receipt, drawer_opened=self._kick())

    def _move(self, cashier, kind, amount_fen, tendered, change, account, purpose) -> CashReceipt:
        with self.store.transaction() as tx:
            cr = self._move_in(tx, cashier, kind, amount_fen, tendered, change, account, purpose)
        return self.open_drawer(cr)

    def _move_in(self, tx, cashier, kind, amount_fen, tendered, change, account, purpose) -> CashReceipt:
        mid = str(uuid7())
        # the shift is read in the same transaction, so a shift closed a moment ago (the
        # count on another screen) never receives this money
        cur = tx.execute("SELECT shift_id FROM cash_shifts WHERE cashier = ? AND closed_at IS NULL", (cashier,))
        row = cur.fetchone()
        if row is None:
            raise NotFound(f"cashier {cashier} has no open shift", user_message="Please open a cash shift first.")
        shift = {"shift_id": row[0]}
        if kind == "refund" and amount_fen > self.expected_fen(shift["shift_id"], tx):
            raise DomainError("there is not that much cash in the drawer",
                              user_message="There is not enough cash in the drawer.")
        receipt_no = tx.next_number("cash_receipt")
        tx.insert("cash_movements", {"movement_id": mid, "shift_id": shift["shift_id"], "kind": kind,
                                     "amount_fen": amount_fen, "tendered_fen": tendered, "change_fen": change,
                                     "account": account, "purpose": purpose, "receipt_no": receipt_no,
                                     "at": utcnow_iso()})
        tx.emit("cash.received" if kind == "payment" else "cash.refunded",
                {"movement_id": mid, "receipt_no": receipt_no, "amount_fen": amount_fen, "account": account,
                 "purpose": purpose, "shift_id": shift["shift_id"], "cashier": cashier})
        return CashReceipt(mid, receipt_no, amount_fen, tendered, change, False)

    def _kick(self) -> bool:
        if self.kick is None:
            return False
        try:
            self.kick()
            return True
        except Exception as exc:  # the money is recorded; the cashier opens the drawer by key
            log.warning("cash drawer did not open: %s", exc)
            return False

    def count(self, cashier: str, counts: dict[int, int]) -> ShiftCount:
        """Close the shift with the counted cash ({denomination in fen: pieces})."""
        bad = [d for d in counts if d not in DENOMINATIONS_FEN]
        if bad or any((not isinstance(n, int)) or n < 0 for n in counts.values()):
            raise DomainError(f"bad cash count {counts!r}; denominations are {DENOMINATIONS_FEN}")
        shift = self.shift(cashier)
        counted = sum(d * n for d, n in counts.items())
        with self.store.transaction() as tx:     # expected and the close see the same movements
            if tx.execute("SELECT closed_at FROM cash_shifts WHERE shift_id = ?", (shift["shift_id"],)).fetchone()[0]:
                raise DomainError(f"shift {shift['shift_id']} was closed meanwhile",
                                  user_message="This shift has already been closed.")
            expected = self.expected_fen(shift["shift_id"], tx)
            tx.execute("UPDATE cash_shifts SET closed_at = ?, expected_fen = ?, counted_fen = ?, difference_fen = ?, "
                       "counts = ? WHERE shift_id = ?",
                       (utcnow_iso(), expected, counted, counted - expected,
                        json.dumps({str(k): v for k, v in sorted(counts.items())}), shift["shift_id"]))
            tx.emit("cash.shift_closed", {"shift_id": shift["shift_id"], "cashier": cashier, "expected_fen": expected,
                                          "counted_fen": counted, "difference_fen": counted - expected})
        return ShiftCount(shift["shift_id"], expected, counted, counted - expected)
