"""The monthly statistics (C-5) over a generated month of at least 2,000 orders that went through
the real paths (the signed endpoint, the desk's service on a device store, sync to the real server
on SQLite and PostgreSQL): every figure the report computes from the event log, and every figure the
server's report computes in SQL (pos.desk.report_sql, the report page's), is checked against an
independent SQL computation over the server's desk tables (written by the server's handlers, not by
the report). The charts and the PDF are made from the same report."""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime

import pikepdf
import pytest

from pos.desk.report import AGE_BUCKETS, RATING_SCORE, fold, month_bounds, monthly, pct
from pos.desk.report_sql import monthly_sql
from sync.server.service import read_events

from .desk_month import TZ, Month
from .desk_support import Caller
from .sync_support import ThreadServer, db_url, new_kiosk  # noqa: F401 - fixture

SCALE = float(os.environ.get("ONESTOP_DESK_MONTH_SCALE", "1"))


@pytest.fixture
def server(db_url):  # noqa: F811
    s = ThreadServer(db_url, rate=1000.0, burst=1000, task_interval=0)    # no archive rendering here
    yield s
    s.stop()


def log(backend):
    out, after = [], 0
    with backend.tx() as cur:
        while True:
            page = read_events(cur, after, 5000)
            if not page:
                return out
            out += [(s, k, json.loads(p)) for s, k, p, _ in page]
            after = page[-1][0]


def sql(backend, text, params=()):
    with backend.tx() as cur:
        return cur.execute(text, params).fetchall()


def independent(b, S: str, E: str) -> dict:
    """The month's figures in plain SQL over desk_orders and desk_transitions (portable SQL)."""
    E_s = int(datetime.fromisoformat(E.replace("Z", "+00:00")).timestamp())
    inm = "received_at >= ? AND received_at < ?"
    tin = "at >= ? AND at < ?"
    out = {"received": sql(b, f"SELECT count(*) FROM desk_orders WHERE {inm}", (S, E))[0][0]}
    out["channel_kind"] = dict(sql(b, f"SELECT channel || '/' || coalesce(kind, 'unclassified'), count(*) "
                                      f"FROM desk_orders WHERE {inm} GROUP BY channel, kind", (S, E)))
    out["category"] = dict(sql(b, f"SELECT category, count(*) FROM desk_orders WHERE {inm} GROUP BY category",
                               (S, E)))
    open_at_e = ("received_at < ? AND NOT EXISTS (SELECT 1 FROM desk_transitions t WHERE t.order_no = o.order_no "
                 "AND t.to_state IN ('closed', 'cancelled') AND t.at < ?)")
    out["backlog_building"] = dict(sql(b, f"SELECT building, count(*) FROM desk_orders o WHERE {open_at_e} "
                                          "GROUP BY building", (E, E)))
    case = " ".join(f"WHEN ? - received_s < {hi * 86400} THEN '{name}'" for name, _, hi in AGE_BUCKETS if hi)
    out["backlog_age"] = dict(sql(b, f"SELECT CASE {case} ELSE '7+' END AS bucket, count(*) FROM desk_orders o "
                                     f"WHERE {open_at_e} GROUP BY bucket", (E_s, E_s, E_s, E, E)))
    staff: dict = {}
    for who, ev, n in sql(b, f"SELECT assignee, event, count(*) FROM desk_transitions WHERE {tin} AND event IN "
                             "('dispatched', 'qc_failed', 'completed', 'followed_up') GROUP BY assignee, event",
                          (S, E)):
        key = {"qc_failed": "returned"}.get(ev, ev)
        staff.setdefault(who, {"dispatched": 0, "returned": 0, "completed": 0, "followed_up": 0, "rating_sum": 0,
                               "rating_n": 0})[key] = n
    score = " ".join(f"WHEN '{r}' THEN {v}" for r, v in RATING_SCORE.items())
    for who, total, n in sql(b, f"SELECT assignee, sum(CASE rating {score} END), count(*) FROM desk_transitions "
                                f"WHERE {tin} AND event = 'followed_up' GROUP BY assignee", (S, E)):
        staff[who]["rating_sum"], staff[who]["rating_n"] = int(total), n
    out["staff"] = staff
    first = ("(SELECT order_no, min(at_s) AS first_s, min(at) AS first_at FROM desk_transitions WHERE event = ? "
             "GROUP BY order_no)")
    out["response"] = tuple(int(x or 0) for x in sql(
        b, f"SELECT sum(f.first_s - o.received_s), count(*) FROM desk_orders o JOIN {first} f USING (order_no) "
           f"WHERE {inm}", ("dispatched", S, E))[0])
    out["resolution"] = tuple(int(x or 0) for x in sql(
        b, f"SELECT sum(f.first_s - o.received_s), count(*) FROM desk_orders o JOIN {first} f USING (order_no) "
           f"WHERE {inm}", ("completed", S, E))[0])
    out["sla"] = tuple(int(x or 0) for x in sql(
        b, f"SELECT sum(CASE WHEN f.first_at <= o.deadline THEN 1 ELSE 0 END), count(*) FROM desk_orders o "
           f"JOIN {first} f USING (order_no) WHERE o.deadline IS NOT NULL AND {inm}", ("completed", S, E))[0])
    out["overdue"] = sql(b, f"SELECT count(*) FROM desk_orders o LEFT JOIN {first} f USING (order_no) WHERE {inm} "
                            "AND o.deadline IS NOT NULL AND o.deadline < ? AND (f.first_at IS NULL OR "
                            "f.first_at > o.deadline)", ("completed", S, E, E))[0][0]
    out["reopened"] = sql(b, f"SELECT count(*) FROM desk_transitions WHERE {tin} AND event = 'followed_up' AND "
                             "to_state = 'dispatched'", (S, E))[0][0]
    out["fu_orders"] = sql(b, f"SELECT count(DISTINCT order_no) FROM desk_transitions WHERE {tin} AND "
                              "event = 'followed_up'", (S, E))[0][0]
    out["qc_orders"] = sql(b, f"SELECT count(DISTINCT order_no) FROM desk_transitions WHERE {tin} AND "
                              "event = 'qc_passed'", (S, E))[0][0]
    out["follow_ups"], out["satisfied"] = sql(
        b, f"SELECT count(*), sum(CASE WHEN rating IN ('satisfied', 'acceptable') THEN 1 ELSE 0 END) "
           f"FROM desk_transitions WHERE {tin} AND event = 'followed_up'", (S, E))[0]
    out["qc_failed"] = sql(b, f"SELECT count(*) FROM desk_transitions WHERE {tin} AND event = 'qc_failed'",
                           (S, E))[0][0]
    out["causes"] = sql(b, f"SELECT coalesce(cause_code, '') AS c, count(*) AS n FROM desk_orders WHERE {inm} AND "
                           "kind = 'complaint' GROUP BY coalesce(cause_code, '') ORDER BY n DESC, c", (S, E))
    out["requests"] = sql(b, f"SELECT category, count(*) AS n FROM desk_orders WHERE {inm} AND "
                             "kind = 'service_request' GROUP BY category ORDER BY n DESC, category LIMIT 5", (S, E))
    out["paid"] = tuple(int(x or 0) for x in sql(
        b, f"SELECT count(*), sum(amount_fen) FROM desk_transitions WHERE {tin} AND event = 'paid'", (S, E))[0])
    out["awaiting"] = tuple(int(x or 0) for x in sql(
        b, "SELECT count(*), sum(t.amount_fen) FROM desk_transitions t WHERE t.at < ? AND t.to_state = "
           "'awaiting_payment' AND NOT EXISTS (SELECT 1 FROM desk_transitions u WHERE u.order_no = t.order_no "
           "AND u.at < ? AND u.at > t.at)", (E, E))[0])
    out["daily"] = dict(sql(b, f"SELECT (received_s + 28800) / 86400 AS d, count(*) FROM desk_orders WHERE {inm} "
                               "GROUP BY (received_s + 28800) / 86400", (S, E)))
    return out


def check(r: dict, x: dict) -> None:
    assert r["received"] == x["received"]
    assert r["volume"]["channel_kind"] == x["channel_kind"]
    assert r["volume"]["category"] == x["category"]
    assert r["backlog"]["building"] == x["backlog_building"]
    assert r["backlog"]["age"] == x["backlog_age"]
    assert r["staff"] == x["staff"]
    t = r["timeliness"]
    assert (t["response_s"], t["response_n"]) == x["response"]
    assert (t["resolution_s"], t["resolution_n"]) == x["resolution"]
    assert (t["within_sla"], t["sla_n"]) == x["sla"]
    assert t["overdue"] == x["overdue"] and t["reopened"] == x["reopened"]
    q = r["quality"]
    assert (q["followed_up_orders"], q["qc_passed_orders"]) == (x["fu_orders"], x["qc_orders"])
    assert (q["follow_ups"], q["satisfied"], q["qc_failed"]) == (x["follow_ups"], int(x["satisfied"] or 0),
                                                                 x["qc_failed"])
    assert [(c["cause"], c["count"]) for c in r["causes"]] == [tuple(c) for c in x["causes"]]
    assert [tuple(c) for c in r["top_requests"]] == [tuple(c) for c in x["requests"]]
    assert (r["paid"]["count"], r["paid"]["amount_fen"]) == x["paid"]
    assert (r["paid"]["awaiting"], r["paid"]["awaiting_fen"]) == x["awaiting"]
    local_day = {int(datetime(int(d[:4]), int(d[5:7]), int(d[8:]), tzinfo=TZ).timestamp() + 28800) // 86400: n
                 for d, n in r["daily"].items()}                     # the local day's number (UTC+8)
    assert local_day == {int(k): v for k, v in x["daily"].items()}


def test_a_generated_month_and_every_figure_checked_against_sql(server, tmp_path, artifacts):
    mon, rc = Caller(server.url, "MON1"), Caller(server.url, "RC1")
    store = new_kiosk(tmp_path, "DESK1", server.url)
    lobby = new_kiosk(tmp_path, "LOBBY1", server.url)             # the residents' kiosk: a device of its own
    tech = new_kiosk(tmp_path, "TECH1", server.url)               # a technician's phone (the staff front end)
    gen = Month(store, mon, rc, seed=17, per_day=int(62 * SCALE) or 1, lobby_store=lobby, tech_store=tech)
    start = datetime(2026, 10, 18, tzinfo=TZ)
    stop = datetime(2026, 12, 1, 6, tzinfo=TZ)                    # the report is made on 1 December
    gen.run(start, 44, stop)
    b = server.backend
    assert sql(b, "SELECT count(*) FROM commands WHERE status != 'applied'") == [(0,)]
    events = log(b)
    report = monthly(fold(events), "2026-11")
    cur, prev = report["current"], report["previous"]
    if SCALE >= 1:
        assert cur["received"] >= 2000
    assert sql(b, "SELECT count(*) FROM desk_orders WHERE channel = 'lobby_kiosk' AND device_id = 'LOBBY1'")[0][0] > 0
    assert sql(b, "SELECT count(DISTINCT order_no) FROM desk_transitions WHERE device_id = 'TECH1' AND "
                  "event = 'completed'")[0][0] > 0
    channels = {k.split("/")[0] for k in cur["volume"]["channel_kind"]}
    assert {"monitoring", "repair_centre", "hotline", "complaint_box", "lobby_kiosk"} <= channels
    assert cur["timeliness"]["reopened"] > 0 and cur["paid"]["count"] > 0 and cur["quality"]["qc_failed"] > 0
    assert cur["backlog"]["total"] > 0 and cur["causes"] and prev["received"] > 0
    with b.tx() as c:
        by_sql = monthly_sql(c, "2026-11", "Asia/Shanghai")      # the server's report (the page's)
    for month, r, r_sql in (("2026-11", cur, by_sql["current"]), ("2026-10", prev, by_sql["previous"])):
        x = independent(b, *month_bounds(month, "Asia/Shanghai"))
        check(r, x)
        check(r_sql, x)
    assert by_sql == report                                       # the two reports agree on every figure
    assert report["change"]["received"]["delta"] == cur["received"] - prev["received"]
    assert cur["causes"][-1]["cumulative_pct"] == 100.0
    assert pct(1, 3) == 33.3 and pct(2, 3) == 66.7 and pct(1, 8) == 12.5

    from pos.desk.report_pdf import charts, render_pdf
    pngs = charts(report, "zh-Hans")
    assert set(pngs) == {"daily", "channels", "categories", "causes", "satisfaction"}
    pdf = render_pdf(report, lang="zh-Hans", analysis="报修以水管漏水为主，噪音投诉集中在装修。", signed_by="物业经理 张")
    (artifacts / "desk-monthly-2026-11.pdf").write_bytes(pdf)
    with pikepdf.open(__import__("io").BytesIO(pdf)) as doc:
        assert len(doc.pages) >= 2
        assert sum(1 for p in doc.pages for _ in p.get_images()) >= 5
    mon.close()
    rc.close()
