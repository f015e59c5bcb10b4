"""The fee catalogue, charge lines and reversals, and the daily fee list (an aggregate of
:class:`pos.hospital.service.HospitalService`).

Each method runs in one store transaction and emits its outbox command in it. ``self.h`` is the
hospital service: the shared helpers (transitions, numbers, the ledger) and the other aggregates.
"""

from __future__ import annotations

import datetime as dt

from .. import money
from ..rows import row, rows
from .daily import DailyList, build_daily_list
from .errors import BadInput, ChargesLocked, HospitalNotFound, HospitalTransitionError
from .policy import line_amount_fen

__all__ = ["Charges"]

#: discharge states in which the charges may still change
_OPEN_FOR_CHARGES = (None, "ordered")


class Charges:
    def __init__(self, h):
        self.h = h

    def add_fee_item(self, code: str, name: str, category: str, spec: str = "", unit: str = "", *,
                     price_cap_uyuan: int | None = None, selfpay_permille: int | None = None) -> None:
        """A catalogue item; ``price_cap_uyuan`` is its price cap (限價), ``selfpay_permille`` the
        乙 share paid first when it differs from the region's default."""
        if category not in ("甲", "乙", "丙"):
            raise BadInput(f"category must be 甲, 乙 or 丙, got {category!r}")
        with self.h.store.transaction() as tx:
            tx.execute("INSERT INTO hosp_fee_items (code, name, spec, unit, category, price_cap_uyuan, "
                       "selfpay_permille) VALUES (?, ?, ?, ?, ?, ?, ?) "
                       "ON CONFLICT(code) DO UPDATE SET name = excluded.name, spec = excluded.spec, "
                       "unit = excluded.unit, category = excluded.category, price_cap_uyuan = "
                       "excluded.price_cap_uyuan, selfpay_permille = excluded.selfpay_permille",
                       (code, name, spec, unit, category, price_cap_uyuan, selfpay_permille))

    def _charges_open(self, tx, a: dict) -> None:
        if a["state"] in ("identity_checked", "discharged"):
            raise HospitalTransitionError(f"{a['inpatient_no'] or a['uid']}: no charges in state {a['state']}")
        self.h._identity_not_refused(tx, a)
        d = self.h._discharge_row(tx, a["id"])
        if (d and d["state"]) not in _OPEN_FOR_CHARGES:
            raise ChargesLocked(f"{a['inpatient_no']}: charges locked (discharge {d['state']})")

    def _charge_payload(self, inpatient_no, c: dict, fee: dict) -> dict:
        return {"inpatient_no": inpatient_no, "charge_ref": c["ref"] or f"{self.h.store.device_id}-C{c['id']}",
                "fee_code": c["fee_code"], "name": fee["name"], "spec": fee["spec"],
                "unit_price_fen": c["unit_price_fen"], "qty_milli": c["qty_milli"], "amount_fen": c["amount_fen"],
                "category": c["category"], "service_date": c["service_date"], "department": c["department"]}

    def add_charge(self, inpatient_no: str, fee_code: str, qty_milli: int | None = None, *,
                   unit_price_fen: int | None = None, price_uyuan: int | None = None, qty_e4: int | None = None,
                   service_date: str | None = None, department: str = "", ref: str | None = None,
                   name: str | None = None, spec: str = "", unit: str = "", category: str | None = None) -> dict:
        """A charge line from the ward. Quantity in thousandths (or ``qty_e4``, ten-thousandths as
        the platform has it), price in fen (or ``price_uyuan``, micro-yuan); the amount is
        price × quantity rounded half away from zero to the fen.

        A fee code not yet in the catalogue is added when ``name`` and ``category`` come with it
        (charges from the HIS carry them)."""
        if qty_e4 is None and qty_milli is not None and not isinstance(qty_milli, bool) and isinstance(qty_milli, int):
            qty_e4 = qty_milli * 10
        if price_uyuan is None and isinstance(unit_price_fen, int) and not isinstance(unit_price_fen, bool):
            price_uyuan = unit_price_fen * 10_000
        if not isinstance(qty_e4, int) or isinstance(qty_e4, bool) or qty_e4 <= 0:
            raise BadInput(f"quantity must be a positive integer of thousandths, got {qty_milli!r}")
        if not isinstance(price_uyuan, int) or isinstance(price_uyuan, bool) or price_uyuan < 0:
            raise BadInput(f"unit price must be fen, got {unit_price_fen!r}", code="bad_amount")
        unit_price_fen = money.mul_div_round(price_uyuan, 1, 10_000)
        qty_milli = max(1, money.mul_div_round(qty_e4, 1, 10))
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
                 "qty_milli": qty_milli, "amount_fen": line_amount_fen(price_uyuan, qty_e4),
                 "price_uyuan": price_uyuan, "qty_e4": qty_e4,
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
                     qty_e4=-orig["qty_e4"] if orig["qty_e4"] is not None else None,
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
        day = day or self.h.today()
        args = {"threshold_fen": self.h.low_balance_fen, "tz": self.h.tz}
        dl = build_daily_list(self.h.conn, inpatient_no, day, **args)
        if dl is None:                                   # maybe an admission uid
            dl = build_daily_list(self.h.conn, self.h.admission(inpatient_no)["inpatient_no"], day, **args)
        return dl

    def print_daily_list(self, inpatient_no: str, day: str | None = None) -> DailyList:
        dl = self.h.daily_list(inpatient_no, day)
        with self.h.store.transaction() as tx:
            tx.emit("hospital.daily_list.printed", {"inpatient_no": inpatient_no, "day": dl.day,
                                                    "total_fen": dl.day_total_fen,
                                                    "running_total_fen": dl.running_total_fen, "as_of": self.h.now()})
        return dl

    def stay_charges(self, inpatient_no: str) -> list[dict]:
        """Every charge line of the stay for the ward's review, oldest first: the fee item's name,
        specification and category, and for each line whether it was reversed (``reversed_by``)
        or is itself a reversal (``reverses_id``)."""
        a = self.h.admission(inpatient_no)
        return rows(self.h.conn, "SELECT c.id, c.service_date, c.fee_code, f.name, f.spec, f.unit, c.category, "
                                 "c.unit_price_fen, c.qty_milli, c.amount_fen, c.department, c.reverses_id, "
                                 "(SELECT r.id FROM hosp_charges r WHERE r.reverses_id = c.id) AS reversed_by "
                                 "FROM hosp_charges c JOIN hosp_fee_items f ON f.code = c.fee_code "
                                 "WHERE c.admission_id = ? ORDER BY c.id", (a["id"],))

    def fee_catalogue(self) -> list[dict]:
        return rows(self.h.conn, "SELECT code, name, spec, unit, category FROM hosp_fee_items ORDER BY code")
