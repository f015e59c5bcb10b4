"""Wards and beds (an aggregate of :class:`pos.hospital.service.HospitalService`): the ward list, the
free-bed list (this device's holds and the server's, as pulled) and bed assignment.

Each method runs in one store transaction and emits its outbox command in it. ``self.h`` is the
hospital service: the shared helpers (transitions, numbers, the ledger) and the other aggregates.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Iterable

from ..rows import row, rows
from .errors import BadInput, BedOccupied, HospitalNotFound
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
            mark = self._mark(tx, ward, bed["bed_no"])
            if mark.get("mark") == "reserved" and mark["inpatient_no"] != inpatient_no:
                raise BedOccupied(f"bed {ward}-{bed_no} is reserved for {mark['inpatient_no']}", code="bed_reserved")
            self.h._move(tx, ADMISSION, "admission", a, "assign_bed")
            tx.execute("UPDATE hosp_admissions SET bed_id = ?, ward_code = ? WHERE id = ?", (bed["id"], ward, a["id"]))
            tx.emit("hospital.bed.assigned", {"inpatient_no": inpatient_no, "ward_code": ward,
                                              "bed_no": bed["bed_no"], "at": self.h.now()})
        return self.h.admission(inpatient_no)

    def bed_board(self, ward_code: str) -> list[dict]:
        """Every bed of the ward for the nurse station, in bed order: ``state`` free or occupied
        (held by an admission of this device, or by another device as the server said), and for an
        occupied bed the patient, inpatient number, days in (the admission day counts as day 1, in
        the site's time zone), deposit balance (fen) and the low-balance flag of today's daily list.
        ``conflict`` is the server's reason when this device's claim on the bed was refused."""
        beds = rows(self.h.conn, "SELECT b.id, b.bed_no, a.inpatient_no, a.admitted_at, a.state AS adm_state, "
                                 "p.name, p.sex, pb.inpatient_no AS pulled_holder, pb.state AS pulled_state "
                                 "FROM hosp_beds b LEFT JOIN hosp_admissions a ON a.bed_id = b.id "
                                 "AND a.state != 'discharged' LEFT JOIN hosp_patients p ON p.id = a.patient_id "
                                 "LEFT JOIN hosp_pulled_beds pb ON pb.bed_id = b.ward_code || '/' || b.bed_no "
                                 "WHERE b.ward_code = ? ORDER BY b.bed_no", (ward_code,))
        refused = self.bed_conflicts(ward_code)
        today = dt.date.fromisoformat(self.h.today())
        tz = zoneinfo.ZoneInfo(self.h.tz)
        out = []
        for b in beds:
            cell = {"bed_no": b["bed_no"], "state": "free", "inpatient_no": "", "name": "", "days": 0,
                    "balance_fen": None, "low_balance": False, "conflict": None, "id_check": ""}
            if b["inpatient_no"]:
                admitted = dt.datetime.fromisoformat(b["admitted_at"].replace("Z", "+00:00")).astimezone(tz).date()
                daily = self.h.daily_list(b["inpatient_no"])
                cell.update(state="occupied", inpatient_no=b["inpatient_no"], name=b["name"],
                            days=(today - admitted).days + 1, balance_fen=daily.balance_fen,
                            low_balance=daily.low_balance,
                            id_check=self.h.identity_check(b["inpatient_no"]).get("outcome", ""),
                            conflict=refused.get((b["inpatient_no"], b["bed_no"])))
            elif b["pulled_state"] == "occupied" and b["pulled_holder"]:
                cell.update(state="occupied", inpatient_no=b["pulled_holder"], elsewhere=True)
            else:
                m = self._mark(self.h.conn, ward_code, b["bed_no"])
                if m.get("mark") in ("reserved", "cleaning"):
                    cell.update(state=m["mark"], inpatient_no=m["inpatient_no"] or "")
            out.append(cell)
        return out

    def _mark(self, conn, ward_code: str, bed_no: str) -> dict:
        """The bed's newest mark, or {} (a reservation ends with the assignment it was for)."""
        m = row(conn, "SELECT mark, inpatient_no, staff, at FROM hosp_bed_marks WHERE ward_code = ? AND bed_no = ? "
                      "ORDER BY id DESC LIMIT 1", (ward_code, bed_no)) or {}
        pulled = row(conn, "SELECT mark, inpatient_no, staff, at FROM hosp_pulled_bed_marks WHERE bed_id = ?",
                     (f"{ward_code}/{bed_no}",))
        if pulled and (not m or pulled["at"] > m["at"]):      # another station's mark, newer than ours
            m = pulled
        last_out = conn.execute("SELECT max(a.discharged_at) FROM hosp_admissions a JOIN hosp_beds b ON b.id = a.bed_id "
                                "WHERE b.ward_code = ? AND b.bed_no = ? AND a.state = 'discharged'",
                                (ward_code, bed_no)).fetchone()[0]
        if last_out and (not m or m["at"] < last_out):        # a discharge leaves the bed to be cleaned
            return {"mark": "cleaning", "inpatient_no": None, "staff": "", "at": last_out}
        if m.get("mark") == "reserved" and (conn.execute(
                "SELECT 1 FROM hosp_admissions a WHERE a.inpatient_no = ? AND (a.state = 'discharged' "
                "OR a.bed_id = (SELECT id FROM hosp_beds WHERE ward_code = ? AND bed_no = ?) OR EXISTS ("
                "SELECT 1 FROM hosp_transitions t WHERE t.entity = 'admission' AND t.entity_id = a.id "
                "AND t.event = 'assign_bed' AND t.at > ?))", (m["inpatient_no"], ward_code, bed_no, m["at"])).fetchone() \
                or conn.execute("SELECT 1 FROM hosp_pulled_beds WHERE inpatient_no = ? AND state = 'occupied' AND at > ?",
                                (m["inpatient_no"], m["at"])).fetchone()):
            return {}                          # the patient was given a bed since (here or elsewhere): done
        return m

    def mark_bed(self, ward_code: str, bed_no: str, mark: str, staff: str, inpatient_no: str | None = None) -> dict:
        """The nurse marks a free bed: ``reserved`` for an arriving patient (``inpatient_no``),
        ``cleaning``, or ``ready`` (free again)."""
        if mark not in ("reserved", "cleaning", "ready") or not staff or (mark == "reserved") != bool(inpatient_no):
            raise BadInput(f"bad bed mark {mark!r} (inpatient {inpatient_no!r})")
        with self.h.store.transaction() as tx:
            bed = row(tx, "SELECT * FROM hosp_beds WHERE ward_code = ? AND bed_no = ?", (ward_code, str(bed_no)))
            if bed is None:
                raise HospitalNotFound(f"no bed {bed_no} in ward {ward_code}")
            if bed["bed_no"] not in self.free_beds(ward_code):
                raise BedOccupied(f"bed {ward_code}-{bed_no} is not free")
            if inpatient_no:
                self.h.admission(inpatient_no, tx)
            at = self.h.now()
            tx.insert("hosp_bed_marks", {"ward_code": ward_code, "bed_no": bed["bed_no"], "mark": mark,
                                         "inpatient_no": inpatient_no, "staff": staff, "at": at})
            tx.emit("hospital.bed.marked", {"ward_code": ward_code, "bed_no": bed["bed_no"],
                                            "bed_id": f"{ward_code}/{bed['bed_no']}", "mark": mark,
                                            "inpatient_no": inpatient_no, "staff": staff, "at": at})
        return self._mark(self.h.conn, ward_code, bed["bed_no"])

    def bed_conflicts(self, ward_code: str) -> dict[tuple[str, str], dict]:
        """This device's bed claims the server refused, still standing (the admission still holds
        that bed here): ``(inpatient_no, bed_no) -> {reason, held_by}`` from the server's answer."""
        out = {}
        for r in self.h.conn.execute("SELECT payload, result FROM outbox WHERE kind = 'hospital.bed.assigned' "
                                     "AND state = 'rejected' ORDER BY device_seq"):
            p, res = json.loads(r[0]), json.loads(r[1] or "{}")
            if p.get("ward_code") != ward_code:
                continue
            a = row(self.h.conn, "SELECT a.inpatient_no FROM hosp_admissions a JOIN hosp_beds b ON b.id = a.bed_id "
                                 "WHERE a.inpatient_no = ? AND b.ward_code = ? AND b.bed_no = ? "
                                 "AND a.state != 'discharged'", (p["inpatient_no"], ward_code, p["bed_no"]))
            if a is not None:
                result = res.get("result", res)
                out[(p["inpatient_no"], p["bed_no"])] = {"reason": result.get("reason", ""),
                                                         "held_by": result.get("held_by", "")}
        return out
