"""Bedside discharge (床邊辦理, H-D7): for a patient who cannot move, the nurse station opens a
bedside session on the ward tablet, the cashier's counter joins it, and the settlement is made at
the bed, marked bedside with the session (an aggregate of
:class:`pos.hospital.service.HospitalService`, and the pack's ``bedside`` projection).

The devices meet only through sync:

1. the nurse flags the patient unable to move (``hospital.bedside.flagged``, append-only rows in
   ``hosp_bedside_flags``; the newest decides) and opens the session
   (``hospital.bedside.opened``);
2. the counter pulls ``bedside.opened`` into ``hosp_bedside_sessions`` and lists it; the cashier
   joins (``hospital.bedside.joined``, with the cashier's staff ID);
3. the ward tablet pulls ``bedside.joined``; only then does :meth:`Bedside.settle_bedside` settle the
   stay there (``settle(bedside=True, session_id=…)``), and the session's settlement
   (``hospital.bedside.settled``) reaches the counter the same way.

The receipts and the settlement list are printed by the ward tablet's document printer: its
``receipt_printer`` is the ward printer. ``hosp_bedside_sessions`` holds this device's sessions
and the ones it pulled, in one row per session (a page applied twice changes nothing).
"""

from __future__ import annotations

from pos.ids import uuid7

from ..rows import row, rows
from .errors import BadInput, HospitalError, HospitalNotFound

__all__ = ["Bedside", "MIGRATIONS", "apply", "SESSION_STATES"]

#: a session's life: opened at the ward, joined by a cashier, settled at the bed
SESSION_STATES = ("opened", "joined", "settled")
_RANK = {s: i for i, s in enumerate(SESSION_STATES)}


def m401_bedside_sessions(db) -> None:
    x = db.execute
    x("""CREATE TABLE hosp_bedside_flags (
        id INTEGER PRIMARY KEY, inpatient_no TEXT NOT NULL, unable INTEGER NOT NULL CHECK (unable IN (0, 1)),
        reason TEXT NOT NULL DEFAULT '', nurse TEXT NOT NULL, at TEXT NOT NULL)""")
    x("CREATE INDEX hosp_bedside_flags_adm ON hosp_bedside_flags (inpatient_no, id)")
    for op in ("UPDATE", "DELETE"):
        x(f"""CREATE TRIGGER hosp_bedside_flags_no_{op.lower()} BEFORE {op} ON hosp_bedside_flags
              BEGIN SELECT RAISE(ABORT, 'hosp_bedside_flags is append-only'); END""")
    x("""CREATE TABLE hosp_bedside_sessions (
        session_id TEXT PRIMARY KEY, inpatient_no TEXT NOT NULL, ward_code TEXT, bed_no TEXT, nurse TEXT,
        opened_at TEXT, state TEXT NOT NULL CHECK (state IN ('opened','joined','settled')),
        cashier TEXT, joined_at TEXT, settlement_no TEXT, settled_at TEXT)""")
    x("CREATE INDEX hosp_bedside_sessions_adm ON hosp_bedside_sessions (inpatient_no, state)")


MIGRATIONS = [m401_bedside_sessions]


def _upsert(tx, p: dict, state: str) -> None:
    """One session's row from an event (this device's or a pulled one): never moves backwards."""
    cols = {"opened": ("ward_code", "bed_no", "nurse", "opened_at"), "joined": ("cashier", "joined_at"),
            "settled": ("settlement_no", "settled_at", "cashier")}[state]
    vals = {c: p.get("at") if c.endswith("_at") else p.get(c) for c in cols}
    tx.execute("INSERT OR IGNORE INTO hosp_bedside_sessions (session_id, inpatient_no, state) VALUES (?, ?, ?)",
               (p["session_id"], p["inpatient_no"], state))
    tx.execute(f"UPDATE hosp_bedside_sessions SET {', '.join(f'{c} = coalesce(?, {c})' for c in cols)} "
               "WHERE session_id = ?", (*vals.values(), p["session_id"]))
    cur = row(tx, "SELECT state FROM hosp_bedside_sessions WHERE session_id = ?", (p["session_id"],))
    if _RANK[state] > _RANK[cur["state"]]:
        tx.execute("UPDATE hosp_bedside_sessions SET state = ? WHERE session_id = ?", (state, p["session_id"]))


def apply(tx, kind: str, p: dict, seq: int) -> None:
    """The ``bedside`` projection: ``bedside.opened`` / ``joined`` / ``settled`` pulled from any device."""
    _upsert(tx, p, kind.partition(".")[2])


class Bedside:
    def __init__(self, h):
        self.h = h

    def flag_immobile(self, inpatient_no: str, nurse: str, unable: bool = True, reason: str = "") -> dict:
        """The nurse marks the patient unable (or able again) to come to the counter."""
        if not nurse:
            raise BadInput("the nurse must be named")
        with self.h.store.transaction() as tx:
            a = self.h.admission(inpatient_no, tx)
            if a["state"] == "discharged":
                raise BadInput(f"{inpatient_no}: discharged", code="invalid_transition")
            at = self.h.now()
            tx.insert("hosp_bedside_flags", {"inpatient_no": inpatient_no, "unable": int(unable),
                                             "reason": reason.strip(), "nurse": nurse, "at": at})
            tx.emit("hospital.bedside.flagged", {"inpatient_no": inpatient_no, "unable": bool(unable),
                                                 "reason": reason.strip(), "nurse": nurse, "at": at})
        return self.immobile(inpatient_no)

    def immobile(self, inpatient_no: str, conn=None) -> dict:
        """The newest flag: ``{unable, reason, nurse, at}`` or {} (never flagged)."""
        r = row(conn or self.h.conn, "SELECT unable, reason, nurse, at FROM hosp_bedside_flags WHERE inpatient_no = ? "
                                     "ORDER BY id DESC LIMIT 1", (inpatient_no,))
        return {**r, "unable": bool(r["unable"])} if r else {}

    def open_bedside(self, inpatient_no: str, nurse: str) -> dict:
        """Open the stay's bedside session: the patient is flagged unable to move and the charges
        are locked (the discharge scheduled or about to be); one open session per stay."""
        if not nurse:
            raise BadInput("the nurse must be named")
        with self.h.store.transaction() as tx:
            a = self.h.admission(inpatient_no, tx)
            if not self.immobile(inpatient_no, tx).get("unable"):
                raise HospitalError(f"{inpatient_no}: not flagged unable to move", code="bedside_not_flagged")
            d = self.h._discharge_row(tx, a["id"])
            if d is None or d["state"] not in ("charges_locked", "scheduled"):
                raise HospitalError(f"{inpatient_no}: discharge is {d['state'] if d else 'not ordered'}",
                                    code="bedside_not_ready")
            if self.session(inpatient_no, tx):
                raise BadInput(f"{inpatient_no}: a bedside session is open already", code="bedside_open")
            bed = row(tx, "SELECT bed_no FROM hosp_beds WHERE id = ?", (a["bed_id"],)) or {}
            p = {"session_id": str(uuid7()), "inpatient_no": inpatient_no, "ward_code": a["ward_code"],
                 "bed_no": bed.get("bed_no") or "", "nurse": nurse, "at": self.h.now()}
            _upsert(tx, p, "opened")
            tx.emit("hospital.bedside.opened", p)
        return self.session(inpatient_no)

    def session(self, inpatient_no: str, conn=None) -> dict | None:
        """The stay's bedside session not settled yet (opened or joined), or None."""
        return row(conn or self.h.conn, "SELECT * FROM hosp_bedside_sessions WHERE inpatient_no = ? "
                   "AND state != 'settled' ORDER BY opened_at DESC LIMIT 1", (inpatient_no,))

    def bedside_sessions(self, states=("opened", "joined")) -> list[dict]:
        """The sessions this device knows (its own and pulled ones) in ``states``: the counter's list."""
        marks = ", ".join("?" for _ in states)
        return rows(self.h.conn, f"SELECT * FROM hosp_bedside_sessions WHERE state IN ({marks}) "
                                 "ORDER BY opened_at, session_id", tuple(states))

    def join_bedside(self, session_id: str, cashier: str) -> dict:
        """The cashier's counter joins a session it pulled (the ward tablet learns it by sync)."""
        if not cashier:
            raise BadInput("the cashier must be named")
        with self.h.store.transaction() as tx:
            s = row(tx, "SELECT * FROM hosp_bedside_sessions WHERE session_id = ?", (session_id,))
            if s is None:
                raise HospitalNotFound(f"no bedside session {session_id!r}")
            if s["state"] != "opened":
                raise BadInput(f"bedside session {session_id} is {s['state']}", code="bedside_joined")
            p = {"session_id": session_id, "inpatient_no": s["inpatient_no"], "cashier": cashier, "at": self.h.now()}
            _upsert(tx, p, "joined")
            tx.emit("hospital.bedside.joined", p)
        return row(self.h.conn, "SELECT * FROM hosp_bedside_sessions WHERE session_id = ?", (session_id,))

    def settle_bedside(self, inpatient_no: str) -> dict:
        """Settle the stay at the bed in its joined session (marked bedside, with the session and
        the cashier who joined it). Refused before a cashier joined (``bedside_not_joined``)."""
        s = self.session(inpatient_no)
        if s is None:
            raise HospitalError(f"{inpatient_no}: no bedside session", code="bedside_not_joined")
        if s["state"] != "joined":
            raise HospitalError(f"{inpatient_no}: no cashier joined session {s['session_id']} yet",
                                code="bedside_not_joined")
        st = self.h.settle(inpatient_no, bedside=True, session_id=s["session_id"])
        with self.h.store.transaction() as tx:
            p = {"session_id": s["session_id"], "inpatient_no": inpatient_no, "settlement_no": st["settlement_no"],
                 "cashier": s["cashier"], "at": self.h.now()}
            _upsert(tx, p, "settled")
            tx.emit("hospital.bedside.settled", p)
        return {**st, "cashier": s["cashier"], "session_id": s["session_id"]}
