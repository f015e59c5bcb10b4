"""Deposits (預交金) and the green channel with its reminders (H-A4; an aggregate of
:class:`pos.hospital.service.HospitalService`).

Each method runs in one store transaction and emits its outbox command in it. ``self.h`` is the
hospital service: the shared helpers (transitions, numbers, the ledger) and the other aggregates.
"""

from __future__ import annotations

from typing import Iterable

from ..rows import row, rows
from .errors import BadInput, HospitalError, HospitalNotFound, HospitalTransitionError
from .ledger import arrears_fen, ledger_sums
from .records import Payment
from .workflows import ADMISSION, GREEN_ITEM

__all__ = ["Deposits", "GREEN_KINDS"]

#: the green channel's items (papers or money brought in later)
GREEN_KINDS = ("deposit", "id_document", "insurance_card", "outpatient_record")


class Deposits:
    def __init__(self, h):
        self.h = h

    def _check_open_items(self, tx, a: dict, sums: dict) -> None:
        n = row(tx, "SELECT suggested_deposit_fen FROM hosp_notices WHERE id = ?", (a["notice_id"],))
        if sums["deposit"] >= n["suggested_deposit_fen"]:
            self.h._close_item(tx, a, "deposit", quiet=True)

    def record_deposit(self, inpatient_no: str, payment: Payment | dict) -> dict:
        """A deposit (預交金) paid in cash, or by card already captured by the terminal. Offline-safe."""
        pay = payment if isinstance(payment, Payment) else Payment(**payment)
        with self.h.store.transaction() as tx:
            return self.h.record_deposit_in(tx, inpatient_no, pay)

    def record_deposit_in(self, tx, inpatient_no: str, pay: Payment) -> dict:
        """:meth:`record_deposit` inside the caller's transaction (the card-payment journal posts
        an approved deposit this way, in the transaction that marks the payment posted)."""
        a = self.h.admission(inpatient_no, tx)
        if a["state"] in ("identity_checked", "discharged"):
            raise HospitalTransitionError(f"admission {inpatient_no} is {a['state']}")
        d = self.h._discharge_row(tx, a["id"])
        if d and d["state"] not in ("ordered", "charges_locked", "scheduled"):
            raise HospitalTransitionError(f"{inpatient_no}: settled; take the shortfall as a collection")
        if a["state"] == "registered":
            self.h._move(tx, ADMISSION, "admission", a, "pay_deposit")
        lid, entry_no = self.h._ledger(tx, a["id"], "deposit", pay.amount_fen, pay)
        receipt_no = self.h._issue_receipt(tx, a["id"], lid, "deposit", pay.amount_fen)
        at = self.h.now()
        tx.emit("hospital.deposit.recorded", {
            "inpatient_no": inpatient_no, "entry_no": entry_no, "receipt_no": receipt_no,
            "amount_fen": pay.amount_fen, "method": pay.method, "reference": pay.reference,
            "masked_pan": pay.masked_pan, "at": at})
        self.h._check_open_items(tx, a, ledger_sums(tx, a["id"]))
        return {"receipt_no": receipt_no, "entry_no": entry_no, "amount_fen": pay.amount_fen, "at": at,
                "inpatient_no": inpatient_no}

    def open_green_channel(self, inpatient_no: str, missing: Iterable[str] = ("deposit",)) -> list[str]:
        """綠色通道: admit with no deposit; track the missing items and the arrears (催繳)."""
        kinds = list(dict.fromkeys(missing))
        if bad := [k for k in kinds if k not in GREEN_KINDS]:
            raise BadInput(f"unknown green-channel items {bad}; known: {GREEN_KINDS}")
        if "deposit" not in kinds:
            kinds.insert(0, "deposit")
        with self.h.store.transaction() as tx:
            a = self.h.admission(inpatient_no, tx)
            self.h._move(tx, ADMISSION, "admission", a, "open_green_channel")
            tx.execute("UPDATE hosp_admissions SET green_channel = 1 WHERE id = ?", (a["id"],))
            at = self.h.now()
            for k in kinds:
                tx.insert("hosp_green_items", {"admission_id": a["id"], "kind": k, "state": "open", "opened_at": at})
            n = row(tx, "SELECT suggested_deposit_fen FROM hosp_notices WHERE id = ?", (a["notice_id"],))
            if n["suggested_deposit_fen"]:
                self.h._ledger(tx, a["id"], "arrears", n["suggested_deposit_fen"])
            tx.emit("hospital.green_channel.opened", {"inpatient_no": inpatient_no, "items": kinds,
                                                      "arrears_fen": n["suggested_deposit_fen"], "at": at})
        return kinds

    def _close_item(self, tx, a: dict, kind: str, quiet: bool = False) -> None:
        item = row(tx, "SELECT * FROM hosp_green_items WHERE admission_id = ? AND kind = ?", (a["id"], kind))
        if item is None or (quiet and item["state"] != "open"):
            if quiet:
                return
            raise HospitalNotFound(f"{a['inpatient_no']}: no green-channel item {kind!r}")
        self.h._move(tx, GREEN_ITEM, "green_item", item, "close")
        at = self.h.now()
        tx.execute("UPDATE hosp_green_items SET closed_at = ? WHERE id = ?", (at, item["id"]))
        tx.emit("hospital.green_item.closed", {"inpatient_no": a["inpatient_no"], "kind": kind, "at": at})

    def close_green_item(self, inpatient_no: str, kind: str) -> None:
        """The papers were brought in. (The deposit item closes itself when deposits reach the notice's.)"""
        with self.h.store.transaction() as tx:
            a = self.h.admission(inpatient_no, tx)
            if kind == "deposit":
                sums = ledger_sums(tx, a["id"])
                if arrears_fen(sums) > 0:
                    raise HospitalError(f"{inpatient_no}: deposit still owed {arrears_fen(sums)}", code="balance_open")
            self.h._close_item(tx, a, kind)

    def reminders(self) -> list[dict]:
        """The 催繳 list for the counter: every open green-channel item, oldest first, discharged
        stays included (the reminders go on after discharge)."""
        out = rows(self.h.conn, """
            SELECT a.id AS admission_id, a.inpatient_no, p.name, a.ward_code, g.kind, g.opened_at
            FROM hosp_green_items g JOIN hosp_admissions a ON a.id = g.admission_id
            JOIN hosp_patients p ON p.id = a.patient_id
            WHERE g.state = 'open' ORDER BY g.opened_at, g.id""")
        for r in out:
            r["arrears_fen"] = arrears_fen(ledger_sums(self.h.conn, r.pop("admission_id")))
        return out
