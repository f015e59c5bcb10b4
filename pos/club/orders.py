"""Orders per room, in courses that are held until the butler fires them (Odoo's "fire"), with a
ticket per station (kitchen, bar) on its own ESC/POS printer, and the lines the bill is made of.

* The menu is a data file (``assets/config/club_menu.toml``, :class:`Menu`): each dish has its
  course, its station and its price in integer fen, and its name in the three languages.
* An order is open for one room at a time (``club_orders``); its lines are append-only
  (``club_order_lines``). A void is a reversal line (negative quantity, ``void_of``), never a
  delete, and never more than what is left of the line.
* A course is ``held`` until :meth:`Orders.fire`: in one transaction the course becomes ``fired``
  and every line of it not yet sent goes on a ticket per station (``club_tickets``; ``fire``, or
  ``add`` for a dish added after the course was fired, or ``void`` for a reversal of a line the
  station already has). Printing comes after the commit (:meth:`Orders.print_tickets`), through
  the platform's print journal (``pos.printing``), each job's ``ref`` being its ticket number: a
  ticket is never printed twice by mistake and never lost: a printer fault leaves it ``failed``
  (sent again with :meth:`Orders.retry`) or, when its bytes may be on paper, *in doubt* (a marked
  copy, 副本 COPY, with :meth:`Orders.reprint`); a ticket whose job was never made (the process
  died after the commit) is printed by the next :meth:`Orders.print_tickets`.
* :meth:`Orders.ready` (the kitchen says the course is ready) raises, in the same transaction,
  the "can serve" call for the course to one runner (:mod:`.calls`; the box sends it on the
  shared runner subscription).
* :func:`bill_lines` is what the cashier's bill is made of: each dish line with what is left of
  it after voids, amount = quantity × unit price in fen (exact integers: no rounding anywhere).

Ticket layouts are in zh-Hans, the kitchen's language, whatever the screen's language.
"""

from __future__ import annotations

import json
import logging
import tomllib
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from pos.documents.layout import Layout
from pos.ids import utcnow_iso
from pos.rows import row as _row, rows as _rows

from .calls import CallBook
from .errors import ClubError, ClubNotFound
from .ids import ulid

__all__ = ["Menu", "Dish", "Orders", "bill_lines", "STATIONS", "COURSE_STATES", "ticket_layout", "printer_roles"]

log = logging.getLogger(__name__)

STATIONS = ("kitchen", "bar")
COURSE_STATES = ("held", "fired", "ready")
_TICKET_TITLES = {"fire": "", "add": "加菜", "void": "退菜 VOID"}
_STATION_NAMES = {"kitchen": "厨房", "bar": "吧台"}
#: what is left of line ``l`` after its voids (SQL expression)
_NET = "l.qty + coalesce((SELECT sum(v.qty) FROM club_order_lines v WHERE v.void_of = l.line_id), 0)"
#: what a ticket shows of line ``l``: its quantity less the voids made before it was sent
_SENT = "l.qty + coalesce((SELECT sum(v.qty) FROM club_order_lines v WHERE v.void_of = l.line_id AND v.ticket_no = ''), 0)"


@dataclass(frozen=True)
class Dish:
    code: str
    course: int
    station: str
    price_fen: int
    names: dict

    def name(self, lang: str = "zh-Hans") -> str:
        return self.names.get(lang) or self.names["zh-Hans"]


class Menu:
    """The menu catalogue (``assets/config/club_menu.toml`` unless ``path``)."""

    def __init__(self, path: str | Path | None = None):
        if path is None:
            text = resources.files("assets").joinpath("config", "club_menu.toml").read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        data = tomllib.loads(text)
        self.courses = {int(k): v for k, v in data.get("courses", {}).items()}
        self.dishes: dict[str, Dish] = {}
        for d in data.get("dish", []):
            dish = Dish(d["code"], int(d["course"]), d["station"], int(d["price_fen"]), dict(d["name"]))
            if dish.station not in STATIONS:
                raise ValueError(f"menu: dish {dish.code}: station must be one of {STATIONS}")
            if dish.course not in self.courses:
                raise ValueError(f"menu: dish {dish.code}: course {dish.course} has no name in [courses]")
            if type(d["price_fen"]) is not int or dish.price_fen < 0:
                raise ValueError(f"menu: dish {dish.code}: price_fen must be a whole number of fen")
            if not all(dish.names.get(lang) for lang in ("zh-Hans", "zh-Hant", "en")):
                raise ValueError(f"menu: dish {dish.code}: a name in zh-Hans, zh-Hant and en is needed")
            if dish.code in self.dishes:
                raise ValueError(f"menu: dish {dish.code} appears twice")
            self.dishes[dish.code] = dish

    def dish(self, code: str) -> Dish:
        try:
            return self.dishes[code]
        except KeyError:
            raise ClubNotFound(f"no dish {code!r} on the menu") from None

    def course_name(self, course: int, lang: str = "zh-Hans") -> str:
        names = self.courses.get(int(course), {})
        return names.get(lang) or names.get("zh-Hans") or str(course)

    def by_course(self) -> dict[int, list[Dish]]:
        out: dict[int, list[Dish]] = {c: [] for c in sorted(self.courses)}
        for d in self.dishes.values():
            out[d.course].append(d)
        return out


def printer_roles(config) -> dict[str, str]:
    """``{"kitchen_printer": url, "bar_printer": url}`` from the site's ``[club]`` section."""
    return {f"{s}_printer": config.get("club", f"{s}_printer") for s in STATIONS}



def _seen(tx, request: str | None):
    """What a request already done returned (None: not done, or no request id)."""
    if not request:
        return None
    row = tx.execute("SELECT result FROM club_order_requests WHERE request = ?", (request,)).fetchone()
    return json.loads(row[0]) if row else None


def _record(tx, request: str | None, op: str, result) -> None:
    if request:
        tx.insert("club_order_requests", {"request": request, "op": op, "result": json.dumps(result),
                                          "at": utcnow_iso()})


def bill_lines(store, room: str | None = None, res_id: str | None = None) -> list[dict]:
    """The lines of a room's open order (or of the reservation's order), each as what is left of it
    after voids: ``{"line_id", "dish", "name" (zh-Hans), "course", "station", "qty", "unit_fen",
    "amount_fen", "note"}``, amount = qty × unit price in fen (exact). Fully voided lines are left out."""
    if (room is None) == (res_id is None):
        raise ClubError("bill_lines: give a room or a reservation")
    if res_id is not None:
        row = store.conn.execute("SELECT order_id FROM club_orders WHERE res_id = ? ORDER BY opened_at DESC LIMIT 1",
                                 (res_id,)).fetchone()
    else:
        row = store.conn.execute("SELECT order_id FROM club_orders WHERE room = ? AND state = 'open'",
                                 (room,)).fetchone()
    if row is None:
        return []
    menu = _menu_cache()
    out = []
    for ln in _rows(store.conn, "SELECT l.line_id, l.dish, l.course, l.station, l.unit_fen, l.note, " + _NET +
                    " AS qty FROM club_order_lines l WHERE l.order_id = ? AND l.void_of IS NULL "
                    "ORDER BY l.course, l.created_at, l.line_id", (row[0],)):
        if ln["qty"] <= 0:
            continue
        name = menu.dishes[ln["dish"]].name() if ln["dish"] in menu.dishes else ln["dish"]
        out.append({**ln, "name": name, "amount_fen": ln["qty"] * ln["unit_fen"]})
    return out


_MENU: Menu | None = None


def _menu_cache() -> Menu:
    global _MENU
    if _MENU is None:
        _MENU = Menu()
    return _MENU


def ticket_layout(ticket: dict, lines: list[dict], menu: Menu, *, venue: str = "", tz: str = "Asia/Shanghai") -> dict:
    """The station ticket as a layout (zh-Hans): room and course in large type, the ticket number,
    the local time, then each dish with its quantity (a void ticket shows the quantity taken back)."""
    local = datetime.strptime(ticket["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).astimezone(ZoneInfo(tz))
    station = _STATION_NAMES[ticket["station"]]
    lay = Layout(kind="receipt", title=f"{station}单 {ticket['ticket_no']}", lang="zh-Hans")
    if venue:
        lay.text(venue, align="center")
    lay.text(f"{station}单" + (f" · {_TICKET_TITLES[ticket['kind']]}" if _TICKET_TITLES[ticket["kind"]] else ""),
             align="center", size=(2, 2), bold=True)
    lay.text(f"{ticket['room']}号包厢 · 第{ticket['course']}道 {menu.course_name(ticket['course'])}",
             align="center", size=(2, 2), bold=True)
    lay.columns((f"单号 {ticket['ticket_no']}", 3, "left"), (local.strftime("%H:%M"), 1, "right"))
    lay.rule()
    summed: dict[tuple, int] = {}                 # two taps on a dish: one row for the cook
    for ln in lines:
        if ln["qty"]:
            key = (ln["dish"], ln["note"], ln["qty"] < 0)
            summed[key] = summed.get(key, 0) + ln["qty"]
    for (dish, note, _neg), qty in summed.items():
        name = menu.dishes[dish].name() if dish in menu.dishes else dish
        # "2份"/"退1份": CJK only (the ambiguous-width × is narrow in one renderer and wide on the printer)
        lay.columns((name, 4, "left"), (("退" if qty < 0 else "") + f"{abs(qty)}份", 1, "right"), bold=True)
        if note:
            lay.text(f"  * {note}")
    lay.rule()
    if ticket["staff"]:
        lay.text(f"下单 {ticket['staff']}")
    lay.feed(2)
    lay.cut()
    return lay.to_dict()


class Orders:
    """Orders, courses and station tickets over the club's store. ``journal`` is a
    :class:`pos.printing.PrintJournal` whose devices hold ``kitchen_printer`` and ``bar_printer``."""

    def __init__(self, store, book: CallBook | None = None, journal=None, menu: Menu | None = None, *,
                 venue: str = "", tz: str = "Asia/Shanghai"):
        self.store = store
        self.book = book or CallBook(store)
        self.journal = journal
        self.menu = menu or _menu_cache()
        self.venue = venue
        self.tz = tz

    # -- orders and lines ---------------------------------------------------------------
    def open_order(self, room: str, staff: str = "", res_id: str | None = None) -> str:
        """The room's open order (made if there is none), tied to the guests in the room."""
        room = str(room).strip()
        if not room:
            raise ClubError("an order needs a room")
        with self.store.transaction() as tx:
            row = tx.execute("SELECT order_id FROM club_orders WHERE room = ? AND state = 'open'", (room,)).fetchone()
            if row:
                return row[0]
            if res_id is None:
                found = tx.execute("SELECT res_id FROM club_reservations WHERE room = ? AND state = 'arrived' "
                                   "ORDER BY arrived_at DESC LIMIT 1", (room,)).fetchone()
                res_id = found[0] if found else None
            order_id = ulid()
            tx.insert("club_orders", {"order_id": order_id, "room": room, "res_id": res_id, "state": "open",
                                      "opened_by": staff, "opened_at": utcnow_iso()})
        log.info("club order %s opened for room %s by %s", order_id, room, staff or "?")
        return order_id

    def order(self, order_id: str) -> dict:
        found = _row(self.store.conn, "SELECT * FROM club_orders WHERE order_id = ?", (order_id,))
        if found is None:
            raise ClubNotFound(f"no order {order_id}")
        return found

    def add(self, order_id: str, dish_code: str, qty: int = 1, staff: str = "", note: str = "",
            request: str | None = None) -> str:
        """A dish on the order, in its course (held until fired). ``request`` (a phone's ULID):
        the same request again returns the same line."""
        dish = self.menu.dish(dish_code)
        if type(qty) is not int or not 1 <= qty <= 99:
            raise ClubError(f"quantity {qty!r}: a whole number from 1 to 99")
        with self.store.transaction() as tx:
            if (done := _seen(tx, request)) is not None:
                return done
            self._open(tx, order_id)
            tx.execute("INSERT INTO club_courses (order_id, course, state) VALUES (?, ?, 'held') "
                       "ON CONFLICT(order_id, course) DO NOTHING", (order_id, dish.course))
            line_id = ulid()
            row = {"line_id": line_id, "order_id": order_id, "course": dish.course, "dish": dish.code,
                   "station": dish.station, "qty": qty, "unit_fen": dish.price_fen, "note": note.strip()[:80],
                   "staff": staff, "created_at": utcnow_iso()}
            tx.insert("club_order_lines", row)
            self._emit_line(tx, row)
            _record(tx, request, "add", line_id)
        return line_id

    def void(self, line_id: str, qty: int | None = None, staff: str = "", reason: str = "") -> str:
        """A reversal of ``qty`` (default: all that is left) of a line. If the station already has
        the line, a void ticket is made for it (printed by :meth:`print_tickets`)."""
        with self.store.transaction() as tx:
            rows = _rows(tx.conn, "SELECT * FROM club_order_lines WHERE line_id = ? AND void_of IS NULL", (line_id,))
            if not rows:
                raise ClubNotFound(f"no order line {line_id}")
            line = rows[0]
            self._open(tx, line["order_id"])
            left = line["qty"] + tx.execute("SELECT coalesce(sum(qty), 0) FROM club_order_lines WHERE void_of = ?",
                                            (line_id,)).fetchone()[0]
            qty = left if qty is None else qty
            if type(qty) is not int or not 1 <= qty <= left:
                raise ClubError(f"void of {qty!r} from line {line_id}: only {left} left", code="bad_transition")
            void_id = ulid()
            row = {"line_id": void_id, "order_id": line["order_id"], "course": line["course"], "dish": line["dish"],
                   "station": line["station"], "qty": -qty, "unit_fen": line["unit_fen"],
                   "note": reason.strip()[:80], "void_of": line_id, "staff": staff, "created_at": utcnow_iso()}
            tx.insert("club_order_lines", row)
            self._emit_line(tx, row)
            if line["ticket_no"]:                     # the station has it: tell it
                self._ticket(tx, line["order_id"], line["course"], line["station"], "void", staff, [void_id])
            else:                                     # not sent yet: the ticket will carry what is left
                tx.execute("UPDATE club_order_lines SET ticket_no = '' WHERE line_id = ?", (void_id,))
        log.info("club order line %s: %d voided by %s (%s)", line_id, qty, staff or "?", reason or "no reason")
        return void_id

    def lines_of(self, line_id: str) -> str:
        """The order a line belongs to."""
        row = self.store.conn.execute("SELECT order_id FROM club_order_lines WHERE line_id = ?", (line_id,)).fetchone()
        if row is None:
            raise ClubNotFound(f"no order line {line_id}")
        return row[0]

    def lines(self, order_id: str) -> list[dict]:
        return _rows(self.store.conn, "SELECT * FROM club_order_lines WHERE order_id = ? ORDER BY course, created_at, "
                     "line_id", (order_id,))

    def courses(self, order_id: str) -> list[dict]:
        return _rows(self.store.conn, "SELECT * FROM club_courses WHERE order_id = ? ORDER BY course", (order_id,))

    def view(self, room: str) -> dict:
        """What a phone shows of the room's open order: each course's state and its dishes (what
        is left of them), the total in fen. Published retained for the room's butler."""
        row = self.store.conn.execute("SELECT order_id FROM club_orders WHERE room = ? AND state = 'open'",
                                      (room,)).fetchone()
        if row is None:
            return {"room": room, "order_id": "", "courses": [], "total_fen": 0}
        order_id = row[0]
        lines = bill_lines(self.store, room=room)
        courses = []
        for c in self.courses(order_id):
            dishes: dict[str, int] = {}
            for ln in lines:
                if ln["course"] == c["course"]:
                    dishes[ln["dish"]] = dishes.get(ln["dish"], 0) + ln["qty"]
            unsent = self.store.conn.execute("SELECT count(*) FROM club_order_lines l WHERE l.order_id = ? AND l.course = ? "
                                             "AND l.ticket_no IS NULL AND l.void_of IS NULL AND " + _NET + " > 0",
                                             (order_id, c["course"])).fetchone()[0]
            courses.append({"course": c["course"], "state": c["state"], "unsent": unsent,
                            "dishes": [{"dish": d, "qty": q} for d, q in dishes.items()]})
        return {"room": room, "order_id": order_id, "courses": courses,
                "total_fen": sum(ln["amount_fen"] for ln in lines)}

    def close(self, order_id: str) -> None:
        """The bill is paid: the order is closed (the cashier's part)."""
        with self.store.transaction() as tx:
            tx.execute("UPDATE club_orders SET state = 'closed', closed_at = ? WHERE order_id = ? AND state = 'open'",
                       (utcnow_iso(), order_id))

    # -- firing and tickets -------------------------------------------------------------
    def fire(self, order_id: str, course: int, staff: str = "", request: str | None = None) -> list[str]:
        """Fire a held course (or send what was added to a fired one): its unsent lines go on one
        ticket per station. Returns the new ticket numbers (print them with :meth:`print_tickets`).
        ``request`` (a phone's ULID): the same request again fires nothing more."""
        with self.store.transaction() as tx:
            if (done := _seen(tx, request)) is not None:
                return done
            self._open(tx, order_id)
            c = tx.execute("SELECT state FROM club_courses WHERE order_id = ? AND course = ?",
                           (order_id, course)).fetchone()
            if c is None:
                raise ClubError(f"order {order_id} has nothing in course {course}", code="bad_transition")
            unsent = _rows(tx.conn, "SELECT line_id, station, " + _NET + " AS net FROM club_order_lines l "
                           "WHERE l.order_id = ? AND l.course = ? AND l.ticket_no IS NULL AND l.void_of IS NULL "
                           "ORDER BY l.created_at, l.line_id", (order_id, course))
            for gone in [u for u in unsent if u["net"] <= 0]:     # voided before it was sent: nothing to send
                tx.execute("UPDATE club_order_lines SET ticket_no = '' WHERE line_id = ?", (gone["line_id"],))
            unsent = [u for u in unsent if u["net"] > 0]
            if c[0] != "held" and not unsent:
                raise ClubError(f"course {course} of order {order_id} is already {c[0]}", code="bad_transition")
            kind = "fire" if c[0] == "held" else "add"
            if c[0] == "held":
                now = utcnow_iso()
                tx.execute("UPDATE club_courses SET state = 'fired', fired_by = ?, fired_at = ? "
                           "WHERE order_id = ? AND course = ?", (staff, now, order_id, course))
                room = tx.execute("SELECT room FROM club_orders WHERE order_id = ?", (order_id,)).fetchone()[0]
                tx.emit("club.course.fired", {"order_id": order_id, "room": room, "course": course,
                                              "fired_by": staff, "fired_at": now})
            made = []
            for station in STATIONS:
                ids = [u["line_id"] for u in unsent if u["station"] == station]
                if ids:
                    made.append(self._ticket(tx, order_id, course, station, kind, staff, ids))
            _record(tx, request, "fire", made)
        log.info("club order %s: course %d fired by %s: tickets %s", order_id, course, staff or "?", made)
        return made

    def _ticket(self, tx, order_id, course, station, kind, staff, line_ids) -> str:
        room = tx.execute("SELECT room FROM club_orders WHERE order_id = ?", (order_id,)).fetchone()[0]
        ticket_no = tx.next_number("club.ticket")
        tx.insert("club_tickets", {"ticket_no": ticket_no, "order_id": order_id, "room": room, "course": course,
                                   "station": station, "kind": kind, "staff": staff, "created_at": utcnow_iso()})
        tx.execute(f"UPDATE club_order_lines SET ticket_no = ? WHERE line_id IN ({', '.join('?' * len(line_ids))})",
                   (ticket_no, *line_ids))
        return ticket_no

    def ticket(self, ticket_no: str) -> dict:
        found = _row(self.store.conn, "SELECT * FROM club_tickets WHERE ticket_no = ?", (ticket_no,))
        if found is None:
            raise ClubNotFound(f"no ticket {ticket_no}")
        return found

    def ticket_layout(self, ticket_no: str) -> dict:
        t = self.ticket(ticket_no)
        lines = _rows(self.store.conn, "SELECT l.line_id, l.dish, l.note, CASE WHEN l.void_of IS NULL THEN " + _SENT +
                      " ELSE l.qty END AS qty FROM club_order_lines l WHERE l.ticket_no = ? ORDER BY l.created_at, "
                      "l.line_id", (ticket_no,))
        return ticket_layout(t, lines, self.menu, venue=self.venue, tz=self.tz)

    def _job(self, ticket_no: str) -> dict | None:
        """The newest print job of the ticket's original (not a copy)."""
        rows = _rows(self.store.conn, "SELECT job_id, state, uncertain, last_error FROM print_jobs WHERE ref = ? "
                     "AND reprint_of IS NULL ORDER BY created_at DESC, job_id DESC LIMIT 1", (ticket_no,))
        return rows[0] if rows else None

    def print_state(self, ticket_no: str, job: dict | None = None) -> str:
        """``unsent`` (no job yet), ``queued``/``printing``, ``printed`` (the original or a copy came
        out), ``failed`` (not printed: retry) or ``in_doubt`` (may be on paper: reprint a copy)."""
        job = job or self._job(ticket_no)
        if job is None:
            return "unsent"
        if job["state"] == "printed" or self.journal is not None and self.journal.copies_printed(job["job_id"]):
            return "printed"
        if job["state"] == "failed":
            return "in_doubt" if job["uncertain"] else "failed"
        return job["state"]

    def tickets(self, order_id: str | None = None) -> list[dict]:
        """The tickets (of one order), oldest first, each with its print state, job and last error."""
        where, params = ("WHERE order_id = ?", (order_id,)) if order_id else ("", ())
        out = _rows(self.store.conn, f"SELECT * FROM club_tickets {where} ORDER BY created_at, ticket_no", params)
        for t in out:
            job = self._job(t["ticket_no"])
            t["print_state"] = self.print_state(t["ticket_no"], job)
            t["job_id"] = job["job_id"] if job else None
            t["last_error"] = job["last_error"] if job else None
        return out

    def print_tickets(self, order_id: str | None = None) -> list:
        """Print every ticket that has no print job yet (after a fire, a void, or a restart).
        Device I/O: never on the UI thread. Returns the print outcomes."""
        if self.journal is None:
            raise ClubError("no print journal: the kitchen and bar printers are not configured")
        where, params = ("AND t.order_id = ?", (order_id,)) if order_id else ("", ())
        unsent = [r[0] for r in self.store.conn.execute(
            "SELECT t.ticket_no FROM club_tickets t WHERE NOT EXISTS (SELECT 1 FROM print_jobs j WHERE j.ref = t.ticket_no) "
            f"{where} ORDER BY t.created_at, t.ticket_no", params)]
        outs = []
        for ticket_no in unsent:
            station = self.ticket(ticket_no)["station"]
            outs.append(self.journal.print(f"club_{station}_ticket", self.ticket_layout(ticket_no),
                                           role=f"{station}_printer", ref=ticket_no))
        return outs

    def retry(self, ticket_no: str):
        """Send a ticket that did not print again (the original, once the printer is back)."""
        job = self._job(ticket_no)
        if job is None:
            return self.print_tickets(self.ticket(ticket_no)["order_id"])
        return self.journal.retry(job["job_id"])

    def reprint(self, ticket_no: str):
        """A marked copy (副本 COPY) of a ticket: the way out for a ticket in doubt."""
        job = self._job(ticket_no)
        if job is None:
            raise ClubError(f"ticket {ticket_no} was never sent; print it first", code="bad_transition")
        return self.journal.reprint(job["job_id"])

    def resend(self, ticket_no: str):
        """What the screen's reprint button does: a failed ticket is sent again, one in doubt or
        printed gets a marked copy."""
        state = self.print_state(ticket_no)
        if state in ("failed", "unsent"):
            return self.retry(ticket_no)
        return self.reprint(ticket_no)

    # -- the kitchen says ready ---------------------------------------------------------
    def ready(self, order_id: str, course: int, staff: str = "", from_role: str = "kitchen") -> list[dict]:
        """The course is ready at the pass: it becomes ``ready`` and, in the same transaction, the
        "can serve" call for it goes to a runner. Returns the call rows (the box publishes them)."""
        with self.store.transaction() as tx:
            order = _rows(tx.conn, "SELECT room, state FROM club_orders WHERE order_id = ?", (order_id,))
            if not order:
                raise ClubNotFound(f"no order {order_id}")
            c = tx.execute("SELECT state FROM club_courses WHERE order_id = ? AND course = ?",
                           (order_id, course)).fetchone()
            if c is None or c[0] != "fired":
                raise ClubError(f"course {course} of order {order_id} is {c[0] if c else 'empty'}, not fired",
                                code="bad_transition")
            room = order[0]["room"]
            dishes = [f"{self.menu.dishes[d].name() if d in self.menu.dishes else d}×{q}" for d, q in tx.execute(
                "SELECT l.dish, " + _NET + " FROM club_order_lines l WHERE l.order_id = ? AND l.course = ? AND l.void_of IS NULL "
                "ORDER BY l.created_at, l.line_id", (order_id, course)) if q > 0]
            calls = self.book.raise_call(room, "can_serve", from_role, text="、".join(dishes),
                                         detail={"order_id": order_id, "course": course, "dishes": dishes},
                                         group_id=f"course:{order_id}:{course}", tx=tx)
            now = utcnow_iso()
            tx.execute("UPDATE club_courses SET state = 'ready', ready_by = ?, ready_at = ?, call_id = ? "
                       "WHERE order_id = ? AND course = ?", (staff, now, calls[0]["call_id"] if calls else None,
                                                             order_id, course))
            tx.emit("club.course.ready", {"order_id": order_id, "room": room, "course": course, "ready_by": staff,
                                          "ready_at": now})
        log.info("club order %s: course %d ready (room %s): can-serve call %s", order_id, course, room,
                 calls[0]["call_id"] if calls else "-")
        return calls

    # -- internals ----------------------------------------------------------------------
    def _open(self, tx, order_id: str) -> None:
        row = tx.execute("SELECT state FROM club_orders WHERE order_id = ?", (order_id,)).fetchone()
        if row is None:
            raise ClubNotFound(f"no order {order_id}")
        if row[0] != "open":
            raise ClubError(f"order {order_id} is closed", code="bad_transition")

    @staticmethod
    def _emit_line(tx, row: dict) -> None:
        tx.emit("club.order.line", {k: row.get(k) for k in ("line_id", "order_id", "course", "dish", "station", "qty",
                                                            "unit_fen", "created_at")}
                | {"void_of": row.get("void_of") or "", "staff": row.get("staff") or ""})
