"""What a hospital device makes of the HIS's events (``Pack.projections``): a notice from the HIS
becomes an open notice the kiosk can check in against; the HIS's bed, discharge order and charges
apply to the admission this device registered for that notice (matched by the notice number, which
is the HIS inpatient number). Idempotent: a page applied twice changes nothing."""

from __future__ import annotations

import logging

from ..rows import row
from .workflows import ADMISSION

__all__ = ["EVENTS", "apply"]

log = logging.getLogger(__name__)

EVENTS = ("his.notice", "his.admitted", "his.transferred", "his.discharge_ordered", "his.discharge_cancelled",
          "his.admit_cancelled", "his.charge")


def _admission(tx, notice_no: str):
    return row(tx, "SELECT a.* FROM hosp_admissions a JOIN hosp_notices n ON n.id = a.notice_id "
                   "WHERE n.notice_no = ?", (notice_no,))


def _bed(tx, a: dict, p: dict) -> None:
    if not p.get("bed_no"):
        return
    bed = row(tx, "SELECT id FROM hosp_beds WHERE ward_code = ? AND bed_no = ?", (p["ward_code"], p["bed_no"]))
    if bed is None:
        log.warning("HIS bed %s/%s is not in this device's wards", p["ward_code"], p["bed_no"])
        return
    if a["bed_id"] == bed["id"] or not ADMISSION.can(a["state"], "assign_bed"):
        return
    tx.execute("UPDATE hosp_admissions SET bed_id = ?, ward_code = ?, state = ? WHERE id = ?",
               (bed["id"], p["ward_code"], ADMISSION.next(a["state"], "assign_bed"), a["id"]))


def apply(tx, kind: str, p: dict, seq: int) -> None:
    if kind == "his.notice":
        if row(tx, "SELECT code FROM hosp_wards WHERE code = ?", (p["ward_code"],)) is None:
            log.warning("HIS notice %s names ward %s, unknown on this device", p["notice_no"], p["ward_code"])
            return
        tx.execute("INSERT OR IGNORE INTO hosp_notices (notice_no, source, patient_name, id_number, ward_code, "
                   "diagnosis, doctor, suggested_deposit_fen, issued_at, state) VALUES (?, 'his', ?, ?, ?, ?, ?, ?, ?, "
                   "'open')", (p["notice_no"], p["patient_name"], p["id_number"], p["ward_code"],
                               p.get("diagnosis") or "", p.get("doctor") or "", p["suggested_deposit_fen"],
                               p.get("issued_at") or p.get("at") or ""))
        return
    a = _admission(tx, p["notice_no"])
    if kind == "his.admit_cancelled" and a is None:
        tx.execute("UPDATE hosp_notices SET state = 'cancelled' WHERE notice_no = ? AND state = 'open'",
                   (p["notice_no"],))
        return
    if a is None:
        return                                      # registered on another device, or not yet
    if kind in ("his.admitted", "his.transferred"):
        _bed(tx, a, p)
    elif kind == "his.admit_cancelled":
        tx.execute("UPDATE hosp_admissions SET bed_id = NULL WHERE id = ?", (a["id"],))
    elif kind == "his.discharge_ordered":
        # the doctor's order is a fact whatever the ward's steps (the nurse may confirm the identity
        # later); the discharge itself still needs them
        if a["state"] != "discharged":
            tx.execute("INSERT OR IGNORE INTO hosp_discharges (admission_id, summary, ebill_no, doctor, state, "
                       "ordered_at) VALUES (?, ?, ?, ?, 'ordered', ?)",
                       (a["id"], p["summary"], p["ebill_no"], p.get("doctor") or "", p.get("at") or ""))
        else:
            log.warning("HIS discharge order for %s in state %s: not applied here", a["inpatient_no"], a["state"])
    elif kind == "his.discharge_cancelled":
        tx.execute("DELETE FROM hosp_discharges WHERE admission_id = ? AND state = 'ordered'", (a["id"],))
    elif kind == "his.charge":
        if row(tx, "SELECT id FROM hosp_charges WHERE ref = ?", (p["charge_ref"],)):
            return
        d = row(tx, "SELECT state FROM hosp_discharges WHERE admission_id = ?", (a["id"],))
        if d is not None and d["state"] != "ordered":
            log.warning("HIS charge %s for %s arrived with the charges locked (%s): kept on the server only",
                        p["charge_ref"], a["inpatient_no"], d["state"])
            return
        tx.execute("INSERT OR IGNORE INTO hosp_fee_items (code, name, category) VALUES (?, ?, ?)",
                   (p["fee_code"], p.get("name") or p["fee_code"], p["category"]))
        tx.execute("INSERT INTO hosp_charges (admission_id, service_date, fee_code, unit_price_fen, qty_milli, "
                   "amount_fen, category, department, reverses_id, ref, recorded_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                   (a["id"], p.get("service_date") or (p.get("at") or "")[:10], p["fee_code"], p["unit_price_fen"],
                    p["qty_milli"], p["amount_fen"], p["category"], p.get("department") or "", p["charge_ref"],
                    p.get("at") or ""))
