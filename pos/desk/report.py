"""The desk's monthly statistics and analysis (C-5, 《客户服务信息统计分析汇总表》), computed from
the event log alone (the server's global log, or any copy of it) for any month, with the previous
month beside it.

:func:`fold` replays the log into each order's history; :func:`monthly` counts one month in the
site's time zone. The figures and their exact definitions (``[S, E)`` is the month in UTC):

* ``volume``: orders received in the month by ``channel/kind`` and by category (the order's
  current kind and category);
* ``backlog``: orders received before ``E`` and not closed or cancelled before ``E``, by building
  and by age at ``E`` (days ``0-1``, ``1-3``, ``3-7``, ``7+``);
* ``staff``: per assignee, transitions in the month: dispatched to them, returned (QC failed while
  theirs), completed, followed up, and the average rating (satisfied 3, acceptable 2,
  dissatisfied 1) as ``rating_sum``/``rating_n``;
* ``timeliness`` of orders received in the month: response (receipt to first dispatch) and
  resolution (receipt to first completion) as total seconds and counts; within SLA = first
  completion at or before the deadline, of those with a deadline and a completion; overdue =
  deadline before ``E`` and no completion by the deadline; reopened = dissatisfied follow-ups in
  the month;
* ``quality``: follow-up coverage (orders followed up in the month / orders passing QC in the
  month), satisfaction (satisfied or acceptable / follow-ups in the month), QC failures;
* ``causes``: complaints received in the month by cause code, most first, with the cumulative
  share (a Pareto); ``top_requests``: service-request categories received, most first;
* ``paid``: payments in the month (count, fen), and orders awaiting payment at ``E`` (count, the
  fen last requested).

Percentages are kept as numerator and denominator; :func:`pct` rounds half up to 0.1 %.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

__all__ = ["fold", "Folder", "monthly", "compare", "previous_month", "month_bounds", "pct", "RATING_SCORE", "AGE_BUCKETS", "OrderHistory"]

RATING_SCORE = {"satisfied": 3, "acceptable": 2, "dissatisfied": 1}
AGE_BUCKETS = (("0-1", 0, 1), ("1-3", 1, 3), ("3-7", 3, 7), ("7+", 7, None))
_CARRIED = ("kind", "category", "priority", "deadline", "payable", "fee_related", "emergency", "team", "assignee",
            "cause_code")


@dataclass
class OrderHistory:
    order_no: str
    channel: str
    building: str
    received_at: str
    fields: dict
    steps: list = field(default_factory=list)        # (event, at, to_state, assignee, payload)


def _s(ts: str) -> int:
    """Unix seconds (whole, truncated: as the server stores them)."""
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp())


class Folder:
    """The log folded into each order's history, kept up to date: :meth:`feed` takes the events after
    :attr:`cursor` (the last sequence number fed), so a report reads only what is new since the
    last one, the way the server's handler tables are kept by each batch."""

    def __init__(self):
        self.orders: dict[str, OrderHistory] = {}
        self.cursor = 0

    def feed(self, events) -> "Folder":
        orders = self.orders
        for seq, kind, p in events:
            if seq <= self.cursor and self.cursor:
                continue
            self.cursor = max(self.cursor, seq)
            if not kind.startswith("desk.order."):
                continue
            if kind in ("desk.order.received", "desk.order.imported"):
                if p["order_no"] not in orders:
                    orders[p["order_no"]] = OrderHistory(p["order_no"], p["channel"], p.get("building", ""), p["at"],
                                                         {k: p.get(k) for k in _CARRIED})
                continue
            if kind == "desk.order.conflict" or "to_state" not in p:
                continue
            o = orders.get(p["order_no"])
            if o is None:
                continue
            fields = o.fields
            for k in _CARRIED:
                if k in p:
                    fields[k] = p[k]
            o.steps.append((kind[11:], p["at"], p["to_state"], fields.get("assignee"), p))
        return self


def fold(events) -> dict[str, OrderHistory]:
    """``(seq, kind, payload)`` of the log, in order -> each order's history."""
    return Folder().feed(events).orders


def month_bounds(month: str, tz: str) -> tuple[str, str]:
    """``2026-11`` -> the month's start and end in UTC (canonical text), in the site's zone."""
    y, m = (int(x) for x in month.split("-"))
    z = ZoneInfo(tz)
    start = datetime(y, m, 1, tzinfo=z)
    end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=z)
    f = "%Y-%m-%dT%H:%M:%S.%fZ"
    return start.astimezone(timezone.utc).strftime(f), end.astimezone(timezone.utc).strftime(f)


def previous_month(month: str) -> str:
    y, m = (int(x) for x in month.split("-"))
    return f"{y - (m == 1)}-{(m - 2) % 12 + 1:02d}"


def pct(num: int, den: int) -> float | None:
    """``num/den`` as a percentage rounded half up to 0.1 (None when ``den`` is 0)."""
    if not den:
        return None
    return (num * 2000 + den) // (2 * den) / 10


def _month(orders: dict[str, OrderHistory], month: str, tz: str) -> dict:
    S, E = month_bounds(month, tz)
    inm = lambda t: S <= t < E  # noqa: E731
    received = [o for o in orders.values() if inm(o.received_at)]
    vol_ck = Counter(f"{o.channel}/{o.fields.get('kind') or 'unclassified'}" for o in received)
    vol_cat = Counter(o.fields.get("category") or "" for o in received)
    backlog_b, backlog_age = Counter(), Counter()
    end_s = _s(E)
    for o in orders.values():
        if o.received_at >= E:
            continue
        if any(to in ("closed", "cancelled") and at < E for _, at, to, _, _ in o.steps):
            continue
        backlog_b[o.building] += 1
        age_d = (end_s - _s(o.received_at)) / 86400
        for name, lo, hi in AGE_BUCKETS:
            if age_d >= lo and (hi is None or age_d < hi):
                backlog_age[name] += 1
                break
    staff: dict = defaultdict(lambda: {"dispatched": 0, "returned": 0, "completed": 0, "followed_up": 0,
                                       "rating_sum": 0, "rating_n": 0})
    qc_failed = followups = satisfied = reopened = paid_n = paid_fen = 0
    qc_orders, fu_orders = set(), set()
    for o in orders.values():
        for ev, at, to, who, p in o.steps:
            if not inm(at):
                continue
            if ev == "dispatched":
                staff[who]["dispatched"] += 1
            elif ev == "qc_failed":
                staff[who]["returned"] += 1
                qc_failed += 1
            elif ev == "completed":
                staff[who]["completed"] += 1
            elif ev == "qc_passed":
                qc_orders.add(o.order_no)
            elif ev == "followed_up":
                s = staff[who]
                s["followed_up"] += 1
                s["rating_sum"] += RATING_SCORE[p["rating"]]
                s["rating_n"] += 1
                followups += 1
                fu_orders.add(o.order_no)
                satisfied += p["rating"] in ("satisfied", "acceptable")
                reopened += to == "dispatched"
            elif ev == "paid":
                paid_n += 1
                paid_fen += p.get("amount_fen") or 0
    resp_s = resp_n = res_s = res_n = sla_ok = sla_n = overdue = 0
    for o in received:
        r = _s(o.received_at)
        first_d = next((at for ev, at, *_ in o.steps if ev == "dispatched"), None)
        first_c = next((at for ev, at, *_ in o.steps if ev == "completed"), None)
        if first_d:
            resp_s += _s(first_d) - r
            resp_n += 1
        if first_c:
            res_s += _s(first_c) - r
            res_n += 1
        dl = o.fields.get("deadline")
        if dl and first_c:
            sla_n += 1
            sla_ok += first_c <= dl
        if dl and dl < E and not (first_c and first_c <= dl):
            overdue += 1
    awaiting_n = awaiting_fen = 0
    for o in orders.values():
        if o.received_at >= E:
            continue
        before = [(ev, to, p) for ev, at, to, _, p in o.steps if at < E]
        if before and before[-1][1] == "awaiting_payment":
            awaiting_n += 1
            awaiting_fen += next(p.get("amount_fen") or 0 for ev, to, p in reversed(before)
                                 if ev == "payment_requested")
    causes = Counter(o.fields.get("cause_code") or "" for o in received if o.fields.get("kind") == "complaint")
    requests = Counter(o.fields.get("category") or "" for o in received if o.fields.get("kind") == "service_request")
    z = ZoneInfo(tz)
    daily = Counter(datetime.fromtimestamp(_s(o.received_at), z).strftime("%Y-%m-%d") for o in received)
    return figures(month, S, E, len(received), vol_ck, vol_cat, backlog_b, backlog_age, staff,
                   (resp_s, resp_n, res_s, res_n, sla_ok, sla_n, overdue, reopened),
                   (len(fu_orders), len(qc_orders), followups, satisfied, qc_failed), causes, requests,
                   (paid_n, paid_fen, awaiting_n, awaiting_fen), daily)


def figures(month: str, S: str, E: str, received: int, vol_ck: Counter, vol_cat: Counter, backlog_b: Counter,
            backlog_age: Counter, staff: dict, timeliness: tuple, quality: tuple, causes: Counter,
            requests: Counter, paid: tuple, daily: Counter) -> dict:
    """One month's figures from its counts (the fold's here, the database's in :mod:`.report_sql`):
    the percentages, the cause Pareto and the top requests made the same way for both."""
    resp_s, resp_n, res_s, res_n, sla_ok, sla_n, overdue, reopened = timeliness
    fu_orders, qc_orders, followups, satisfied, qc_failed = quality
    pareto, run, total = [], 0, sum(causes.values())
    for cause, n in sorted(causes.items(), key=lambda kv: (-kv[1], kv[0])):
        run += n
        pareto.append({"cause": cause, "count": n, "cumulative_pct": pct(run, total)})
    return {
        "month": month, "start": S, "end": E, "received": received,
        "volume": {"channel_kind": dict(vol_ck), "category": dict(vol_cat)},
        "backlog": {"building": dict(backlog_b), "age": dict(backlog_age), "total": sum(backlog_b.values())},
        "staff": {k: dict(v) for k, v in staff.items()},
        "timeliness": {"response_s": resp_s, "response_n": resp_n, "resolution_s": res_s, "resolution_n": res_n,
                       "within_sla": sla_ok, "sla_n": sla_n, "within_sla_pct": pct(sla_ok, sla_n),
                       "overdue": overdue, "reopened": reopened},
        "quality": {"followed_up_orders": fu_orders, "qc_passed_orders": qc_orders,
                    "coverage_pct": pct(fu_orders, qc_orders), "follow_ups": followups,
                    "satisfied": satisfied, "satisfaction_pct": pct(satisfied, followups), "qc_failed": qc_failed},
        "causes": pareto,
        "top_requests": sorted(requests.items(), key=lambda kv: (-kv[1], kv[0]))[:5],
        "paid": {"count": paid[0], "amount_fen": paid[1], "awaiting": paid[2], "awaiting_fen": paid[3]},
        "daily": dict(sorted(daily.items())),
    }


def monthly(events, month: str, tz: str = "Asia/Shanghai") -> dict:
    """The month's figures, the previous month's, and the change of each headline figure."""
    orders = events if isinstance(events, dict) else fold(events)
    return compare(_month(orders, month, tz), _month(orders, previous_month(month), tz))


def compare(cur: dict, prev: dict) -> dict:
    """``{current, previous, change}``: the change of each headline figure and of each category."""
    heads = {"received": lambda r: r["received"], "backlog": lambda r: r["backlog"]["total"],
             "qc_failed": lambda r: r["quality"]["qc_failed"], "overdue": lambda r: r["timeliness"]["overdue"],
             "paid_fen": lambda r: r["paid"]["amount_fen"]}
    change = {}
    for name, get in heads.items():
        a, b = get(cur), get(prev)
        change[name] = {"now": a, "before": b, "delta": a - b, "pct": pct(a - b, b) if b else None}
    cats = set(cur["volume"]["category"]) | set(prev["volume"]["category"])
    change["category"] = {c: cur["volume"]["category"].get(c, 0) - prev["volume"]["category"].get(c, 0)
                          for c in sorted(cats)}
    return {"current": cur, "previous": prev, "change": change}
