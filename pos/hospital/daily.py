"""The daily fee list (日費用清單, H-A5) for any day of a stay.

Items of the day (with reversals), subtotals by category, the day's total, the running total of
the stay up to that day, the deposit as of the end of that day, the remaining deposit, a
low-balance warning below the configured threshold (which prompts a top-up) and the green
channel's open items (催繳 reminder).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from .ledger import ledger_sums

__all__ = ["DailyLine", "DailyList", "build_daily_list", "day_end_utc", "LOW_BALANCE_PROMPT", "LOOKUP_SQL",
           "ITEMS_SQL", "RUNNING_SQL", "GREEN_SQL"]

LOW_BALANCE_PROMPT = "Your deposit is running low. Please top up at the cashier or the kiosk."

#: the statements a daily list runs (the bench times them bare as its baseline)
LOOKUP_SQL = ("SELECT a.id, a.inpatient_no, a.ward_code, p.name FROM hosp_admissions a "
              "JOIN hosp_patients p ON p.id = a.patient_id WHERE a.inpatient_no = ?")
GREEN_SQL = "SELECT kind FROM hosp_green_items WHERE admission_id = ? AND state = 'open' ORDER BY id"
ITEMS_SQL = (
    "SELECT c.id, c.fee_code, f.name, f.spec, f.unit, c.unit_price_fen, c.qty_milli, c.amount_fen, "
    "c.category, c.department, c.reverses_id, c.price_uyuan, c.qty_e4 FROM hosp_charges c JOIN hosp_fee_items f ON f.code = c.fee_code "
    "WHERE c.admission_id = ? AND c.service_date = ? ORDER BY c.id")
RUNNING_SQL = "SELECT COALESCE(SUM(amount_fen), 0) FROM hosp_charges WHERE admission_id = ? AND service_date <= ?"


class DailyLine(NamedTuple):
    charge_id: int
    fee_code: str
    name: str
    spec: str
    unit: str
    unit_price_fen: int
    qty_milli: int
    amount_fen: int
    category: str
    department: str
    reverses_id: int | None
    price_uyuan: int | None = None     # the platform's exact price (micro-yuan)
    qty_e4: int | None = None          # and quantity (ten-thousandths)


@dataclass
class DailyList:
    inpatient_no: str
    patient_name: str
    ward_code: str
    day: str
    items: list[DailyLine]
    subtotals: dict[str, int]
    day_total_fen: int
    running_total_fen: int
    deposits_fen: int              # deposits + collections - refunds, at the end of the day
    balance_fen: int               # deposits_fen - running_total_fen
    low_balance: bool
    threshold_fen: int
    reminders: list[str] = field(default_factory=list)   # open green-channel items (催繳)
    prompt: str = ""               # msgid shown when low_balance


@lru_cache(maxsize=4096)
def day_end_utc(day: str, tz: str) -> str:
    """The UTC instant where local ``day`` ends, as stored in ``created_at`` columns."""
    local = dt.datetime.combine(dt.date.fromisoformat(day) + dt.timedelta(days=1), dt.time(), zoneinfo.ZoneInfo(tz))
    return local.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def build_daily_list(conn, adm: tuple, day: str, *, threshold_fen: int, tz: str) -> DailyList:
    """``adm`` is the row of :data:`LOOKUP_SQL` (id, inpatient_no, ward_code, patient name)."""
    aid, inpatient_no, ward_code, patient_name = adm
    make = DailyLine._make
    items = [make(r) for r in conn.execute(ITEMS_SQL, (aid, day)).fetchall()]
    subtotals = {"甲": 0, "乙": 0, "丙": 0}
    for it in items:
        subtotals[it.category] += it.amount_fen
    running = conn.execute(RUNNING_SQL, (aid, day)).fetchone()[0]
    sums = ledger_sums(conn, aid, day_end_utc(day, tz))
    deposits = sums["deposit"] + sums["collection"] - sums["refund"]
    balance = deposits - running
    low = balance < threshold_fen
    reminders = [r[0] for r in conn.execute(GREEN_SQL, (aid,)).fetchall()]
    return DailyList(inpatient_no, patient_name, ward_code, day, items, subtotals,
                     sum(subtotals.values()), running, deposits, balance, low, threshold_fen, reminders,
                     LOW_BALANCE_PROMPT if low else "")
