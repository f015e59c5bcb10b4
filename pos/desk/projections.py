"""What a desk device builds from the events it pulls (``Pack.projections``): the orders other
desks and the server made (alarms, the repair centre's imports), their transitions, the finance
queue, and the server's decisions against this device's edits. Idempotent: an order's ``version``
only moves forward, and a conflict sets the server's state."""

from __future__ import annotations

import json

__all__ = ["order_event"]

_CARRIED = ("kind", "category", "priority", "deadline", "payable", "fee_related", "emergency", "team", "assignee",
            "cause_code", "reopen_count")


def order_event(tx, kind: str, p: dict, seq: int) -> None:
    if kind in ("desk.order.received", "desk.order.imported"):
        if tx.execute("SELECT 1 FROM desk_orders WHERE order_no = ?", (p["order_no"],)).fetchone():
            return
        from .service import DeskService
        DeskService._insert(None, tx, p, "received", seq)
        if p.get("source_ref") and p.get("channel") == "monitoring":
            tx.execute("UPDATE desk_orders SET alarm_count = 1 WHERE order_no = ?", (p["order_no"],))
        return
    if kind == "desk.alarm.merged":
        tx.execute("UPDATE desk_orders SET alarm_count = alarm_count + 1, seq = max(seq, ?) WHERE order_no = ? "
                   "AND seq < ?", (seq, p["order_no"], seq))
        return
    if kind == "desk.finance.handoff":
        tx.execute("INSERT INTO desk_finance (handoff_id, order_no, amount_fen, category, created_at) "
                   "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                   (p["handoff_id"], p["order_no"], p.get("amount_fen"), p.get("category", ""), p["at"]))
        return
    if kind == "desk.order.conflict":
        tx.execute("INSERT INTO desk_conflicts (order_no, event, server_state, reason, seq) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT DO NOTHING", (p["order_no"], p["event"], p["server_state"], p["reason"], seq))
        tx.execute("UPDATE desk_orders SET state = ?, version = ?, seq = ? WHERE order_no = ?",
                   (p["server_state"], p["version"], seq, p["order_no"]))
        return
    row = tx.execute("SELECT version FROM desk_orders WHERE order_no = ?", (p["order_no"],)).fetchone()
    if row is None or row[0] >= p["version"]:
        return                                  # this device made it (or a later one) already
    if kind == "desk.order.payment_requested":
        tx.execute("UPDATE desk_finance SET amount_fen = ? WHERE order_no = ? AND state = 'open'",
                   (p.get("amount_fen"), p["order_no"]))
    elif kind == "desk.order.paid":
        tx.execute("UPDATE desk_finance SET state = 'charged', paid_fen = ?, pay_method = ?, payment_ref = ?, "
                   "paid_at = ? WHERE order_no = ? AND state = 'open'",
                   (p.get("amount_fen"), p.get("pay_method"), p.get("payment_ref"), p["at"], p["order_no"]))
    elif kind == "desk.order.cancelled":
        tx.execute("UPDATE desk_finance SET state = 'cancelled' WHERE order_no = ? AND state = 'open'",
                   (p["order_no"],))
    sets = {k: p[k] for k in _CARRIED if k in p}
    sets.update(state=p["to_state"], version=p["version"], updated_at=p["at"], seq=seq)
    tx.execute(f"UPDATE desk_orders SET {', '.join(f'{k} = ?' for k in sets)} WHERE order_no = ?",
               [*(int(v) if isinstance(v, bool) else v for v in sets.values()), p["order_no"]])
    tx.execute("INSERT INTO desk_events (order_no, event, from_state, to_state, at, by, data, source) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, 'pulled')",
               (p["order_no"], kind.rpartition(".")[2], p.get("from_state"), p["to_state"], p["at"], p.get("by", ""),
                json.dumps({k: v for k, v in p.items() if k not in ("order_no", "at", "by")}, ensure_ascii=False)))
