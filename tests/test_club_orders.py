"""Orders per room with courses held until fired; kitchen and bar tickets on their own ESC/POS
printers (real sockets, the virtual printer); printer faults; voids as reversals; the bill's
lines; the kitchen's "ready" turning into a can-serve call to one runner over the real broker."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hanzidentifier import helpers

from drivers.sim.printer import VirtualPrinter
from pos.club.errors import ClubError
from pos.club.orders import Menu, bill_lines
from tests.club_support import SHARED, require_shared_broker, site_name, wait_for

#: the outbox kinds of orders, courses and valet tags
SERVICE_KINDS = {"club.order.line", "club.course.fired", "club.course.ready", "club.valet.tag"}
TRAD_ONLY = helpers.TRADITIONAL_CHARACTERS - helpers.SIMPLIFIED_CHARACTERS
SIMP_ONLY = helpers.SIMPLIFIED_CHARACTERS - helpers.TRADITIONAL_CHARACTERS


def test_the_menu_has_three_languages_in_their_own_script_and_prices_in_fen():
    menu = Menu()
    assert len(menu.dishes) >= 10 and sorted(menu.courses) == [1, 2, 3, 4]
    assert {d.station for d in menu.dishes.values()} == {"kitchen", "bar"}
    for d in menu.dishes.values():
        assert type(d.price_fen) is int and d.price_fen > 0
        assert not set(d.name("zh-Hans")) & TRAD_ONLY, d
        assert not set(d.name("zh-Hant")) & SIMP_ONLY, d
        assert d.name("en").isascii()
    assert menu.dish("K301").name("zh-Hant") == "清蒸東星斑" and menu.dish("K301").price_fen == 58800
    with pytest.raises(ClubError):
        menu.dish("NOPE")


def test_a_bad_menu_is_refused_with_the_dish_named(tmp_path):
    bad = tmp_path / "menu.toml"
    bad.write_text('[courses]\n1 = { "zh-Hans" = "冷菜", "zh-Hant" = "冷菜", en = "Cold" }\n'
                   '[[dish]]\ncode = "X1"\ncourse = 1\nstation = "kitchen"\nprice_fen = 12.5\n'
                   'name = { "zh-Hans" = "菜", "zh-Hant" = "菜", en = "Dish" }\n', encoding="utf-8")
    with pytest.raises(ValueError, match="X1: price_fen must be a whole number of fen"):
        Menu(bad)


@pytest.fixture
def printers(artifacts):
    kitchen = VirtualPrinter(out_dir=artifacts / "club-kitchen").start()
    bar = VirtualPrinter(out_dir=artifacts / "club-bar").start()
    yield kitchen, bar
    kitchen.stop()
    bar.stop()


def _urls(kitchen, bar):
    return {"kitchen_printer": f"escpos+tcp://127.0.0.1:{kitchen.port}",
            "bar_printer": f"escpos+tcp://127.0.0.1:{bar.port}"}


@pytest.fixture
def box(tmp_path, printers):
    require_shared_broker()
    from kiosk.club.box import ClubBox
    from pos.club.store import open_club_store

    store = open_club_store(tmp_path / "box.sqlite")
    b = ClubBox(store, site_name(), SHARED, ack_timeout=60, tick=0.1, venue="red.逸香",
                printers=_urls(*printers)).start()
    yield b
    b.stop()
    store.close()


def _cut(vp):
    return [d for d in vp.docs if getattr(d, "cut", False)]


def test_a_course_is_held_until_fired_then_each_station_gets_its_ticket(box, printers):
    kitchen, bar = printers
    o = box.orders
    order = o.open_order("8", staff="小王")
    assert o.open_order("8") == order                        # one open order per room
    o.add(order, "K101", 2, "小王")
    o.add(order, "B101", 1, "小王", note="少放西瓜")
    o.add(order, "K301", 1, "小王")                          # course 3
    assert [c["state"] for c in o.courses(order)] == ["held", "held"]
    box.print_soon()
    assert not o.tickets(order) and kitchen.docs == [] and bar.docs == []   # held: nothing goes out
    made = box.fire(order, 1, "小王")
    assert len(made) == 2
    k = kitchen.wait_docs(1)[0]
    b = bar.wait_docs(1)[0]
    assert k.cut and b.cut
    assert "厨房单" in k.text and "8号包厢" in k.text and "第1道 冷菜" in k.text and "酱牛肉" in k.text and "2份" in k.text
    assert "鲜果拼盘" not in k.text and "清蒸东星斑" not in k.text     # the bar's dish and course 3 are not the kitchen's now
    assert "吧台单" in b.text and "鲜果拼盘" in b.text and "少放西瓜" in b.text and "酱牛肉" not in b.text
    wait_for(lambda: all(t["print_state"] == "printed" for t in o.tickets(order)), 10, "the tickets printed")
    assert [c["state"] for c in o.courses(order)] == ["fired", "held"]
    with pytest.raises(ClubError, match="already fired"):
        o.fire(order, 1, "小王")
    fired = [json.loads(r[0]) for r in box.store.conn.execute("SELECT payload FROM outbox WHERE kind = 'club.course.fired'")]
    assert [(f["room"], f["course"], f["fired_by"]) for f in fired] == [("8", 1, "小王")]
    kinds = {r[0] for r in box.store.conn.execute("SELECT kind FROM print_jobs")}
    assert kinds == {"club_kitchen_ticket", "club_bar_ticket"}
    o.add(order, "K102", 1, "小王")                          # added after the course was fired: an "add" ticket
    box.fire(order, 1, "小王")
    assert "加菜" in kitchen.wait_docs(2)[1].text and "凉拌海蜇" in kitchen.docs[1].text


def test_voids_are_reversals_and_the_bill_lines_are_what_is_left(box, printers):
    kitchen, _bar = printers
    o = box.orders
    order = o.open_order("9", staff="小王")
    beef = o.add(order, "K101", 3, "小王")
    tea = o.add(order, "B103", 1, "小王")
    soup = o.add(order, "K201", 1, "小王")
    o.void(soup, staff="小王", reason="客人不要")            # voided before firing: the kitchen never hears of it
    box.fire(order, 1, "小王")
    box.fire(order, 2, "小王")                               # course 2 has only the voided soup: no ticket
    kitchen.wait_docs(1)
    void_id = box.void(beef, 1, "小王", "点多了")             # after firing: the kitchen gets a void ticket
    doc = kitchen.wait_docs(2)[1]
    assert "退菜 VOID" in doc.text and "酱牛肉" in doc.text and "退1份" in doc.text
    assert len(_cut(kitchen)) == 2                           # no ticket for the soup
    rows = {r["line_id"]: r for r in o.lines(order)}
    assert rows[beef]["qty"] == 3 and rows[void_id]["qty"] == -1 and rows[void_id]["void_of"] == beef  # nothing deleted
    assert len(rows) == 5
    lines = bill_lines(box.store, room="9")
    assert [(ln["dish"], ln["qty"], ln["unit_fen"], ln["amount_fen"]) for ln in lines] == [
        ("K101", 2, 8800, 17600), ("B103", 1, 6800, 6800)]
    assert sum(ln["amount_fen"] for ln in lines) == 24400 and all(type(ln["amount_fen"]) is int for ln in lines)
    assert bill_lines(box.store, res_id="nope") == []
    with pytest.raises(ClubError, match="only 2 left"):
        o.void(beef, 3, "小王")
    with pytest.raises(sqlite3.IntegrityError):             # the ledger refuses a negative line that reverses nothing
        with box.store.transaction() as tx:
            tx.execute("INSERT INTO club_order_lines (line_id, order_id, course, dish, station, qty, unit_fen, "
                       "created_at) VALUES ('x', ?, 1, 'K101', 'kitchen', -1, 8800, '2026-01-01T00:00:00.000000Z')",
                       (order,))
    payloads = [json.loads(r[0]) for r in box.store.conn.execute("SELECT payload FROM outbox WHERE kind = 'club.order.line'")]
    assert sorted(p["qty"] for p in payloads) == [-1, -1, 1, 1, 3]
    o.close(order)
    assert bill_lines(box.store, room="9") == []
    with pytest.raises(ClubError, match="closed"):
        o.add(order, "K101", 1)


def test_paper_out_leaves_the_ticket_not_printed_and_the_retry_prints_it_once(box, printers):
    kitchen, _bar = printers
    o = box.orders
    order = o.open_order("10", staff="小王")
    o.add(order, "K301", 1, "小王")
    kitchen.set_state(paper_out=True)
    (ticket,) = box.fire(order, 3, "小王")
    wait_for(lambda: o.print_state(ticket) == "failed", 10, "the ticket failed")
    t = o.tickets(order)[0]
    assert "PaperOut" in t["last_error"] or "paper" in t["last_error"].lower()
    kitchen.set_state(paper_out=False)
    out = o.resend(ticket)
    assert out.ok and o.print_state(ticket) == "printed"
    assert ["清蒸东星斑" in d.text for d in _cut(kitchen)] == [True]
    assert box.store.conn.execute("SELECT count(*) FROM print_jobs WHERE ref = ?", (ticket,)).fetchone()[0] == 1


def test_a_ticket_in_doubt_gets_a_marked_copy_never_a_silent_second_original(box, printers):
    kitchen, _bar = printers
    o = box.orders
    order = o.open_order("11", staff="小王")
    o.add(order, "K302", 2, "小王")
    kitchen.silent_after_cut = True                 # it prints, then answers no status query
    (ticket,) = box.fire(order, 3, "小王")
    wait_for(lambda: o.print_state(ticket) == "in_doubt", 30, "the ticket in doubt")
    kitchen.wake()
    with pytest.raises(Exception, match="may have printed"):
        o.retry(ticket)
    out = o.resend(ticket)
    assert out.ok and o.print_state(ticket) == "printed"
    docs = _cut(kitchen)
    assert len(docs) == 2 and "副本 COPY" in docs[1].text and "副本 COPY" not in docs[0].text


def test_a_fired_course_is_printed_after_a_box_restart(tmp_path, printers):
    require_shared_broker()
    from kiosk.club.box import ClubBox
    from pos.club.orders import Orders
    from pos.club.store import open_club_store

    kitchen, _bar = printers
    path = tmp_path / "box.sqlite"
    store = open_club_store(path)
    o = Orders(store)                       # fired while no box was printing (it died after the commit)
    order = o.open_order("12", staff="小王")
    o.add(order, "K401", 2, "小王")
    (ticket,) = o.fire(order, 4, "小王")
    store.close()
    store = open_club_store(path)
    box = ClubBox(store, site_name(), SHARED, printers=_urls(*printers)).start()
    try:
        doc = kitchen.wait_docs(1, 15)[0]
        assert "扬州炒饭" in doc.text and ticket in doc.text
        wait_for(lambda: box.orders.print_state(ticket) == "printed", 10, "the ticket printed")
    finally:
        box.stop()
        store.close()


def test_the_kitchen_says_ready_and_one_runner_gets_can_serve_for_the_course(box, printers):
    from kiosk.club.device import ClubDevice

    site = box.topics.base.split("/", 1)[1]
    runners = [ClubDevice(site, SHARED, f"{site}-r{i}", "runner", f"跑菜{i}", resend=0.5).start() for i in (1, 2)]
    try:
        wait_for(lambda: len(box.book.on_shift("runner")) == 2, what="two runners on shift")
        o = box.orders
        order = o.open_order("8", staff="小王")
        o.add(order, "K301", 1, "小王")
        o.add(order, "K303", 2, "小王")
        with pytest.raises(ClubError, match="not fired"):
            box.course_ready(order, 3, "厨师长")
        box.fire(order, 3, "小王")
        (call,) = box.course_ready(order, 3, "厨师长")
        assert (call["kind"], call["room"], call["to_role"], call["from_role"]) == ("can_serve", "8", "runner", "kitchen")
        assert call["detail"] == {"order_id": order, "course": 3, "dishes": ["清蒸东星斑×1", "蒜蓉菜心×2"]}
        assert o.courses(order)[0]["state"] == "ready" and o.courses(order)[0]["call_id"] == call["call_id"]
        got = wait_for(lambda: [r for r in runners if r.board.offered], what="a runner's offer")
        assert len(got) == 1                                  # the shared subscription: one runner
        got[0].acknowledge(call["call_id"])
        wait_for(lambda: box.book.get(call["call_id"])["state"] == "acked", what="the runner's ack")
        with pytest.raises(ClubError, match="ready, not fired"):
            box.course_ready(order, 3, "厨师长")
    finally:
        for r in runners:
            r.stop()


def test_the_call_kinds_migration_keeps_every_call_and_ack(tmp_path, monkeypatch):
    import sqlite_utils

    from pos.club import schema

    today = schema.CALL_KINDS
    assert today[-1] == "car"
    monkeypatch.setattr(schema, "CALL_KINDS", today[:-1])      # m001 as it ran before the service part

    conn = sqlite3.connect(tmp_path / "old.sqlite", isolation_level=None)
    conn.execute("PRAGMA foreign_keys=ON")
    db = sqlite_utils.Database(conn)
    for fn in schema.MIGRATIONS[:6]:                  # the club's store as it was before the service part
        fn(db)
    conn.execute("INSERT INTO club_calls (call_id, group_id, room, kind, from_role, to_role, target_role, seq, rev, "
                 "state, created_at, acked_by) VALUES ('c1', 'g1', '8', 'room_ready', 'butler', 'greeter', 'greeter', "
                 "1, 2, 'acked', '2026-01-01T00:00:00.000000Z', '小李')")
    conn.execute("INSERT INTO club_call_acks VALUES ('c1', '小李', 'greeter', 'd1', '2026-01-01T00:00:01.000000Z', 1)")
    car = ("INSERT INTO club_calls (call_id, group_id, room, kind, from_role, to_role, target_role, seq, rev, state, "
           "created_at) VALUES ('c2', 'g2', '8', 'car', 'butler', 'valet', 'valet', 3, 3, 'open', "
           "'2026-01-01T00:01:00.000000Z')")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(car)
    monkeypatch.setattr(schema, "CALL_KINDS", today)
    conn.execute("BEGIN IMMEDIATE")
    schema.m103_service_call_kinds(db)
    conn.execute("COMMIT")
    assert conn.execute("SELECT call_id, acked_by FROM club_calls").fetchall() == [("c1", "小李")]
    assert conn.execute("SELECT call_id, staff FROM club_call_acks").fetchall() == [("c1", "小李")]
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'club_calls'")}
    assert {"club_calls_due", "club_calls_room_rev"} <= names
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.execute(car)                                 # the valet's kind is taken now
    with pytest.raises(sqlite3.IntegrityError):       # and the CHECK is still there
        conn.execute(car.replace("'c2', 'g2'", "'c3', 'g3'").replace("'car'", "'teleport'").replace(" 3, 3,", " 4, 4,"))
    with pytest.raises(sqlite3.IntegrityError):       # the acks' foreign key points at the rebuilt table
        conn.execute("INSERT INTO club_call_acks VALUES ('nope', 'x', 'valet', 'd', '2026-01-01T00:00:00.000000Z', 1)")
    conn.close()


def test_every_service_outbox_payload_matches_its_schema(tmp_path):
    """What orders, courses and the valet emit converts to the kinds' msgspec schemas (the server's check)."""
    import msgspec

    from pos.club.kinds import KINDS
    from pos.club.orders import Orders
    from pos.club.reservations import Reservations
    from pos.club.store import open_club_store
    from pos.club.valet import Valet

    store = open_club_store(tmp_path / "s.sqlite")
    try:
        o = Orders(store)
        order = o.open_order("8", "小王")
        line = o.add(order, "K101", 2, "小王", note="少辣")
        o.fire(order, 1, "小王")
        o.void(line, 1, "小王", "点多了")
        o.ready(order, 1, "厨师长")
        rid = Reservations(store, o.book).book_room("8", "2030-01-01T10:00:00.000000Z", 4)
        v = Valet(store, o.book)
        tag = v.park(rid, plate="沪A12345", staff="老张", request="REQ1")
        assert v.park(rid, plate="沪A12345", staff="老张", request="REQ1") == tag      # QoS 1 sent it twice: one tag
        v.request("8", "butler")
        v.returned(tag, "老张", request="REQ2")
        assert v.returned(tag, "老张", request="REQ2")[1] is None                     # the same scan again: no refusal
        with pytest.raises(ClubError, match="handed back"):
            v.returned(tag, "老张", request="REQ3")                                  # a second scan: refused
        rows = [(k, json.loads(p)) for k, p in store.conn.execute(
            "SELECT kind, payload FROM outbox WHERE kind IN (%s) ORDER BY device_seq" % ", ".join("?" * len(SERVICE_KINDS)),
            sorted(SERVICE_KINDS))]
        assert {k for k, _ in rows} == SERVICE_KINDS
        for kind, payload in rows:
            msgspec.convert(payload, KINDS[kind])
        assert not any("沪A12345" in json.dumps(p, ensure_ascii=False) for _, p in rows)      # no plate leaves the box
        assert [p["state"] for k, p in rows if k == "club.valet.tag"] == ["parked", "requested", "returned"]
        assert [p["qty"] for k, p in rows if k == "club.order.line"] == [2, -1]
    finally:
        store.close()


def test_a_ticket_cut_off_by_a_crash_is_in_doubt_after_the_restart_never_printed_again(tmp_path, printers):
    require_shared_broker()
    from kiosk.club.box import ClubBox
    from pos.club.orders import Orders
    from pos.club.store import open_club_store
    from pos.printing import PrintJournal

    kitchen, _bar = printers
    path = tmp_path / "box.sqlite"
    store = open_club_store(path)
    o = Orders(store, journal=PrintJournal(store, devices=_urls(*printers)))
    order = o.open_order("15", staff="小王")
    o.add(order, "K303", 1, "小王")
    (ticket,) = o.fire(order, 3, "小王")
    job = o.journal.submit("club_kitchen_ticket", o.ticket_layout(ticket), role="kitchen_printer", ref=ticket)
    with store.transaction() as tx:                  # the box died while sending it: the row says "printing"
        tx.execute("UPDATE print_jobs SET state = 'printing', attempts = 1 WHERE job_id = ?", (job,))
    store.close()
    store = open_club_store(path)
    box = ClubBox(store, site_name(), SHARED, printers=_urls(*printers)).start()
    try:
        wait_for(lambda: box.orders.print_state(ticket) == "in_doubt", 10, "the ticket in doubt")
        box.print_soon()
        wait_for(lambda: not box._print_kick.is_set(), 10, "a printing pass")
        assert kitchen.docs == []                    # never a silent second original
        assert box.store.conn.execute("SELECT count(*) FROM print_jobs WHERE ref = ?", (ticket,)).fetchone()[0] == 1
        out = box.orders.resend(ticket)              # the screen's "Reprint a marked copy"
        assert out.ok and "副本 COPY" in kitchen.wait_docs(1)[0].text
    finally:
        box.stop()
        store.close()


def test_the_order_belongs_to_the_guests_who_arrived(box):
    rid = box.reservations.book_room("16", "2030-01-01T10:00:00.000000Z", 4)
    box.arrive(rid, "security")
    o = box.orders
    order = o.open_order("16", staff="小王")
    assert o.order(order)["res_id"] == rid
    o.add(order, "K201", 1, "小王")
    assert bill_lines(box.store, res_id=rid) == bill_lines(box.store, room="16")
    assert [ln["amount_fen"] for ln in bill_lines(box.store, res_id=rid)] == [38800]
    with pytest.raises(ClubError):
        bill_lines(box.store)


def test_the_station_printers_come_from_the_clubs_config_and_a_bad_url_is_refused(tmp_path):
    from pos.club.orders import printer_roles
    from pos.config import load_config
    from pos.errors import ConfigError

    good = tmp_path / "good.toml"
    good.write_text('[club]\nkitchen_printer = "escpos+tcp://10.0.0.21:9100"\nbar_printer = "escpos+tcp://10.0.0.22:9100"\n',
                    encoding="utf-8")
    assert printer_roles(load_config(good)) == {"kitchen_printer": "escpos+tcp://10.0.0.21:9100",
                                                "bar_printer": "escpos+tcp://10.0.0.22:9100"}
    bad = tmp_path / "bad.toml"
    bad.write_text('[club]\nkitchen_printer = "escpos+tcp://10.0.0.21:9100?profile=NOPE-9"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"club\.kitchen_printer|kitchen_printer.*bad printer URL"):
        load_config(bad)


def test_a_dish_voided_before_its_course_is_fired_is_nothing_left_to_send(box):
    o = box.orders
    order = o.open_order("17", staff="小王")
    soup = o.add(order, "K201", 1, "小王")
    assert [c["unsent"] for c in o.view("17")["courses"]] == [1]
    o.void(soup, staff="小王")
    assert [c["unsent"] for c in o.view("17")["courses"]] == [0] and o.view("17")["total_fen"] == 0
