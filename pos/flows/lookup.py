"""Finding a patient's current stay from what they carry: a card identity or the wristband."""

from __future__ import annotations

from ..hospital.errors import HospitalNotFound
from ..hospital import views

__all__ = ["current_admission", "patient_name", "identify_stay"]


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
    return views.current_admission(hospital.conn, rec.id_number)


def identify_stay(flow, identity=None, inpatient_no: str | None = None) -> bool:
    """The ``identify`` step of a flow for a patient in hospital (top-up, daily list, discharge):
    ``flow.admission`` is their current stay; without one the flow moves to ``not_admitted`` and
    this answers False."""
    flow.expect("identify")
    flow.admission = current_admission(flow.site.hospital, identity, inpatient_no)
    if flow.admission is None:
        flow.move("not_admitted")
        return False
    return True
