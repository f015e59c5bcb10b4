"""The role screens, driven by touches, against the real broker and a real club box."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kiosk.i18n import LANGUAGES, parse_po, po_path
from pos.club.errors import REASONS
from pos.club.reservations import GREETINGS
from tests.club_support import SHARED, require_shared_broker, site_name, wait_for

ROOT = Path(__file__).resolve().parent.parent


def club_msgids() -> set[str]:
    from kiosk.club import screen

    found = set(screen.ROLE_MSGIDS.values()) | set(screen.KIND_MSGIDS.values()) | set(screen.ITEM_MSGIDS.values())
    found |= set(screen.STATE_MSGIDS.values()) | set(GREETINGS.values()) | set(REASONS.values())
    found |= set(screen.PROMPT_MSGIDS.values())
    call = re.compile(r"""\b(?:t|tr|app\.t|app\.tr)\(\s*"((?:[^"\\]|\\.)*)\"""")
    for f in [ROOT / "kiosk" / "club" / "screen.py", *(ROOT / "assets" / "kv" / "club").glob("*.kv")]:
        found |= set(call.findall(f.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_club_string_is_in_every_catalogue(lang):
    catalogue = parse_po(po_path(lang).read_text(encoding="utf-8"))
    missing = sorted(club_msgids() - set(catalogue))
    assert not missing, f"{lang} lacks {missing}"
    assert len(club_msgids()) > 40


@pytest.fixture
def club(tmp_path):
    require_shared_broker()
    from kiosk.club.box import ClubBox
    from pos.club.store import open_club_store

    site = site_name()
    store = open_club_store(tmp_path / "box.sqlite")
    box = ClubBox(store, site, SHARED, ack_timeout=60, tick=0.1, venue="red.逸香").start()
    made = []

    def device(name, role, staff, rooms=None):
        from kiosk.club.device import ClubDevice

        d = ClubDevice(site, SHARED, f"{site}-{name}", role, staff, rooms, resend=0.5).start()
        made.append(d)
        wait_for(lambda: staff in box.book.on_shift(role), what=f"{staff}'s shift")
        return d

    yield box, device
    for d in made:
        d.stop()
    box.stop()
    store.close()


@pytest.fixture
def screen():
    from kivy.app import App
    from kivy.core.window import Window

    from kiosk.club.screen import RoleApp
    from tests.kivy_harness import UI

    started = []

    def start(device, lang="zh-Hans", size=(1280, 800)):         # a tablet on its side (the offscreen window keeps its size)
        from kivy.base import EventLoop

        if tuple(Window.size) != tuple(size):
            Window.size = size
            for _ in range(3):
                EventLoop.idle()
        app = RoleApp(device, language=lang)
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


def _iso_in(minutes: float) -> str:
    ts = datetime.now(timezone.utc).timestamp() + minutes * 60
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def test_greeter_sees_the_arrival_with_the_title_and_acknowledges_by_touch(club, screen, artifacts):
    from tests.kivy_harness import assert_no_tofu

    box, device = club
    greeter = device("g", "greeter", "小李")
    ui = screen(greeter, "zh-Hans")
    s = ui.app.role_screen
    assert "没有呼叫" in s.calls_text and s.ids.ack.disabled
    rid = box.reservations.book_room("8", _iso_in(120), 6, title="王總", regular=True, requests="不要香菜")
    box.arrive(rid, "security")
    ui.wait(lambda: "王總" in s.calls_text, what="the arrival on the greeter's screen")
    assert "8号包厢" in s.calls_text and "客人到了" in s.calls_text and "6位客人" in s.calls_text
    assert "不要香菜" in s.calls_text and "欢迎光临red.逸香" in s.calls_text
    assert s.ringing and not s.ids.ack.disabled
    ui.screenshot(artifacts, "club-greeter-arrival")
    assert_no_tofu(ui.app.root)
    ui.tap(s.ids.ack)
    ui.wait(lambda: box.book.calls("to_role = 'greeter'")[0]["state"] == "acked", what="the ack in the box's store")
    row = box.book.calls("to_role = 'greeter'")[0]
    assert row["acked_by"] == "小李" and row["acked_device"] == greeter.device
    ui.wait(lambda: "没有呼叫" in s.calls_text, what="the screen to clear")
    assert not s.ringing and s.ids.ack.disabled


def test_butler_calls_a_runner_and_ticks_the_checklist_by_touch(club, screen, artifacts):
    box, device = club
    butler = device("b", "butler", "小王", rooms=["8"])
    runner = device("r", "runner", "跑菜")
    ui = screen(butler, "en")
    s = ui.app.role_screen
    ui.tap(ui.find("Can serve", s.ids.sends))
    wait_for(lambda: runner.current(), what="the runner's call")
    call = runner.current()[0]
    assert (call["kind"], call["room"], call["from_role"], call["from_device"]) == ("can_serve", "8", "butler", butler.device)
    runner.acknowledge(call["call_id"])
    wait_for(lambda: box.book.get(call["call_id"])["acked_by"] == "跑菜", what="the runner's ack")
    rid = box.reservations.book_room("8", _iso_in(25), 4)            # within 30 minutes: the checklist now
    ui.wait(lambda: "Prepare the room" in s.calls_text, what="the prep call")
    ui.wait(lambda: s.ids.ticks.children, what="the checklist buttons")
    ui.screenshot(artifacts, "club-butler-checklist")
    ui.tap(s.ids.ack)                                                 # "got it"; the checklist stays
    ui.wait(lambda: len(s.ids.ticks.children) == 5, what="five items")
    ui.tap(ui.find("Hot towels ×4", s.ids.ticks))
    ui.wait(lambda: [i["item"] for i in box.reservations.checklist(rid) if i["ticked_by"]] == ["towels"],
            what="the tick in the box's store")
    ui.wait(lambda: len(s.ids.ticks.children) == 4, what="four items left")
    for _ in range(4):
        ui.tap(s.ids.ticks.children[-1])
    ui.wait(lambda: all(i["ticked_by"] == "小王" for i in box.reservations.checklist(rid)), what="all ticked")
    ui.wait(lambda: not s.ids.ticks.children, what="the checklist done")


def test_the_manager_screen_in_three_languages(club, screen, artifacts):
    from tests.kivy_harness import assert_no_tofu

    box, device = club
    manager = device("m", "manager", "刘经理")
    ui = screen(manager, "zh-Hans")
    s = ui.app.role_screen
    box.raise_call("12", "wine", "butler")                           # no sommelier on shift
    ui.wait(lambda: "无人当班" in s.calls_text, what="the escalated call")
    butler = device("b", "butler", "小王", rooms=["12"])
    butler.stop(clean=False)                                         # its battery dies: the will says so
    ui.wait(lambda: "离线的手机：小王" in s.status, what="the dropped phone on the manager's screen")
    expect = {"zh-Hans": ("12号包厢", "侍酒", "无人当班，已转经理", "收到"),
              "zh-Hant": ("12號包廂", "侍酒", "無人當班，已轉經理", "收到"),
              "en": ("Room 12", "Wine", "Nobody on shift", "Acknowledge")}
    for lang in LANGUAGES:
        ui.app.set_language(lang)
        ui.wait(lambda: expect[lang][0] in s.calls_text, what=f"the {lang} screen")
        for part in expect[lang][:3]:
            assert part in s.calls_text, (lang, part, s.calls_text)
        assert expect[lang][3] in s.ack_text
        ui.screenshot(artifacts, f"club-manager-{lang}")
        assert_no_tofu(ui.app.root)
    ui.tap(s.ids.ack)
    ui.wait(lambda: box.book.calls()[0]["acked_role"] == "manager", what="the manager's ack")
