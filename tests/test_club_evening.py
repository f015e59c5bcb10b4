"""An evening of 12 rooms on a real Mosquitto: reservations, preparation, arrivals, 4 courses a
room, wine, coming to pay; a broker restart and a butler's phone dropping off in the middle.
Every call ends acknowledged (by its role, or by the manager after escalation) and none is lost."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

from kiosk.club.box import ClubBox
from kiosk.club.device import ClubDevice
from pos.club.store import open_club_store
from tests.club_support import Mosquitto, site_name, wait_for

ROOMS = [str(n) for n in range(1, 13)]


def test_an_evening_of_twelve_rooms(tmp_path):
    broker = Mosquitto(tmp_path / "broker", persistence=False).start()
    site = site_name()
    store = open_club_store(tmp_path / "box.sqlite")
    box = ClubBox(store, site, broker.url, ack_timeout=1.0, tick=0.1, venue="red.逸香").start()
    url = broker.url
    devices = {}

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
    dev("cashier", "cashier", "收银")
    dev("manager", "manager", "经理")
    asleep = {"sommelier0", "sommelier1"}                 # the sommeliers miss the first wine calls
    stop = threading.Event()

    def responders():
        while not stop.wait(0.1):
            for name, d in list(devices.items()):
                if name in asleep or d.role == "butler":
                    continue
                for c in d.current():
                    d.acknowledge(c["call_id"])

    try:
        wait_for(lambda: store.conn.execute("SELECT count(*) FROM club_shifts WHERE ended_at IS NULL").fetchone()[0]
                 == len(devices), what="everyone on shift")
        worker = threading.Thread(target=responders, daemon=True)
        worker.start()
        start = datetime.fromtimestamp(time.time() + 20 * 60, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        res = {r: box.reservations.book_room(r, start, 2 + int(r) % 9, title="王總" if int(r) % 3 == 0 else "",
                                             regular=int(r) % 3 == 0, wines=["Margaux 2015"]) for r in ROOMS}
        # preparation: every butler acknowledges and ticks; room 12 leaves the towels
        wait_for(lambda: all(devices[f"butler{r}"].tasks() for r in ROOMS), what="every checklist")
        for r in ROOMS:
            b = devices[f"butler{r}"]
            for c in b.current():
                b.acknowledge(c["call_id"])
            for it in b.tasks()[0]["detail"]["items"]:
                if not (r == "12" and it["item"] == "towels"):
                    b.tick(res[r], it["item"])
        wait_for(lambda: store.conn.execute("SELECT count(*) FROM club_checklist WHERE ticked_by IS NOT NULL")
                 .fetchone()[0] == 12 * 5 - 1, what="the ticks")
        for r in ROOMS[:6]:
            box.arrive(res[r], "security")
        sent = []                                           # (butler, group id)
        for r in ROOMS[:6]:
            sent.append((r, devices[f"butler{r}"].call("wine", r)))
        # the broker goes down in the middle of the evening, and butler 3's phone drops off
        broker.stop()
        devices["butler3"].stop(clean=False)
        for r in ROOMS[6:]:
            box.arrive(res[r], "security")                 # marked at the gate while the broker is down
        for r in ROOMS:
            if r != "3":
                sent.append((r, devices[f"butler{r}"].call("can_serve", r)))
        broker.start()
        # its app starts again: what it had not delivered comes back from its state file
        devices["butler3"] = ClubDevice(site, url, f"{site}-butler3", "butler", "管家3", ["3"], resend=0.5,
                                        state_path=tmp_path / "butler3.json").start()
        sent.append(("3", devices["butler3"].call("can_serve", "3")))
        wait_for(lambda: any(c["kind"] == "arrival" for c in box.book.calls("to_role = 'sommelier'")
                             if c["state"] == "escalated"), what="a wine/arrival call escalated")
        asleep.clear()                                      # the sommeliers are back
        for course in range(3):
            for r in ROOMS:
                sent.append((r, devices[f"butler{r}"].call("can_serve", r)))
        for r in ROOMS[6:]:
            sent.append((r, devices[f"butler{r}"].call("wine", r)))
        for r in ROOMS:
            sent.append((r, devices[f"butler{r}"].call("pay", r)))
        for r in ROOMS:                                     # butlers take their arrival calls
            b = devices[f"butler{r}"]
            wait_for(lambda b=b: not b.board.pending_calls, timeout=60, what=f"butler {b.rooms}'s calls stored")
        expected_groups = {g for _, g in sent}
        stored_groups = {c["group_id"] for c in box.book.calls()}
        assert expected_groups <= stored_groups, "a butler's call was lost"
        for r in ROOMS:
            b = devices[f"butler{r}"]
            wait_for(lambda b=b: any(c["kind"] == "arrival" for c in b.current()) or
                     all(c["state"] == "acked" for c in box.book.calls("to_role = 'butler' AND room = ? AND kind = 'arrival'",
                                                                       (b.rooms[0],))), what="the butler's arrival call")
            for c in b.current():
                b.acknowledge(c["call_id"])
        wait_for(lambda: all(c["state"] == "acked" for c in box.book.calls()), timeout=60,
                 what="every call acknowledged")
        calls = box.book.calls()
        by_kind = {}
        for c in calls:
            by_kind[c["kind"]] = by_kind.get(c["kind"], 0) + 1
        assert by_kind == {"prep": 12, "arrival": 36, "wine": 24, "can_serve": 48, "pay": 12, "prep_missing": 1}
        missing = box.book.calls("kind = 'prep_missing'")[0]
        assert missing["room"] == "12" and missing["detail"]["missing"] == ["towels"] and missing["acked_role"] == "manager"
        escalated = [c for c in calls if c["escalation_reason"] == "no_ack"]
        assert escalated and all(c["acked_by"] for c in escalated)
        assert any(c["acked_role"] == "manager" for c in escalated)
        for room in ROOMS:                                  # sequence per room: gapless, unique
            seqs = sorted(c["seq"] for c in calls if c["room"] == room)
            assert len(seqs) == len(set(seqs))
        runners = {c["acked_by"] for c in calls if c["kind"] == "can_serve" and c["acked_role"] == "runner"}
        assert len(runners) >= 2                            # shared among the runners
        closed = store.conn.execute("SELECT count(*) FROM outbox WHERE kind = 'club.call.closed'").fetchone()[0]
        assert closed == len(calls)
    finally:
        stop.set()
        for d in devices.values():
            d.stop()
        box.stop()
        store.close()
        broker.stop()
