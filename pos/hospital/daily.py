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

__all__ = ["DailyLine", "DailyList", "build_daily_list", "day_end_utc", "LOW_BALANCE_PROMPT", "DAILY_SQL",
           "ITEMS_SQL"]

LOW_BALANCE_PROMPT = "Your deposit is running low. Please top up at the cashier or the kiosk."

#: the day's items alone (the bench's baseline: the one query a patient's list cannot do without)
ITEMS_SQL = (
    "SELECT c.id, c.fee_code, f.name, f.spec, f.unit, c.unit_price_fen, c.qty_milli, c.amount_fen, "
    "c.category, c.department, c.reverses_id, c.price_uyuan, c.qty_e4 FROM hosp_charges c JOIN hosp_fee_items f ON f.code = c.fee_code "
    "WHERE c.admission_id = ? AND c.service_date = ? ORDER BY c.id")

#: the whole list in one statement: first one row of the admission (0, id, inpatient_no, ward_code,
#: the patient's name, the running total of the stay up to the day, deposits + collections - refunds
#: before the day's end in UTC, the open green-channel items' kinds joined by commas in the order they
#: were opened), then the day's items (1, then the columns of :data:`ITEMS_SQL`). Each aggregate is one
#: indexed probe: the running total sums the stay's days in hosp_charge_days (kept by a trigger on
#: the append-only charge lines, so ~10 rows where the lines are ~130), hosp_ledger_adm leads to the stay's few
#: ledger rows, UNIQUE (admission_id, kind) to its green items. The items' ``CROSS JOIN`` keeps the
#: join order (with the statistics of a big store the planner would start from the fee items and
#: skip-scan the charges: 3 ms). SQLite returns a ``UNION ALL``'s arms in order; the day's ~15 items
#: are put in order (of id) in Python, cheaper than SQLite's sorter. Parameters: ?1 the inpatient number, ?2 the
#: day, ?3 the day's end in UTC (numbered: bound faster than named ones).
DAILY_SQL = (
    "SELECT 0, a.id, a.inpatient_no, a.ward_code, p.name, "
    "(SELECT COALESCE(SUM(total_fen), 0) FROM hosp_charge_days WHERE admission_id = a.id AND service_date <= ?2), "
    "(SELECT COALESCE(SUM(CASE kind WHEN 'deposit' THEN amount_fen WHEN 'collection' THEN amount_fen "
    "WHEN 'refund' THEN -amount_fen ELSE 0 END), 0) FROM hosp_ledger WHERE admission_id = a.id AND created_at < ?3), "
    "(SELECT group_concat(kind) FROM (SELECT kind FROM hosp_green_items WHERE admission_id = a.id AND state = 'open' "
    "ORDER BY id)), "
    "NULL, NULL, NULL, NULL, NULL, NULL "
    "FROM hosp_admissions a JOIN hosp_patients p ON p.id = a.patient_id WHERE a.inpatient_no = ?1 "
    "UNION ALL "
    "SELECT 1, c.id, c.fee_code, f.name, f.spec, f.unit, c.unit_price_fen, c.qty_milli, c.amount_fen, "
    "c.category, c.department, c.reverses_id, c.price_uyuan, c.qty_e4 "
    "FROM hosp_charges c CROSS JOIN hosp_fee_items f ON f.code = c.fee_code "
    "WHERE c.admission_id = (SELECT id FROM hosp_admissions WHERE inpatient_no = ?1) AND c.service_date = ?2")


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


def build_daily_list(conn, inpatient_no: str, day: str, *, threshold_fen: int, tz: str) -> DailyList | None:
    """The list of ``day`` for the admission ``inpatient_no`` (None when there is none), from one
    statement (:data:`DAILY_SQL`); the screen and the paper both come from here."""
    got = conn.execute(DAILY_SQL, (inpatient_no, day, day_end_utc(day, tz))).fetchall()
    if not got or got[0][0] != 0:
        return None
    _part, _aid, no, ward_code, patient_name, running, deposits, green = got[0][:8]
    make = DailyLine._make
    items = [make(r[1:]) for r in got[1:]]
    items.sort()                                   # by charge_id, the first field
    subtotals = {"甲": 0, "乙": 0, "丙": 0}
    for r in got[1:]:
        subtotals[r[9]] += r[8]                   # category, amount_fen
    balance = deposits - running
    low = balance < threshold_fen
    return DailyList(no, patient_name, ward_code, day, items, subtotals,
                     sum(subtotals.values()), running, deposits, balance, low, threshold_fen,
                     green.split(",") if green else [], LOW_BALANCE_PROMPT if low else "")
