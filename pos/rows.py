"""Rows as dicts: ``row(conn, sql, params)`` (one or None) and ``rows(...)`` (all), over any
connection or transaction with ``execute``."""

from __future__ import annotations

__all__ = ["row", "rows"]


def rows(conn, sql: str, params=()) -> list[dict]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def row(conn, sql: str, params=()) -> dict | None:
    cur = conn.execute(sql, params)
    r = cur.fetchone()
    return None if r is None else dict(zip([d[0] for d in cur.description], r))
