"""Finding a patient's current stay from what they carry: a card identity or the wristband."""

from __future__ import annotations

from ..hospital.errors import HospitalNotFound
from ..hospital.ledger import row

__all__ = ["current_admission", "patient_name"]


def patient_name(hospital, admission: dict) -> str:
    return hospital._patient(hospital.conn, admission["patient_id"])["name"] or ""


def current_admission(hospital, identity=None, inpatient_no: str | None = None) -> dict | None:
    """The stay (not yet discharged) of the person ``identity`` names, or the one whose wristband
    barcode ``inpatient_no`` was scanned. None when there is no such stay."""
    if inpatient_no:
        try:
            a = hospital.admission(inpatient_no.strip())
        except HospitalNotFound:
            return None
        return a if a["state"] != "discharged" and a["inpatient_no"] else None
    rec = hospital.resolve_identity(identity)
    return row(hospital.conn,
               "SELECT a.* FROM hosp_admissions a JOIN hosp_identities i ON i.patient_id = a.patient_id "
               "WHERE i.id_number = ? AND a.state != 'discharged' AND a.inpatient_no IS NOT NULL "
               "ORDER BY a.id DESC LIMIT 1", (rec.id_number,))
