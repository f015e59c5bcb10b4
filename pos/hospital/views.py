"""The hospital's read model: every read of the ``hosp_*`` tables that the flows, the counter and
the screens need beyond the services' own commands. With the services (which own the writes) and
:mod:`pos.hospital.search`, this is the only place that writes SQL over the hospital's tables.
Each function takes a connection (or a transaction) and returns plain rows."""

from __future__ import annotations

from ..rows import row, rows

__all__ = ["last_unit_price", "taken_back_receipts", "current_admission", "first_service_date", "latest_receipt_no", "notice_by_id",
           "admission_page", "receipts", "receipt_holder", "wards", "card_deposit_receipt", "scheduled_discharges",
           "pulled_admission", "discharge_requests", "discharge_notice", "daily_list_given", "bed_marks",
           "his_charge_ids", "discharge_order_from_his"]


def taken_back_receipts(conn, admission_id: int) -> list[str]:
    """The deposit receipts a settlement took back, in issue order."""
    return [r[0] for r in conn.execute("SELECT receipt_no FROM hosp_receipts WHERE admission_id = ? "
                                       "AND state = 'taken_back' ORDER BY id", (admission_id,))]


def current_admission(conn, id_number: str) -> dict | None:
    """The newest registered, not discharged admission of the person with ``id_number``."""
    return row(conn, "SELECT a.* FROM hosp_admissions a JOIN hosp_identities i ON i.patient_id = a.patient_id "
                     "WHERE i.id_number = ? AND a.state != 'discharged' AND a.inpatient_no IS NOT NULL "
                     "ORDER BY a.id DESC LIMIT 1", (id_number,))


def first_service_date(conn, admission_id: int) -> str | None:
    return conn.execute("SELECT MIN(service_date) FROM hosp_charges WHERE admission_id = ?",
                        (admission_id,)).fetchone()[0]


def latest_receipt_no(conn, admission_id: int, kind: str) -> str | None:
    r = conn.execute("SELECT receipt_no FROM hosp_receipts WHERE admission_id = ? AND kind = ? ORDER BY id DESC LIMIT 1",
                     (admission_id, kind)).fetchone()
    return r[0] if r else None


def notice_by_id(conn, notice_id: int) -> dict | None:
    return row(conn, "SELECT * FROM hosp_notices WHERE id = ?", (notice_id,))


def admission_page(conn, a: dict) -> dict:
    """Who and where an admission is (the counter's patient page): person, ward, bed, notice, open items."""
    p = row(conn, "SELECT * FROM hosp_patients WHERE id = ?", (a["patient_id"],))
    w = row(conn, "SELECT * FROM hosp_wards WHERE code = ?", (a["ward_code"],))
    bed = row(conn, "SELECT bed_no FROM hosp_beds WHERE id = ?", (a["bed_id"],)) if a["bed_id"] else None
    notice = notice_by_id(conn, a["notice_id"])
    return {"name": p["name"], "sex": p["sex"], "birth_date": p["birth_date"], "ward_name": w["name"],
            "floor": w["floor"], "building": w["building"], "bed": bed["bed_no"] if bed else "",
            "suggested_deposit_fen": notice["suggested_deposit_fen"],
            "green_items": rows(conn, "SELECT kind, state FROM hosp_green_items WHERE admission_id = ? ORDER BY id",
                                (a["id"],))}


def receipts(conn, inpatient_no: str, state: str | None = None) -> list[dict]:
    sql = ("SELECT r.receipt_no, r.kind, r.amount_fen, r.state, r.issued_at, r.taken_back_at, l.method, "
           "l.reference, l.masked_pan, a.inpatient_no, p.name, w.name AS ward_name FROM hosp_receipts r "
           "JOIN hosp_ledger l ON l.id = r.ledger_id JOIN hosp_admissions a ON a.id = r.admission_id "
           "JOIN hosp_patients p ON p.id = a.patient_id JOIN hosp_wards w ON w.code = a.ward_code "
           "WHERE a.inpatient_no = ?" + (" AND r.state = ?" if state else "") + " ORDER BY r.id")
    return rows(conn, sql, (inpatient_no, state) if state else (inpatient_no,))


def receipt_holder(conn, receipt_no: str) -> dict | None:
    """``{receipt_no, state, inpatient_no}`` of a receipt, or None."""
    return row(conn, "SELECT r.receipt_no, r.state, a.inpatient_no FROM hosp_receipts r JOIN hosp_admissions a "
                     "ON a.id = r.admission_id WHERE r.receipt_no = ?", (receipt_no,))


def wards(conn) -> list[dict]:
    return rows(conn, "SELECT code, name, floor, building FROM hosp_wards ORDER BY code")


def card_deposit_receipt(conn, reference: str) -> str:
    """The receipt of the deposit booked for a card payment (by the terminal's reference), or ''."""
    r = row(conn, "SELECT r.receipt_no FROM hosp_receipts r JOIN hosp_ledger l ON l.id = r.ledger_id "
                  "WHERE l.reference = ? AND l.kind = 'deposit' ORDER BY r.id DESC LIMIT 1", (reference,))
    return r["receipt_no"] if r else ""


def scheduled_discharges(conn, day: str) -> list[dict]:
    """The discharges scheduled for ``day`` (site date) and not done yet, as this device pulled them
    from every device (``hosp_pulled_admissions``): the counter's "today's discharges"."""
    return rows(conn, "SELECT inpatient_no, ward_code, scheduled_for FROM hosp_pulled_admissions "
                      "WHERE substr(scheduled_for, 1, 10) = ? AND coalesce(discharged_at, '') = '' "
                      "ORDER BY scheduled_for, inpatient_no", (day,))


def last_unit_price(conn, fee_code: str) -> int | None:
    """The fee item's unit price (fen) as last charged on this device, or None (the catalogue has
    no prices; the ward offers the last one)."""
    r = conn.execute("SELECT unit_price_fen FROM hosp_charges WHERE fee_code = ? AND reverses_id IS NULL "
                     "ORDER BY id DESC LIMIT 1", (fee_code,)).fetchone()
    return r[0] if r else None


def settlements_left_open(conn) -> int:
    """How many settlements a crash left in ``intent`` or ``cancelling`` (0 in a store without the
    hospital's tables), so start-up asks the platform only when there is something to ask."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'hosp_settlements'").fetchone():
        return 0
    return conn.execute("SELECT count(*) FROM hosp_settlements WHERE state IN ('intent', 'cancelling')").fetchone()[0]


def pulled_admission(conn, inpatient_no: str) -> dict | None:
    """An admission as this device pulled it from the server (any device's), or None."""
    return row(conn, "SELECT * FROM hosp_pulled_admissions WHERE inpatient_no = ?", (inpatient_no,))


def discharge_requests(conn, ward_code: str) -> list[dict]:
    """The patients of ``ward_code`` who asked at the kiosk for a scheduled discharge that is not
    scheduled yet (pulled from every device, oldest first): ``inpatient_no, wanted_for, at, name``
    (the patient's name as the kiosk sent it)."""
    return rows(conn, "SELECT r.inpatient_no, r.wanted_for, r.at, coalesce(p.name, r.name, '') AS name "
                      "FROM hosp_pulled_discharge_requests r "
                      "LEFT JOIN hosp_pulled_admissions pa ON pa.inpatient_no = r.inpatient_no "
                      "LEFT JOIN hosp_admissions a ON a.inpatient_no = r.inpatient_no "
                      "LEFT JOIN hosp_patients p ON p.id = a.patient_id "
                      "LEFT JOIN hosp_discharges d ON d.admission_id = a.id "
                      "WHERE r.ward_code = ? AND coalesce(pa.scheduled_for, '') = '' AND d.scheduled_for IS NULL "
                      "AND coalesce(a.state, '') != 'discharged' AND coalesce(pa.discharged_at, '') = '' "
                      "ORDER BY r.at, r.inpatient_no", (ward_code,))


def discharge_notice(conn, inpatient_no: str) -> dict:
    """What the patient's kiosk screen says of the discharge: ``requested_at`` and ``wanted_for``
    of the patient's request, and ``scheduled_for`` once the ward scheduled it (this device's own
    schedule, or the one it pulled); empty strings when there is none."""
    r = row(conn, "SELECT at, wanted_for FROM hosp_pulled_discharge_requests WHERE inpatient_no = ?",
            (inpatient_no,)) or {}
    own = row(conn, "SELECT d.scheduled_for FROM hosp_discharges d JOIN hosp_admissions a ON a.id = d.admission_id "
                    "WHERE a.inpatient_no = ?", (inpatient_no,)) or {}
    pulled = pulled_admission(conn, inpatient_no) or {}
    return {"requested_at": r.get("at") or "", "wanted_for": r.get("wanted_for") or "",
            "scheduled_for": own.get("scheduled_for") or pulled.get("scheduled_for") or ""}


def daily_list_given(conn, inpatient_no: str) -> dict | None:
    """The newest daily list the station gave this patient (``hospital.daily_list.printed``, as
    pulled): ``{day, as_of, total_fen}``, or None."""
    return row(conn, "SELECT day, as_of, total_fen FROM hosp_pulled_daily_lists WHERE inpatient_no = ? "
                     "ORDER BY day DESC LIMIT 1", (inpatient_no,))


def bed_marks(conn, ward_code: str) -> dict[str, dict]:
    """bed number -> the newest mark any station set on it, as pulled (``{mark, inpatient_no, staff, at}``)."""
    return {r["bed_id"].partition("/")[2]: r for r in rows(
        conn, "SELECT bed_id, mark, inpatient_no, staff, at FROM hosp_pulled_bed_marks WHERE bed_id LIKE ? ESCAPE '!'",
        (ward_code.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "/%",))}


def his_charge_ids(conn, inpatient_no: str) -> set[int]:
    """The stay's charge lines that arrived from the HIS (``his.charge``, ref ``HIS-…``): the ward
    shows them read-only (they are changed at the HIS, which sends the reversal)."""
    return {r[0] for r in conn.execute("SELECT c.id FROM hosp_charges c JOIN hosp_admissions a ON a.id = c.admission_id "
                                       "WHERE a.inpatient_no = ? AND c.ref LIKE 'HIS-%'", (inpatient_no,))}


def discharge_order_from_his(conn, inpatient_no: str) -> bool:
    """True when the stay's discharge order was received from the HIS (``his.discharge_ordered``),
    not entered on this device (which queues ``hospital.discharge.ordered`` for it)."""
    r = conn.execute("SELECT 1 FROM hosp_discharges d JOIN hosp_admissions a ON a.id = d.admission_id "
                     "WHERE a.inpatient_no = ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE "
                     "o.kind = 'hospital.discharge.ordered' AND json_extract(o.payload, '$.inpatient_no') = ?)",
                     (inpatient_no, inpatient_no)).fetchone()
    return r is not None


def first_inpatient_no(conn) -> str | None:
    """The oldest admission's inpatient number (the demo's autoplay opens it), or None."""
    r = conn.execute("SELECT inpatient_no FROM hosp_admissions ORDER BY id LIMIT 1").fetchone()
    return r[0] if r else None
