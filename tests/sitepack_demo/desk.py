"""The repair desk's service: book a technician's slot (offline-safe; the server has the last word)."""

from __future__ import annotations


class Desk:
    def __init__(self, site):
        self.site = site
        self.store = site.store

    def free(self, technician: str, start_at: str, end_at: str) -> bool:
        """No visit of this device or pulled from the others overlaps ``[start_at, end_at)``."""
        for table in ("techdesk_visits", "techdesk_pulled_slots"):
            if self.store.conn.execute(f"SELECT 1 FROM {table} WHERE technician = ? AND start_at < ? AND end_at > ?",
                                       (technician, end_at, start_at)).fetchone():
                return False
        return True

    def cancel(self, visit_no: str) -> None:
        with self.store.transaction() as tx:
            technician = tx.execute("SELECT technician FROM techdesk_visits WHERE visit_no = ?",
                                    (visit_no,)).fetchone()[0]
            tx.execute("DELETE FROM techdesk_visits WHERE visit_no = ?", (visit_no,))
            tx.emit("techdesk.visit.cancelled", {"visit_no": visit_no, "technician": technician})

    def book(self, technician: str, start_at: str, end_at: str) -> str:
        with self.store.transaction() as tx:
            no = tx.next_number("visit")
            tx.execute("INSERT INTO techdesk_visits (visit_no, technician, start_at, end_at) VALUES (?, ?, ?, ?)",
                       (no, technician, start_at, end_at))
            tx.emit("techdesk.visit.booked", {"visit_no": no, "technician": technician, "start_at": start_at,
                                              "end_at": end_at})
        return no
