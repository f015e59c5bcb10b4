"""Fapiao requests through the adapter to a simulated provider on a real HTTP server: the
member-card part left out, a lost reply resolved by the same order number (issued once), a failed
title, and a box restart in the middle."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from kiosk.club.einvoice import ProviderClient, run_once, yuan
from kiosk.club.einvoice_sim import ProviderSim
from pos.club.einvoice import FapiaoRequests
from pos.club.errors import ClubError, FapiaoRefused
from pos.club.fapiao import Payment
from pos.club.store import open_club_store


class Served:
    def __init__(self, app):
        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        end = time.monotonic() + 10
        while not self.server.started and time.monotonic() < end:
            time.sleep(0.02)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def provider():
    sim = ProviderSim(issue_after=1, fail_buyers=("错误抬头有限公司",))
    served = Served(sim.app)
    yield sim, served.url
    served.stop()


def drive(requests, client, order_no, passes=6):
    for _ in range(passes):
        run_once(requests, client)
        if requests.get(order_no)["state"] in ("issued", "failed"):
            break
    return requests.get(order_no)


def test_a_bill_fapiao_leaves_out_the_member_card_part_and_is_issued(tmp_path, provider):
    sim, url = provider
    store = open_club_store(tmp_path / "c.sqlite")
    client = ProviderClient(url, timeout=2.0)
    try:
        reqs = FapiaoRequests(store)
        req = reqs.for_bill("B-0008", [Payment("member", 200000), Payment("card", 188800)], "深圳某某科技有限公司",
                            "91440300MA5XXXXXX1")
        assert (req["amount_fen"], req["excluded_fen"], req["state"]) == (188800, 200000, "intent")
        assert reqs.for_bill("B-0008", [Payment("card", 1)], "x")["order_no"] == req["order_no"]   # same order
        row = drive(reqs, client, req["order_no"])
        assert row["state"] == "issued" and len(row["invoice_no"]) == 20 and row["pdf_url"].endswith(".pdf")
        [issued] = sim.issued()
        assert issued["order"]["invoiceDetail"][0]["taxIncludedAmount"] == "1888.00"
        assert issued["order"]["orderNo"] == req["order_no"] and issued["order"]["invoiceLine"] == "pc"
        import json

        import msgspec

        from pos.club.kinds import KINDS

        [payload] = [json.loads(p) for k, p in store.conn.execute("SELECT kind, payload FROM outbox")
                     if k == "club.fapiao.issued"]
        issued_payload = msgspec.convert(payload, KINDS["club.fapiao.issued"])
        assert (issued_payload.amount_fen, issued_payload.invoice_no) == (188800, row["invoice_no"])
    finally:
        client.close()
        store.close()


def test_refusals_come_before_any_request(tmp_path):
    store = open_club_store(tmp_path / "c.sqlite")
    try:
        reqs = FapiaoRequests(store)
        with pytest.raises(FapiaoRefused):
            reqs.for_bill("B-1", [Payment("member", 50000)], "王總")
        with pytest.raises(ClubError):
            reqs.for_bill("B-2", [Payment("cash", 50000)], "某公司", kind="bs")       # 专票 without a tax number
        with pytest.raises(FapiaoRefused):
            reqs.for_topup("E-1", 100000, 20000, "王總", kind="bs")
        assert reqs.for_topup("E-1", 100000, 20000, "王建国")["amount_fen"] == 100000
        assert store.conn.execute("SELECT count(*) FROM club_fapiao_requests").fetchone()[0] == 1
    finally:
        store.close()


def test_a_lost_reply_is_resolved_by_the_same_order_number_and_issued_once(tmp_path, provider):
    sim, url = provider
    store = open_club_store(tmp_path / "c.sqlite")
    client = ProviderClient(url, timeout=0.5)
    try:
        reqs = FapiaoRequests(store)
        req = reqs.for_bill("B-0009", [Payment("cash", 38800)], "李女士")
        sim.slow_next = True                                 # stored at the provider, the reply too late
        run_once(reqs, client)
        assert reqs.get(req["order_no"])["state"] == "in_doubt"
        assert req["order_no"] in sim.orders
        time.sleep(sim.slow_seconds)
        row = drive(reqs, client, req["order_no"])
        assert row["state"] == "issued" and row["attempts"] == 2
        assert sim.submits == 2 and len(sim.issued()) == 1  # the second submit was a duplicate
    finally:
        client.close()
        store.close()


def test_a_failed_title_is_failed_with_the_providers_reason_and_may_be_asked_again(tmp_path, provider):
    sim, url = provider
    store = open_club_store(tmp_path / "c.sqlite")
    client = ProviderClient(url, timeout=2.0)
    try:
        reqs = FapiaoRequests(store)
        req = reqs.for_bill("B-0010", [Payment("cash", 10000)], "错误抬头有限公司", "123")
        row = drive(reqs, client, req["order_no"])
        assert row["state"] == "failed" and "不匹配" in row["reason"]
        again = reqs.for_bill("B-0010", [Payment("cash", 10000)], "正确抬头有限公司", "91440300MA5XXXXXX1")
        assert again["order_no"] != req["order_no"]
        assert drive(reqs, client, again["order_no"])["state"] == "issued"
    finally:
        client.close()
        store.close()


def test_the_box_restarting_between_submit_and_issue_loses_nothing(tmp_path, provider):
    sim, url = provider
    path = tmp_path / "c.sqlite"
    store = open_club_store(path)
    client = ProviderClient(url, timeout=2.0)
    req = FapiaoRequests(store).for_topup("E-77", 100000, 20000, "王建国")
    run_once(FapiaoRequests(store), client)
    assert FapiaoRequests(store).get(req["order_no"])["state"] == "submitted"
    store.close()                                            # the box goes down
    store = open_club_store(path)
    try:
        reqs = FapiaoRequests(store)
        assert [r["order_no"] for r in reqs.open()] == [req["order_no"]]
        assert drive(reqs, client, req["order_no"])["state"] == "issued"
        assert sim.submits == 1 and sim.issued()[0]["order"]["invoiceDetail"][0]["taxIncludedAmount"] == "1000.00"
    finally:
        client.close()
        store.close()


def test_no_answer_from_a_dead_provider_is_in_doubt_not_failed(tmp_path):
    store = open_club_store(tmp_path / "c.sqlite")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()                                             # nobody listens there
    client = ProviderClient(f"http://127.0.0.1:{port}", timeout=0.5)
    try:
        reqs = FapiaoRequests(store)
        req = reqs.for_bill("B-11", [Payment("cash", 100)], "张先生")
        run_once(reqs, client)
        run_once(reqs, client)
        row = reqs.get(req["order_no"])
        assert row["state"] == "in_doubt" and row["attempts"] == 2
    finally:
        client.close()
        store.close()


def test_yuan_strings_are_exact():
    assert [yuan(0), yuan(5), yuan(38800), yuan(123456789)] == ["0.00", "0.05", "388.00", "1234567.89"]
    with pytest.raises(ValueError):
        yuan(1.5)


def test_the_box_issues_requested_fapiao_by_itself(tmp_path, provider):
    from kiosk.club.box import ClubBox
    from tests.club_support import SHARED, require_shared_broker, site_name, wait_for

    require_shared_broker()
    sim, url = provider
    store = open_club_store(tmp_path / "box.sqlite")
    box = ClubBox(store, site_name(), SHARED, einvoice_url=url, einvoice_interval=0.1).start()
    try:
        req = box.fapiao.for_bill("B-20", [Payment("wechat", 66600), Payment("member", 10000)], "王建国")
        row = wait_for(lambda: (r := box.fapiao.get(req["order_no"]))["state"] == "issued" and r, what="issued")
        assert row["amount_fen"] == 66600 and len(sim.issued()) == 1
    finally:
        box.stop()
        store.close()
