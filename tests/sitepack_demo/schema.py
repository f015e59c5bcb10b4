"""The repair desk's store tables, its config section and its projection of pulled slots."""

from __future__ import annotations

from pos.config import Key

CONFIG = {"techdesk": {"desk_name": Key(str, "Repairs", "Name of the repair desk shown on its screen.")}}


def m001_visits(db) -> None:
    db.execute("CREATE TABLE techdesk_visits (visit_no TEXT PRIMARY KEY, technician TEXT NOT NULL, "
               "start_at TEXT NOT NULL, end_at TEXT NOT NULL)")
    db.execute("CREATE TABLE techdesk_pulled_slots (visit_no TEXT PRIMARY KEY, technician TEXT NOT NULL, "
               "start_at TEXT NOT NULL, end_at TEXT NOT NULL)")


MIGRATIONS = [m001_visits]


def slot_event(tx, kind, p, seq) -> None:
    if kind == "slot.freed":
        tx.execute("DELETE FROM techdesk_pulled_slots WHERE visit_no = ?", (p["visit_no"],))
        return
    tx.execute("INSERT OR IGNORE INTO techdesk_pulled_slots (visit_no, technician, start_at, end_at) "
               "VALUES (?, ?, ?, ?)", (p["visit_no"], p["technician"], p["start_at"], p["end_at"]))
