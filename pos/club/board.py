"""What one role's screen shows: the calls for it, newest state of each, with gap detection.

Pure: the device feeds it the call rows it receives (:meth:`Board.apply`) and the box's answer to
a catch-up (:meth:`Board.caught_up`), and asks it what to show (:meth:`Board.current`) and which
rooms it must catch up (:attr:`Board.gaps`). Rows are replaced only by a newer ``rev``, so a
duplicate or late QoS 1 delivery changes nothing.

Who sees what: a call whose current addressee (``target_role``) is this role; a butler only for
the rooms of its shift (all rooms when none are listed); a runner only the runner calls offered to
it (a shared subscription gives each to one runner) or that it took; the manager, every escalated
call.
"""

from __future__ import annotations

__all__ = ["Board"]

ACTIVE = ("open", "resounded", "escalated")


class Board:
    def __init__(self, role: str, rooms: list[str] | None = None, device: str = ""):
        self.role = role
        self.rooms = set(rooms or [])
        self.device = device
        self.calls: dict[str, dict] = {}
        self.seen: dict[str, int] = {}          # room -> highest contiguous rev applied
        self.gaps: set[str] = set()             # rooms with a hole: catch up
        self.offered: set[str] = set()
        self.pending_acks: dict[str, dict] = {}  # call_id -> ack body, until the box confirms
        self.pending_calls: dict[str, dict] = {}  # group_id -> call body, until the box stores it
        self.pending_ticks: dict[tuple[str, str], dict] = {}  # (reservation, item) -> tick body

    # -- input --------------------------------------------------------------------------
    def apply(self, call: dict, live: bool = True) -> bool:
        """A call row from the box. Returns True when this screen should sound (a new call for it,
        or its call sounded again)."""
        room, rev = call["room"], int(call["rev"])
        if live:
            last = self.seen.get(room, 0)
            if rev == last + 1:
                self.seen[room] = rev
            elif rev > last + 1:
                self.gaps.add(room)
        before = self.calls.get(call["call_id"])
        if before is not None and int(before["rev"]) >= rev:
            return False
        self.calls[call["call_id"]] = call
        self.pending_calls.pop(call["group_id"], None)
        if call["state"] == "acked":
            self.pending_acks.pop(call["call_id"], None)
        if call["kind"] == "prep":
            for it in call["detail"].get("items", []):
                if it["ticked_by"]:
                    self.pending_ticks.pop((call["detail"]["res_id"], it["item"]), None)
        if call["call_id"] in self.pending_acks:
            return False
        return self.mine(call) and (before is None or call["resounds"] > before["resounds"]
                                    or before["target_role"] != call["target_role"])

    def offer(self, call: dict) -> bool:
        """A runner call this device was given through the shared subscription."""
        call_id = call["call_id"]
        new = call_id not in self.offered
        self.offered.add(call_id)
        sound = self.apply(call, live=False)
        current = self.calls[call_id]
        return sound or (new and self.mine(current) and call_id not in self.pending_acks)

    def caught_up(self, answer: dict) -> None:
        for call in answer.get("calls", []):
            self.apply(call, live=False)
        for room, head in answer.get("heads", {}).items():
            if head >= self.seen.get(room, 0):
                self.seen[room] = int(head)
            self.gaps.discard(room)

    # -- output -------------------------------------------------------------------------
    def mine(self, call: dict) -> bool:
        if call["state"] not in ACTIVE:
            return False
        if self.role == "manager":
            return call["target_role"] == "manager"
        if call["target_role"] != self.role:
            return False
        if self.role == "butler" and self.rooms and call["room"] not in self.rooms:
            return False
        if self.role == "runner":
            return call["call_id"] in self.offered
        return True

    def current(self) -> list[dict]:
        """Calls to show, most urgent first (escalated, sounded again, then oldest)."""
        rank = {"escalated": 0, "resounded": 1, "open": 2}
        out = [c for c in self.calls.values() if self.mine(c) and c["call_id"] not in self.pending_acks]
        return sorted(out, key=lambda c: (rank[c["state"]], c["created_at"], c["call_id"]))

    def tasks(self) -> list[dict]:
        """Preparation checklists of this butler's rooms with items still to tick (acknowledged
        or not: the checklist stays until it is done)."""
        out = []
        for c in self.calls.values():
            if c["kind"] != "prep" or self.role != "butler":
                continue
            if self.rooms and c["room"] not in self.rooms:
                continue
            items = c["detail"].get("items", [])
            if any(not it["ticked_by"] and (c["detail"]["res_id"], it["item"]) not in self.pending_ticks
                   for it in items):
                out.append(c)
        return sorted(out, key=lambda c: c["created_at"])

    def tick(self, res_id: str, item: str, staff: str) -> dict:
        body = {"res_id": res_id, "item": item, "staff": staff, "device": self.device}
        self.pending_ticks[(res_id, item)] = body
        return body

    def known(self) -> dict[str, int]:
        return dict(self.seen)

    def acknowledge(self, call_id: str, staff: str) -> dict:
        """The body of an ack for the box; the call leaves the screen now and the ack is kept
        until the box's row says acked."""
        body = {"call_id": call_id, "staff": staff, "role": self.role, "device": self.device}
        self.pending_acks[call_id] = body
        return body
