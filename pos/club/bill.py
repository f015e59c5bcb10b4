"""What a room's bill is made of: its lines, in integer fen.

A line is ``{"name", "qty", "unit_fen", "amount_fen", "course"}`` with ``amount_fen = qty ×
unit_fen`` (whole fen, so no rounding happens on a line; discounts are not lines here).

:func:`club_bill_lines` is the one source the cashier reads. When the room orders module
(:mod:`pos.club.orders`, with its ``bill_lines(store, res_id=...)``) exists, the lines come from
there; otherwise from ``club_bill_items``, which :func:`add_item` fills (the demo, the tests and a
butler's "add to the bill" until room orders exist).
"""

from __future__ import annotations

import importlib
import logging

from pos.ids import utcnow_iso

from .errors import ClubError, ClubNotFound
from .ids import ulid

__all__ = ["club_bill_lines", "add_item", "line", "orders_source"]

log = logging.getLogger(__name__)


def line(name: str, qty: int, unit_fen: int, course: str = "") -> dict:
    if not name:
        raise ClubError("a bill line needs a name")
    if type(qty) is not int or qty <= 0 or type(unit_fen) is not int or unit_fen < 0:
        raise ClubError(f"a bill line is a whole quantity > 0 at a unit price in whole fen >= 0: {qty!r} × {unit_fen!r}")
    return {"name": name, "qty": qty, "unit_fen": unit_fen, "amount_fen": qty * unit_fen, "course": course}


def orders_source():
    """``bill_lines(store, room=None, res_id=None)`` of :mod:`pos.club.orders` (the room's order,
    what is left of each line after voids), or None while that module does not exist."""
    try:
        mod = importlib.import_module("pos.club.orders")
    except ModuleNotFoundError:
        return None
    return getattr(mod, "bill_lines", None)


def club_bill_lines(store, res_id: str, conn=None) -> list[dict]:
    conn = conn or store.conn
    if conn.execute("SELECT 1 FROM club_reservations WHERE res_id = ?", (res_id,)).fetchone() is None:
        raise ClubNotFound(f"no reservation {res_id}")
    lines: list[dict] = []
    source = orders_source()
    if source is not None:
        lines += [line(str(x["name"]), int(x["qty"]), int(x["unit_fen"]), str(x.get("course", "")))
                  for x in source(store, res_id=res_id)]
    rows = conn.execute("SELECT name, qty, unit_fen, course FROM club_bill_items WHERE res_id = ? "
                        "ORDER BY added_at, item_id", (res_id,)).fetchall()
    lines += [line(n, q, u, c) for n, q, u, c in rows]
    return lines


def add_item(store, res_id: str, name: str, qty: int, unit_fen: int, course: str = "") -> str:
    """An item on the room's bill (what was served: a course, a bottle of wine ...)."""
    item = line(name, qty, unit_fen, course)
    with store.transaction() as tx:
        state = tx.execute("SELECT state FROM club_reservations WHERE res_id = ?", (res_id,)).fetchone()
        if state is None:
            raise ClubNotFound(f"no reservation {res_id}")
        if tx.execute("SELECT state FROM club_bills WHERE res_id = ? AND state = 'paid'", (res_id,)).fetchone():
            raise ClubError(f"the bill of {res_id} is paid: nothing more goes on it", code="bad_transition")
        item_id = ulid()
        tx.insert("club_bill_items", {"item_id": item_id, "res_id": res_id, "name": item["name"], "qty": item["qty"],
                                      "unit_fen": item["unit_fen"], "course": item["course"],
                                      "added_at": utcnow_iso()})
    return item_id
