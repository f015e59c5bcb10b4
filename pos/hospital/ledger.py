"""Reads over the append-only deposit ledger and the charges. Balances are derived here, never stored.

* ledger balance = deposit + collection - refund - settle + unsettle (a cancelled settlement)
* available deposit (before settlement) = deposit + collection - refund - charges so far
* arrears (green channel) = max(0, arrears - deposit)
"""

from __future__ import annotations

import sqlite3

from ..rows import row, rows  # noqa: F401 - re-exported for the ledger's readers

__all__ = ["LEDGER_SQL", "LEDGER_UNTIL_SQL", "CATEGORY_SQL", "row", "rows", "ledger_sums", "ledger_balance", "available_fen", "arrears_fen",
           "charges_total", "category_totals"]

KINDS = ("deposit", "arrears", "refund", "collection", "settle", "unsettle")
_ZERO = dict.fromkeys(KINDS, 0)


LEDGER_SQL = "SELECT kind, SUM(amount_fen) FROM hosp_ledger WHERE admission_id = ? GROUP BY kind"
LEDGER_UNTIL_SQL = ("SELECT kind, SUM(amount_fen) FROM hosp_ledger WHERE admission_id = ? AND created_at < ? "
                    "GROUP BY kind")
CATEGORY_SQL = "SELECT category, SUM(amount_fen) FROM hosp_charges WHERE admission_id = ? GROUP BY category"


def ledger_sums(conn: sqlite3.Connection, admission_id: int, until_utc: str | None = None) -> dict[str, int]:
    if until_utc is None:
        got = conn.execute(LEDGER_SQL, (admission_id,)).fetchall()
    else:
        got = conn.execute(LEDGER_UNTIL_SQL, (admission_id, until_utc)).fetchall()
    sums = _ZERO.copy()
    sums.update(got)
    return sums


def ledger_balance(sums: dict[str, int]) -> int:
    return sums["deposit"] + sums["collection"] - sums["refund"] - sums["settle"] + sums["unsettle"]


def arrears_fen(sums: dict[str, int]) -> int:
    return max(0, sums["arrears"] - sums["deposit"])


def charges_total(conn, admission_id: int, until_day: str | None = None) -> int:
    if until_day is None:
        sql, params = "SELECT COALESCE(SUM(amount_fen), 0) FROM hosp_charges WHERE admission_id = ?", (admission_id,)
    else:
        sql = "SELECT COALESCE(SUM(amount_fen), 0) FROM hosp_charges WHERE admission_id = ? AND service_date <= ?"
        params = (admission_id, until_day)
    return conn.execute(sql, params).fetchone()[0]


def category_totals(conn, admission_id: int) -> dict[str, int]:
    out = {"甲": 0, "乙": 0, "丙": 0}
    out.update(conn.execute(CATEGORY_SQL, (admission_id,)).fetchall())
    return out


def available_fen(conn, admission_id: int) -> int:
    s = ledger_sums(conn, admission_id)
    return s["deposit"] + s["collection"] - s["refund"] - charges_total(conn, admission_id)
