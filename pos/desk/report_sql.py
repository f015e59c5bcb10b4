"""The monthly statistics (C-5) on the central server, with the database doing the aggregation:
the same figures, with the same definitions, as :func:`pos.desk.report.monthly` (see its module
docstring), from the server's transition log (``desk_transitions``, append-only, one row per
applied transition, written with each event of the log) and the orders it keeps (``desk_orders``).

Seven grouped queries per month, each over the month's rows only (the transitions table's index on
``(order_no, at)`` serves the per-order look-ups), and Python only over their grouped answers (a
few hundred rows), never per order or per event. Portable SQL: SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from .report import AGE_BUCKETS, RATING_SCORE, compare, figures, month_bounds, previous_month

__all__ = ["monthly_sql", "month_sql"]


def _secs(ts: str) -> int:
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp())


def month_sql(cur, month: str, tz: str = "Asia/Shanghai") -> dict:
    S, E = month_bounds(month, tz)
    end_s = _secs(E)
    rng = (S, E)

    # 1. the orders received in the month, grouped: volume, complaint causes, requests; the local
    #    day from the quarter hour (exact for every zone on a quarter-hour offset)
    vol_ck, vol_cat, causes, requests, daily = Counter(), Counter(), Counter(), Counter(), Counter()
    z = ZoneInfo(tz)
    received = 0
    for channel, kind, category, cause, quarter, n in cur.execute(
            "SELECT channel, kind, category, coalesce(cause_code, ''), received_s / 900, count(*) FROM desk_orders "
            "WHERE received_at >= ? AND received_at < ? GROUP BY channel, kind, category, coalesce(cause_code, ''), "
            "received_s / 900", rng).fetchall():
        received += n
        vol_ck[f"{channel}/{kind or 'unclassified'}"] += n
        vol_cat[category or ""] += n
        if kind == "complaint":
            causes[cause] += n
        elif kind == "service_request":
            requests[category or ""] += n
        daily[datetime.fromtimestamp(int(quarter) * 900, timezone.utc).astimezone(z).strftime("%Y-%m-%d")] += n

    # 2. the backlog at E: received before E, not closed or cancelled before E
    case = " ".join(f"WHEN {end_s} - o.received_s < {hi * 86400} THEN '{name}'" for name, _, hi in AGE_BUCKETS if hi)
    backlog_b, backlog_age = Counter(), Counter()
    for building, bucket, n in cur.execute(
            f"SELECT o.building, CASE {case} ELSE '7+' END, count(*) FROM desk_orders o "
            "LEFT JOIN (SELECT order_no, min(at) AS done_at FROM desk_transitions WHERE at < ? AND to_state IN "
            "('closed', 'cancelled') GROUP BY order_no) d ON d.order_no = o.order_no "
            f"WHERE o.received_at < ? AND d.done_at IS NULL GROUP BY o.building, CASE {case} ELSE '7+' END",
            (E, E)).fetchall():
        backlog_b[building] += n
        backlog_age[bucket] += n

    # 3. the month's transitions, grouped: staff, QC, follow-ups, reopenings, payments
    staff: dict = defaultdict(lambda: {"dispatched": 0, "returned": 0, "completed": 0, "followed_up": 0,
                                       "rating_sum": 0, "rating_n": 0})
    qc_failed = followups = satisfied = reopened = paid_n = paid_fen = 0
    for event, who, rating, to, n, fen in cur.execute(
            "SELECT event, assignee, rating, to_state, count(*), sum(amount_fen) FROM desk_transitions "
            "WHERE at >= ? AND at < ? AND event IN ('dispatched', 'qc_failed', 'completed', 'followed_up', 'paid') "
            "GROUP BY event, assignee, rating, to_state", rng).fetchall():
        if event == "dispatched":
            staff[who]["dispatched"] += n
        elif event == "qc_failed":
            staff[who]["returned"] += n
            qc_failed += n
        elif event == "completed":
            staff[who]["completed"] += n
        elif event == "followed_up":
            s = staff[who]
            s["followed_up"] += n
            s["rating_sum"] += RATING_SCORE[rating] * n
            s["rating_n"] += n
            followups += n
            satisfied += n if rating in ("satisfied", "acceptable") else 0
            reopened += n if to == "dispatched" else 0
        else:
            paid_n += n
            paid_fen += int(fen or 0)
    distinct = dict(cur.execute(
        "SELECT event, count(DISTINCT order_no) FROM desk_transitions WHERE at >= ? AND at < ? AND event IN "
        "('followed_up', 'qc_passed') GROUP BY event", rng).fetchall())

    # 4. timeliness of the month's orders: first dispatch and first completion of each
    first = ("(SELECT min(t.{c}) FROM desk_transitions t WHERE t.order_no = o.order_no AND t.event = '{e}')")
    row = cur.execute(
        "SELECT sum(fd - received_s), count(fd), sum(fc - received_s), count(fc), "
        "sum(CASE WHEN deadline IS NOT NULL AND fca IS NOT NULL AND fca <= deadline THEN 1 ELSE 0 END), "
        "sum(CASE WHEN deadline IS NOT NULL AND fca IS NOT NULL THEN 1 ELSE 0 END), "
        "sum(CASE WHEN deadline IS NOT NULL AND deadline < ? AND (fca IS NULL OR fca > deadline) THEN 1 ELSE 0 END) "
        f"FROM (SELECT o.received_s, o.deadline, {first.format(c='at_s', e='dispatched')} AS fd, "
        f"{first.format(c='at_s', e='completed')} AS fc, {first.format(c='at', e='completed')} AS fca "
        "FROM desk_orders o WHERE o.received_at >= ? AND o.received_at < ?) x", (E, S, E)).fetchone()
    resp_s, resp_n, res_s, res_n, sla_ok, sla_n, overdue = (int(v or 0) for v in row)

    # 5. awaiting payment at E: the order's last transition before E asked for the payment
    aw_n, aw_fen = cur.execute(
        "SELECT count(*), sum(t.amount_fen) FROM desk_transitions t WHERE t.to_state = 'awaiting_payment' "
        "AND t.at < ? AND t.at = (SELECT max(u.at) FROM desk_transitions u WHERE u.order_no = t.order_no "
        "AND u.at < ?)", (E, E)).fetchone()

    return figures(month, S, E, received, vol_ck, vol_cat, backlog_b, backlog_age, staff,
                   (resp_s, resp_n, res_s, res_n, sla_ok, sla_n, overdue, reopened),
                   (distinct.get("followed_up", 0), distinct.get("qc_passed", 0), followups, satisfied, qc_failed),
                   causes, requests, (paid_n, paid_fen, int(aw_n or 0), int(aw_fen or 0)), daily)


def monthly_sql(cur, month: str, tz: str = "Asia/Shanghai") -> dict:
    """The month, the month before and the change (the shape of :func:`pos.desk.report.monthly`)."""
    return compare(month_sql(cur, month, tz), month_sql(cur, previous_month(month), tz))
