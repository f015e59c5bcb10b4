"""The cashier (R-5) against the real boundaries: the simulated ZVT terminal on TCP through the
platform's payment service, the receipt on a virtual ESC/POS printer, the e-invoice simulator and
a simulated WeChat on real HTTP servers."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest

from drivers.registry import open_device
from drivers.sim.printer import VirtualPrinter
from kiosk.club.cashier_wechat import WeChatSim, WeChatTitles
from kiosk.club.einvoice import ProviderClient, run_once
from kiosk.club.einvoice_sim import ProviderSim
from kiosk.i18n import tr
from pos.club.bill import add_item, club_bill_lines
from pos.club.calls import CallBook
from pos.club.cashier import Cashier, close_day, close_layout, day_totals, receipt_layout
from pos.club.errors import CardLocked, ClubError, FapiaoRefused, WrongPin
from pos.club.reservations import Reservations
from pos.club.store import open_club_store
from pos.club.wxtitle import clean_tax_no, parse_scantitle, parse_title_qr
from tests.test_club_einvoice import Served
from tests.zvt_sim_helpers import charges, sim_terminal

MENU = [("松茸炖鸡汤", 4, 16800, "1"), ("清蒸东星斑", 1, 128800, "2"), ("黑椒和牛粒", 4, 9800, "3"),
        ("杨枝甘露", 4, 3800, "4"), ("Château Margaux 2015", 1, 588000, "wine")]
TOTAL = 4 * 16800 + 128800 + 4 * 9800 + 4 * 3800 + 588000


def _iso_in(minutes: float) -> str:
    ts = datetime.now(timezone.utc).timestamp() + minutes * 60
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def png_bytes() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (200, 80), (255, 255, 255, 0))
    ImageDraw.Draw(img).line([(10, 60), (60, 10), (120, 70), (190, 20)], fill=(0, 0, 0, 255), width=3)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def club(tmp_path):
    store = open_club_store(tmp_path / "box" / "club.sqlite")
    res = Reservations(store, CallBook(store, ack_timeout=60), tz="Asia/Shanghai", venue="red.逸香")

    def room(n: str, menu=MENU) -> str:
        rid = res.book_room(n, _iso_in(-10), 4, title="王總", regular=True)
        res.arrive(rid, "security")
        for name, qty, unit, course in menu:
            add_item(store, rid, name, qty, unit, course)
        return rid

    yield store, res, room
    store.close()


@pytest.fixture
def terminal(tmp_path):
    with sim_terminal(tmp_path / "zvt", "tcp") as (sim, url):
        yield sim, url


def cashier_for(store, url="", **kw) -> Cashier:
    c = Cashier(store, terminal_url=url, cashier="收银01", **kw)
    c.cash.open_shift("收银01", 50000)
    return c


def test_the_bill_takes_its_lines_from_the_bill_source_in_fen(club):
    store, _res, room = club
    rid = room("8")
    lines = club_bill_lines(store, rid)
    assert [x["amount_fen"] for x in lines] == [67200, 128800, 39200, 15200, 588000]
    assert all(type(x["amount_fen"]) is int for x in lines)
    c = Cashier(store, cashier="收银01")
    b = c.open_for_room("8", call_id="CALL1")
    assert b["total_fen"] == TOTAL and b["due_fen"] == TOTAL and b["state"] == "open"
    assert c.open_bill(rid)["bill_no"] == b["bill_no"]               # asked twice: the same bill
    with pytest.raises(ClubError) as e:
        add_item(store, rid, "茶位", 0, 1000)
    assert e.value.code == "bad_input"
    with pytest.raises(ClubError) as e:                                 # not confirmed: no payment
        c.pay_cash(b["bill_no"], 1000, 1000)
    assert e.value.code == "bill_not_confirmed"


def test_signature_cash_with_change_card_and_member_split_then_fapiao_and_receipt(club, terminal, tmp_path):
    store, _res, room = club
    sim, url = terminal
    room("6")
    c = cashier_for(store, url)
    c.cards.issue("E3B0C442", "王总", "246810")
    c.cards.top_up("E3B0C442", 500000, 100000, staff="收银01")     # 充5000送1000
    b = c.open_for_room("6")
    no = b["bill_no"]
    b = c.confirm_signature(no, png_bytes())
    sig = c.signature_path(no)
    assert b["state"] == "confirmed" and b["confirm"] == "signature"
    assert sig.parent == (tmp_path / "box" / "signatures") and sig.read_bytes() == png_bytes()
    # split: member card 5,800.00 (principal 5,000 then bonus 800), card 2,000.00, cash the rest
    m = c.pay_member(no, "E3B0C442", 580000, "246810")
    assert (m["principal_fen"], m["bonus_fen"]) == (500000, 80000) and m["balance"].total_fen == 20000
    k = c.pay_card(no, 200000)
    assert k["status"] == "approved" and k["masked_pan"].endswith("1232") and "6212345678901232" not in str(k)
    due = TOTAL - 780000
    with pytest.raises(ClubError) as e:
        c.pay_cash(no, due + 1, due + 1)
    assert e.value.code == "more_than_due"
    cash = c.pay_cash(no, due, due + 2000)                          # the guest hands over 20 yuan more
    assert cash["change_fen"] == 2000 and cash["bill"]["state"] == "paid" and cash["bill"]["due_fen"] == 0
    assert [e["amount_fen"] for e in charges(sim)] == [200000]       # charged once, on the terminal's ledger
    paid = c.bill(no)
    assert [(p["method"], p["amount_fen"]) for p in paid["payments"]] == [("member", 580000), ("card", 200000),
                                                                           ("cash", due)]
    with pytest.raises(ClubError):
        c.pay_cash(no, 100, 100)                                    # a paid bill takes nothing more
    # the fapiao leaves out the member-card part
    req = c.request_fapiao(no, "上海红逸餐饮管理有限公司", clean_tax_no(" 91310000 MA1FL8XX2B "))
    assert req["amount_fen"] == TOTAL - 580000 and req["excluded_fen"] == 580000
    assert c.request_fapiao(no, "上海红逸餐饮管理有限公司", "91310000MA1FL8XX2B")["order_no"] == req["order_no"]
    provider = ProviderSim(issue_after=1)
    served = Served(provider.app)
    client = ProviderClient(served.url, timeout=2.0)
    try:
        for _ in range(5):
            run_once(c.fapiao, client)
        assert c.fapiao.get(req["order_no"])["state"] == "issued"
        order = provider.orders[req["order_no"]]
        assert order["order"]["invoiceDetail"][0]["taxIncludedAmount"] == f"{(TOTAL - 580000) // 100}.00"
    finally:
        client.close()
        served.stop()
    outbox = [k for (k,) in store.conn.execute("SELECT kind FROM outbox")]
    assert outbox.count("club.bill.paid") == 1 and "payment.posted" in outbox and "cash.received" in outbox
    # the receipt, on the virtual printer, in the three languages' texts
    bill = c.bill(no)
    with VirtualPrinter().start() as vp:
        dev = open_device(f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80", "receipt_printer")
        try:
            dev.print_layout(receipt_layout(bill, lambda m, **kw: tr(m, "zh-Hans", **kw), venue="red.逸香",
                                            balances={"E3B0C442": c.cards.balance("E3B0C442").total_fen}).to_dict())
        finally:
            dev.close()
        doc = vp.wait_docs(1)[0]
    text = doc.text
    for want in ("red.逸香", "收据", no, "清蒸东星斑", "1288.00", f"{TOTAL // 100}.00", "会员卡", "5800.00",
                 "本金", "5000.00", "赠送", "800.00", "银行卡", "1232", "现金", "找零", "20.00", "余额", "200.00",
                 "上海红逸餐饮管理有限公司"):
        assert want in text, want
    assert "6212345678901232" not in text and doc.qr_codes == [no]
    en = receipt_layout(bill, lambda m, **kw: tr(m, "en", **kw)).texts()
    assert any("Member card" in t for t in en) and any("Change" in t for t in en)


def test_a_lost_terminal_reply_is_in_doubt_blocks_the_bill_and_is_settled_without_charging_twice(club, terminal):
    store, _res, room = club
    sim, url = terminal
    room("3", MENU[:2])
    c = cashier_for(store, url)
    no = c.open_for_room("3")["bill_no"]
    c.confirm_printed(no)
    due = c.bill(no)["due_fen"]

    class Gone(Exception):
        pass

    def probe(step):
        if step == "sent":                                # the desk dies as the command goes out
            raise Gone(step)

    c.payments.probe = probe
    with pytest.raises(Gone):
        c.pay_card(no, due)
    c.payments.probe = None
    b = c.bill(no)
    assert b["in_doubt"] and b["due_fen"] == due and b["state"] == "confirmed"
    for pay in (lambda: c.pay_cash(no, due, due), lambda: c.pay_card(no, due)):
        with pytest.raises(ClubError) as e:
            pay()
        assert e.value.code == "card_in_doubt"
    report = c.check_terminal()["report"]
    assert report and not c.bill(no)["in_doubt"]            # the terminal says: nothing after the baseline
    assert charges(sim) == []
    # the guest pays again; the terminal drops its answer after charging: recovered, charged once
    sim.script.push({"action": "approve", "lose_completion": True})
    out = c.pay_card(no, due)
    assert out["status"] == "approved" and out["bill"]["state"] == "paid"
    assert [e["amount_fen"] for e in charges(sim)] == [due]


def test_three_wrong_pins_lock_the_member_card_and_nothing_is_taken(club):
    store, _res, room = club
    room("5", MENU[:1])
    c = cashier_for(store)
    c.cards.issue("04A224B2C1", "李总", "1357")
    c.cards.top_up("04A224B2C1", 100000)
    no = c.open_for_room("5")["bill_no"]
    c.confirm_printed(no)
    for left in (2, 1):
        with pytest.raises(WrongPin) as e:
            c.pay_member(no, "04A224B2C1", 67200, "0000")
        assert e.value.params["left"] == left
    with pytest.raises(CardLocked) as e:
        c.pay_member(no, "04A224B2C1", 67200, "0000")
    assert "locked" in e.value.user_message
    with pytest.raises(CardLocked):                         # the right PIN does not open a locked card
        c.pay_member(no, "04A224B2C1", 67200, "1357")
    assert c.cards.balance("04A224B2C1").total_fen == 100000 and c.bill(no)["due_fen"] == 67200
    c.cards.unlock("04A224B2C1", "经理")
    assert c.pay_member(no, "04A224B2C1", 67200, "1357")["bill"]["state"] == "paid"


def test_a_fapiao_for_a_bill_paid_wholly_by_member_card_is_refused_with_the_reason(club):
    store, _res, room = club
    room("9", MENU[:1])
    c = cashier_for(store)
    c.cards.issue("C0FFEE01", "赵总", "8642")
    c.cards.top_up("C0FFEE01", 50000, 50000)
    no = c.open_for_room("9")["bill_no"]
    c.confirm_printed(no)
    c.pay_member(no, "C0FFEE01", 67200, "8642")             # 500.00 principal + 172.00 bonus
    with pytest.raises(FapiaoRefused) as e:
        c.request_fapiao(no, "赵先生")
    assert e.value.code == "fapiao_stored_value" and "stored value" in e.value.user_message
    assert tr(e.value.user_message, "zh-Hans") != e.value.user_message       # the screen says it in Chinese
    assert store.conn.execute("SELECT count(*) FROM club_fapiao_requests").fetchone()[0] == 0


def test_the_day_close_adds_up_cash_card_member_and_fapiao_in_fen(club, terminal):
    store, _res, room = club
    sim, url = terminal
    c = cashier_for(store, url)
    c.cards.issue("AA01", "钱总", "1111")
    c.cards.top_up("AA01", 100000, 20000)
    for n, how in (("1", "cash"), ("2", "card"), ("3", "member")):
        room(n, MENU[:1])
        no = c.open_for_room(n)["bill_no"]
        c.confirm_printed(no)
        {"cash": lambda: c.pay_cash(no, 67200, 70000), "card": lambda: c.pay_card(no, 67200),
         "member": lambda: c.pay_member(no, "AA01", 67200, "1111")}[how]()
    c.request_fapiao(c.open_for_room("2")["bill_no"], "孙先生")
    with store.transaction() as tx:                          # what the adapter records when issued
        tx.execute("UPDATE club_fapiao_requests SET state = 'issued', invoice_no = '26310000000000000001'")
    day = datetime.now(timezone.utc).astimezone().astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()
    totals = close_day(store, day.isoformat(), "收银01")
    assert (totals["cash_fen"], totals["card_fen"], totals["member_fen"]) == (67200, 67200, 67200)
    assert (totals["member_principal_fen"], totals["member_bonus_fen"]) == (67200, 0)
    assert totals["fapiao_fen"] == 67200 and totals["fapiao_count"] == 1 and totals["bills_paid"] == 3
    assert totals["total_fen"] == 3 * 67200 and totals == {**day_totals(store.conn, day.isoformat()), "day": totals["day"]}
    assert store.conn.execute("SELECT count(*) FROM outbox WHERE kind = 'club.day.closed'").fetchone()[0] == 1
    for lang, want in (("zh-Hans", "日结"), ("zh-Hant", "日結"), ("en", "End-of-day close")):
        texts = close_layout(totals, lambda m, lang=lang, **kw: tr(m, lang, **kw), lang=lang).texts()
        assert any(want in t for t in texts), (lang, texts)
        assert any("2016.00" in t for t in texts)


# -- the WeChat invoice-title QR -----------------------------------------------------------
#: WeChat's own example of a scanned title QR (api_invoicescantitle, 5. 代码示例)
WX_DOC_SAMPLE = "https://mp.weixin.qq.com/intp/invoice/usertitlewxa?action=list_auth&invoice_key=abcd"
#: as a developer scanned it (developers.weixin.qq.com community, "商户扫描用户的发票抬头二维码 返回部分信息是空的")
WX_COMMUNITY_SAMPLE = ("https://mp.weixin.qq.com/intp/invoice/usertitlewxa?action=list_auth&invoice_key="
                       "anM3bWFaUUkwSHlISGFPYlpuVDdBQVRALj84ZHRuQSs0Ij5bajdrTCozT2R5UjhALHM3QDtPI2UhbFk#wechat_redirect")
#: WeChat's example answer (same page)
WX_DOC_ANSWER = {"errcode": 0, "errmsg": "ok", "tax_no": "1286715052", "addr": "abc", "title": "用户抬头",
                 "bank_type": "银行", "phone": "123456"}


def test_wechat_title_qr_samples_parse_and_other_codes_are_refused():
    assert parse_title_qr(WX_DOC_SAMPLE).invoice_key == "abcd"
    q = parse_title_qr(WX_COMMUNITY_SAMPLE)
    assert q.invoice_key.startswith("anM3bWFa") and q.invoice_key.endswith("bFk") and q.scan_text == WX_COMMUNITY_SAMPLE
    for bad in ("", "134567890123456789",                                         # a payment code
                "https://mp.weixin.qq.com/intp/invoice/usertitlewxa?action=list_auth",  # no key
                "http://mp.weixin.qq.com/intp/invoice/usertitlewxa?action=list_auth&invoice_key=abcd",
                "https://mp.weixin.qq.com.evil.example/intp/invoice/usertitlewxa?invoice_key=abcd",
                "https://mp.weixin.qq.com/bizmall/authinvoice?action=list&s_pappid=d3xx",
                "https://mp.weixin.qq.com/intp/invoice/usertitlewxa?action=list_auth&invoice_key=a&invoice_key=b"):
        with pytest.raises(ClubError) as e:
            parse_title_qr(bad)
        assert e.value.code == "not_a_title_qr", bad
    t = parse_scantitle(WX_DOC_ANSWER)
    assert (t.title, t.tax_no, t.address, t.phone, t.company) == ("用户抬头", "1286715052", "abc", "123456", True)
    p = parse_scantitle({"errcode": 0, "title_type": 1, "title": " 张先生 "})
    assert (p.title, p.company, p.tax_no) == ("张先生", False, "")
    for bad in ({"errcode": 72031, "errmsg": "invalid params"}, {"errcode": 0, "title": ""}, []):
        with pytest.raises(ClubError) as e:
            parse_scantitle(bad)
        assert e.value.code == "title_lookup_failed"
    with pytest.raises(ClubError):
        clean_tax_no("91-31")


def test_wechat_title_lookup_over_http_against_the_simulator():
    sim = WeChatSim({"abcd": {"title_type": 0, "title": "上海红逸餐饮管理有限公司", "tax_no": "91310000MA1FL8XX2B"}})
    served = Served(sim.app)
    try:
        wx = WeChatTitles(served.url, token=lambda: "sim-token", timeout=2.0)
        t = wx.lookup(WX_DOC_SAMPLE)
        assert (t.title, t.tax_no, t.company) == ("上海红逸餐饮管理有限公司", "91310000MA1FL8XX2B", True)
        with pytest.raises(ClubError) as e:
            wx.lookup(WX_COMMUNITY_SAMPLE)                    # a key WeChat does not know
        assert e.value.code == "title_lookup_failed"
        with pytest.raises(ClubError) as e:
            wx.lookup("6212345678901232")                     # never sent to WeChat
        assert e.value.code == "not_a_title_qr" and sim.calls == [WX_DOC_SAMPLE, WX_COMMUNITY_SAMPLE]
        wx.close()
        dead = WeChatTitles("http://127.0.0.1:1", timeout=0.5)
        with pytest.raises(ClubError) as e:
            dead.lookup(WX_DOC_SAMPLE)
        assert e.value.code == "title_lookup_failed"
        dead.close()
    finally:
        served.stop()


def test_the_cashier_station_command_is_there():
    import subprocess

    from tests.conftest import onestop_cmd

    out = subprocess.run([*onestop_cmd(), "club", "cashier", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--staff" in out.stdout and "--wechat" in out.stdout


def test_the_cashiers_outbox_payloads_match_their_schemas(club):
    import json

    import msgspec

    from pos.club.kinds import KINDS

    store, _res, room = club
    room("2", MENU[:1])
    c = cashier_for(store)
    no = c.open_for_room("2")["bill_no"]
    c.confirm_printed(no)
    c.pay_cash(no, 67200, 100000)
    close_day(store, "2026-12-08", "收银01")
    rows = store.conn.execute("SELECT kind, payload FROM outbox WHERE kind IN ('club.bill.paid', 'club.day.closed')"
                              ).fetchall()
    assert sorted(k for k, _ in rows) == ["club.bill.paid", "club.day.closed"]
    for kind, payload in rows:
        msgspec.convert(json.loads(payload), KINDS[kind])
    paid = json.loads(rows[0][1]) if rows[0][0] == "club.bill.paid" else json.loads(rows[1][1])
    assert (paid["total_fen"], paid["cash_fen"], paid["card_fen"], paid["member_fen"]) == (67200, 67200, 0, 0)


from tests.sync_support import db_url  # noqa: E402,F401  (the server database fixture: SQLite and PostgreSQL)


def test_the_cashiers_day_reaches_the_real_server(club, terminal, db_url):
    """The box's outbox with a paid bill (cash, card, member card), a fapiao and the day's close is
    pushed to the real sync server, on SQLite and on PostgreSQL, and every command is taken."""
    from sync.client import SyncClient, enrol, set_state
    from tests.sync_support import ThreadServer, admin_code, server_commands

    store, _res, room = club
    sim, url = terminal
    server = ThreadServer(db_url)
    try:
        enrol(store, server.url, admin_code(server.url))
        set_state(store, "server_url", server.url)
        room("3", MENU[:2])
        c = cashier_for(store, url)
        c.cards.issue("AB12CD34", "周总", "9753")
        c.cards.top_up("AB12CD34", 100000, 10000)
        no = c.open_for_room("3")["bill_no"]
        c.confirm_signature(no, png_bytes())
        c.pay_member(no, "AB12CD34", 50000, "9753")
        c.pay_card(no, 100000)
        c.pay_cash(no, 67200 + 128800 - 150000, 50000)
        c.request_fapiao(no, "周先生")
        close_day(store, "2026-12-08", "收银01")
        client = SyncClient(store, timeout=5)
        try:
            client.push_all()
        finally:
            client.close()
        on_server = server_commands(server.backend)
        ours = dict(store.conn.execute("SELECT command_id, kind FROM outbox").fetchall())
        assert set(ours) <= set(on_server)
        assert {"club.bill.paid", "club.day.closed", "club.card.entry", "payment.posted", "cash.received"} <= set(
            ours.values())
        assert store.conn.execute("SELECT count(*) FROM outbox WHERE state != 'acked'").fetchone()[0] == 0
    finally:
        server.stop()


def test_a_member_payment_committed_before_a_crash_settles_the_bill_on_restart(club, tmp_path):
    store, _res, room = club
    room("4", MENU[:1])
    c = cashier_for(store)
    c.cards.issue("FEEDC0DE", "吴总", "2468")
    c.cards.top_up("FEEDC0DE", 100000)
    no = c.open_for_room("4")["bill_no"]
    c.confirm_printed(no)
    c.cards.spend("FEEDC0DE", 67200, "2468", staff="收银01", ref=no)    # the desk dies right after this commit
    assert c.bill(no)["state"] == "confirmed" and c.bill(no)["due_fen"] == 0
    again = Cashier(store, cashier="收银01")                              # the station starts again
    assert again.recover() == [no]
    assert again.bill(no)["state"] == "paid" and again.recover() == []
    assert store.conn.execute("SELECT count(*) FROM outbox WHERE kind = 'club.bill.paid'").fetchone()[0] == 1


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(st.integers(1, 6), st.integers(0, 200000)), min_size=1, max_size=6)
       .filter(lambda ls: sum(q * u for q, u in ls) > 0),
       parts=st.lists(st.tuples(st.sampled_from(["cash", "member"]), st.integers(1, 10 ** 6)), max_size=5),
       bonus=st.integers(0, 300000))
def test_any_split_of_cash_and_member_card_reconciles_to_the_fen(tmp_path_factory, lines, parts, bonus):
    """Property: whatever the split, the bill is paid exactly, the member card gives principal first
    then bonus, the fapiao carries exactly the part not paid by member card, and the day's totals
    are the sums of the payments."""
    from pos.club.cards import MemberCards
    from pos.club.fapiao import bill_fapiao, Payment

    folder = tmp_path_factory.mktemp("split")
    store = open_club_store(folder / "c.sqlite")
    try:
        res = Reservations(store, CallBook(store, ack_timeout=60))
        rid = res.book_room("1", _iso_in(-5), 2)
        res.arrive(rid)
        for n, (q, u) in enumerate(lines):
            add_item(store, rid, f"菜{n}", q, u)
        total = sum(q * u for q, u in lines)
        c = Cashier(store, cashier="收银01", cards=MemberCards(store, pin_cost=16))
        c.cash.open_shift("收银01")
        c.cards.issue("P1", "测试", "1234")
        c.cards.top_up("P1", total, bonus)
        no = c.open_for_room("1")["bill_no"]
        c.confirm_printed(no)
        for method, amount in parts + [("cash", None)]:
            due = c.bill(no)["due_fen"]
            if due == 0:
                break
            amount = due if amount is None else min(amount, due)
            if method == "cash":
                c.pay_cash(no, amount, amount + 55)
            else:
                c.pay_member(no, "P1", amount, "1234")
        b = c.bill(no)
        assert b["state"] == "paid" and b["paid_fen"] == total and b["due_fen"] == 0
        member = [p for p in b["payments"] if p["method"] == "member"]
        m_total = sum(p["amount_fen"] for p in member)
        bal = c.cards.balance("P1")
        assert bal.principal_fen + sum(p["principal_fen"] for p in member) == total
        assert bal.bonus_fen + sum(p["bonus_fen"] for p in member) == bonus
        assert sum(p["bonus_fen"] for p in member) == 0 or bal.principal_fen == 0      # principal first
        cash = [p for p in b["payments"] if p["method"] == "cash"]
        assert all(p["change_fen"] == 55 for p in cash)
        if m_total == total:
            with pytest.raises(FapiaoRefused):
                c.request_fapiao(no, "某公司")
        else:
            req = c.request_fapiao(no, "某公司")
            assert req["amount_fen"] == total - m_total and req["excluded_fen"] == m_total
            assert bill_fapiao([Payment(p["method"], p["amount_fen"]) for p in b["payments"]]).amount_fen == \
                req["amount_fen"]
        day = datetime.now(timezone.utc).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()
        t = day_totals(store.conn, day.isoformat())
        assert (t["cash_fen"], t["member_fen"], t["total_fen"]) == (total - m_total, m_total, total)
    finally:
        store.close()


def test_the_sites_payment_service_posts_a_club_bill_through_the_packs_poster(club, terminal):
    """The platform's composition root (pos.site.Site) finds the club's card poster by its purpose."""
    from pos.config import Config
    from pos.site import Site

    store, _res, room = club
    sim, url = terminal
    site = Site(Config(path=None), store)
    assert "club_bill" in site.posters()
    room("7", MENU[:1])
    c = Cashier(store, payments=site.payments, cash=site.cash, terminal_url=url, cashier="收银01")
    no = c.open_for_room("7")["bill_no"]
    c.confirm_printed(no)
    out = c.pay_card(no, 67200)
    assert out["status"] == "approved" and c.bill(no)["state"] == "paid"
    assert [e["amount_fen"] for e in charges(sim)] == [67200]


@pytest.mark.parametrize("lang", ("zh-Hans", "zh-Hant", "en"))
def test_every_cashier_string_is_in_every_catalogue(lang):
    import re
    from pathlib import Path

    from kiosk.club import cashier as screen
    from kiosk.i18n import parse_po, po_path
    from pos.club import cashier as rules
    from pos.club.errors import REASONS

    root = Path(__file__).resolve().parent.parent
    call = re.compile(r"""\b(?:t|tr|app\.t|app\.tr)\(\s*"((?:[^"\\]|\\.)*)\"""")
    found = set(screen.CARD_OUTCOME_MSGIDS.values()) | set(screen.STATE_MSGIDS.values())
    found |= set(screen.FAPIAO_STATE_MSGIDS.values()) | {screen.MSG_CARD_READ, screen.MSG_PAID_MEMBER}
    found |= set(rules.METHOD_MSGIDS.values()) | set(rules.FAPIAO_KIND_MSGIDS.values()) | set(REASONS.values())
    for f in ("kiosk/club/cashier.py", "assets/kv/club/cashier.kv", "pos/club/cashier.py"):
        found |= set(call.findall((root / f).read_text(encoding="utf-8")))
    catalogue = parse_po(po_path(lang).read_text(encoding="utf-8"))
    missing = sorted(found - set(catalogue))
    assert not missing, f"{lang} lacks {missing}"
    assert len(found) > 70


def test_the_bill_takes_the_room_orders_lines_when_the_orders_module_exists(club, monkeypatch):
    """Room orders (pos.club.orders, another helper's) give ``bill_lines(store, room=, res_id=)``; the
    bill adds them before what was put on the bill directly. A stand-in module with that contract."""
    import sys
    import types

    from pos.club import bill

    store, _res, room = club
    rid = room("10", MENU[4:])
    seen = []

    def bill_lines(store_, room=None, res_id=None):
        seen.append((room, res_id))
        return [{"line_id": "L1", "dish": "D1", "name": "花胶鸡汤", "course": 2, "station": "kitchen", "qty": 4,
                 "unit_fen": 12800, "amount_fen": 51200, "note": ""}]

    monkeypatch.setitem(sys.modules, "pos.club.orders", types.SimpleNamespace(bill_lines=bill_lines))
    assert bill.orders_source() is bill_lines
    lines = club_bill_lines(store, rid)
    assert seen == [(None, rid)]
    assert [(x["name"], x["qty"], x["amount_fen"], x["course"]) for x in lines] == [
        ("花胶鸡汤", 4, 51200, "2"), ("Château Margaux 2015", 1, 588000, "wine")]
    assert Cashier(store).open_for_room("10")["total_fen"] == 51200 + 588000


def test_the_room_order_is_the_bill_and_is_closed_when_the_bill_is_paid(club):
    from pos.club.orders import Orders

    store, _res, room = club
    rid = room("11", MENU[4:])                                  # the wine put on the bill directly
    orders = Orders(store)
    oid = orders.open_order("11", "管家11", rid)
    orders.add(oid, "K201", 2, "管家11")                        # 花胶鸡汤 388.00
    line = orders.add(oid, "K101", 3, "管家11")                 # 酱牛肉 88.00, one sent back
    orders.void(line, 1, "管家11", "客人不要")
    c = cashier_for(store)
    b = c.open_for_room("11")
    assert [(x["name"], x["qty"], x["amount_fen"]) for x in b["lines"]] == [
        ("酱牛肉", 2, 17600), ("花胶鸡汤", 2, 77600), ("Château Margaux 2015", 1, 588000)]
    c.confirm_printed(b["bill_no"])
    c.pay_cash(b["bill_no"], b["total_fen"], b["total_fen"])
    assert orders.order(oid)["state"] == "closed"
