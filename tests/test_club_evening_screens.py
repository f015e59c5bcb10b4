"""The issue's evening, to the last fen: 12 rooms on a Mosquitto of the test's own and the real sync
server. Reservations (a double booking refused), preparation, arrivals, 4 courses and a bottle a
room, wine tasks, a call to a role nobody is on shift for; the broker restarted, a butler's phone
dropping off and back, the club box rebooting on its store; then every room pays at the cashier's
screen by touches: cash with change, bank card on the ZVT simulator (one lost reply, one desk
crash in doubt and settled), member card on pcscd + vpcd with its PIN (3 wrong PINs lock a card),
and splits; fapiao by typed title (the all-member-card bill refused with the reason) issued by the
box's e-invoice poller; the day closed. Every call ends acknowledged, by its role or by the manager
after escalation; the box's outbox reaches the server; the money reconciles."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

from tests.pcsc_stack import READER, running_stack, use_private_socket

use_private_socket()       # before any PC/SC call in this process

from tests.club_support import Mosquitto, site_name, wait_for  # noqa: E402
from tests.conftest import ROOT  # noqa: E402
from tests.test_club_cashier_screen import clear, draw, keys, start_cashier, stop_cashier  # noqa: E402
from tests.test_club_einvoice import Served  # noqa: E402
from tests.zvt_sim_helpers import charges, sim_terminal  # noqa: E402

pytestmark = pytest.mark.pcsc
ROOMS = [str(n) for n in range(1, 13)]
CARD = ROOT / "assets" / "cards" / "club_member_wang.toml"
UID = "E3B0C442"
#: the room orders (pos.club.orders, the menu's dishes), one a course: 酱牛肉, 花胶鸡汤, 清蒸东星斑, 扬州炒饭
COURSES = [("K101", 2, 1), ("K201", 1, 2), ("K301", 1, 3), ("K401", 2, 4)]
WINE = ("Château Margaux 2015", 1, 388000, "wine")                 # the sommelier's bottle, on the bill
ROOM_FEN = 2 * 8800 + 38800 + 58800 + 2 * 6800 + 388000           # 5,168.00 a room
#: room -> how it pays: [(method, yuan or None for the rest)], and a fapiao title
PLAN = {
    "1": ([("cash", None)], ""), "2": ([("cash", None)], "上海红逸餐饮管理有限公司"), "3": ([("card", None)], ""),
    "4": ([("card", None)], "王先生"), "5": ([("member", None)], "李先生"),      # refused: all stored value
    "6": ([("member", "2000"), ("card", None)], "深圳市前海科技有限公司"), "7": ([("cash", "1000"), ("card", None)], ""),
    "8": ([("member", "920"), ("cash", None)], "赵女士"), "9": ([("card", None)], ""),     # the terminal's reply is lost
    "10": ([("card", None)], ""),                                              # the desk crashes mid-payment
    "11": ([("cash", "3000"), ("member", "1000"), ("card", None)], "钱总"), "12": ([("cash", None)], ""),
}

stack = pytest.fixture(scope="module", name="stack")(running_stack)


def _iso_in(minutes: float) -> str:
    ts = datetime.now(timezone.utc).timestamp() + minutes * 60
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def test_an_evening_of_twelve_rooms_paid_at_the_cashier_screen(tmp_path, stack, artifacts):
    from drivers.sim.printer import VirtualPrinter
    from kiosk.club.box import ClubBox
    from kiosk.club.cashier_card import MemberCardReader
    from kiosk.club.device import ClubDevice
    from kiosk.club.einvoice_sim import ProviderSim
    from pos.club.bill import add_item
    from pos.club.cashier import Cashier, day_totals
    from pos.club.errors import RoomTaken
    from pos.club.orders import Orders
    from pos.club.store import open_club_store
    from pos.printing import PrintJournal
    from sync.client import SyncClient, enrol, set_state
    from tests.sync_support import ThreadServer, admin_code, server_commands

    broker = Mosquitto(tmp_path / "broker", persistence=False).start()
    server = ThreadServer(f"sqlite:///{tmp_path / 'server.sqlite'}")
    provider = ProviderSim(issue_after=1)
    einvoice = Served(provider.app)
    site, url = site_name(), broker.url
    path = tmp_path / "box" / "club.sqlite"
    store = open_club_store(path)
    enrol(store, server.url, admin_code(server.url))
    set_state(store, "server_url", server.url)

    def new_box(s):
        return ClubBox(s, site, url, ack_timeout=1.0, tick=0.1, venue="red.逸香", einvoice_url=einvoice.url,
                       einvoice_interval=0.2).start()

    box = new_box(store)
    devices: dict[str, ClubDevice] = {}

    def dev(name, role, staff, rooms=None):
        devices[name] = ClubDevice(site, url, f"{site}-{name}", role, staff, rooms, resend=0.5,
                                   state_path=tmp_path / f"{name}.json").start()
        return devices[name]

    for r in ROOMS:
        dev(f"butler{r}", "butler", f"管家{r}", [r])
    for i in range(2):
        dev(f"greeter{i}", "greeter", f"迎宾{i}")
        dev(f"sommelier{i}", "sommelier", f"侍酒{i}")
    for i in range(3):
        dev(f"runner{i}", "runner", f"传菜{i}")
    dev("manager", "manager", "经理")
    cashier_dev = dev("cashier", "cashier", "收银01")
    asleep = {"sommelier0", "sommelier1"}                    # the sommeliers miss the first wine calls
    stop = threading.Event()

    def responders():                                        # the staff answering on their phones
        while not stop.wait(0.1):
            for name, d in list(devices.items()):
                if name in asleep or d.role in ("butler", "cashier"):
                    continue
                for c in d.current():
                    d.acknowledge(c["call_id"])

    ui = app = None
    sent: list[str] = []
    with sim_terminal(tmp_path / "zvt", "tcp") as (zvt, zvt_url), VirtualPrinter().start() as printer:
        desk_store = open_club_store(path)                   # the cashier's station: its own connection
        cashier = Cashier(desk_store, terminal_url=zvt_url, cashier="收银01")
        reader = MemberCardReader(READER)
        try:
            wait_for(lambda: store.conn.execute("SELECT count(*) FROM club_shifts WHERE ended_at IS NULL")
                     .fetchone()[0] == len(devices), what="everyone on shift")
            threading.Thread(target=responders, daemon=True).start()
            start = _iso_in(20)
            res = {r: box.reservations.book_room(r, start, 2 + int(r) % 9, title="王總" if int(r) % 3 == 0 else "",
                                                 regular=int(r) % 3 == 0, wines=["Margaux 2015"]) for r in ROOMS}
            with pytest.raises(RoomTaken):                   # bad input: a double booking
                box.reservations.book_room("7", _iso_in(60), 4)
            # preparation: each butler acknowledges its checklist and ticks every item
            wait_for(lambda: all(devices[f"butler{r}"].tasks() for r in ROOMS), what="every checklist")
            for r in ROOMS:
                b = devices[f"butler{r}"]
                for c in b.current():
                    b.acknowledge(c["call_id"])
                for it in b.tasks()[0]["detail"]["items"]:
                    b.tick(res[r], it["item"])
            wait_for(lambda: store.conn.execute("SELECT count(*) FROM club_checklist WHERE ticked_by IS NOT NULL")
                     .fetchone()[0] == 12 * 5, what="the ticks")
            for r in ROOMS[:6]:
                box.arrive(res[r], "security")
            # bad input: a call to a role with nobody on shift goes straight to the manager
            sent.append(devices["butler1"].call("help", "1", to_roles=["security"]))
            for r in ROOMS[:6]:
                sent.append(devices[f"butler{r}"].call("wine", r))
            # the broker goes down in the middle of the evening, and butler 3's phone drops off
            broker.stop()
            devices["butler3"].stop(clean=False)
            for r in ROOMS[6:]:
                box.arrive(res[r], "security")             # marked at the gate while the broker is down
            for r in ROOMS:
                if r != "3":
                    sent.append(devices[f"butler{r}"].call("can_serve", r))
            broker.start()
            devices["butler3"] = ClubDevice(site, url, f"{site}-butler3", "butler", "管家3", ["3"], resend=0.5,
                                            state_path=tmp_path / "butler3.json").start()
            sent.append(devices["butler3"].call("can_serve", "3"))
            wait_for(lambda: any(c["state"] == "escalated" for c in box.book.calls("to_role = 'sommelier'")),
                     what="a sommelier's call escalated")
            asleep.clear()
            # 4 courses a room (the first went out above) and the wine, on the bill as they are served
            for course in range(3):
                for r in ROOMS:
                    sent.append(devices[f"butler{r}"].call("can_serve", r))
            orders = Orders(store)
            for r in ROOMS:                                   # the butler's phone took the order ...
                oid = orders.open_order(r, f"管家{r}", res[r])
                for dish, qty, course in COURSES:
                    orders.add(oid, dish, qty, f"管家{r}")
                    orders.fire(oid, course, f"管家{r}")     # ... and fires each course as it is called
                add_item(store, res[r], *WINE)
            for r in ROOMS[6:]:
                sent.append(devices[f"butler{r}"].call("wine", r))
            for r in ROOMS:
                b = devices[f"butler{r}"]
                wait_for(lambda b=b: not b.board.pending_calls, timeout=60, what=f"butler {b.rooms}'s calls stored")
            # the box reboots: its process stops without a clean goodbye, the store is opened again
            box.stop(clean=False)
            store.close()
            store = open_club_store(path)
            box = new_box(store)
            for r in ROOMS:                                   # the butlers take their arrival calls
                b = devices[f"butler{r}"]
                wait_for(lambda b=b: any(c["kind"] == "arrival" for c in b.current()) or
                         all(c["state"] == "acked" for c in box.book.calls(
                             "to_role = 'butler' AND room = ? AND kind = 'arrival'", (b.rooms[0],))),
                         what="the butler's arrival call")
                for c in b.current():
                    b.acknowledge(c["call_id"])

            # -- the cashier's screen ------------------------------------------------------
            cashier.cash.open_shift("收银01", 100000)
            cashier.cards.issue(UID, "王总", "246810")
            cashier.cards.top_up(UID, 1000000, 200000)       # 充10000送2000
            cashier.cards.issue("D00DFEED", "孙总", "1357")
            ui = start_cashier(cashier_dev, cashier, card_reader=reader, printing=PrintJournal(desk_store),
                               printer_url=f"escpos+tcp://127.0.0.1:{printer.port}?profile=cn80")
            app = ui.app
            calls, bill, pin = app.role_screen, app.bill_screen, app.pin_screen
            stack.insert(CARD)
            # bad input: three wrong PINs lock a card (孙总's, never inserted: typed on the box)
            from pos.club.errors import CardLocked, WrongPin
            for _ in range(2):
                with pytest.raises(WrongPin):
                    cashier.cards.spend("D00DFEED", 100, "0000")
            with pytest.raises(CardLocked):
                cashier.cards.spend("D00DFEED", 100, "0000")
            printed = 0
            for r in ROOMS:
                methods, title = PLAN[r]
                sent.append(devices[f"butler{r}"].call("pay", r))
                ui.wait(lambda r=r: calls.top_call_id and f"{r}号包厢 · 客人下来买单" in calls.ack_text, timeout=20,
                        what=f"room {r}'s pay call on the cashier's screen")
                ui.tap(calls.ids.ack)
                ui.wait(lambda r=r: app.sm.current == "bill" and bill.bill.get("room") == r, what=f"room {r}'s bill")
                assert bill.bill["total_fen"] == ROOM_FEN
                if int(r) % 2:
                    ui.tap(bill.ids.printed)
                    printed += 1
                else:
                    ui.tap(bill.ids.sign)
                    draw(ui, app.sign_screen.ids.pad, [(0.1, 0.3), (0.3, 0.7), (0.5, 0.3), (0.7, 0.7), (0.9, 0.4)])
                    ui.tap(app.sign_screen.ids.done)
                ui.wait(lambda: bill.state == "confirmed", what=f"room {r}'s bill confirmed")
                no = bill.bill_no
                if r == "9":
                    zvt.script.push({"action": "approve", "lose_completion": True})
                for method, amount in methods:
                    if amount is not None:
                        clear(ui, bill.ids.keypad, len(bill.amount_text))
                        keys(ui, bill.ids.keypad, amount)
                    elif not bill.amount_text:
                        ui.tap(bill.ids.rest)                  # the rest of the bill
                    if method == "cash":
                        ui.tap(bill.ids.f_tendered)
                        due_yuan = (bill.bill["due_fen"] if amount is None else int(amount) * 100) // 100
                        keys(ui, bill.ids.keypad, str((due_yuan // 100 + 1) * 100))      # rounded up: change
                        ui.tap(bill.ids.cash)
                        ui.wait(lambda: "找零" in bill.message, what=f"room {r}: cash and change")
                    elif method == "card":
                        if r == "10":                          # the desk dies as the command goes out
                            def probe(step):
                                if step == "sent":
                                    raise RuntimeError("desk lost power")
                            cashier.payments.probe = probe
                            ui.tap(bill.ids.card)
                            ui.wait(lambda: bill.in_doubt and not bill.busy, what="the card payment in doubt")
                            cashier.payments.probe = None
                            assert bill.ids.cash.disabled is False and "刷卡交易尚未确认" in bill.message
                            ui.tap(bill.ids.cash)           # refused while in doubt: never charged twice
                            ui.wait(lambda: "本账单有一笔刷卡交易尚未确认" in bill.message and not bill.busy, what="the refusal")
                            ui.tap(bill.ids.check)
                            ui.wait(lambda: not bill.in_doubt and not bill.busy, what="the terminal checked")
                        ui.tap(bill.ids.card)
                        ui.wait(lambda: "银行卡已付" in bill.message, timeout=20, what=f"room {r}: card")
                    else:
                        ui.tap(bill.ids.member)
                        ui.wait(lambda: pin.card_no == UID, timeout=20, what=f"room {r}: the member card")
                        keys(ui, pin.ids.keypad, "246810")
                        ui.tap(pin.ids.ok)
                        ui.wait(lambda: "会员卡已付" in bill.message, what=f"room {r}: member card")
                ui.wait(lambda: bill.state == "paid", what=f"room {r} paid")
                if title:
                    ui.tap(bill.ids.fapiao)
                    fp = app.fapiao_screen
                    fp.ids.title.text = title                 # typed
                    ui.tap(fp.ids.request)
                    ui.wait(lambda: not fp.busy and fp.message, what=f"room {r}: the fapiao answer")
                    if r == "5":
                        assert fp.error and "会员卡消费不开发票" in fp.message
                    else:
                        assert not fp.error and "已申请发票" in fp.message, fp.message
                    ui.tap(fp.ids.back)
                if r in ("6", "11"):
                    ui.tap(bill.ids.receipt)
                    ui.wait(lambda: "收据已打印" in bill.message, what=f"room {r}: the receipt")
                    ui.screenshot(artifacts, f"club-evening-room{r}-paid")
                ui.tap(bill.ids.back)
                box.reservations.close(res[r])                 # the guests leave
            # every fapiao issued by the box's poller
            wait_for(lambda: desk_store.conn.execute("SELECT count(*) FROM club_fapiao_requests WHERE state = 'issued'")
                     .fetchone()[0] == 5, what="the fapiao issued")
            ui.tap(next(b for b in calls.ids.sends.children if b.kind == "close_day"))
            ui.wait(lambda: "62,016.00" in app.close_screen.totals_text, what="the day's totals")
            ui.tap(app.close_screen.ids.close)
            ui.wait(lambda: "日结完成" in app.close_screen.message, what="the day closed")
            ui.screenshot(artifacts, "club-evening-close")
            assert len(printer.wait_docs(printed + 3)) == printed + 3      # bills to sign, 2 receipts, the close
        finally:
            stop.set()
            if ui is not None:
                stop_cashier(ui)
            for d in devices.values():
                d.stop()
            reader.close()
            stack.remove_all()

        # -- every call acknowledged or escalated, none lost ------------------------------
        try:
            wait_for(lambda: all(c["state"] == "acked" for c in box.book.calls()), timeout=60,
                     what="every call acknowledged")
            calls_ = box.book.calls()
            assert set(sent) <= {c["group_id"] for c in calls_}, "a call was lost"
            by_kind: dict[str, int] = {}
            for c in calls_:
                by_kind[c["kind"]] = by_kind.get(c["kind"], 0) + 1
            assert by_kind["pay"] == 12 and by_kind["can_serve"] == 48 and by_kind["arrival"] == 36
            assert by_kind["wine"] == 24 and by_kind["prep"] == 12
            nobody = [c for c in calls_ if c["escalation_reason"] == "nobody_on_shift"]
            assert nobody and all(c["acked_role"] == "manager" for c in nobody)
            assert any(c["escalation_reason"] == "no_ack" and c["acked_role"] == "manager" for c in calls_)
            assert all(c["acked_by"] == "收银01" for c in calls_ if c["kind"] == "pay")
            # -- the money, to the fen -----------------------------------------------------
            bills = [cashier.bill(no) for (no,) in desk_store.conn.execute("SELECT bill_no FROM club_bills")]
            assert len(bills) == 12 and all(b["state"] == "paid" and b["due_fen"] == 0 for b in bills)
            assert all(len(b["lines"]) == 5 for b in bills)            # 4 courses from the order, the wine
            assert desk_store.conn.execute("SELECT count(*) FROM club_orders WHERE state = 'closed'").fetchone()[0] == 12
            paid = {m: sum(p["amount_fen"] for b in bills for p in b["payments"] if p["method"] == m)
                    for m in ("cash", "card", "member")}
            assert sum(paid.values()) == 12 * ROOM_FEN
            assert sorted(e["amount_fen"] for e in charges(zvt)) == sorted(
                p["amount_fen"] for b in bills for p in b["payments"] if p["method"] == "card")
            assert paid["member"] == ROOM_FEN + 200000 + 92000 + 100000
            bal = cashier.cards.balance(UID)
            assert bal.total_fen == 1200000 - paid["member"] and bal.principal_fen == 1000000 - paid["member"]
            totals = day_totals(desk_store.conn, app.today())
            assert (totals["cash_fen"], totals["card_fen"], totals["member_fen"]) == (
                paid["cash"], paid["card"], paid["member"])
            fapiao = {r["ref"]: r for r in cashier.fapiao.open()} or {}
            issued = desk_store.conn.execute("SELECT coalesce(sum(amount_fen), 0), coalesce(sum(excluded_fen), 0) "
                                             "FROM club_fapiao_requests WHERE state = 'issued'").fetchone()
            assert not fapiao and totals["fapiao_fen"] == issued[0]
            assert issued[1] == 200000 + 92000 + 100000           # the member-card parts left out
            # -- the box's outbox on the real server ---------------------------------------
            client = SyncClient(store, timeout=5)
            client.push_all()
            client.close()
            on_server = server_commands(server.backend)
            ours = {cid for (cid,) in store.conn.execute("SELECT command_id FROM outbox")}
            assert ours and ours <= set(on_server)
            kinds = [k for (k,) in store.conn.execute("SELECT kind FROM outbox")]
            assert kinds.count("club.bill.paid") == 12 and kinds.count("club.day.closed") == 1
            assert kinds.count("club.call.closed") == len(calls_)
        finally:
            box.stop()
            desk_store.close()
            store.close()
            broker.stop()
            einvoice.stop()
            server.stop()
