"""A role device's link to the club box: the bus session, the board, and what must be sent again.

The device keeps one persistent MQTT session (its client id is its device id), a Last Will that
marks it offline, and a :class:`pos.club.board.Board`. On every connect, and whenever the box has
rebooted (a new boot id on the retained ``box`` topic) or a room shows a gap, it asks the box for
what it lacks (``in/sync``); it never trusts the broker alone to have kept everything. Its own
acks and calls are sent again every ``resend`` seconds until the box's rows show them stored.
``on_change(sound)`` is called (on the network thread) whenever the board changed.

With ``state_path`` the device keeps what it has still to deliver (acks, calls, ticks) in a small
JSON file (written to a temporary file, synced, then renamed), so a tap is not lost when the
phone's app is killed before the box stored it: the next start sends it again.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Callable

from pos.club.board import Board
from pos.club.ids import ulid
from pos.club.wire import Topics
from sync.mqtt import Bus

__all__ = ["ClubDevice"]

log = logging.getLogger(__name__)


class ClubDevice:
    def __init__(self, site: str, broker_url: str, device: str, role: str, staff: str, rooms=None, *,
                 on_change: Callable[[bool], None] | None = None, resend: float = 2.0, state_path=None):
        self.topics = t = Topics(site)
        self.device, self.role, self.staff = device, role, staff
        self.rooms = sorted(rooms or [])
        self.board = Board(role, self.rooms, device)
        self.lock = threading.RLock()
        self.state_path = Path(state_path) if state_path else None
        self._saved = ""
        self._load()
        self.on_change = on_change
        self.resend = resend
        self.box_boot: str | None = None
        self.box_online = False
        self.message = ""                      # the last refusal, for the screen
        self.sounds = 0                        # how many times this device has sounded
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.bus = Bus(broker_url, device, on_message=self._message, on_connect=self._connected,
                       will=(t.presence(device), {"state": "offline", "role": role, "staff": staff}),
                       online=(t.presence(device), {"state": "online", "role": role, "staff": staff}))
        self.bus.subscribe(t.rooms)
        self.bus.subscribe(t.reply(device))
        self.bus.subscribe(t.box)
        if role == "runner":
            self.bus.subscribe(t.shared_offer("runner"))
        self.orders: dict[str, dict] = {}          # a butler's rooms' orders (retained, from the box)
        if role == "butler":
            self.bus.subscribe(f"{t.base}/order/+")
        self.presence: dict[str, dict] = {}    # device -> its retained presence (the manager's screen)
        if role == "manager":
            self.bus.subscribe(t.presence("+"))

    # -- what is still to deliver, on disk ------------------------------------------------
    def _snapshot(self) -> str:
        b = self.board
        return json.dumps({"acks": b.pending_acks, "calls": b.pending_calls,
                           "ticks": list(b.pending_ticks.values())}, ensure_ascii=False, sort_keys=True)

    def _load(self) -> None:
        if self.state_path is None or not self.state_path.exists():
            return
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.error("club device %s: cannot read %s (%s); starting with nothing pending", self.device,
                      self.state_path, exc)
            return
        self.board.pending_acks.update(state.get("acks", {}))
        self.board.pending_calls.update(state.get("calls", {}))
        for body in state.get("ticks", []):
            self.board.pending_ticks[(body["res_id"], body["item"])] = body
        self._saved = self._snapshot()

    def _save(self) -> None:
        if self.state_path is None:
            return
        with self.lock:
            snap = self._snapshot()
            if snap == self._saved:
                return
            tmp = self.state_path.with_suffix(".tmp")
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(snap)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.state_path)
            self._saved = snap

    # -- life ---------------------------------------------------------------------------
    def start(self, wait: float | None = 10.0) -> "ClubDevice":
        self._stop.clear()
        self.bus.start()
        if wait:
            self.bus.wait_connected(wait)
        self._thread = threading.Thread(target=self._run, name=f"club-{self.device}", daemon=True)
        self._thread.start()
        return self

    def stop(self, clean: bool = True) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.bus.stop(clean=clean)

    def sign_out(self) -> None:
        self.bus.publish(self.topics.inbox("shift"), {"device": self.device, "on": False})
        self.bus.publish(self.topics.presence(self.device), {"state": "signed_out", "role": self.role,
                                                             "staff": self.staff}, retain=True)

    def _run(self) -> None:
        while not self._stop.wait(self.resend):
            if self.bus.connected.is_set():
                self._send_pending()

    # -- actions ------------------------------------------------------------------------
    def acknowledge(self, call_id: str) -> None:
        with self.lock:
            body = self.board.acknowledge(call_id, self.staff)
        self._save()
        self.bus.publish(self.topics.inbox("ack"), body)
        self._changed(False)

    def call(self, kind: str, room: str, text: str = "", to_roles=None) -> str:
        body = {"group_id": ulid(), "room": room, "kind": kind, "from_role": self.role, "device": self.device,
                "text": text}
        if to_roles:
            body["to_roles"] = list(to_roles)
        with self.lock:
            self.board.pending_calls[body["group_id"]] = body
        self._save()
        self.bus.publish(self.topics.inbox("call"), body)
        return body["group_id"]

    def order(self, op: str, room: str, **fields) -> str:
        """A dish for the room's order (``op="add"``, ``dish``, ``qty``) or fire a course
        (``op="fire"``, ``course``); the box does each request once (its ULID)."""
        body = {"request": ulid(), "op": op, "room": room, "staff": self.staff, "device": self.device, **fields}
        self.bus.publish(self.topics.inbox("order"), body, response_topic=self.topics.reply(self.device))
        return body["request"]

    def tick(self, res_id: str, item: str) -> None:
        with self.lock:
            body = self.board.tick(res_id, item, self.staff)
        self._save()
        self.bus.publish(self.topics.inbox("tick"), body)
        self._changed(False)

    def current(self) -> list[dict]:
        with self.lock:
            return self.board.current()

    def offline_phones(self) -> list[str]:
        """Staff whose phone dropped off (its will said offline), for the manager."""
        with self.lock:
            return sorted(p.get("staff") or d for d, p in self.presence.items() if p.get("state") == "offline")

    def tasks(self) -> list[dict]:
        with self.lock:
            return self.board.tasks()

    def catch_up(self) -> None:
        with self.lock:
            known = self.board.known()
        self.bus.publish(self.topics.inbox("sync"), {"device": self.device, "known": known},
                         response_topic=self.topics.reply(self.device))

    def _send_pending(self) -> None:
        with self.lock:
            acks = list(self.board.pending_acks.values())
            calls = list(self.board.pending_calls.values())
            ticks = list(self.board.pending_ticks.values())
        for body in ticks:
            self.bus.publish(self.topics.inbox("tick"), body)
        for body in acks:
            self.bus.publish(self.topics.inbox("ack"), body)
        for body in calls:
            self.bus.publish(self.topics.inbox("call"), body)

    # -- network thread -----------------------------------------------------------------
    def _connected(self, session_present: bool) -> None:
        self.bus.publish(self.topics.inbox("shift"), {"device": self.device, "staff": self.staff, "role": self.role,
                                                      "rooms": self.rooms, "on": True})
        self.catch_up()
        self._send_pending()

    def _changed(self, sound: bool) -> None:
        self._save()
        if sound:
            self.sounds += 1
        if self.on_change is not None:
            self.on_change(sound)

    def _message(self, topic: str, body: dict, _msg) -> None:
        t = self.topics
        room = t.room_of(topic)
        if room is not None:
            with self.lock:
                sound = self.board.apply(body)
                gap = bool(self.board.gaps)
            if gap:
                self.catch_up()
            self._changed(sound)
        elif topic == t.offer("runner"):                # shared-subscription deliveries carry the plain topic
            with self.lock:
                sound = self.board.offer(body)
            self._changed(sound)
        elif topic == t.reply(self.device):
            kind = body.get("type")
            with self.lock:
                if kind == "catchup":
                    self.board.caught_up(body)
                elif kind == "calls":
                    for call in body.get("calls", []):
                        self.board.apply(call, live=False)
                elif kind == "refused":
                    self.board.pending_acks.pop(body.get("call_id", ""), None)
                    self.board.pending_calls.pop(body.get("group_id", ""), None)
                    self.message = body.get("message", "")
            self._changed(False)
        elif t.tail(topic, "order") is not None:
            with self.lock:
                self.orders[t.tail(topic, "order")] = body
            self._changed(False)
        elif t.tail(topic, "presence") is not None:
            with self.lock:
                self.presence[t.tail(topic, "presence")] = body
            self._changed(False)
        elif topic == t.box:
            online = body.get("state") == "online"
            rebooted = online and body.get("boot") != self.box_boot
            self.box_online = online
            if online:
                self.box_boot = body.get("boot")
            if rebooted:
                self.catch_up()
                self._send_pending()
            self._changed(False)
