"""What every hospital device builds from the events it pulls (``Pack.projections``), so that a
device knows what the others did: beds taken or freed (the server's claims), notices, admissions
with their scheduled discharge and discharge, charge lines and settlements.

Each ``apply(tx, kind, payload, seq)`` runs in the transaction that stores the pulled page and is
idempotent (a page applied twice changes nothing). The tables are this device's copy of the
server's view, apart from its own ``hosp_*`` working tables; :mod:`pos.hospital.beds` reads them.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "bed_changed", "reset_beds", "admission_event", "reset_admissions", "bed_marked",
           "reset_bed_marks", "discharge_requested", "reset_discharge_requests", "daily_list_printed",
           "reset_daily_lists", "record_discharge_request", "record_daily_list"]


def m001_pulled(db) -> None:
    x = db.execute
    x("""CREATE TABLE hosp_pulled_beds (bed_id TEXT PRIMARY KEY, inpatient_no TEXT, state TEXT NOT NULL, at TEXT,
         seq INTEGER NOT NULL DEFAULT 0)""")
    x("""CREATE TABLE hosp_pulled_admissions (
        inpatient_no TEXT PRIMARY KEY, patient_uid TEXT, notice_no TEXT, ward_code TEXT, admitted_at TEXT,
        scheduled_for TEXT, discharged_at TEXT, seq INTEGER NOT NULL)""")
    x("""CREATE TABLE hosp_pulled_notices (
        notice_no TEXT PRIMARY KEY, id_number TEXT, ward_code TEXT, suggested_deposit_fen INTEGER, issued_at TEXT,
        seq INTEGER NOT NULL)""")
    x("""CREATE TABLE hosp_pulled_charges (
        charge_ref TEXT PRIMARY KEY, inpatient_no TEXT NOT NULL, amount_fen INTEGER NOT NULL, seq INTEGER NOT NULL)""")
    x("CREATE INDEX hosp_pulled_charges_adm ON hosp_pulled_charges (inpatient_no)")
    x("""CREATE TABLE hosp_pulled_settlements (
        settlement_no TEXT PRIMARY KEY, inpatient_no TEXT NOT NULL, state TEXT NOT NULL, seq INTEGER NOT NULL)""")
    # a store made before the site packs kept the pulled beds in the sync client's own table
    if db["sync_beds"].exists():
        x("INSERT INTO hosp_pulled_beds (bed_id, inpatient_no, state, at) "
          "SELECT bed_id, admission_id, state, at FROM sync_beds")
        x("DROP TABLE sync_beds")


def m002_wardstay_pulled_bed_marks(db) -> None:
    """Each bed's newest mark (reserved / cleaning / ready) as any station set it (``bed.marked``)."""
    db.execute("""CREATE TABLE hosp_pulled_bed_marks (bed_id TEXT PRIMARY KEY, mark TEXT NOT NULL, inpatient_no TEXT,
                  staff TEXT, at TEXT NOT NULL, seq INTEGER NOT NULL DEFAULT 0)""")


def m003_wardstay_requests_and_lists(db) -> None:
    """The patients' discharge requests (``discharge.requested``, from the kiosk) and the daily
    lists given at the station (``daily_list.printed``), as every device pulls them."""
    db.execute("""CREATE TABLE hosp_pulled_discharge_requests (inpatient_no TEXT PRIMARY KEY, ward_code TEXT,
                  wanted_for TEXT, name TEXT, at TEXT NOT NULL, seq INTEGER NOT NULL DEFAULT 0)""")
    db.execute("""CREATE TABLE hosp_pulled_daily_lists (inpatient_no TEXT NOT NULL, day TEXT NOT NULL, as_of TEXT NOT NULL,
                  total_fen INTEGER, seq INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (inpatient_no, day))""")


MIGRATIONS = [m001_pulled, m002_wardstay_pulled_bed_marks, m003_wardstay_requests_and_lists]


def bed_changed(tx, kind: str, p: dict, seq: int) -> None:
    tx.execute("INSERT INTO hosp_pulled_beds (bed_id, inpatient_no, state, at, seq) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT(bed_id) DO UPDATE SET inpatient_no = excluded.inpatient_no, state = excluded.state, "
               "at = excluded.at, seq = excluded.seq WHERE excluded.seq >= hosp_pulled_beds.seq",
               (p["bed_id"], p.get("inpatient_no") if p["state"] == "occupied" else None, p["state"], p.get("at"),
                seq))


def reset_beds(tx) -> None:
    tx.execute("DELETE FROM hosp_pulled_beds")


def reset_admissions(tx) -> None:
    for table in ("hosp_pulled_admissions", "hosp_pulled_notices", "hosp_pulled_charges", "hosp_pulled_settlements"):
        tx.execute(f"DELETE FROM {table}")


def _admission(tx, no: str, seq: int, **cols) -> None:
    names = ", ".join(cols)
    sets = ", ".join(f"{k} = coalesce(excluded.{k}, {k})" for k in cols)
    tx.execute(f"INSERT INTO hosp_pulled_admissions (inpatient_no, seq, {names}) "
               f"VALUES (?, ?, {', '.join('?' for _ in cols)}) "
               f"ON CONFLICT(inpatient_no) DO UPDATE SET {sets}, seq = max(seq, excluded.seq)",
               (no, seq, *cols.values()))


def admission_event(tx, kind: str, p: dict, seq: int) -> None:
    if kind == "admission.notice":
        tx.execute("INSERT OR IGNORE INTO hosp_pulled_notices (notice_no, id_number, ward_code, suggested_deposit_fen, "
                   "issued_at, seq) VALUES (?, ?, ?, ?, ?, ?)",
                   (p["notice_no"], p.get("id_number"), p.get("ward_code"), p.get("suggested_deposit_fen"),
                    p.get("issued_at"), seq))
    elif kind == "admission.registered":
        _admission(tx, p["inpatient_no"], seq, patient_uid=p.get("patient_uid"), notice_no=p.get("notice_no"),
                   ward_code=p.get("ward_code"), admitted_at=p.get("at"))
    elif kind == "discharge.scheduled":
        _admission(tx, p["inpatient_no"], seq, scheduled_for=p["scheduled_for"])
    elif kind == "discharged":
        _admission(tx, p["inpatient_no"], seq, discharged_at=p.get("at") or "")
    elif kind == "charge.line":
        tx.execute("INSERT OR IGNORE INTO hosp_pulled_charges (charge_ref, inpatient_no, amount_fen, seq) "
                   "VALUES (?, ?, ?, ?)", (p["charge_ref"], p["inpatient_no"], p["amount_fen"], seq))
    elif kind in ("settlement.recorded", "settlement.cancelled"):
        if p.get("settlement_no"):
            tx.execute("INSERT INTO hosp_pulled_settlements (settlement_no, inpatient_no, state, seq) "
                       "VALUES (?, ?, ?, ?) ON CONFLICT(settlement_no) DO UPDATE SET state = excluded.state, "
                       "seq = excluded.seq WHERE excluded.seq >= hosp_pulled_settlements.seq",
                       (p["settlement_no"], p["inpatient_no"], kind.partition(".")[2], seq))


def bed_marked(tx, kind: str, p: dict, seq: int) -> None:
    """A station marked a bed (``hospital.bed.marked``, recorded by the server as ``bed.marked``):
    the bed's newest mark, which every other station and the kiosk read (:mod:`pos.hospital.beds`)."""
    bed_id = p.get("bed_id") or f"{p['ward_code']}/{p['bed_no']}"
    tx.execute("INSERT INTO hosp_pulled_bed_marks (bed_id, mark, inpatient_no, staff, at, seq) VALUES (?, ?, ?, ?, ?, ?) "
               "ON CONFLICT(bed_id) DO UPDATE SET mark = excluded.mark, inpatient_no = excluded.inpatient_no, "
               "staff = excluded.staff, at = excluded.at, seq = excluded.seq WHERE excluded.seq >= hosp_pulled_bed_marks.seq",
               (bed_id, p["mark"], p.get("inpatient_no"), p.get("staff") or "", p.get("at") or "", seq))


def reset_bed_marks(tx) -> None:
    tx.execute("DELETE FROM hosp_pulled_bed_marks")


def record_discharge_request(tx, p: dict, seq: int = 0) -> None:
    """A discharge request, pulled (``seq``) or made on this device (seq 0, until its event is pulled)."""
    tx.execute("INSERT INTO hosp_pulled_discharge_requests (inpatient_no, ward_code, wanted_for, name, at, seq) "
               "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(inpatient_no) DO UPDATE SET ward_code = excluded.ward_code, "
               "wanted_for = excluded.wanted_for, name = excluded.name, at = excluded.at, seq = excluded.seq "
               "WHERE excluded.seq >= hosp_pulled_discharge_requests.seq",
               (p["inpatient_no"], p.get("ward_code"), p.get("wanted_for"), p.get("name"), p.get("at") or "", seq))


def discharge_requested(tx, kind: str, p: dict, seq: int) -> None:
    record_discharge_request(tx, p, seq)


def reset_discharge_requests(tx) -> None:
    tx.execute("DELETE FROM hosp_pulled_discharge_requests")


def record_daily_list(tx, p: dict, seq: int = 0) -> None:
    """A daily list given at the station, pulled (``seq``) or printed on this device (seq 0)."""
    tx.execute("INSERT INTO hosp_pulled_daily_lists (inpatient_no, day, as_of, total_fen, seq) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT(inpatient_no, day) DO UPDATE SET as_of = excluded.as_of, total_fen = excluded.total_fen, "
               "seq = excluded.seq WHERE excluded.seq >= hosp_pulled_daily_lists.seq",
               (p["inpatient_no"], p["day"], p.get("as_of") or "", p.get("total_fen"), seq))


def daily_list_printed(tx, kind: str, p: dict, seq: int) -> None:
    record_daily_list(tx, p, seq)


def reset_daily_lists(tx) -> None:
    tx.execute("DELETE FROM hosp_pulled_daily_lists")
