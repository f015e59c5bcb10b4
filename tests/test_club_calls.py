"""Role calls through a real Mosquitto: addressed, acknowledged, escalated, shared among runners,
and never lost through a device dropping off, a broker restart or the box's process restarting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import paho.mqtt.client as mqtt
import pytest

from kiosk.club.box import ClubBox
from kiosk.club.device import ClubDevice
from pos.club.calls import CallBook
from pos.club.store import open_club_store
from tests.club_support import SHARED, Mosquitto, require_shared_broker, site_name, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def site():
    require_shared_broker()
    return site_name()


@pytest.fixture
def club(tmp_path, site):
    """A box on the shared broker and a factory of devices; everything is stopped afterwards."""
    store = open_club_store(tmp_path / "box.sqlite")
    made = []

    def box(ack_timeout=30.0, url=SHARED):
        b = ClubBox(store, site, url, ack_timeout=ack_timeout, tick=0.1).start()
        made.append(b)
        return b

    def device(name, role, staff, rooms=None, url=SHARED, **kw):
        d = ClubDevice(site, url, f"{site}-{name}", role, staff, rooms, resend=0.5, **kw).start()
        made.append(d)
        return d

    yield store, box, device
    for thing in reversed(made):
        thing.stop()
    store.close()


def shifts_open(store, n):
    return wait_for(lambda: store.conn.execute("SELECT count(*) FROM club_shifts WHERE ended_at IS NULL")
                    .fetchone()[0] >= n, what=f"{n} shifts")


def test_arrival_reaches_greeter_butler_and_sommelier_and_each_ack_is_stored(club):
    store, box, device = club
    b = box()
    greeter = device("g1", "greeter", "小李")
    butler = device("b1", "butler", "小王", rooms=["8"])
    other_butler = device("b2", "butler", "小张", rooms=["9"])
    sommelier = device("s1", "sommelier", "陈师傅")
    shifts_open(store, 4)
    calls = b.raise_call("8", "arrival", "security", text="王總晚上好")
    assert [c["to_role"] for c in calls] == ["greeter", "butler", "sommelier"]
    assert all(c["state"] == "open" for c in calls)
    assert [c["seq"] for c in calls] == [1, 2, 3]
    for d in (greeter, butler, sommelier):
        wait_for(lambda d=d: len(d.current()) == 1, what=f"{d.role} to show the arrival")
        assert d.current()[0]["text"] == "王總晚上好" and d.sounds == 1
    assert other_butler.current() == []                     # room 9's butler is not called for room 8
    for d in (greeter, butler, sommelier):
        d.acknowledge(d.current()[0]["call_id"])
        assert d.current() == []                            # gone from the screen at the tap
    book = CallBook(store)
    wait_for(lambda: all(c["state"] == "acked" for c in book.calls()), what="three acks stored")
    acks = store.conn.execute("SELECT staff, role, first FROM club_call_acks ORDER BY role").fetchall()
    assert acks == [("小王", "butler", 1), ("小李", "greeter", 1), ("陈师傅", "sommelier", 1)]
    assert {c["acked_by"] for c in book.calls()} == {"小王", "小李", "陈师傅"}
    wait_for(lambda: not greeter.board.pending_acks, what="the ack to be confirmed")


def test_a_role_with_nobody_on_shift_goes_straight_to_the_manager(club):
    store, box, device = club
    b = box()
    manager = device("m1", "manager", "刘经理")
    butler = device("b1", "butler", "小王")
    shifts_open(store, 2)
    group = butler.call("wine", "8")                         # no sommelier on shift
    wait_for(lambda: len(manager.current()) == 1, what="the manager to get the wine call")
    call = manager.current()[0]
    assert call["group_id"] == group and call["to_role"] == "sommelier"
    assert call["state"] == "escalated" and call["escalation_reason"] == "nobody_on_shift"
    assert manager.sounds == 1
    wait_for(lambda: not butler.board.pending_calls, what="the butler's call to be confirmed stored")
    manager.acknowledge(call["call_id"])
    wait_for(lambda: CallBook(store).get(call["call_id"])["acked_role"] == "manager", what="manager's ack")


def test_an_unanswered_call_sounds_again_then_goes_to_the_manager(club):
    store, box, device = club
    b = box(ack_timeout=0.4)
    cashier = device("c1", "cashier", "小周")
    manager = device("m1", "manager", "刘经理")
    shifts_open(store, 2)
    [call] = b.raise_call("12", "pay", "butler", detail={"amount_fen": 388800})
    wait_for(lambda: cashier.sounds >= 2, what="the call to sound again on the cashier's phone")
    wait_for(lambda: manager.current(), what="the call to reach the manager")
    row = CallBook(store).get(call["call_id"])
    assert row["state"] == "escalated" and row["escalation_reason"] == "no_ack" and row["resounds"] >= 2
    assert row["target_role"] == "manager" and row["to_role"] == "cashier"
    assert cashier.current() == []                          # it is with the manager now
    # the cashier may still take it (late): allowed, and it closes the call for the manager too
    cashier.acknowledge(call["call_id"])
    wait_for(lambda: manager.current() == [], what="the manager's screen to clear")
    assert CallBook(store).get(call["call_id"])["acked_by"] == "小周"


def test_each_runner_call_goes_to_one_runner(club):
    store, box, device = club
    b = box()
    runners = [device(f"r{i}", "runner", f"跑菜{i}") for i in range(3)]
    shifts_open(store, 3)
    calls = [b.raise_call(str(n), "can_serve", "butler")[0] for n in range(1, 10)]
    wait_for(lambda: sum(len(r.current()) for r in runners) == 9, what="nine offers")
    holders = {c["call_id"]: [r.device for r in runners if c["call_id"] in r.board.offered] for c in calls}
    assert all(len(h) == 1 for h in holders.values()), holders
    assert sum(1 for r in runners if r.current()) >= 2      # shared round-robin, not all to one
    for r in runners:
        for c in r.current():
            r.acknowledge(c["call_id"])
    wait_for(lambda: all(c["state"] == "acked" for c in CallBook(store).calls()), what="all acked")


def test_presence_from_the_last_will(club):
    store, box, device = club
    box()
    butler = device("b1", "butler", "小王")
    book = CallBook(store)
    wait_for(lambda: book.presence().get(butler.device, {}).get("state") == "online", what="online")
    butler.stop(clean=False)                                # the battery dies: no DISCONNECT
    wait_for(lambda: book.presence()[butler.device]["state"] == "offline", what="the will")
    assert book.on_shift("butler") == ["小王"]              # a drop-out is not the end of a shift


def test_a_device_that_drops_off_catches_up_from_the_box_not_the_broker(club, site):
    store, box, device = club
    b = box()
    butler = device("b1", "butler", "小王", rooms=["8"])
    shifts_open(store, 1)
    first = b.raise_call("8", "arrival", "security", to_roles=["butler"])
    wait_for(lambda: len(butler.current()) == 1, what="the first call")
    butler.stop(clean=False)
    b.raise_call("8", "room_ready", "security", to_roles=["butler"])
    b.raise_call("8", "help", "greeter", to_roles=["butler"])
    b.book.ack(first[0]["call_id"], "刘经理", "manager", "desk")    # closed elsewhere while it was away
    # the broker forgets the device's session and what it queued (as a broker restart without
    # persistence would): connect with its client id and a clean start, then leave
    wipe = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=butler.device,
                       protocol=mqtt.MQTTv5)
    wipe.connect("127.0.0.1", 1883, clean_start=True)
    wipe.loop_start()
    wait_for(wipe.is_connected, what="the wipe")
    wipe.disconnect()
    wipe.loop_stop()
    back = ClubDevice(site, SHARED, butler.device, "butler", "小王", ["8"], resend=0.5).start()
    try:
        wait_for(lambda: sorted(c["kind"] for c in back.current()) == ["help", "room_ready"],
                 what="the two calls it missed")
        assert back.board.seen["8"] == 4 and not back.board.gaps
    finally:
        back.stop()


def test_gap_detection_asks_the_box_for_the_missing_rows(club):
    store, box, device = club
    b = box()
    greeter = device("g1", "greeter", "小李")
    shifts_open(store, 1)
    # calls stored without being published (as if their messages were lost on the way)
    with store.transaction() as tx:
        lost = b.book.raise_call("5", "arrival", "security", to_roles=["greeter"], tx=tx)
        b.book.raise_call("5", "room_ready", "butler", tx=tx)
    assert greeter.current() == []
    b.raise_call("5", "help", "butler", to_roles=["greeter"])   # rev 3 arrives, 1 and 2 are missing
    wait_for(lambda: len(greeter.current()) == 3, what="the gap to be filled")
    assert lost[0]["call_id"] in {c["call_id"] for c in greeter.current()}
    assert greeter.board.seen["5"] == 3 and not greeter.board.gaps


def test_broker_restart_loses_nothing(tmp_path, site):
    broker = Mosquitto(tmp_path / "broker", persistence=False).start()   # forgets every session
    store = open_club_store(tmp_path / "box.sqlite")
    b = ClubBox(store, site, broker.url, ack_timeout=60, tick=0.1).start()
    greeter = ClubDevice(site, broker.url, f"{site}-g", "greeter", "小李", resend=0.3).start()
    runner = ClubDevice(site, broker.url, f"{site}-r", "runner", "跑菜", resend=0.3).start()
    try:
        wait_for(lambda: len(b.book.on_shift("greeter")) == 1 and b.book.on_shift("runner"), what="shifts")
        [c1] = b.raise_call("3", "arrival", "security", to_roles=["greeter"])
        wait_for(lambda: greeter.current(), what="the first call")
        broker.stop()
        wait_for(lambda: not greeter.bus.connected.is_set() and not b.bus.connected.is_set(), what="disconnects")
        greeter.acknowledge(c1["call_id"])                   # tapped while the broker was down
        [c2] = b.raise_call("3", "room_ready", "butler", to_roles=["greeter"])
        [c3] = b.raise_call("3", "can_serve", "butler")
        broker.start()
        wait_for(lambda: b.book.get(c1["call_id"])["state"] == "acked", what="the ack made while down")
        wait_for(lambda: [c["call_id"] for c in greeter.current()] == [c2["call_id"]], what="the greeter's call")
        wait_for(lambda: not greeter.board.pending_acks, what="the greeter's ack confirmed")
        # the runner's offer, published while down, is re-offered when the call sounds again: it
        # is in the runner's board from the catch-up, and the escalation timer keeps it alive
        wait_for(lambda: c3["call_id"] in runner.board.calls, what="the runner call caught up")
    finally:
        for x in (greeter, runner, b):
            x.stop()
        store.close()
        broker.stop()


def _box_process(store_path, site, url, ack_timeout):
    return subprocess.Popen([sys.executable, "-m", "kiosk.club.box", "--store", str(store_path), "--site", site,
                             "--broker", url, "--ack-timeout", str(ack_timeout)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def test_box_process_killed_and_restarted_loses_nothing(tmp_path, site):
    path = tmp_path / "box.sqlite"
    open_club_store(path).close()
    proc = _box_process(path, site, SHARED, 1.5)
    assert "up" in proc.stdout.readline()
    greeter = ClubDevice(site, SHARED, f"{site}-g", "greeter", "小李", resend=0.3).start()
    butler = ClubDevice(site, SHARED, f"{site}-b", "butler", "小王", resend=0.3).start()
    manager = ClubDevice(site, SHARED, f"{site}-m", "manager", "刘经理", resend=0.3).start()
    store = open_club_store(path)
    book = CallBook(store)
    try:
        wait_for(lambda: len({s for r in ("greeter", "butler", "manager") for s in book.on_shift(r)}) == 3,
                 what="three shifts")
        g1 = butler.call("room_ready", "7")
        wait_for(lambda: greeter.current(), what="the greeter's call")
        call_id = greeter.current()[0]["call_id"]
        proc.send_signal(signal.SIGKILL)                    # the box loses power
        proc.wait(10)
        greeter.acknowledge(call_id)                        # waits in the box's session at the broker
        g2 = butler.call("pay", "7")                        # sent again until the new box stores it
        g3 = butler.call("wine", "7")                       # nobody on shift: the manager
        proc = _box_process(path, site, SHARED, 1.5)
        assert "up" in proc.stdout.readline()
        wait_for(lambda: book.calls("group_id = ?", (g1,))[0]["state"] == "acked", what="the ack")
        wait_for(lambda: book.calls("group_id = ?", (g2,)) and book.calls("group_id = ?", (g3,)), what="the calls")
        wait_for(lambda: not butler.board.pending_calls, what="the butler's calls confirmed")
        wait_for(lambda: {c["group_id"] for c in manager.current()} >= {g2, g3}, what="escalations to the manager")
        rows = book.calls()
        assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
        assert len({r["seq"] for r in rows}) == len(rows) == 3
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        for d in (greeter, butler, manager):
            d.stop()
        store.close()


def test_a_tap_survives_the_phone_app_being_killed_before_the_box_stored_it(tmp_path, site):
    state = tmp_path / "butler.json"
    phone = ClubDevice(site, SHARED, f"{site}-b", "butler", "小王", ["8"], resend=0.3, state_path=state).start()
    group = phone.call("pay", "8")                          # no box is running: nobody stores it
    ack_body = phone.board.acknowledge("01ARZ3NDEKTSV4RRFFQ69G5FAV", "小王")   # an ack for a call it had shown
    phone._save()
    phone.stop(clean=False)                                 # the app is killed
    assert group in state.read_text(encoding="utf-8") and ack_body["call_id"] in state.read_text(encoding="utf-8")
    store = open_club_store(tmp_path / "box.sqlite")
    box = ClubBox(store, site, SHARED, ack_timeout=60, tick=0.1).start()
    again = ClubDevice(site, SHARED, f"{site}-b", "butler", "小王", ["8"], resend=0.3, state_path=state).start()
    try:
        wait_for(lambda: box.book.calls("group_id = ?", (group,)), what="the call from the state file")
        wait_for(lambda: not again.board.pending_calls, what="the call confirmed")
        # the ack for an unknown call is refused by the box with its reason, and dropped
        wait_for(lambda: not again.board.pending_acks, what="the refused ack dropped")
        wait_for(lambda: group not in state.read_text(encoding="utf-8"), what="the state file without it")  # saved just after
    finally:
        again.stop()
        box.stop()
        store.close()
