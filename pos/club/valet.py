"""Valet parking: a key tag with a QR code at arrival, "bring the car" from the room, the QR
scanned when the car is handed back.

    parked ──"bring the car" (a call to the valet, acknowledged like every call)──▶ requested
       └───────────────────────────────────────────────────────────────┴──QR scanned──▶ returned

* :meth:`Valet.park` stores the tag (``club_valet``; its number ``<box>-<n>`` is the QR code) for
  the reservation's room; the tag is printed after the commit (:meth:`Valet.print_tags`, through
  the print journal, job ``ref`` = the tag number), so a printer fault leaves it in the journal
  (retry, or a marked copy when in doubt), never lost.
* :meth:`Valet.request` raises the ``car`` call for the room's parked cars (to the valet; nobody
  on shift → the manager at once) and marks the tags requested, in one transaction.
* :meth:`Valet.returned` takes the scanned code: the tag is closed, and a car call still open for
  it is acknowledged by whoever scanned (the car is back: the call was answered).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from pos.documents.layout import Layout
from pos.ids import utcnow_iso
from pos.rows import row as _row, rows as _rows

from .calls import ACTIVE_STATES, CallBook
from .errors import ClubError, ClubNotFound

__all__ = ["Valet", "tag_layout"]

log = logging.getLogger(__name__)



def tag_layout(tag: dict, *, venue: str = "", tz: str = "Asia/Shanghai") -> dict:
    """The key tag (zh-Hans and English): venue, the tag number large, room, plate, time, the QR code."""
    local = datetime.strptime(tag["parked_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).astimezone(ZoneInfo(tz))
    lay = Layout(kind="receipt", title=f"泊车牌 {tag['tag_no']}", lang="zh-Hans")
    if venue:
        lay.text(venue, align="center")
    lay.text("泊车牌 VALET", align="center", size=(2, 2), bold=True)
    lay.text(tag["tag_no"], align="center", size=(2, 2), bold=True)
    lay.text(f"{tag['room']}号包厢 Room {tag['room']}", align="center")
    if tag["plate"]:
        lay.text(f"车牌 {tag['plate']}", align="center")
    lay.text(local.strftime("%Y-%m-%d %H:%M"), align="center")
    lay.qr(tag["tag_no"], size=8)
    lay.text("取车请出示此牌 Show this tag to get your car", align="center")
    lay.feed(2)
    lay.cut()
    return lay.to_dict()


class Valet:
    def __init__(self, store, book: CallBook | None = None, journal=None, *, venue: str = "", tz: str = "Asia/Shanghai"):
        self.store = store
        self.book = book or CallBook(store)
        self.journal = journal
        self.venue = venue
        self.tz = tz

    def park(self, res_id: str | None = None, room: str | None = None, plate: str = "", staff: str = "",
             request: str | None = None) -> str:
        """A key tag for a guest's car (by the reservation, or a walk-in's room). Returns its number.
        ``request`` (the phone's ULID) makes it idempotent: the same request gives the same tag."""
        with self.store.transaction() as tx:
            if request:
                same = tx.execute("SELECT tag_no FROM club_valet WHERE park_request = ?", (request,)).fetchone()
                if same:
                    return same[0]
            if res_id:
                r = tx.execute("SELECT room, state FROM club_reservations WHERE res_id = ?", (res_id,)).fetchone()
                if r is None:
                    raise ClubNotFound(f"no reservation {res_id}")
                if r[1] in ("cancelled", "closed", "no_show"):
                    raise ClubError(f"reservation {res_id} is {r[1]}", code="bad_transition")
                room = r[0]
            if not room:
                raise ClubError("a key tag needs a reservation or a room")
            if not res_id:                          # a room typed on the valet's phone: its guests, if in
                r = tx.execute("SELECT res_id FROM club_reservations WHERE room = ? AND state = 'arrived' "
                               "ORDER BY arrived_at DESC LIMIT 1", (str(room),)).fetchone()
                res_id = r[0] if r else None
            tag_no = tx.next_number("club.valet", 4)
            now = utcnow_iso()
            tx.insert("club_valet", {"tag_no": tag_no, "res_id": res_id or None, "room": str(room),
                                     "plate": plate.strip().upper()[:16], "state": "parked", "parked_by": staff,
                                     "parked_at": now, "park_request": request or None})
            tx.emit("club.valet.tag", {"tag_no": tag_no, "room": str(room), "state": "parked", "changed_at": now})
        log.info("club valet: tag %s for room %s parked by %s", tag_no, room, staff or "?")
        return tag_no

    def tag(self, tag_no: str) -> dict:
        found = _row(self.store.conn, "SELECT * FROM club_valet WHERE tag_no = ?", (tag_no,))
        if found is None:
            raise ClubNotFound(f"no key tag {tag_no}")
        return found

    def tags(self, state: str | None = None) -> list[dict]:
        if state:
            return _rows(self.store.conn, "SELECT * FROM club_valet WHERE state = ? ORDER BY parked_at", (state,))
        return _rows(self.store.conn, "SELECT * FROM club_valet ORDER BY parked_at")

    def request(self, room: str, from_role: str = "butler", *, from_device: str = "", group_id: str | None = None,
                tx=None) -> list[dict]:
        """"Bring the car" for the room's parked cars: the call to the valet, the tags requested."""
        if tx is None:
            with self.store.transaction() as own:
                return self.request(room, from_role, from_device=from_device, group_id=group_id, tx=own)
        tags = _rows(tx.conn, "SELECT tag_no, plate FROM club_valet WHERE room = ? AND state = 'parked' "
                     "ORDER BY parked_at", (room,))
        text = "、".join(t["tag_no"] + (f" {t['plate']}" if t["plate"] else "") for t in tags)
        calls = self.book.raise_call(room, "car", from_role, from_device=from_device, text=text,
                                     detail={"tags": [t["tag_no"] for t in tags]}, group_id=group_id, tx=tx)
        if calls and tags:
            now = utcnow_iso()
            for t in tags:
                tx.execute("UPDATE club_valet SET state = 'requested', requested_at = ?, call_id = ? WHERE tag_no = ?",
                           (now, calls[0]["call_id"], t["tag_no"]))
                tx.emit("club.valet.tag", {"tag_no": t["tag_no"], "room": room, "state": "requested",
                                           "changed_at": now})
        if calls:
            log.info("club valet: room %s asks for its car (tags %s)", room, text or "none on record")
        return calls

    def returned(self, code: str, staff: str, device: str = "", request: str | None = None) -> tuple[dict, dict | None]:
        """The key tag's QR code scanned as the car is handed back. Returns (tag, the call it
        acknowledged or None). The same ``request`` sent again changes nothing and is not refused."""
        tag_no = (code or "").strip()
        with self.store.transaction() as tx:
            rows = _rows(tx.conn, "SELECT * FROM club_valet WHERE tag_no = ?", (tag_no,))
            if not rows:
                raise ClubNotFound(f"scanned {code!r}: no such key tag")
            tag = rows[0]
            if tag["state"] == "returned" and request and tag["return_request"] == request:
                return tag, None
            if tag["state"] == "returned":
                raise ClubError(f"key tag {tag_no} was handed back at {tag['returned_at']}", code="bad_transition")
            now = utcnow_iso()
            tx.execute("UPDATE club_valet SET state = 'returned', returned_by = ?, returned_at = ?, return_request = ? "
                       "WHERE tag_no = ?", (staff, now, request or None, tag_no))
            tx.emit("club.valet.tag", {"tag_no": tag_no, "room": tag["room"], "state": "returned", "changed_at": now})
            call_id = tag["call_id"]
        acked = None
        if call_id:
            call = self.book.get(call_id)
            if call is not None and call["state"] in ACTIVE_STATES:
                acked, _ = self.book.ack(call_id, staff, "valet", device or "valet-scan")
        log.info("club valet: tag %s (room %s) handed back by %s", tag_no, tag["room"], staff)
        return self.tag(tag_no), acked

    # -- printing (device I/O: never on the UI thread) ------------------------------------
    def tag_layout(self, tag_no: str) -> dict:
        return tag_layout(self.tag(tag_no), venue=self.venue, tz=self.tz)

    def print_tags(self) -> list:
        """Print every key tag that has no print job yet (after a park, or a restart)."""
        if self.journal is None:
            raise ClubError("no print journal: the valet printer is not configured")
        unsent = [r[0] for r in self.store.conn.execute(
            "SELECT v.tag_no FROM club_valet v WHERE v.state != 'returned' AND NOT EXISTS "
            "(SELECT 1 FROM print_jobs j WHERE j.ref = v.tag_no) ORDER BY v.parked_at")]
        return [self.journal.print("club_valet_tag", self.tag_layout(tag_no), role="valet_printer", ref=tag_no)
                for tag_no in unsent]
