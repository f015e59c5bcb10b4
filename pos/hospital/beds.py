"""Wards and beds (an aggregate of :class:`pos.hospital.service.HospitalService`): the ward list, the
free-bed list (this device's holds and the server's, as pulled) and bed assignment.

Each method runs in one store transaction and emits its outbox command in it. ``self.h`` is the
hospital service: the shared helpers (transitions, numbers, the ledger) and the other aggregates.
"""

from __future__ import annotations

from typing import Iterable

from ..rows import row
from .errors import BedOccupied, HospitalNotFound
from .workflows import ADMISSION

__all__ = ["Wards"]


class Wards:
    def __init__(self, h):
        self.h = h

    def add_ward(self, code: str, name: str, floor: int, building: str = "", beds: Iterable[str] = ()) -> None:
        with self.h.store.transaction() as tx:
            tx.execute("INSERT INTO hosp_wards (code, name, building, floor) VALUES (?, ?, ?, ?)",
                       (code, name, building, floor))
            for b in beds:
                tx.insert("hosp_beds", {"ward_code": code, "bed_no": str(b)})

    def ward(self, code: str) -> dict:
        r = row(self.h.conn, "SELECT * FROM hosp_wards WHERE code = ?", (code,))
        if r is None:
            raise HospitalNotFound(f"no ward {code!r}")
        return r

    def free_beds(self, ward_code: str) -> list[str]:
        """Beds of the ward that no admission of this device holds and that the server has given to
        nobody, as far as this device has pulled (``hosp_pulled_beds``, the pack's projection)."""
        return [r[0] for r in self.h.conn.execute(
            "SELECT b.bed_no FROM hosp_beds b WHERE b.ward_code = ? AND NOT EXISTS (SELECT 1 FROM hosp_admissions a "
            "WHERE a.bed_id = b.id AND a.state != 'discharged') AND NOT EXISTS (SELECT 1 FROM hosp_pulled_beds p "
            "WHERE p.bed_id = b.ward_code || '/' || b.bed_no AND p.state = 'occupied') ORDER BY b.bed_no",
            (ward_code,))]

    def assign_bed(self, inpatient_no: str, bed_no: str, ward_code: str | None = None) -> dict:
        """The ward's charge nurse assigns a bed (server: two devices must not give the same bed)."""
        self.h._need_server("hospital.bed.assigned")
        with self.h.store.transaction() as tx:
            a = self.h.admission(inpatient_no, tx)
            ward = ward_code or a["ward_code"]
            bed = row(tx, "SELECT * FROM hosp_beds WHERE ward_code = ? AND bed_no = ?", (ward, str(bed_no)))
            if bed is None:
                raise HospitalNotFound(f"no bed {bed_no} in ward {ward}")
            holder = row(tx, "SELECT inpatient_no FROM hosp_admissions WHERE bed_id = ? AND state != 'discharged' "
                             "AND id != ?", (bed["id"], a["id"]))
            if holder is None:                  # held on another device, as the server said
                holder = row(tx, "SELECT inpatient_no FROM hosp_pulled_beds WHERE bed_id = ? AND state = 'occupied' "
                                 "AND inpatient_no != ?", (f"{ward}/{bed['bed_no']}", inpatient_no))
            if holder:
                raise BedOccupied(f"bed {ward}-{bed_no} is held by {holder['inpatient_no']}")
            self.h._move(tx, ADMISSION, "admission", a, "assign_bed")
            tx.execute("UPDATE hosp_admissions SET bed_id = ?, ward_code = ? WHERE id = ?", (bed["id"], ward, a["id"]))
            tx.emit("hospital.bed.assigned", {"inpatient_no": inpatient_no, "ward_code": ward,
                                              "bed_no": bed["bed_no"], "at": self.h.now()})
        return self.h.admission(inpatient_no)
