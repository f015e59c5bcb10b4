"""Member cards: stored value with the principal (money paid in) and the bonus (given by the club,
"充1000送200") as separate balances, a PIN to spend, and a lock after 3 wrong PINs.

* The ledger (``club_card_entries``) is append-only; a balance is a sum, never stored.
* Spending takes the principal first, then the bonus (the rule, in one place: :func:`split_spend`).
  A refund puts back exactly the parts of the spend it reverses.
* The PIN is kept as a salted scrypt hash; a wrong PIN is counted in its own committed
  transaction, so the count survives the refusal; the third locks the card until a manager
  unlocks it. A right PIN resets the count. Top-ups need no PIN (the cashier takes the money).
* Card numbers are the card's UID or its application number; nothing here is a bank card.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from dataclasses import dataclass
from typing import Callable

from pos.ids import utcnow_iso

from .errors import CardLocked, ClubError, ClubNotFound, InsufficientBalance, WrongPin
from .ids import ulid

__all__ = ["MemberCards", "Balance", "split_spend", "MAX_PIN_FAILURES"]

MAX_PIN_FAILURES = 3
_PIN = re.compile(r"^[0-9]{4,6}$")


@dataclass(frozen=True)
class Balance:
    principal_fen: int
    bonus_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.bonus_fen


def split_spend(balance: Balance, amount_fen: int) -> tuple[int, int]:
    """(principal, bonus) taken for ``amount_fen``: the principal first, then the bonus."""
    if amount_fen > balance.total_fen:
        raise InsufficientBalance(f"spend {amount_fen} fen > balance {balance.total_fen} fen")
    principal = min(amount_fen, balance.principal_fen)
    return principal, amount_fen - principal


def _hash_pin(pin: str, salt: bytes, n: int, r: int = 8, p: int = 1) -> str:
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt:{n}:{r}:{p}:{salt.hex()}:{digest.hex()}"


def _check_pin(pin: str, stored: str) -> bool:
    _, n, r, p, salt, _digest = stored.split(":")
    return hmac.compare_digest(_hash_pin(pin, bytes.fromhex(salt), int(n), int(r), int(p)), stored)


def _fen(value) -> int:
    if type(value) is not int:
        raise ClubError(f"amounts are integer fen, not {value!r}")
    return value


class MemberCards:
    def __init__(self, store, *, pin_cost: int = 2 ** 14, clock: Callable[[], float] = time.time):
        self.store = store
        self.pin_cost = pin_cost
        self.clock = clock

    def issue(self, card_no: str, holder: str, pin: str) -> None:
        if not card_no or not holder:
            raise ClubError("a card needs its number and its holder")
        if not _PIN.match(pin or ""):
            raise ClubError("the PIN must be 4 to 6 digits")
        with self.store.transaction() as tx:
            tx.insert("club_cards", {"card_no": card_no, "holder": holder,
                                     "pin_hash": _hash_pin(pin, os.urandom(16), self.pin_cost),
                                     "created_at": utcnow_iso(self.clock())})

    def _card(self, conn, card_no: str) -> dict:
        r = conn.execute("SELECT holder, pin_hash, pin_failures, locked_at FROM club_cards WHERE card_no = ?",
                         (card_no,)).fetchone()
        if r is None:
            raise ClubNotFound(f"no member card {card_no}")
        return {"holder": r[0], "pin_hash": r[1], "pin_failures": r[2], "locked_at": r[3]}

    def card(self, card_no: str) -> dict:
        c = self._card(self.store.conn, card_no)
        c.pop("pin_hash")
        return c

    def balance(self, card_no: str, conn=None) -> Balance:
        conn = conn or self.store.conn
        self._card(conn, card_no)
        p, b = conn.execute("SELECT coalesce(sum(principal_fen), 0), coalesce(sum(bonus_fen), 0) "
                            "FROM club_card_entries WHERE card_no = ?", (card_no,)).fetchone()
        return Balance(p, b)

    def top_up(self, card_no: str, principal_fen: int, bonus_fen: int = 0, *, staff: str = "", ref: str = "") -> str:
        if _fen(principal_fen) <= 0 or _fen(bonus_fen) < 0:
            raise ClubError("a top-up is a positive principal and a bonus of zero or more")
        with self.store.transaction() as tx:
            self._card(tx.conn, card_no)
            return self._entry(tx, card_no, "topup", principal_fen, bonus_fen, ref, staff)

    def _entry(self, tx, card_no, kind, principal, bonus, ref, staff) -> str:
        entry = {"entry_id": ulid(), "card_no": card_no, "kind": kind, "principal_fen": principal,
                 "bonus_fen": bonus, "ref": ref, "staff": staff, "created_at": utcnow_iso(self.clock())}
        tx.insert("club_card_entries", entry)
        tx.emit("club.card.entry", entry)
        return entry["entry_id"]

    def spend(self, card_no: str, amount_fen: int, pin: str, *, staff: str = "", ref: str = "") -> dict:
        """Take ``amount_fen`` from the card. Returns ``{"entry_id", "principal_fen", "bonus_fen"}``
        (the parts taken, positive). Raises WrongPin (with the attempts left), CardLocked or
        InsufficientBalance; nothing is taken then."""
        if _fen(amount_fen) <= 0:
            raise ClubError("the amount must be greater than zero")
        refusal = None
        with self.store.transaction() as tx:
            card = self._card(tx.conn, card_no)
            if card["locked_at"]:
                raise CardLocked(f"card {card_no} locked since {card['locked_at']}")
            if not _check_pin(pin or "", card["pin_hash"]):
                failures = card["pin_failures"] + 1
                locked = failures >= MAX_PIN_FAILURES
                tx.execute("UPDATE club_cards SET pin_failures = ?, locked_at = ? WHERE card_no = ?",
                           (failures, utcnow_iso(self.clock()) if locked else None, card_no))
                refusal = (CardLocked(f"card {card_no}: wrong PIN {failures} times, locked") if locked else
                           WrongPin(f"card {card_no}: wrong PIN ({failures}), {MAX_PIN_FAILURES - failures} attempts left",
                                    left=MAX_PIN_FAILURES - failures))
            else:
                if card["pin_failures"]:
                    tx.execute("UPDATE club_cards SET pin_failures = 0 WHERE card_no = ?", (card_no,))
                try:
                    principal, bonus = split_spend(self.balance(card_no, tx.conn), amount_fen)
                except InsufficientBalance as exc:      # the right PIN still clears the count
                    refusal = exc
                else:
                    entry_id = self._entry(tx, card_no, "spend", -principal, -bonus, ref, staff)
        if refusal is not None:                     # the PIN count is committed; now refuse
            raise refusal
        return {"entry_id": entry_id, "principal_fen": principal, "bonus_fen": bonus}

    def refund(self, spend_entry_id: str, *, staff: str = "") -> str:
        """Reverse one spend in full: its principal and its bonus go back where they came from."""
        with self.store.transaction() as tx:
            r = tx.execute("SELECT card_no, kind, principal_fen, bonus_fen FROM club_card_entries WHERE entry_id = ?",
                           (spend_entry_id,)).fetchone()
            if r is None or r[1] != "spend":
                raise ClubNotFound(f"no spend {spend_entry_id}")
            if tx.execute("SELECT 1 FROM club_card_entries WHERE kind = 'refund' AND ref = ?",
                          (spend_entry_id,)).fetchone():
                raise ClubError(f"spend {spend_entry_id} is already refunded", code="bad_transition")
            return self._entry(tx, r[0], "refund", -r[2], -r[3], spend_entry_id, staff)

    def unlock(self, card_no: str, manager: str) -> None:
        if not manager:
            raise ClubError("a manager unlocks a card")
        with self.store.transaction() as tx:
            self._card(tx.conn, card_no)
            tx.execute("UPDATE club_cards SET pin_failures = 0, locked_at = NULL WHERE card_no = ?", (card_no,))
