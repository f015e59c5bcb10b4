"""The fee catalogue, charge lines and reversals, and the daily fee list (an aggregate of
:class:`pos.hospital.service.HospitalService`).

Each method runs in one store transaction and emits its outbox command in it. ``self.h`` is the
hospital service: the shared helpers (transitions, numbers, the ledger) and the other aggregates.
"""

from __future__ import annotations

import datetime as dt

from .. import money
from ..rows import row
from .daily import DailyList, LOOKUP_SQL, build_daily_list
from .errors import BadInput, ChargesLocked, HospitalNotFound, HospitalTransitionError

__all__ = ["Charges"]

#: discharge states in which the charges may still change
_OPEN_FOR_CHARGES = (None, "ordered")


class Charges:
    def __init__(self, h):
        self.h = h

    def add_fee_item(self, code: str, name: str, category: str, spec: str = "", unit: str = "") -> None:
        if category not in ("甲", "乙", "丙"):
            raise BadInput(f"category must be 甲, 乙 or 丙, got {category!r}")
        with self.h.store.transaction() as tx:
            tx.execute("INSERT INTO hosp_fee_items (code, name, spec, unit, category) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT(code) DO UPDATE SET name = excluded.name, spec = excluded.spec, "
                       "unit = excluded.unit, category = excluded.category", (code, name, spec, unit, category))

    def _charges_open(self, tx, a: dict) -> None:
        if a["state"] in ("identity_checked", "discharged"):
            raise HospitalTransitionError(f"{a['inpatient_no'] or a['uid']}: no charges in state {a['state']}")
        d = self.h._discharge_row(tx, a["id"])
        if (d and d["state"]) not in _OPEN_FOR_CHARGES:
            raise ChargesLocked(f"{a['inpatient_no']}: charges locked (discharge {d['state']})")

    def _charge_payload(self, inpatient_no, c: dict, fee: dict) -> dict:
        return {"inpatient_no": inpatient_no, "charge_ref": c["ref"] or f"{self.h.store.device_id}-C{c['id']}",
                "fee_code": c["fee_code"], "name": fee["name"], "spec": fee["spec"],
                "unit_price_fen": c["unit_price_fen"], "qty_milli": c["qty_milli"], "amount_fen": c["amount_fen"],
                "category": c["category"], "service_date": c["service_date"], "department": c["department"]}

    def add_charge(self, inpatient_no: str, fee_code: str, qty_milli: int, *, unit_price_fen: int,
                   service_date: str | None = None, department: str = "", ref: str | None = None,
                   name: str | None = None, spec: str = "", unit: str = "", category: str | None = None) -> dict:
        """A charge line from the ward. Quantity in thousandths; amount rounded half up to the fen.

        A fee code not yet in the catalogue is added when ``name`` and ``category`` come with it
        (charges from the HIS carry them)."""
        if not isinstance(qty_milli, int) or isinstance(qty_milli, bool) or qty_milli <= 0:
            raise BadInput(f"quantity must be a positive integer of thousandths, got {qty_milli!r}")
        if not isinstance(unit_price_fen, int) or isinstance(unit_price_fen, bool) or unit_price_fen < 0:
            raise BadInput(f"unit price must be fen, got {unit_price_fen!r}", code="bad_amount")
        day = service_date or self.h.today()
        dt.date.fromisoformat(day)
        with self.h.store.transaction() as tx:
            a = self.h.admission(inpatient_no, tx)
            self.h._charges_open(tx, a)
            fee = row(tx, "SELECT * FROM hosp_fee_items WHERE code = ?", (fee_code,))
            if fee is None and name and category in ("甲", "乙", "丙"):
                fee = {"code": fee_code, "name": name, "spec": spec, "unit": unit, "category": category}
                tx.insert("hosp_fee_items", fee)
            if fee is None:
                raise HospitalNotFound(f"unknown fee code {fee_code!r}")
            c = {"admission_id": a["id"], "service_date": day, "fee_code": fee_code, "unit_price_fen": unit_price_fen,
                 "qty_milli": qty_milli, "amount_fen": money.amount_fen(unit_price_fen, qty_milli),
                 "category": fee["category"], "department": department, "reverses_id": None, "ref": ref,
                 "recorded_at": self.h.now()}
            c["id"] = tx.insert("hosp_charges", c)
            tx.emit("hospital.charge.added", self.h._charge_payload(inpatient_no, c, fee))
        return c

    def reverse_charge(self, inpatient_no: str, charge_id: int, department: str = "") -> dict:
        """A reversal line (negative quantity and amount) linked to the original; once per line."""
        with self.h.store.transaction() as tx:
            a = self.h.admission(inpatient_no, tx)
            self.h._charges_open(tx, a)
            orig = row(tx, "SELECT * FROM hosp_charges WHERE id = ? AND admission_id = ?", (charge_id, a["id"]))
            if orig is None or orig["reverses_id"] is not None:
                raise HospitalNotFound(f"{inpatient_no}: no charge {charge_id} to reverse")
            if row(tx, "SELECT id FROM hosp_charges WHERE reverses_id = ?", (charge_id,)):
                raise HospitalTransitionError(f"charge {charge_id} is already reversed")
            c = dict(orig, id=None, qty_milli=-orig["qty_milli"], amount_fen=-orig["amount_fen"],
                     reverses_id=charge_id, ref=None, recorded_at=self.h.now(), department=department or orig["department"])
            del c["id"]
            c["id"] = tx.insert("hosp_charges", c)
            fee = row(tx, "SELECT * FROM hosp_fee_items WHERE code = ?", (orig["fee_code"],))
            p = self.h._charge_payload(inpatient_no, c, fee)
            p["reverses_ref"] = orig["ref"] or f"{self.h.store.device_id}-C{charge_id}"
            tx.emit("hospital.charge.reversed", p)
        return c

    def daily_list(self, inpatient_no: str, day: str | None = None) -> DailyList:
        """The daily fee list for any day of the stay (read only; see :meth:`print_daily_list`)."""
        adm = self.h.conn.execute(LOOKUP_SQL, (inpatient_no,)).fetchone()
        if adm is None:                                  # maybe an admission uid
            adm = self.h.conn.execute(LOOKUP_SQL, (self.h.admission(inpatient_no)["inpatient_no"],)).fetchone()
        return build_daily_list(self.h.conn, adm, day or self.h.today(), threshold_fen=self.h.low_balance_fen, tz=self.h.tz)

    def print_daily_list(self, inpatient_no: str, day: str | None = None) -> DailyList:
        dl = self.h.daily_list(inpatient_no, day)
        with self.h.store.transaction() as tx:
            tx.emit("hospital.daily_list.printed", {"inpatient_no": inpatient_no, "day": dl.day,
                                                    "total_fen": dl.day_total_fen,
                                                    "running_total_fen": dl.running_total_fen, "as_of": self.h.now()})
        return dl
