"""The desk pack's work orders through the real server (SQLite and PostgreSQL): a fee-related order
hands off to finance at once; the whole state machine as commands the server applies; a follow-up
before QC refused; a closed order edited offline becomes a conflict the server decides; the
monitoring centre's signed endpoint (a forged call refused; a 1,000-alarm flood merged, not
dropped) and the repair centre's import through it."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from pos.config import load_config
from pos.desk.service import DeskError, DeskService
from pos.payments.cash import InsufficientTender
from pos.site import Site
from sync.client import SyncClient

from .desk_support import Caller, admin_browser, allow_intake
from .sync_support import ThreadServer, db_url, new_kiosk  # noqa: F401 - fixture
from .zvt_sim_helpers import charges, sim_terminal


@pytest.fixture
def server(db_url):  # noqa: F811
    s = ThreadServer(db_url, task_interval=0)   # the default rate limit; archives stay queued (test_desk_archive)
    yield s
    s.stop()


def q(backend, sql, params=()):
    with backend.tx() as cur:
        return cur.execute(sql, params).fetchall()


def test_a_paid_repair_goes_through_every_state_and_the_server_keeps_its_history(server, tmp_path):
    store = new_kiosk(tmp_path, "DA", server.url)
    site = Site(load_config(None), store)
    desk = site.desk
    site.cash.open_shift("disp1", 0)
    no = desk.receive("hotline", unit="3-1201", party="王芳", party_role="owner",
                      description="请帮忙安装空调", by="disp1", fee_related=True)
    assert no.startswith("DA-")
    # finance hand-off at once, in the intake's own transaction, with the amount unknown yet
    assert [(f["order_no"], f["amount_fen"]) for f in desk.finance_queue()] == [(no, None)]
    best = desk.suggest("请帮忙安装空调", unit="3-1201")
    assert best[0][0] == "paid.appliance"
    with pytest.raises(DeskError) as e:
        desk.classify(no, best[0][0], by="")                # a person confirms
    assert e.value.code == "confirm_required"
    o = desk.classify(no, best[0][0], by="disp1", suggested=best[0][0])
    assert o["payable"] and o["deadline"] > desk.order(no)["received_at"]
    assert desk.finance_queue()[0]["amount_fen"] is None     # one hand-off per order
    d = desk.dispatch(no, by="disp1")
    assert d["team"] == "maintenance" and d["assignee"] == "li" and d["mode"] == "round_robin"
    desk.start(no, by="li")
    with pytest.raises(DeskError) as e:
        desk.follow_up(no, by="disp1", rating="satisfied")
    assert e.value.code == "follow_up_before_qc"
    desk.defer(no, by="li", reason="等配件")
    desk.resume(no, by="li")
    with pytest.raises(DeskError):
        desk.complete(no, by="li", note="装好", photos=[])   # completion needs photos
    desk.complete(no, by="li", note="装好", photos=["p1.jpg"], cause_code="install")
    desk.qc(no, by="sup", passed=False, reasons=["管線未固定"])
    desk.complete(no, by="li", note="已固定", photos=["p2.jpg"])
    desk.qc(no, by="sup", passed=True)
    with pytest.raises(DeskError) as e:
        desk.open_follow_up(no, by="disp1")
    assert e.value.code == "payment_first"
    with pytest.raises(DeskError) as e:
        desk.pay_cash(site.cash, no, cashier="disp1", tendered_fen=10000)   # not asked for yet
    assert e.value.code == "not_awaiting_payment"
    desk.request_payment(no, by="disp1", amount_fen=8000)
    assert desk.amount_due(no) == 8000 and desk.order(no)["state"] == "awaiting_payment"
    f = desk.finance_queue()[0]
    assert (f["amount_fen"], f["paid_fen"], f["unpaid_fen"], f["order_state"]) == (8000, 0, 8000, "awaiting_payment")
    with pytest.raises(InsufficientTender):
        desk.pay_cash(site.cash, no, cashier="disp1", tendered_fen=5000)
    assert desk.order(no)["state"] == "awaiting_payment"          # nothing half-done
    receipt = desk.pay_cash(site.cash, no, cashier="disp1", tendered_fen=10000)
    assert (receipt.amount_fen, receipt.change_fen) == (8000, 2000)
    assert desk.order(no)["state"] == "follow_up" and desk.amount_due(no) is None
    f = desk.finance_queue("charged")[0]
    assert (f["amount_fen"], f["paid_fen"], f["unpaid_fen"], f["pay_method"], f["payment_ref"]) == (
        8000, 8000, 0, "cash", receipt.receipt_no)
    assert store.conn.execute("SELECT amount_fen, account, purpose FROM cash_movements").fetchall() == [
        (8000, no, "desk_service")]
    desk.follow_up(no, by="disp1", rating="dissatisfied", reasons=["噪音大"])
    assert desk.order(no)["state"] == "dispatched" and desk.order(no)["reopen_count"] == 1
    desk.start(no, by="li")
    desk.complete(no, by="li", note="换静音支架", photos=["p3.jpg"])
    desk.qc(no, by="sup", passed=True)
    desk.request_payment(no, by="disp1", amount_fen=3000)       # the second round: a new hand-off
    assert desk.finance_totals() == {"count": 2, "amount_fen": 11000, "paid_fen": 8000, "unpaid_fen": 3000}
    with sim_terminal(tmp_path / "zvt", "tcp") as (sim, url):
        sim.script.push("decline")
        out = desk.pay_by_card(site.payments, no, terminal_url=url, by="disp1")
        assert out.public_status == "declined" and desk.order(no)["state"] == "awaiting_payment"
        out = desk.pay_by_card(site.payments, no, terminal_url=url, by="disp1")
        assert out.public_status == "approved"
        assert [e["amount_fen"] for e in charges(sim)] == [3000]          # the terminal charged it once
    assert desk.order(no)["state"] == "follow_up"
    card = [f for f in desk.finance_queue("charged") if f["pay_method"] == "card"]
    assert [(f["paid_fen"], f["payment_ref"]) for f in card] == [(3000, out.attempt_id)]
    assert "6212" not in json.dumps(desk.finance_queue("all")) and "1232" not in json.dumps(desk.history(no))
    assert desk.finance_totals()["unpaid_fen"] == 0
    desk.follow_up(no, by="disp1", rating="satisfied")
    assert desk.order(no)["state"] == "closed"
    local = [e["event"] for e in desk.history(no)]
    with pytest.raises(Exception):
        store.conn.execute("DELETE FROM desk_events")       # append-only

    out = SyncClient(store).sync_once()
    assert out["pushed"] >= len(local)
    b = server.backend
    assert q(b, "SELECT state, reopen_count, payable, fee_related FROM desk_orders WHERE order_no = ?", (no,)) == [
        ("closed", 1, 1, 1)]
    assert [r[0] for r in q(b, "SELECT event FROM desk_transitions WHERE order_no = ? ORDER BY at, at_s, event",
                            (no,))] != []
    assert len(q(b, "SELECT 1 FROM desk_transitions WHERE order_no = ?", (no,))) == len(local) - 1
    assert q(b, "SELECT handoff_id, amount_fen, state, paid_fen, pay_method FROM desk_finance ORDER BY handoff_id") == [
        (f"{no}-F", 8000, "charged", 8000, "cash"), (f"{no}-F2", 3000, "charged", 3000, "card")]
    assert q(b, "SELECT state FROM desk_archive WHERE order_no = ?", (no,)) == [("queued",)]
    assert q(b, "SELECT count(*) FROM desk_conflicts") == [(0,)]


def test_a_closed_order_edited_offline_is_a_conflict_the_server_decides(server, tmp_path):
    a_store, b_store = new_kiosk(tmp_path, "DA", server.url), new_kiosk(tmp_path, "DB", server.url)
    a, b = DeskService(a_store), DeskService(b_store)
    no = a.receive("service_desk", unit="1-0101", description="请问物业费怎么交", by="disp1", category="enquiry.general")
    a.classify(no, "enquiry.general", by="disp1")
    SyncClient(a_store).sync_once()
    SyncClient(b_store).sync_once()
    assert b.order(no)["state"] == "classified"             # B has A's order from the server
    a.answer(no, by="disp1", note="在前台或APP缴纳")         # A closes it ...
    SyncClient(a_store).sync_once()
    b.cancel(no, by="disp2", reason="重复")                 # ... while B, offline, cancels it
    SyncClient(b_store).sync_once()
    rows = q(server.backend, "SELECT order_no, event, server_state, reason, device_id FROM desk_conflicts")
    assert rows == [(no, "cancelled", "closed", "order_closed", "DB")]
    assert q(server.backend, "SELECT state FROM desk_orders WHERE order_no = ?", (no,)) == [("closed",)]
    SyncClient(b_store).sync_once()
    assert b.order(no)["state"] == "closed"                 # the server's decision reached B
    assert b_store.conn.execute("SELECT order_no, event, server_state FROM desk_conflicts").fetchall() == [
        (no, "cancelled", "closed")]


def test_a_follow_up_before_qc_is_refused_by_the_desk_and_by_the_server(server, tmp_path):
    """The desk refuses it; a follow-up command that reaches the server anyway (another device's
    stale view, or a command written past the service) is refused there too and kept as a conflict."""
    store = new_kiosk(tmp_path, "DA", server.url)
    desk = DeskService(store)
    no = desk.receive("hotline", unit="2-0303", description="阳台水龙头关不上", by="disp1", category="repair.plumbing")
    desk.classify(no, "repair.plumbing", by="disp1")
    desk.dispatch(no, by="disp1")
    desk.start(no, by="li")
    desk.complete(no, by="li", note="换了阀芯", photos=["a.jpg"])
    for bad in (lambda: desk.follow_up(no, by="disp1", rating="satisfied"),
                lambda: desk.open_follow_up(no, by="disp1")):
        with pytest.raises(DeskError) as e:
            bad()
        assert e.value.code in ("follow_up_before_qc", "not_allowed")
    assert desk.order(no)["state"] == "completed"
    with store.transaction() as tx:                          # past the service: straight into the outbox
        tx.emit("desk.order.followed_up", {"order_no": no, "from_state": "follow_up", "at": "2026-12-08T01:00:00Z",
                                           "by": "disp9", "version": 99, "rating": "satisfied"})
    SyncClient(store).sync_once()
    b = server.backend
    assert q(b, "SELECT state FROM desk_orders WHERE order_no = ?", (no,)) == [("completed",)]
    assert q(b, "SELECT event, server_state, reason FROM desk_conflicts WHERE order_no = ?", (no,)) == [
        ("followed_up", "completed", "state_mismatch")]
    with store.transaction() as tx:
        tx.emit("desk.order.followed_up", {"order_no": no, "from_state": "completed", "at": "2026-12-08T01:00:01Z",
                                           "by": "disp9", "version": 99, "rating": "satisfied"})
    SyncClient(store).sync_once()
    assert q(b, "SELECT reason FROM desk_conflicts WHERE order_no = ? ORDER BY reason", (no,)) == [
        ("follow_up_before_qc",), ("state_mismatch",)]
    assert q(b, "SELECT count(*) FROM desk_transitions WHERE order_no = ? AND event = 'followed_up'", (no,)) == [(0,)]
    desk.qc(no, by="sup", passed=True)                      # the right way still works afterwards
    desk.open_follow_up(no, by="disp1")
    desk.follow_up(no, by="disp1", rating="satisfied")
    SyncClient(store).sync_once()
    assert q(b, "SELECT state FROM desk_orders WHERE order_no = ?", (no,)) == [("closed",)]


def _alarm(i: int, point: str, at: datetime) -> dict:
    return {"alarm_id": f"FA{i:05d}", "point": point, "alarm_type": "fire", "building": point.split("-")[0],
            "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "text": f"烟感报警 {point}"}


def test_a_forged_alarm_is_refused_and_a_flood_is_merged_not_dropped(server, tmp_path):
    mon = Caller(server.url, "MON1")
    now = datetime.now(timezone.utc)
    forged = mon.post({"alarms": [_alarm(0, "B1-F1-S1", now)]}, secret="0" * 64)
    assert forged.status_code == 401
    bad_nonce = mon.headers(b"{}")
    assert mon.http.post("/v1/packs/desk/intake", content=b'{"alarms": []}', headers=bad_nonce).status_code == 401
    unsigned = mon.http.post("/v1/packs/desk/intake", json={"alarms": [_alarm(1, "B1-F1-S1", now)]})
    assert unsigned.status_code == 401
    assert q(server.backend, "SELECT count(*) FROM desk_alarms") == [(0,)]
    body = json.dumps({"alarms": [_alarm(9999, "B9-F9-S9", now)]}).encode()
    h = mon.headers(body)
    assert mon.http.post("/v1/packs/desk/intake", content=body, headers=h).status_code == 200
    replay = mon.http.post("/v1/packs/desk/intake", content=body, headers=h)     # a captured call sent again
    assert replay.status_code == 401 and "replayed" in replay.json()["detail"]
    assert q(server.backend, "SELECT count(*) FROM desk_alarms") == [(1,)]

    points = [f"B{b}-F{f}-S1" for b in range(1, 6) for f in range(1, 11)]        # 50 alarm points
    t0 = time.monotonic()
    sent = 0
    for batch in range(100):                         # 1,000 alarms in 10 s: the gateway posts every 100 ms
        alarms = [_alarm(batch * 10 + j, points[(batch * 10 + j) % 50], now + timedelta(milliseconds=batch * 100 + j))
                  for j in range(10)]
        r = mon.post({"alarms": alarms})
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] == 10
        sent += 10
        time.sleep(max(0.0, t0 + (batch + 1) * 0.1 - time.monotonic()))
    assert sent == 1000
    again = mon.post({"alarms": [_alarm(5, points[5], now)]})   # a resent alarm: recognised, not counted twice
    assert again.status_code == 200
    b = server.backend
    assert q(b, "SELECT count(*), sum(merged) FROM desk_alarms WHERE point != 'B9-F9-S9'") == [(1000, 950)]
    rows = q(b, "SELECT source_ref, alarm_count, category, emergency FROM desk_orders WHERE channel = 'monitoring' "
                "AND source_ref != 'B9-F9-S9'")
    assert len(rows) == 50 and {r[0] for r in rows} == set(points)
    assert all(r[1] == 20 and r[2] == "security.fire" and r[3] == 1 for r in rows)

    # a desk pulls the merged orders
    store = new_kiosk(tmp_path, "DA", server.url)
    SyncClient(store).sync_once()
    got = store.conn.execute("SELECT count(*), sum(alarm_count) FROM desk_orders WHERE channel = 'monitoring'")
    assert got.fetchone() == (51, 1001)
    mon.close()


class Crash(BaseException):
    """Stands for the process dying at a step of the card payment."""


def test_a_card_payment_cut_off_after_the_approval_is_posted_to_the_order_on_restart(server, tmp_path):
    """The desk's process dies after the terminal approved and before anything was recorded: the
    order still waits for payment (nothing half-done); on restart the journal's recovery finds the
    approval on the terminal and posts it, and the poster moves the order on in that transaction."""
    store = new_kiosk(tmp_path, "DA", server.url)
    site = Site(load_config(None), store)
    desk = site.desk
    no = desk.receive("service_desk", unit="6-1502", description="预约家庭深度保洁", by="disp1",
                      category="paid.cleaning")
    desk.classify(no, "paid.cleaning", by="disp1")
    desk.dispatch(no, by="disp1")
    desk.start(no, by="zhao")
    desk.complete(no, by="zhao", note="已保洁", photos=["c.jpg"])
    desk.qc(no, by="sup", passed=True)
    desk.request_payment(no, by="disp1", amount_fen=12000)
    with sim_terminal(tmp_path / "zvt", "tcp") as (sim, url):
        def crash(step):
            if step == "result":
                raise Crash(step)
        site.payments.probe = crash
        with pytest.raises(Crash):
            desk.pay_by_card(site.payments, no, terminal_url=url, by="disp1")
        assert desk.order(no)["state"] == "awaiting_payment" and desk.amount_due(no) == 12000
        restarted = Site(load_config(None), store)                 # a new process on the same store
        report = restarted.payments.recover()
        assert [r["state"] for r in report] == ["posted"]
        assert [e["amount_fen"] for e in charges(sim)] == [12000]  # charged once
    assert restarted.desk.order(no)["state"] == "follow_up" and restarted.desk.amount_due(no) is None
    (f,) = restarted.desk.finance_queue("charged")
    assert (f["paid_fen"], f["pay_method"], f["unpaid_fen"]) == (12000, "card", 0)
    SyncClient(store).sync_once()
    assert q(server.backend, "SELECT state, paid_fen, pay_method FROM desk_finance WHERE order_no = ?", (no,)) == [
        ("charged", 12000, "card")]


def test_another_desk_sees_the_payment_and_the_cancel_in_its_finance_queue(server, tmp_path):
    a_store, b_store = new_kiosk(tmp_path, "DA", server.url), new_kiosk(tmp_path, "DB", server.url)
    site = Site(load_config(None), a_store)
    a, b = site.desk, DeskService(b_store)
    site.cash.open_shift("disp1", 0)
    paid = a.receive("hotline", unit="1-0502", description="地毯清洗", by="disp1", category="paid.cleaning")
    dropped = a.receive("hotline", unit="1-0502", description="重复的保洁预约", by="disp1", category="paid.cleaning")
    a.cancel(dropped, by="disp1", reason="重复")
    a.classify(paid, "paid.cleaning", by="disp1")
    a.dispatch(paid, by="disp1")
    a.start(paid, by="zhao")
    a.complete(paid, by="zhao", note="洗好", photos=["x.jpg"])
    a.qc(paid, by="sup", passed=True)
    a.request_payment(paid, by="disp1", amount_fen=12000)
    SyncClient(a_store).sync_once()
    SyncClient(b_store).sync_once()
    assert [(f["order_no"], f["unpaid_fen"]) for f in b.finance_queue()] == [(paid, 12000)]
    a.pay_cash(site.cash, paid, cashier="disp1", tendered_fen=12000)
    SyncClient(a_store).sync_once()
    SyncClient(b_store).sync_once()
    got = {f["order_no"]: (f["state"], f["paid_fen"], f["unpaid_fen"], f["pay_method"]) for f in b.finance_queue("all")}
    assert got == {paid: ("charged", 12000, 0, "cash"), dropped: ("cancelled", 0, None, None)}
    assert b.finance_totals() == {"count": 1, "amount_fen": 12000, "paid_fen": 12000, "unpaid_fen": 0}


def test_only_callers_enrolled_for_intake_in_their_role_are_accepted(server, tmp_path, caplog):
    """A device enrolled with the server but not allowed for intake (a kiosk, a stolen desk
    secret), or allowed in another role, is refused with a clear body and a log line; nothing is
    recorded. The admin allows and withdraws callers on the IT site."""
    now = datetime.now(timezone.utc)
    kiosk = Caller(server.url, "KIOSK7", role="")                  # enrolled, signs correctly, not a caller
    rc = Caller(server.url, "RC2")                                 # the repair centre: orders only
    with caplog.at_level("WARNING", logger="pos.desk.endpoint"):
        r = kiosk.post({"alarms": [_alarm(1, "B1-F1-S1", now)]})
        assert r.status_code == 403 and r.json()["error"] == "not_intake_caller"
        assert "KIOSK7 is not enrolled for the desk's intake" in r.json()["detail"]
        r = rc.post({"alarms": [_alarm(2, "B1-F1-S1", now)]})
        assert r.status_code == 403 and r.json()["error"] == "wrong_role"
        assert "as repair_centre" in r.json()["detail"] and "monitoring" in r.json()["detail"]
    msgs = [rec.getMessage() for rec in caplog.records]
    assert "desk intake refused: device KIOSK7 is not enrolled for intake" in msgs
    assert "desk intake refused: device RC2 (role repair_centre) sent monitoring" in msgs
    assert q(server.backend, "SELECT count(*) FROM desk_alarms") == [(0,)]
    assert q(server.backend, "SELECT count(*) FROM commands WHERE device_id IN ('KIOSK7', 'RC2')") == [(0,)]

    allow_intake(server.url, "KIOSK7", "monitoring")              # the admin allows it ...
    assert kiosk.post({"alarms": [_alarm(3, "B1-F1-S1", now)]}).status_code == 200
    allow_intake(server.url, "KIOSK7", "")                        # ... and withdraws it
    assert kiosk.post({"alarms": [_alarm(4, "B1-F1-S1", now)]}).status_code == 403
    assert q(server.backend, "SELECT alarm_id FROM desk_alarms") == [("FA00003",)]
    web = admin_browser(server.url)
    r = web.post("/admin/packs/desk/intake-callers?lang=en", data={"device_id": "NOSUCH", "role": "monitoring"})
    assert r.status_code == 422 and "Unknown device or role." in r.text
    r = web.post("/admin/packs/desk/intake-callers?lang=en", data={"device_id": "KIOSK7", "role": "root"})
    assert r.status_code == 422
    page = web.get("/admin/packs/desk/intake-callers?lang=zh-Hant")
    assert page.status_code == 200 and "RC2" in page.text and "報修中心" in page.text
    for c in (web, kiosk, rc):
        c.close()


def test_the_repair_centre_imports_through_the_endpoint_and_a_fee_item_reaches_finance(server, tmp_path):
    rc = Caller(server.url, "RC1")
    at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"orders": [{"ref": "WX-881", "unit": "2-0502", "description": "厨房水管漏水", "category": "repair.plumbing",
                        "at": at},
                       {"ref": "WX-882", "unit": "2-0703", "description": "家政保洁", "category": "paid.cleaning",
                        "at": at}]}
    r = rc.post(body)
    assert r.status_code == 200 and [x["status"] for x in r.json()["results"]] == ["applied"] * 3
    assert rc.post(body).status_code == 200                      # the same import again: replayed, no copies
    b = server.backend
    assert q(b, "SELECT order_no, channel, category, deadline IS NOT NULL FROM desk_orders ORDER BY order_no") == [
        ("RC1-RWX-881", "repair_centre", "repair.plumbing", True),
        ("RC1-RWX-882", "repair_centre", "paid.cleaning", True)]
    assert q(b, "SELECT order_no, amount_fen FROM desk_finance") == [("RC1-RWX-882", 12000)]
    bad = rc.post({"orders": [{"unit": "x"}]})
    assert bad.status_code == 422
    store = new_kiosk(tmp_path, "DA", server.url)
    SyncClient(store).sync_once()
    desk = DeskService(store)
    assert [f["order_no"] for f in desk.finance_queue()] == ["RC1-RWX-882"]
    desk.classify("RC1-RWX-881", "repair.plumbing", by="disp1")       # imported orders are worked like any other
    assert desk.dispatch("RC1-RWX-881", by="disp1", assignee="wang")["assignee"] == "wang"
    SyncClient(store).sync_once()
    assert q(b, "SELECT state, assignee FROM desk_orders WHERE order_no = 'RC1-RWX-881'") == [("dispatched", "wang")]
    rc.close()
