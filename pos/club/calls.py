"""Role calls: the radio call made into a stored row that is addressed, acknowledged and escalated.

A call goes from a role to a role about a room (``arrival``, ``room_ready``, ``can_serve``,
``wine``, ``clear``, ``pay``, ``help``). The store on the club's box is the truth; the message bus
only carries the rows this module returns. Every change of a call (raised, sounded again,
escalated, acknowledged) takes the room's next sequence number (``rev``), so a device that missed
messages sees a gap and asks for the rows it lacks (:meth:`CallBook.catch_up`).

Escalation, per call (``ack_timeout`` seconds per step)::

    open ──no ack──▶ resounded ──no ack──▶ escalated (to the manager; sounds again every step)
      └──────────────────┴───────────────────┴──ack──▶ acked

A call to a role with nobody on shift is ``escalated`` at once (reason ``nobody_on_shift``).
Service-rule prompts (kind ``prompt``) are reminders: they never sound again nor escalate.
"On shift" is an open shift (a staff member signed in on a device with that role; a butler's
shift may list the rooms it covers). A device dropping off the network does not end a shift: its
calls wait in its session and escalate if nobody answers.
"""

from __future__ import annotations

import json
import time
from typing import Callable

from pos.ids import utcnow_iso

from .errors import CallRefused, ClubError, ClubNotFound
from .ids import ulid
from .schema import CALL_KINDS

__all__ = ["ROLES", "ROUTES", "CallBook", "ACTIVE_STATES", "emit_closed"]

ROLES = ("security", "greeter", "butler", "sommelier", "runner", "cashier", "manager")
ROLES += ("valet",)                     # service: the car park's valet (pos.club.valet)

#: kind -> the roles it is addressed to by default
ROUTES: dict[str, tuple[str, ...]] = {
    "arrival": ("greeter", "butler", "sommelier"),
    "room_ready": ("greeter",),
    "can_serve": ("runner",),
    "wine": ("sommelier",),
    "clear": ("runner",),
    "pay": ("cashier",),
    "help": ("manager",),
    "prep": ("butler",),
    "prompt": ("butler",),
    "prep_missing": ("manager",),
    "car": ("valet",),
}

ACTIVE_STATES = ("open", "resounded", "escalated")

#: (state, event) -> state
ESCALATION = {
    ("open", "no_ack"): "resounded",
    ("resounded", "no_ack"): "escalated",
    ("escalated", "no_ack"): "escalated",
    ("open", "ack"): "acked",
    ("resounded", "ack"): "acked",
    ("escalated", "ack"): "acked",
}

_COLS = ("call_id", "group_id", "room", "kind", "from_role", "from_device", "to_role", "target_role", "seq",
         "rev", "state", "text", "detail", "created_at", "due_at", "resounds", "escalated_at",
         "escalation_reason", "acked_by", "acked_role", "acked_device", "acked_at")
_SELECT = "SELECT " + ", ".join(_COLS) + " FROM club_calls"


def emit_closed(tx, call: dict) -> None:
    """The outbox record of a closed call (kind ``club.call.closed``), for the central server's log."""
    tx.emit("club.call.closed", {k: call[k] for k in (
        "call_id", "group_id", "room", "kind", "from_role", "to_role", "target_role", "seq", "created_at",
        "resounds", "acked_by", "acked_role", "acked_at")} | {"escalation_reason": call["escalation_reason"] or ""})


def _row(r) -> dict:
    d = dict(zip(_COLS, r))
    d["detail"] = json.loads(d["detail"])
    return d


class CallBook:
    def __init__(self, store, ack_timeout: float = 20.0, clock: Callable[[], float] = time.time):
        self.store = store
        self.ack_timeout = float(ack_timeout)
        self.clock = clock

    # -- shifts and presence ------------------------------------------------------------
    def start_shift(self, device: str, staff: str, role: str, rooms: list[str] | None = None) -> str:
        if role not in ROLES:
            raise ClubError(f"unknown role {role!r}")
        now = utcnow_iso(self.clock())
        rooms_json = json.dumps(sorted(rooms or []))
        with self.store.transaction() as tx:
            same = tx.execute("SELECT shift_id FROM club_shifts WHERE device = ? AND staff = ? AND role = ? AND rooms = ? "
                              "AND ended_at IS NULL", (device, staff, role, rooms_json)).fetchone()
            if same:                                   # the device reconnected: the same shift goes on
                return same[0]
            tx.execute("UPDATE club_shifts SET ended_at = ? WHERE device = ? AND ended_at IS NULL", (now, device))
            shift_id = ulid()
            tx.insert("club_shifts", {"shift_id": shift_id, "device": device, "staff": staff, "role": role,
                                      "rooms": rooms_json, "started_at": now})
        return shift_id

    def end_shift(self, device: str) -> None:
        with self.store.transaction() as tx:
            tx.execute("UPDATE club_shifts SET ended_at = ? WHERE device = ? AND ended_at IS NULL",
                       (utcnow_iso(self.clock()), device))

    def set_presence(self, device: str, state: str, role: str = "", staff: str = "") -> None:
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO club_presence (device, role, staff, state, since) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT(device) DO UPDATE SET state = excluded.state, since = excluded.since, "
                       "role = CASE WHEN excluded.role = '' THEN role ELSE excluded.role END, "
                       "staff = CASE WHEN excluded.staff = '' THEN staff ELSE excluded.staff END",
                       (device, role, staff, state, utcnow_iso(self.clock())))

    def presence(self) -> dict[str, dict]:
        rows = self.store.conn.execute("SELECT device, role, staff, state, since FROM club_presence").fetchall()
        return {r[0]: {"role": r[1], "staff": r[2], "state": r[3], "since": r[4]} for r in rows}

    def on_shift(self, role: str, room: str = "", conn=None) -> list[str]:
        """Staff on shift for ``role`` (covering ``room``, for a role whose shifts list rooms)."""
        conn = conn or self.store.conn
        out = []
        for staff, rooms in conn.execute("SELECT staff, rooms FROM club_shifts WHERE role = ? AND ended_at IS NULL",
                                         (role,)):
            covered = json.loads(rooms)
            if not covered or not room or room in covered:
                out.append(staff)
        return out

    # -- raising and acknowledging ------------------------------------------------------
    def raise_call(self, room: str, kind: str, from_role: str, *, from_device: str = "",
                   to_roles: tuple[str, ...] | list[str] | None = None, text: str = "", detail: dict | None = None,
                   group_id: str | None = None, tx=None) -> list[dict]:
        """Store one call per addressed role and return them. ``group_id`` (the sender's ULID for a
        call from a device) makes this idempotent: a group already stored returns ``[]``."""
        if kind not in CALL_KINDS:
            raise ClubError(f"unknown call kind {kind!r}")
        if not room:
            raise ClubError("a call needs a room")
        roles = tuple(to_roles or ROUTES[kind])
        for r in roles:
            if r not in ROLES:
                raise ClubError(f"unknown role {r!r}")
        if tx is None:
            with self.store.transaction() as own:
                return self.raise_call(room, kind, from_role, from_device=from_device, to_roles=roles, text=text,
                                       detail=detail, group_id=group_id, tx=own)
        group_id = group_id or ulid()
        if tx.execute("SELECT 1 FROM club_calls WHERE group_id = ? LIMIT 1", (group_id,)).fetchone():
            return []
        now = self.clock()
        out = []
        for role in roles:
            seq = tx.next_seq(f"club.room:{room}")
            staffed = bool(self.on_shift(role, room, conn=tx.conn))
            row = {"call_id": ulid(), "group_id": group_id, "room": room, "kind": kind, "from_role": from_role,
                   "from_device": from_device, "to_role": role, "seq": seq, "rev": seq, "text": text,
                   "detail": json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
                   "created_at": utcnow_iso(now),
                   "due_at": None if kind == "prompt" else utcnow_iso(now + self.ack_timeout)}
            if staffed or role == "manager":
                row.update(state="open", target_role=role)
            else:
                row.update(state="escalated", target_role="manager", escalated_at=utcnow_iso(now),
                           escalation_reason="nobody_on_shift")
            tx.insert("club_calls", row)
            out.append(self._get(tx.conn, row["call_id"]))
        return out

    def ack(self, call_id: str, staff: str, role: str, device: str) -> tuple[dict, bool]:
        """Acknowledge a call. Returns ``(call, changed)``; a second ack is recorded, changes nothing."""
        now = utcnow_iso(self.clock())
        with self.store.transaction() as tx:
            call = self._get(tx.conn, call_id)
            if call is None:
                raise ClubNotFound(f"no call {call_id}")
            if role not in (call["to_role"], call["target_role"], "manager"):
                raise CallRefused(f"call {call_id} is for {call['to_role']}/{call['target_role']}, not {role}")
            first = call["state"] != "acked"
            again = tx.execute("SELECT 1 FROM club_call_acks WHERE call_id = ? AND device = ?",
                               (call_id, device)).fetchone()
            if not again:                               # a device sending its ack again is one ack
                tx.insert("club_call_acks", {"call_id": call_id, "staff": staff, "role": role, "device": device,
                                             "at": now, "first": int(first)})
            if not first:
                return call, False
            rev = tx.next_seq(f"club.room:{call['room']}")
            tx.execute("UPDATE club_calls SET state = ?, rev = ?, due_at = NULL, acked_by = ?, acked_role = ?, "
                       "acked_device = ?, acked_at = ? WHERE call_id = ?",
                       (ESCALATION[(call["state"], "ack")], rev, staff, role, device, now, call_id))
            closed = self._get(tx.conn, call_id)
            emit_closed(tx, closed)
            return closed, True

    def due(self) -> list[dict]:
        """Advance every call whose ack is overdue by one step; returns the changed calls."""
        now = self.clock()
        out = []
        with self.store.transaction() as tx:
            ids = [r[0] for r in tx.execute("SELECT call_id FROM club_calls WHERE due_at IS NOT NULL AND due_at <= ? "
                                            "ORDER BY due_at", (utcnow_iso(now),))]
            for call_id in ids:
                call = self._get(tx.conn, call_id)
                new = ESCALATION[(call["state"], "no_ack")]
                rev = tx.next_seq(f"club.room:{call['room']}")
                sets = {"state": new, "rev": rev, "resounds": call["resounds"] + 1,
                        "due_at": utcnow_iso(now + self.ack_timeout)}
                if new == "escalated" and call["state"] != "escalated":
                    sets.update(target_role="manager", escalated_at=utcnow_iso(now), escalation_reason="no_ack")
                tx.execute("UPDATE club_calls SET " + ", ".join(f"{k} = ?" for k in sets) + " WHERE call_id = ?",
                           (*sets.values(), call_id))
                out.append(self._get(tx.conn, call_id))
        return out

    # -- reading ------------------------------------------------------------------------
    def _get(self, conn, call_id: str) -> dict | None:
        r = conn.execute(_SELECT + " WHERE call_id = ?", (call_id,)).fetchone()
        return _row(r) if r else None

    def get(self, call_id: str) -> dict | None:
        return self._get(self.store.conn, call_id)

    def calls(self, where: str = "1", params=()) -> list[dict]:
        return [_row(r) for r in self.store.conn.execute(f"{_SELECT} WHERE {where} ORDER BY room, seq", params)]

    def heads(self) -> dict[str, int]:
        """Room -> its current sequence number."""
        return {r[0][len("club.room:"):]: r[1] for r in
                self.store.conn.execute("SELECT series, value FROM sequences WHERE series LIKE 'club.room:%'")}

    def catch_up(self, known: dict[str, int]) -> dict:
        """What a device that has seen each room up to ``known[room]`` lacks: every call changed
        since in those rooms, every active call in the rooms it did not list, and each room's head."""
        heads = self.heads()
        calls = []
        for room, head in heads.items():
            if room in known:
                if head > known[room]:
                    calls += self.calls("room = ? AND rev > ?", (room, int(known[room])))
            else:
                calls += self.calls(f"room = ? AND state IN ({', '.join('?' * len(ACTIVE_STATES))})",
                                    (room, *ACTIVE_STATES))
        return {"heads": heads, "calls": calls}
