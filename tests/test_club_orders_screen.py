"""The box's order screen by touches: dishes from the menu into courses, fire, the kitchen and
bar tickets on their own virtual ESC/POS printers (real sockets), a void, the kitchen's "ready"
reaching one runner over the real broker, a printer fault retried from the screen; three languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from drivers.sim.printer import VirtualPrinter
from kiosk.i18n import LANGUAGES, parse_po, po_path
from pos.club.orders import bill_lines
from tests.club_support import SHARED, require_shared_broker, site_name, wait_for
from tests.test_club_screens import screen  # noqa: F401 - the role screens' fixture

ROOT = Path(__file__).resolve().parent.parent


def service_msgids() -> set[str]:
    from kiosk.club import order, screen

    found = set(order.STATE_MSGIDS.values()) | set(order.PRINT_MSGIDS.values()) | set(order.STATION_MSGIDS.values())
    found |= set(screen.KIND_MSGIDS.values()) | set(screen.ROLE_MSGIDS.values())
    call = re.compile(r"""\b(?:t|tr|app\.t|app\.tr)\(\s*"((?:[^"\\]|\\.)*)\"""")
    for f in (ROOT / "kiosk" / "club" / "order.py", ROOT / "kiosk" / "club" / "screen.py",
              ROOT / "kiosk" / "club" / "order_phone.py", ROOT / "assets" / "kv" / "club" / "order_phone.kv",
              ROOT / "assets" / "kv" / "club" / "order.kv", ROOT / "assets" / "kv" / "club" / "role.kv"):
        found |= set(call.findall(f.read_text(encoding="utf-8")))
    found |= {"Print again", "Reprint a marked copy"}          # chosen by state in order.py
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_order_screen_string_is_in_every_catalogue(lang):
    catalogue = parse_po(po_path(lang).read_text(encoding="utf-8"))
    missing = sorted(service_msgids() - set(catalogue))
    assert not missing, f"{lang} lacks {missing}"
    assert {"Fire course {n}", "Course {n} ready", "Void one", "Bring the car", "Car handed back"} <= service_msgids()


@pytest.fixture
def club(tmp_path, artifacts):
    require_shared_broker()
    from kiosk.club.box import ClubBox
    from pos.club.store import open_club_store

    kitchen = VirtualPrinter(out_dir=artifacts / "club-screen-kitchen").start()
    bar = VirtualPrinter(out_dir=artifacts / "club-screen-bar").start()
    store = open_club_store(tmp_path / "box.sqlite")
    box = ClubBox(store, site_name(), SHARED, ack_timeout=60, tick=0.1, venue="red.逸香",
                  printers={"kitchen_printer": f"escpos+tcp://127.0.0.1:{kitchen.port}",
                            "bar_printer": f"escpos+tcp://127.0.0.1:{bar.port}"}).start()
    yield box, kitchen, bar
    box.stop()
    store.close()
    kitchen.stop()
    bar.stop()


@pytest.fixture
def order_screen():
    from kivy.app import App
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kiosk.club.order import OrderApp
    from tests.kivy_harness import UI

    started = []

    def start(box, room, staff, lang="zh-Hans", size=(1280, 800)):
        if tuple(Window.size) != tuple(size):
            Window.size = size
            for _ in range(3):
                EventLoop.idle()
        app = OrderApp(box, room, staff, language=lang)
        App._running_app = app
        app.root = app.build()
        Window.add_widget(app.root)
        app.dispatch("on_start")
        ui = UI(app)
        ui.frames(3)
        started.append(ui)
        return ui

    yield start
    for ui in started:
        ui.app.dispatch("on_stop")
        Window.remove_widget(ui.app.root)
        App._running_app = None
        ui.frames(2)


def test_the_butler_orders_fires_voids_and_the_kitchen_calls_a_runner_by_touch(club, order_screen, artifacts):
    from kiosk.club.device import ClubDevice
    from tests.kivy_harness import assert_no_tofu

    box, kitchen, bar = club
    site = box.topics.base.split("/", 1)[1]
    runner = ClubDevice(site, SHARED, f"{site}-r1", "runner", "阿强", resend=0.5).start()
    try:
        wait_for(lambda: box.book.on_shift("runner"), what="the runner's shift")
        ui = order_screen(box, "8", "小王")
        s = ui.app.order_screen
        assert "还没有点菜" in s.lines_text and s.ids.fire.disabled and s.ids.ready.disabled
        ui.tap(ui.find("酱牛肉", s.ids.dishes))
        ui.tap(ui.find("酱牛肉", s.ids.dishes))
        ui.tap(ui.find("鲜果拼盘", s.ids.dishes))
        ui.tap(ui.find("3 热菜", s.ids.tabs))
        ui.tap(ui.find("清蒸东星斑", s.ids.dishes))
        assert "第1道 冷菜 · 暂不出菜" in s.lines_text.replace("[b]", "").replace("[/b]", "")
        assert "酱牛肉 ×2  ¥176.00" in s.lines_text and "合计：¥892.00" in s.total_text
        assert kitchen.docs == [] and bar.docs == []                 # held until fired
        ui.tap(ui.find("1 冷菜", s.ids.tabs))
        assert "第1道起菜" in s.ids.fire.text and not s.ids.fire.disabled
        ui.tap(s.ids.fire)
        k, b = kitchen.wait_docs(1)[0], bar.wait_docs(1)[0]
        assert "酱牛肉" in k.text and "2份" in k.text and "8号包厢" in k.text and "清蒸东星斑" not in k.text
        assert "鲜果拼盘" in b.text and "酱牛肉" not in b.text
        ui.wait(lambda: s.ids.tickets.children and all("已打印" in w.text for w in s.ids.tickets.children),
                what="both tickets printed on the screen")
        ui.screenshot(artifacts, "club-order-fired")
        assert_no_tofu(ui.app.root)
        ui.tap(ui.find("酱牛肉 ×2", s.ids.picks))                    # pick the line, void one
        ui.tap(s.ids.void)
        doc = kitchen.wait_docs(2)[1]
        assert "退菜 VOID" in doc.text and "退1份" in doc.text
        ui.wait(lambda: "酱牛肉 ×1" in s.lines_text and "退1份" in s.lines_text, what="the void on the screen")
        assert [(ln["dish"], ln["qty"]) for ln in bill_lines(box.store, room="8")] == [
            ("K101", 1), ("B101", 1), ("K301", 1)]
        ui.tap(s.ids.ready)                                          # the kitchen: course 1 is ready
        wait_for(lambda: runner.current(), what="the runner's can-serve")
        call = runner.current()[0]
        assert call["kind"] == "can_serve" and call["detail"]["course"] == 1 and "酱牛肉×1" in call["detail"]["dishes"]
        ui.wait(lambda: "第1道 冷菜 · 可以上菜" in s.lines_text.replace("[b]", "").replace("[/b]", ""),
                what="the course ready on the screen")
        runner.acknowledge(call["call_id"])
        ui.wait(lambda: "第1道 冷菜 · 跑菜已取走" in s.lines_text.replace("[b]", "").replace("[/b]", ""),
                timeout=15, what="the runner's ack on the order screen")
        expect = {"zh-Hans": ("第3道起菜", "清蒸东星斑"), "zh-Hant": ("第3道起菜", "清蒸東星斑"),
                  "en": ("Fire course 3", "Steamed coral trout")}
        ui.tap(ui.find("3 热菜", s.ids.tabs))
        for lang in LANGUAGES:
            ui.app.set_language(lang)
            s.refresh()
            ui.frames(3)
            assert expect[lang][0] in s.ids.fire.text and expect[lang][1] in s.lines_text, (lang, s.lines_text)
            ui.screenshot(artifacts, f"club-order-{lang}")
            assert_no_tofu(ui.app.root)
    finally:
        runner.stop()


def test_a_ticket_that_did_not_print_is_sent_again_from_the_screen(club, order_screen, artifacts):
    box, kitchen, _bar = club
    ui = order_screen(box, "9", "小王", lang="en")
    s = ui.app.order_screen
    ui.tap(ui.find("4 Staples", s.ids.tabs))
    ui.tap(ui.find("Yangzhou fried rice", s.ids.dishes))
    kitchen.set_state(paper_out=True)
    ui.tap(s.ids.fire)
    ui.wait(lambda: any("Not printed" in w.text for w in s.ids.tickets.children), 15, "the fault on the screen")
    ui.screenshot(artifacts, "club-order-ticket-not-printed")
    assert kitchen.docs == [] or not any("扬州炒饭" in d.text for d in kitchen.docs if d.cut)
    kitchen.set_state(paper_out=False)
    ui.tap(ui.find("Print again", s.ids.tickets))
    ui.wait(lambda: any("Printed" in w.text for w in s.ids.tickets.children), 15, "the ticket printed")
    assert [("扬州炒饭" in d.text) for d in kitchen.docs if d.cut] == [True]
    assert s.ids.fire.disabled                                       # nothing left to send in course 4
    assert "Course 4 Staples and dessert · Fired" in s.lines_text.replace("[b]", "").replace("[/b]", "")


def test_another_room_is_opened_from_the_header(club, order_screen):
    box, _kitchen, _bar = club
    ui = order_screen(box, "9", "小王", lang="en")
    s = ui.app.order_screen
    ui.tap(ui.find("Jellyfish salad", s.ids.dishes))
    s.ids.room.text = "12"
    ui.tap(ui.find("Open", s))
    ui.wait(lambda: "Room 12" in s.header and "Nothing ordered yet" in s.lines_text, what="room 12's order")
    assert box.orders.order(s.order_id)["room"] == "12"
    assert [ln["dish"] for ln in bill_lines(box.store, room="9")] == ["K102"]       # room 9's order stays open


def test_the_butlers_phone_takes_the_order_and_fires_a_course_by_touch(club, screen, artifacts):
    """The butler's phone: the menu, the box's view of the room's order, fire; over the real broker."""
    from kiosk.club.device import ClubDevice
    from tests.kivy_harness import assert_no_tofu

    box, kitchen, bar = club
    site = box.topics.base.split("/", 1)[1]
    butler = ClubDevice(site, SHARED, f"{site}-b8", "butler", "小王", ["8"], resend=0.5).start()
    try:
        wait_for(lambda: box.book.on_shift("butler", "8"), what="the butler's shift")
        ui = screen(butler, "zh-Hans")
        app = ui.app
        ui.tap(ui.find("点菜", app.role_screen.ids.sends))
        s = app.sm.get_screen("order")
        assert app.sm.current == "order" and "还没有点菜" in s.order_text and s.ids.fire.disabled
        ui.tap(ui.find("酱牛肉", s.ids.dishes))
        ui.tap(ui.find("鲜榨橙汁", s.ids.dishes))
        ui.wait(lambda: "鲜榨橙汁 ×1" in s.order_text and "合计：¥126.00" in s.order_text, 15, "the box's view")
        order = box.orders.open_order("8")
        assert [(ln["dish"], ln["qty"]) for ln in bill_lines(box.store, room="8")] == [("K101", 1), ("B102", 1)]
        assert len(box.orders.lines(order)) == 2
        ui.tap(s.ids.fire)
        k, b = kitchen.wait_docs(1, 15)[0], bar.wait_docs(1, 15)[0]
        assert "酱牛肉" in k.text and "鲜榨橙汁" in b.text
        ui.wait(lambda: "已起菜" in s.order_text, 15, "the course fired on the phone")
        assert s.ids.fire.disabled and box.orders.courses(order)[0]["fired_by"] == "小王"
        ui.screenshot(artifacts, "club-butler-phone-order")
        assert_no_tofu(app.root)
        ui.tap(ui.find("返回", s))
        assert app.sm.current == "role"
    finally:
        butler.stop()


def test_a_phone_request_delivered_twice_is_done_once(club):
    box, _kitchen, _bar = club
    order = box.orders.open_order("20", "小王")
    line = box.add(order, "K201", 1, "小王", request="01REQADD")
    assert box.add(order, "K201", 1, "小王", request="01REQADD") == line
    made = box.fire(order, 2, "小王", request="01REQFIRE")
    assert box.fire(order, 2, "小王", request="01REQFIRE") == made and len(made) == 1
    assert [(ln["dish"], ln["qty"]) for ln in bill_lines(box.store, room="20")] == [("K201", 1)]
