"""The desk pack's part of the central server: handlers for work orders, alarms and finance
hand-offs, run inside the ingest transaction (``apply(ctx, cmd) -> (status, result, events)``;
see :mod:`pos.hospital.server` for the interface). Plain Python over ``ctx.cur``.

The server decides every transition against its own copy of the order (``desk_orders``): an
edit made offline of an order the server has already closed or cancelled is refused and queued
in ``desk_conflicts``, and the event ``desk.order.conflict`` tells every desk the server's state
(the closed order stays closed). A transition another desk already made (the same state reached)
is applied from the server's state when the state machine allows it, otherwise it is a conflict.
"""

from __future__ import annotations

import json
from datetime import datetime

from .catalogue import load_catalogue
from .fsm import TransitionRefused, next_state
from .service import deadline_for

__all__ = ["LOOKUPS", "TABLES", "RESOURCES", "received", "transition", "alarm", "handoff"]

LOOKUPS: dict = {}
TABLES: dict = {}
RESOURCES: dict = {}

_ORDER = ("order_no", "channel", "unit", "building", "party", "kind", "category", "priority", "deadline", "payable",
          "fee_related", "emergency", "source_ref", "state", "version", "received_at", "received_s", "device_id",
          "order_json")


def _s(ts: str) -> int:
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp())


def _insert_order(ctx, p: dict, device_id: str, state: str = "received") -> None:
    ctx.cur.execute(f"INSERT INTO desk_orders ({', '.join(_ORDER)}) VALUES ({', '.join('?' * len(_ORDER))})",
                    (p["order_no"], p["channel"], p.get("unit", ""), p.get("building", ""), p.get("party", ""),
                     p.get("kind"), p.get("category", ""), p.get("priority"), p.get("deadline"),
                     int(bool(p.get("payable"))), int(bool(p.get("fee_related"))), int(bool(p.get("emergency"))),
                     p.get("source_ref", ""), state, 1, p["at"], _s(p["at"]), device_id,
                     json.dumps(p, ensure_ascii=False, sort_keys=True)))


def received(ctx, cmd):
    p = cmd["payload"]
    ctx.flush()
    if ctx.cur.execute("SELECT 1 FROM desk_orders WHERE order_no = ?", (p["order_no"],)).fetchone():
        return "rejected", {"reason": "duplicate_order_no"}, []
    _insert_order(ctx, p, ctx.device_id)
    return "applied", {}, [("desk.order.received", p)]


def handoff(ctx, cmd):
    p = cmd["payload"]
    ctx.flush()
    ctx.cur.execute("INSERT INTO desk_finance (handoff_id, order_no, amount_fen, category, created_at, device_id) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (handoff_id) DO NOTHING",
                    (p["handoff_id"], p["order_no"], p.get("amount_fen"), p.get("category", ""), p["at"],
                     ctx.device_id))
    return "applied", {}, [("desk.finance.handoff", p)]


_CARRIED = ("kind", "category", "priority", "deadline", "payable", "fee_related", "emergency", "team", "assignee",
            "cause_code")


def transition(ctx, cmd):
    p = cmd["payload"]
    event = cmd["kind"].rpartition(".")[2]
    ctx.flush()
    row = ctx.cur.execute("SELECT state, version, payable, reopen_count FROM desk_orders WHERE order_no = ?",
                          (p["order_no"],)).fetchone()
    if row is None:
        return "rejected", {"reason": "unknown_order"}, []
    state, version, payable, reopens = row
    reason = None
    if state in ("closed", "cancelled"):
        reason = f"order_{state}"
    else:
        try:
            to = next_state(state, event, p, bool(p["payable"]) if p.get("payable") is not None else bool(payable))
        except TransitionRefused as exc:
            reason = exc.code if state == p["from_state"] else "state_mismatch"
    if reason is not None:
        ctx.cur.execute("INSERT INTO desk_conflicts (command_id, order_no, event, from_state, server_state, reason, "
                        "device_id, created_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (cmd["command_id"], p["order_no"], event, p["from_state"], state, reason, ctx.device_id,
                         ctx.now, json.dumps(p, ensure_ascii=False, sort_keys=True)))
        return "rejected", {"reason": reason, "server_state": state}, [
            ("desk.order.conflict", {"order_no": p["order_no"], "event": event, "server_state": state,
                                     "version": version, "reason": reason, "device_id": ctx.device_id})]
    sets = {k: p[k] for k in _CARRIED if k in p}
    if event == "followed_up" and to == "dispatched":
        sets["reopen_count"] = reopens + 1
    sets.update(state=to, version=version + 1)
    ctx.cur.execute(f"UPDATE desk_orders SET {', '.join(f'{k} = ?' for k in sets)} WHERE order_no = ?",
                    [*(int(v) if isinstance(v, bool) else v for v in sets.values()), p["order_no"]])
    assignee = p.get("assignee")
    if assignee is None:
        assignee = ctx.cur.execute("SELECT assignee FROM desk_orders WHERE order_no = ?",
                                   (p["order_no"],)).fetchone()[0]
    ctx.cur.execute("INSERT INTO desk_transitions (command_id, order_no, event, from_state, to_state, at, at_s, "
                    "by_whom, assignee, rating, amount_fen, cause_code, device_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (cmd["command_id"], p["order_no"], event, state, to, p["at"], _s(p["at"]), p.get("by", ""),
                     assignee, p.get("rating"), p.get("amount_fen"), p.get("cause_code"), ctx.device_id))
    if event == "payment_requested":
        ctx.cur.execute("UPDATE desk_finance SET amount_fen = ? WHERE order_no = ? AND state = 'open'",
                        (p.get("amount_fen"), p["order_no"]))
    elif event == "paid":
        ctx.cur.execute("UPDATE desk_finance SET state = 'charged', paid_fen = ?, pay_method = ?, payment_ref = ?, "
                        "paid_at = ? WHERE order_no = ? AND state = 'open'",
                        (p.get("amount_fen"), p.get("pay_method"), p.get("payment_ref"), p["at"], p["order_no"]))
    elif event == "cancelled":
        ctx.cur.execute("UPDATE desk_finance SET state = 'cancelled' WHERE order_no = ? AND state = 'open'",
                        (p["order_no"],))
    if to == "closed":
        ctx.cur.execute("INSERT INTO desk_archive (order_no, state, queued_at) VALUES (?, 'queued', ?) "
                        "ON CONFLICT (order_no) DO NOTHING", (p["order_no"], ctx.now))
    out = {**p, "to_state": to, "version": version + 1}
    if "reopen_count" in sets:
        out["reopen_count"] = sets["reopen_count"]
    return "applied", {"state": to}, [(cmd["kind"], out)]


def alarm(ctx, cmd):
    """An alarm from the monitoring centre: a new order for its point, or merged into the point's
    order that is still open (a flood of one alarm is one order, every alarm kept in ``desk_alarms``)."""
    p = cmd["payload"]
    ctx.flush()
    if ctx.cur.execute("SELECT 1 FROM desk_alarms WHERE alarm_id = ?", (p["alarm_id"],)).fetchone():
        return "applied", {"duplicate": True}, []
    row = ctx.cur.execute("SELECT order_no FROM desk_orders WHERE source_ref = ? AND channel = 'monitoring' AND "
                          "state NOT IN ('closed', 'cancelled') ORDER BY received_at LIMIT 1",
                          (p["point"],)).fetchone()
    if row is not None:
        no = row[0]
        ctx.cur.execute("UPDATE desk_orders SET alarm_count = alarm_count + 1 WHERE order_no = ?", (no,))
        ctx.cur.execute("INSERT INTO desk_alarms (alarm_id, point, alarm_type, order_no, merged, at, device_id) "
                        "VALUES (?, ?, ?, ?, 1, ?, ?)", (p["alarm_id"], p["point"], p["alarm_type"], no, p["at"],
                                                         ctx.device_id))
        return "applied", {"order_no": no, "merged": True}, [
            ("desk.alarm.merged", {"order_no": no, "alarm_id": p["alarm_id"], "at": p["at"]})]
    cat_code = load_catalogue().alarms.get(p["alarm_type"], "")
    cat = load_catalogue().categories.get(cat_code)
    no = f"{ctx.device_id}-A{p['alarm_id']}"[:64]
    order = {"order_no": no, "channel": "monitoring", "at": p["at"], "unit": p.get("unit", ""),
             "building": p.get("building", ""), "party": "", "party_role": "",
             "description": p.get("text") or f"{p['alarm_type']} @ {p['point']}", "photos": [],
             "source_ref": p["point"], "by": "monitoring", "emergency": True, "fee_related": False, "payable": False}
    if cat is not None:
        order.update(kind=cat.kind, category=cat.code, priority=cat.priority,
                     deadline=deadline_for(p["at"], cat.sla_hours))
    _insert_order(ctx, order, ctx.device_id)
    ctx.cur.execute("UPDATE desk_orders SET alarm_count = 1 WHERE order_no = ?", (no,))
    ctx.cur.execute("INSERT INTO desk_alarms (alarm_id, point, alarm_type, order_no, merged, at, device_id) "
                    "VALUES (?, ?, ?, ?, 0, ?, ?)", (p["alarm_id"], p["point"], p["alarm_type"], no, p["at"],
                                                     ctx.device_id))
    return "applied", {"order_no": no, "merged": False}, [("desk.order.received", order)]
