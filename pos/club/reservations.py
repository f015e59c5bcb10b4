"""Reservations, arrival and the greeting, and the room's preparation checklist.

* A reservation holds its room by a resource claim (:mod:`.claims`): a double booking is refused
  with :class:`RoomTaken`; a cancelled one releases its claim and never blocks.
* Times are UTC ISO 8601; the day's list is asked for by the site's local date and time zone.
* :meth:`Reservations.arrive` marks the guests arrived and, in the same transaction, raises the
  arrival calls to the greeter, the room's butler and the sommelier, with the greeting that fits
  (a regular guest by title, "王總晚上好"; others "先生/小姐"), the guest count, the requests and
  the wines, and (when the checklist is not all ticked) the manager's ``prep_missing`` call.
* :meth:`Reservations.tick` runs on the box's timer: ``prep_lead_min`` before the start the room's
  butler gets the ``prep`` call carrying the checklist made from the reservation (and the
  sommelier a ``wine`` task for the preferred wines: decant or chill ahead); at the start, an
  unticked checklist alerts the manager. Ticking the last item acknowledges the prep call.
* While the guests are in the room (arrived, until :meth:`Reservations.close` or the booking's
  end), the seed's service rules prompt on a timer (:data:`PROMPTS`): offer to refill, change
  the ashtray (at three butts), change the plates (a third full) for the butler; change the
  dirty-ware basket (half full) for a runner. Prompts, never charges; they do not escalate.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from pos.ids import utcnow_iso

from .calls import CallBook, emit_closed
from .claims import ClaimConflict, claim, release
from .errors import ClubError, ClubNotFound, RoomTaken
from .ids import ulid

__all__ = ["Reservations", "greeting", "checklist_for", "CHECKLIST", "GREETINGS", "PROMPTS"]

#: service rule -> (role prompted, minutes between prompts)
PROMPTS = {"refill": ("butler", 10), "ashtray": ("butler", 15), "plates": ("butler", 20), "basket": ("runner", 25)}

#: the checklist items, in the order of the seed's preparation step
CHECKLIST = ("covers", "tv_ac", "fruit", "towels", "tableware")

#: (regular with title?, part of day) -> English msgid; {title} and {venue} are filled in
GREETINGS = {
    (True, "noon"): "Good afternoon, {title}. Welcome to {venue}, please come in.",
    (True, "evening"): "Good evening, {title}. Welcome to {venue}, please come in.",
    (False, "noon"): "Good afternoon, sir or madam. Welcome to {venue}, please come in.",
    (False, "evening"): "Good evening, sir or madam. Welcome to {venue}, please come in.",
}

_COLS = ("res_id", "room", "starts_at", "ends_at", "guests", "member_no", "guest_name", "title", "regular",
         "requests", "wines", "prep_lead_min", "state", "claim_id", "created_at", "arrived_at", "prep_sent_at",
         "prep_alerted_at")


def _iso(dt: datetime) -> str:
    return utcnow_iso(dt.timestamp())


def _parse(iso: str) -> datetime:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def greeting(res: dict, local_hour: int) -> tuple[str, dict]:
    """(msgid, params) of the greeting at the door; the venue is filled in by the caller."""
    part = "noon" if local_hour < 17 else "evening"
    regular = bool(res["regular"] and res["title"])
    return GREETINGS[(regular, part)], ({"title": res["title"]} if regular else {})


def checklist_for(res: dict) -> list[dict]:
    """The items for the butler, from the reservation: covers and hot towels for each guest, TV
    and air conditioning, the fruit plate from the bar, tableware for the service station."""
    n = int(res["guests"])
    qty = {"covers": n, "tv_ac": 1, "fruit": 1 if n <= 6 else 2, "towels": n, "tableware": n}
    return [{"item": item, "qty": qty[item]} for item in CHECKLIST]


class Reservations:
    def __init__(self, store, book: CallBook | None = None, *, tz: str = "Asia/Shanghai", venue: str = "",
                 clock: Callable[[], float] | None = None):
        self.store = store
        self.book = book or CallBook(store)
        self.tz = ZoneInfo(tz)
        self.venue = venue
        self.clock = clock or self.book.clock

    # -- booking ------------------------------------------------------------------------
    def book_room(self, room: str, starts_at: str, guests: int, *, minutes: int = 180, member_no: str = "",
                  guest_name: str = "", title: str = "", regular: bool = False, requests: str = "",
                  wines: list[str] | None = None, prep_lead_min: int = 30) -> str:
        if not room or type(guests) is not int or guests <= 0 or minutes <= 0 or prep_lead_min < 0:
            raise ClubError(f"reservation for room {room!r}: guests {guests!r}, {minutes} minutes")
        start = _parse(starts_at)
        ends_at = _iso(start + timedelta(minutes=minutes))
        res_id = ulid()
        with self.store.transaction() as tx:
            try:
                claim_id = claim(tx, f"room:{room}", starts_at, ends_at, res_id)
            except ClaimConflict as exc:
                raise RoomTaken(f"room {room} {starts_at}..{ends_at}: {exc}") from exc
            tx.insert("club_reservations", {
                "res_id": res_id, "room": room, "starts_at": starts_at, "ends_at": ends_at, "guests": guests,
                "member_no": member_no, "guest_name": guest_name, "title": title, "regular": int(regular),
                "requests": requests, "wines": json.dumps(wines or [], ensure_ascii=False),
                "prep_lead_min": prep_lead_min, "state": "booked", "claim_id": claim_id,
                "created_at": utcnow_iso(self.clock())})
            tx.emit("club.reservation.booked", {"res_id": res_id, "room": room, "starts_at": starts_at,
                                                "ends_at": ends_at, "guests": guests, "member": bool(member_no),
                                                "regular": bool(regular), "prep_lead_min": prep_lead_min})
        return res_id

    def cancel(self, res_id: str) -> None:
        with self.store.transaction() as tx:
            res = self._get(tx.conn, res_id)
            if res["state"] != "booked":
                raise ClubError(f"reservation {res_id} is {res['state']}", code="bad_transition")
            tx.execute("UPDATE club_reservations SET state = 'cancelled' WHERE res_id = ?", (res_id,))
            release(tx, res["claim_id"])
            tx.emit("club.reservation.cancelled", {"res_id": res_id})

    def _get(self, conn, res_id: str) -> dict:
        r = conn.execute(f"SELECT {', '.join(_COLS)} FROM club_reservations WHERE res_id = ?", (res_id,)).fetchone()
        if r is None:
            raise ClubNotFound(f"no reservation {res_id}")
        d = dict(zip(_COLS, r))
        d["wines"] = json.loads(d["wines"])
        return d

    def get(self, res_id: str) -> dict:
        return self._get(self.store.conn, res_id)

    def day(self, local_date: str) -> list[dict]:
        """The day's list (``YYYY-MM-DD`` in the site's time zone), by start time."""
        d0 = datetime.strptime(local_date, "%Y-%m-%d").replace(tzinfo=self.tz)
        lo, hi = _iso(d0), _iso(d0 + timedelta(days=1))
        ids = [r[0] for r in self.store.conn.execute(
            "SELECT res_id FROM club_reservations WHERE starts_at >= ? AND starts_at < ? ORDER BY starts_at, room",
            (lo, hi))]
        return [self.get(i) for i in ids]

    def local_time(self, iso: str) -> datetime:
        return _parse(iso).astimezone(self.tz)

    # -- arrival ------------------------------------------------------------------------
    def arrive(self, res_id: str, by_role: str = "security", device: str = "") -> list[dict]:
        """Mark the guests arrived; returns the calls raised (for the box to publish)."""
        now = self.clock()
        with self.store.transaction() as tx:
            res = self._get(tx.conn, res_id)
            if res["state"] != "booked":
                raise ClubError(f"reservation {res_id} is {res['state']}", code="bad_transition")
            tx.execute("UPDATE club_reservations SET state = 'arrived', arrived_at = ? WHERE res_id = ?",
                       (utcnow_iso(now), res_id))
            tx.emit("club.reservation.arrived", {"res_id": res_id, "arrived_at": utcnow_iso(now)})
            msgid, params = greeting(res, datetime.fromtimestamp(now, self.tz).hour)
            detail = {"res_id": res_id, "greeting": msgid, "greeting_params": {**params, "venue": self.venue},
                      "guests": res["guests"], "guest_name": res["guest_name"], "title": res["title"],
                      "member": bool(res["member_no"]), "requests": res["requests"], "wines": res["wines"]}
            calls = self.book.raise_call(res["room"], "arrival", by_role, from_device=device, detail=detail, tx=tx)
            calls += self._alert_unticked(tx, res, now)
        return calls

    def close(self, res_id: str) -> None:
        """The guests have left: the room's service prompts stop."""
        with self.store.transaction() as tx:
            res = self._get(tx.conn, res_id)
            if res["state"] != "arrived":
                raise ClubError(f"reservation {res_id} is {res['state']}", code="bad_transition")
            tx.execute("UPDATE club_reservations SET state = 'closed' WHERE res_id = ?", (res_id,))

    def _prompts(self, tx, now: float) -> list[dict]:
        out = []
        now_iso = utcnow_iso(now)
        for res_id, room, arrived_at in tx.execute(
                "SELECT res_id, room, arrived_at FROM club_reservations WHERE state = 'arrived' AND ends_at > ?",
                (now_iso,)).fetchall():
            marks = dict(tx.execute("SELECT rule, last_at FROM club_prompt_marks WHERE res_id = ?", (res_id,)).fetchall())
            for rule, (role, minutes) in PROMPTS.items():
                since = _parse(marks.get(rule, arrived_at))
                if datetime.fromtimestamp(now, timezone.utc) - since < timedelta(minutes=minutes):
                    continue
                tx.execute("INSERT INTO club_prompt_marks (res_id, rule, last_at) VALUES (?, ?, ?) "
                           "ON CONFLICT(res_id, rule) DO UPDATE SET last_at = excluded.last_at", (res_id, rule, now_iso))
                out += self.book.raise_call(room, "prompt", "system", to_roles=[role], tx=tx,
                                            detail={"res_id": res_id, "rule": rule})
        return out

    # -- preparation --------------------------------------------------------------------
    def tick(self) -> list[dict]:
        """The timer's step: send due checklists, alert the manager on unticked ones at the start,
        and prompt the service rules in the rooms with guests."""
        now = self.clock()
        out: list[dict] = []
        with self.store.transaction() as tx:
            out += self._prompts(tx, now)
            for res_id, starts_at, lead in tx.execute(
                    "SELECT res_id, starts_at, prep_lead_min FROM club_reservations "
                    "WHERE state = 'booked' AND prep_sent_at IS NULL").fetchall():
                if _parse(starts_at) - timedelta(minutes=lead) <= datetime.fromtimestamp(now, timezone.utc):
                    out += self._send_checklist(tx, self._get(tx.conn, res_id), now)
            for (res_id,) in tx.execute(
                    "SELECT res_id FROM club_reservations WHERE state IN ('booked', 'arrived') "
                    "AND prep_alerted_at IS NULL AND prep_sent_at IS NOT NULL AND starts_at <= ?",
                    (utcnow_iso(now),)).fetchall():
                out += self._alert_unticked(tx, self._get(tx.conn, res_id), now)
        return out

    def _send_checklist(self, tx, res: dict, now: float) -> list[dict]:
        items = checklist_for(res)
        for it in items:
            tx.execute("INSERT OR IGNORE INTO club_checklist (res_id, item, qty) VALUES (?, ?, ?)",
                       (res["res_id"], it["item"], it["qty"]))
        tx.execute("UPDATE club_reservations SET prep_sent_at = ? WHERE res_id = ?", (utcnow_iso(now), res["res_id"]))
        detail = {"res_id": res["res_id"], "starts_at": res["starts_at"], "guests": res["guests"],
                  "requests": res["requests"], "wines": res["wines"], "items": self._items(tx.conn, res["res_id"])}
        calls = self.book.raise_call(res["room"], "prep", "system", detail=detail, group_id=f"prep-{res['res_id']}",
                                     tx=tx)
        if res["wines"]:                               # the sommelier decants or chills them ahead
            calls += self.book.raise_call(res["room"], "wine", "system", group_id=f"wine-{res['res_id']}", tx=tx,
                                          detail={"res_id": res["res_id"], "task": "prepare", "wines": res["wines"],
                                                  "starts_at": res["starts_at"]})
        return calls

    def _items(self, conn, res_id: str) -> list[dict]:
        return [{"item": r[0], "qty": r[1], "ticked_by": r[2] or ""} for r in conn.execute(
            "SELECT item, qty, ticked_by FROM club_checklist WHERE res_id = ? ORDER BY rowid", (res_id,))]

    def checklist(self, res_id: str) -> list[dict]:
        return self._items(self.store.conn, res_id)

    def _alert_unticked(self, tx, res: dict, now: float) -> list[dict]:
        if res["prep_alerted_at"]:
            return []
        if res["prep_sent_at"]:
            missing = [it["item"] for it in self._items(tx.conn, res["res_id"]) if not it["ticked_by"]]
        else:                                          # no checklist was ever sent: nothing is done
            missing = [it["item"] for it in checklist_for(res)]
        if not missing:
            return []
        tx.execute("UPDATE club_reservations SET prep_alerted_at = ? WHERE res_id = ?", (utcnow_iso(now), res["res_id"]))
        return self.book.raise_call(res["room"], "prep_missing", "system", group_id=f"prep-missing-{res['res_id']}",
                                    detail={"res_id": res["res_id"], "missing": missing}, tx=tx)

    def tick_item(self, res_id: str, item: str, staff: str) -> list[dict]:
        """The butler ticks an item. Returns the prep call's new row (its checklist updated; acked
        by this butler when the last item is ticked) for the box to publish."""
        now = utcnow_iso(self.clock())
        with self.store.transaction() as tx:
            cur = tx.execute("UPDATE club_checklist SET ticked_by = ?, ticked_at = ? WHERE res_id = ? AND item = ? "
                             "AND ticked_by IS NULL", (staff, now, res_id, item))
            if cur.rowcount == 0 and not tx.execute("SELECT 1 FROM club_checklist WHERE res_id = ? AND item = ?",
                                                    (res_id, item)).fetchone():
                raise ClubNotFound(f"reservation {res_id} has no checklist item {item!r}")
            items = self._items(tx.conn, res_id)
            row = tx.execute("SELECT call_id, room, detail, state FROM club_calls WHERE group_id = ?",
                             (f"prep-{res_id}",)).fetchone()
            if row is None:
                return []
            call_id, room, detail, state = row
            detail = {**json.loads(detail), "items": items}
            rev = tx.next_seq(f"club.room:{room}")
            tx.execute("UPDATE club_calls SET detail = ?, rev = ? WHERE call_id = ?",
                       (json.dumps(detail, ensure_ascii=False, sort_keys=True), rev, call_id))
            if all(it["ticked_by"] for it in items) and state != "acked":
                tx.execute("UPDATE club_calls SET state = 'acked', due_at = NULL, acked_by = ?, acked_role = 'butler', "
                           "acked_at = ? WHERE call_id = ?", (staff, now, call_id))
                tx.insert("club_call_acks", {"call_id": call_id, "staff": staff, "role": "butler", "device": "",
                                             "at": now, "first": 1})
                emit_closed(tx, self.book._get(tx.conn, call_id))
            return [self.book._get(tx.conn, call_id)]
