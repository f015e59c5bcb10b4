"""Reservations as room claims, arrival calls with the greeting, and the preparation checklist."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from kiosk.club.box import ClubBox
from kiosk.club.device import ClubDevice
from kiosk.i18n import tr
from pos.club.calls import CallBook
from pos.club.errors import REASONS, ClubError, RoomTaken
from pos.club.reservations import Reservations
from pos.club.store import open_club_store
from tests.club_support import SHARED, require_shared_broker, site_name, wait_for


class Clock:
    def __init__(self, iso):
        self.t = datetime.fromisoformat(iso).timestamp()

    def __call__(self):
        return self.t

    def at(self, iso):
        self.t = datetime.fromisoformat(iso).timestamp()


def utc(iso_local_shanghai: str) -> str:
    """'2026-12-08 18:00' Shanghai -> UTC ISO as stored."""
    from zoneinfo import ZoneInfo
    dt = datetime.fromisoformat(iso_local_shanghai).replace(tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


@pytest.fixture
def club(tmp_path):
    store = open_club_store(tmp_path / "club.sqlite")
    clock = Clock("2026-12-08T09:00:00+00:00")       # 17:00 in Shanghai
    book = CallBook(store, ack_timeout=30, clock=clock)
    res = Reservations(store, book, venue="red.逸香", clock=clock)
    yield store, clock, book, res
    store.close()


def test_a_double_booking_is_refused_and_a_cancelled_booking_never_blocks(club):
    store, clock, book, res = club
    a = res.book_room("8", utc("2026-12-08 18:00"), 6, minutes=180, guest_name="王建国", title="王總", regular=True)
    with pytest.raises(RoomTaken) as e:
        res.book_room("8", utc("2026-12-08 20:00"), 4)
    assert e.value.user_message == REASONS["room_taken"]
    res.book_room("8", utc("2026-12-08 21:00"), 4)                    # back to back: no overlap
    res.book_room("9", utc("2026-12-08 19:00"), 2)                    # another room
    res.cancel(a)
    res.book_room("8", utc("2026-12-08 18:30"), 8, minutes=150)       # the cancelled one does not block
    with pytest.raises(ClubError):
        res.cancel(a)
    assert [r["room"] for r in res.day("2026-12-08")] == ["8", "8", "9", "8"]
    assert res.day("2026-12-09") == []
    with pytest.raises(ClubError):
        res.book_room("10", utc("2026-12-08 18:00"), 0)


def test_arrival_calls_greeter_butler_and_sommelier_with_the_regulars_title(club):
    store, clock, book, res = club
    for role, staff in (("greeter", "小李"), ("butler", "小王"), ("sommelier", "陈师傅")):
        book.start_shift(f"d-{role}", staff, role)
    rid = res.book_room("8", utc("2026-12-08 18:00"), 6, member_no="M0001", guest_name="王建国", title="王總",
                        regular=True, requests="不要香菜", wines=["Château Margaux 2015"])
    clock.at("2026-12-08T10:05:00+00:00")                             # 18:05 local
    calls = [c for c in res.arrive(rid) if c["kind"] == "arrival"]
    assert [c["to_role"] for c in calls] == ["greeter", "butler", "sommelier"]
    d = calls[0]["detail"]
    assert (d["guests"], d["requests"], d["wines"], d["member"]) == (6, "不要香菜", ["Château Margaux 2015"], True)
    text = tr(d["greeting"], "zh-Hans", **d["greeting_params"])
    assert text.startswith("王總晚上好") and "red.逸香" in text
    assert tr(d["greeting"], "en", **d["greeting_params"]).startswith("Good evening, 王總")
    assert res.get(rid)["state"] == "arrived"
    with pytest.raises(ClubError):
        res.arrive(rid)                                                # marked once
    other = res.book_room("9", utc("2026-12-08 12:00"), 2)
    clock.at("2026-12-08T04:00:00+00:00")                             # noon local, not a regular
    d2 = res.arrive(other)[0]["detail"]
    assert tr(d2["greeting"], "zh-Hant", **d2["greeting_params"]).startswith("先生/小姐中午好")


def test_the_checklist_comes_30_minutes_before_and_unticked_alerts_the_manager(club):
    store, clock, book, res = club
    book.start_shift("d-butler", "小王", "butler", rooms=["8"])
    rid = res.book_room("8", utc("2026-12-08 18:00"), 6, requests="生日蛋糕")
    rid2 = res.book_room("9", utc("2026-12-08 18:00"), 2)
    clock.at("2026-12-08T09:29:00+00:00")
    assert res.tick() == []                                           # 31 minutes before: not yet
    clock.at("2026-12-08T09:30:00+00:00")
    sent = res.tick()
    prep = [c for c in sent if c["room"] == "8"][0]
    assert prep["kind"] == "prep" and prep["to_role"] == "butler" and prep["state"] == "open"
    items = {it["item"]: it["qty"] for it in prep["detail"]["items"]}
    assert items == {"covers": 6, "tv_ac": 1, "fruit": 1, "towels": 6, "tableware": 6}
    # room 9 has no butler on shift: its checklist goes to the manager at once
    assert [c for c in sent if c["room"] == "9"][0]["target_role"] == "manager"
    assert res.tick() == []                                           # sent once
    for item in ("covers", "tv_ac", "fruit", "towels"):
        [row] = res.tick_item(rid, item, "小王")
    assert row["state"] == "open"
    clock.at("2026-12-08T10:00:00+00:00")                             # the start: tableware is not ticked
    alerts = res.tick()
    mine = [a for a in alerts if a["detail"]["res_id"] == rid][0]
    assert mine["kind"] == "prep_missing" and mine["to_role"] == "manager" and mine["detail"]["missing"] == ["tableware"]
    assert {a["detail"]["res_id"] for a in alerts} == {rid, rid2}
    assert res.tick() == []                                           # alerted once
    [row] = res.tick_item(rid, "tableware", "小王")
    assert row["state"] == "acked" and row["acked_by"] == "小王"      # all ticked: done
    assert all(it["ticked_by"] == "小王" for it in res.checklist(rid))


def test_arrival_with_the_checklist_unticked_alerts_the_manager(club):
    store, clock, book, res = club
    rid = res.book_room("6", utc("2026-12-08 17:10"), 4)
    clock.at("2026-12-08T09:05:00+00:00")                             # booked late, arrives early
    calls = res.arrive(rid)
    missing = [c for c in calls if c["kind"] == "prep_missing"]
    assert len(missing) == 1 and missing[0]["detail"]["missing"] == ["covers", "tv_ac", "fruit", "towels", "tableware"]


def test_arrival_and_checklist_through_the_box_and_the_phones():
    require_shared_broker()
    import tempfile
    from pathlib import Path
    site = site_name()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_club_store(Path(tmp) / "box.sqlite")
        box = ClubBox(store, site, SHARED, ack_timeout=30, tick=0.1, venue="red.逸香").start()
        butler = ClubDevice(site, SHARED, f"{site}-b", "butler", "小王", ["8"], resend=0.5).start()
        greeter = ClubDevice(site, SHARED, f"{site}-g", "greeter", "小李", resend=0.5).start()
        manager = ClubDevice(site, SHARED, f"{site}-m", "manager", "刘经理", resend=0.5).start()
        try:
            wait_for(lambda: box.book.on_shift("butler") and box.book.on_shift("greeter"), what="shifts")
            now = datetime.now(timezone.utc).timestamp()
            start = datetime.fromtimestamp(now + 20 * 60, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
            rid = box.reservations.book_room("8", start, 4, title="王總", regular=True)   # 20 min away: prep now
            wait_for(lambda: butler.tasks(), what="the checklist on the butler's phone")
            butler.acknowledge(butler.current()[0]["call_id"])
            for it in butler.tasks()[0]["detail"]["items"][:3]:
                butler.tick(rid, it["item"])
            wait_for(lambda: sum(1 for it in box.reservations.checklist(rid) if it["ticked_by"]) == 3, what="3 ticks")
            greeter.bus.publish(greeter.topics.inbox("arrive"), {"res_id": rid, "role": "greeter",
                                                                 "device": greeter.device})
            wait_for(lambda: any(c["kind"] == "arrival" for c in greeter.current()), what="the arrival call")
            wait_for(lambda: any(c["kind"] == "arrival" for c in butler.current()), what="the butler's arrival call")
            wait_for(lambda: any(c["kind"] == "prep_missing" for c in manager.current()), what="the manager's alert")
            alert = [c for c in manager.current() if c["kind"] == "prep_missing"][0]
            assert alert["detail"]["missing"] == ["towels", "tableware"]
        finally:
            for x in (butler, greeter, manager, box):
                x.stop()
            store.close()


def test_preferred_wines_become_a_task_for_the_sommelier_with_the_checklist(club):
    store, clock, book, res = club
    book.start_shift("d-s", "陈师傅", "sommelier")
    book.start_shift("d-b", "小王", "butler")
    res.book_room("8", utc("2026-12-08 18:00"), 4, wines=["Château Margaux 2015", "Krug"])
    res.book_room("9", utc("2026-12-08 18:00"), 2)                    # no wines: no task
    clock.at("2026-12-08T09:30:00+00:00")
    wine = [c for c in res.tick() if c["kind"] == "wine"]
    assert len(wine) == 1 and wine[0]["to_role"] == "sommelier" and wine[0]["room"] == "8"
    assert wine[0]["detail"]["task"] == "prepare" and wine[0]["detail"]["wines"] == ["Château Margaux 2015", "Krug"]


def test_service_rules_prompt_on_a_timer_while_the_guests_are_in_and_never_escalate(club):
    store, clock, book, res = club
    book.start_shift("d-b", "小王", "butler", rooms=["8"])
    book.start_shift("d-r", "跑菜", "runner")
    rid = res.book_room("8", utc("2026-12-08 18:00"), 4, minutes=240)
    clock.at("2026-12-08T10:00:00+00:00")
    res.arrive(rid)
    assert [c for c in res.tick() if c["kind"] == "prompt"] == []
    clock.at("2026-12-08T10:10:00+00:00")
    prompts = [c for c in res.tick() if c["kind"] == "prompt"]
    assert [(c["detail"]["rule"], c["to_role"]) for c in prompts] == [("refill", "butler")]
    assert prompts[0]["due_at"] is None
    clock.at("2026-12-08T10:25:00+00:00")
    rules = sorted((c["detail"]["rule"], c["to_role"]) for c in res.tick() if c["kind"] == "prompt")
    assert rules == [("ashtray", "butler"), ("basket", "runner"), ("plates", "butler"), ("refill", "butler")]
    clock.at("2026-12-08T11:00:00+00:00")
    assert not [c for c in book.due() if c["kind"] == "prompt"]       # prompts never sound again
    res.close(rid)
    clock.at("2026-12-08T12:00:00+00:00")
    assert [c for c in res.tick() if c["kind"] == "prompt"] == []     # the guests have left
    assert all(c["state"] == "open" for c in book.calls("kind = 'prompt'"))
