"""Hospital tables (migration module listed in ``pos.store.migrations.MIGRATION_MODULES``).

Local rows use small integer keys; rows that travel carry a global key (UUIDv7 or a
device-prefixed number). The deposit ledger and the charge lines are append-only: SQLite
triggers reject UPDATE and DELETE, so a balance can only be derived, never edited.
"""

from __future__ import annotations

import sqlite_utils

__all__ = ["MIGRATIONS", "APPEND_ONLY"]

APPEND_ONLY = ("hosp_ledger", "hosp_charges")


def m001_hospital(db: sqlite_utils.Database) -> None:
    x = db.execute
    x("""CREATE TABLE hosp_patients (
        id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
        sex TEXT, birth_date TEXT, created_at TEXT NOT NULL)""")
    x("""CREATE TABLE hosp_identities (
        id INTEGER PRIMARY KEY, patient_id INTEGER NOT NULL REFERENCES hosp_patients(id),
        source TEXT NOT NULL CHECK (source IN ('ssc','egk','cn_id','evoucher','his_card','counter')),
        id_number TEXT, card_number TEXT, scheme TEXT, member_id TEXT, created_at TEXT NOT NULL,
        UNIQUE (source, id_number, card_number))""")
    x("CREATE INDEX hosp_identities_idno ON hosp_identities (id_number)")
    x("""CREATE TABLE hosp_wards (
        code TEXT PRIMARY KEY, name TEXT NOT NULL, building TEXT NOT NULL DEFAULT '',
        floor INTEGER NOT NULL)""")
    x("""CREATE TABLE hosp_beds (
        id INTEGER PRIMARY KEY, ward_code TEXT NOT NULL REFERENCES hosp_wards(code),
        bed_no TEXT NOT NULL, UNIQUE (ward_code, bed_no))""")
    x("""CREATE TABLE hosp_notices (
        id INTEGER PRIMARY KEY, notice_no TEXT NOT NULL UNIQUE,
        source TEXT NOT NULL CHECK (source IN ('his','counter')),
        patient_name TEXT NOT NULL, id_number TEXT NOT NULL, ward_code TEXT NOT NULL REFERENCES hosp_wards(code),
        diagnosis TEXT NOT NULL DEFAULT '', doctor TEXT NOT NULL DEFAULT '',
        suggested_deposit_fen INTEGER NOT NULL CHECK (suggested_deposit_fen >= 0),
        issued_at TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'open')""")
    x("CREATE INDEX hosp_notices_idno ON hosp_notices (id_number, state)")
    x("""CREATE TABLE hosp_admissions (
        id INTEGER PRIMARY KEY, uid TEXT NOT NULL UNIQUE, inpatient_no TEXT UNIQUE,
        patient_id INTEGER NOT NULL REFERENCES hosp_patients(id),
        notice_id INTEGER NOT NULL REFERENCES hosp_notices(id),
        ward_code TEXT NOT NULL REFERENCES hosp_wards(code), bed_id INTEGER REFERENCES hosp_beds(id),
        scheme TEXT NOT NULL, identity_id INTEGER REFERENCES hosp_identities(id),
        state TEXT NOT NULL, green_channel INTEGER NOT NULL DEFAULT 0,
        admitted_at TEXT NOT NULL, discharged_at TEXT)""")
    x("""CREATE UNIQUE INDEX hosp_admissions_bed_active ON hosp_admissions (bed_id)
         WHERE bed_id IS NOT NULL AND state != 'discharged'""")
    x("""CREATE TABLE hosp_green_items (
        id INTEGER PRIMARY KEY, admission_id INTEGER NOT NULL REFERENCES hosp_admissions(id),
        kind TEXT NOT NULL CHECK (kind IN ('deposit','id_document','insurance_card','outpatient_record')),
        state TEXT NOT NULL DEFAULT 'open', opened_at TEXT NOT NULL, closed_at TEXT,
        UNIQUE (admission_id, kind))""")
    x("""CREATE TABLE hosp_fee_items (
        code TEXT PRIMARY KEY, name TEXT NOT NULL, spec TEXT NOT NULL DEFAULT '',
        unit TEXT NOT NULL DEFAULT '', category TEXT NOT NULL CHECK (category IN ('甲','乙','丙')))""")
    x("""CREATE TABLE hosp_charges (
        id INTEGER PRIMARY KEY, admission_id INTEGER NOT NULL REFERENCES hosp_admissions(id),
        service_date TEXT NOT NULL, fee_code TEXT NOT NULL REFERENCES hosp_fee_items(code),
        unit_price_fen INTEGER NOT NULL CHECK (unit_price_fen >= 0),
        qty_milli INTEGER NOT NULL CHECK (qty_milli != 0),
        amount_fen INTEGER NOT NULL,
        category TEXT NOT NULL CHECK (category IN ('甲','乙','丙')),
        department TEXT NOT NULL DEFAULT '',
        reverses_id INTEGER REFERENCES hosp_charges(id), ref TEXT, recorded_at TEXT NOT NULL)""")
    # covering: the daily list, running totals and the settlement sums read only the index
    x("CREATE INDEX hosp_charges_day ON hosp_charges (admission_id, service_date, category, amount_fen)")
    x("CREATE UNIQUE INDEX hosp_charges_reversal ON hosp_charges (reverses_id) WHERE reverses_id IS NOT NULL")
    x("""CREATE TABLE hosp_ledger (
        id INTEGER PRIMARY KEY, admission_id INTEGER NOT NULL REFERENCES hosp_admissions(id),
        entry_no TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('deposit','arrears','refund','collection','settle','unsettle')),
        amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
        method TEXT NOT NULL DEFAULT '', reference TEXT NOT NULL DEFAULT '', masked_pan TEXT NOT NULL DEFAULT '',
        settlement_id INTEGER, created_at TEXT NOT NULL)""")
    x("CREATE INDEX hosp_ledger_adm ON hosp_ledger (admission_id, kind)")
    x("""CREATE TABLE hosp_receipts (
        id INTEGER PRIMARY KEY, receipt_no TEXT NOT NULL UNIQUE,
        admission_id INTEGER NOT NULL REFERENCES hosp_admissions(id),
        ledger_id INTEGER NOT NULL REFERENCES hosp_ledger(id),
        kind TEXT NOT NULL, amount_fen INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'issued',
        issued_at TEXT NOT NULL, taken_back_at TEXT)""")
    x("CREATE INDEX hosp_receipts_adm ON hosp_receipts (admission_id, state)")
    x("""CREATE TABLE hosp_discharges (
        id INTEGER PRIMARY KEY, admission_id INTEGER NOT NULL UNIQUE REFERENCES hosp_admissions(id),
        summary TEXT NOT NULL, ebill_no TEXT NOT NULL, doctor TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL, scheduled_for TEXT, bedside INTEGER NOT NULL DEFAULT 0,
        session_id TEXT, ordered_at TEXT NOT NULL, discharged_at TEXT)""")
    x("""CREATE TABLE hosp_settlements (
        id INTEGER PRIMARY KEY, settlement_no TEXT NOT NULL UNIQUE, msg_id TEXT NOT NULL UNIQUE,
        admission_id INTEGER NOT NULL REFERENCES hosp_admissions(id),
        state TEXT NOT NULL, scheme TEXT NOT NULL, total_fen INTEGER NOT NULL,
        pooled_fen INTEGER, selfpay_fen INTEGER, breakdown TEXT, setl_id TEXT,
        cancel_msg_id TEXT, bedside INTEGER NOT NULL DEFAULT 0, session_id TEXT,
        created_at TEXT NOT NULL, completed_at TEXT, note TEXT NOT NULL DEFAULT '')""")
    x("""CREATE UNIQUE INDEX hosp_settlements_open ON hosp_settlements (admission_id)
         WHERE state IN ('intent','recorded','cancelling')""")
    x("""CREATE TABLE hosp_transitions (
        id INTEGER PRIMARY KEY, entity TEXT NOT NULL, entity_id INTEGER NOT NULL,
        from_state TEXT, to_state TEXT NOT NULL, event TEXT NOT NULL, at TEXT NOT NULL)""")
    for table in APPEND_ONLY:
        for op in ("UPDATE", "DELETE"):
            x(f"""CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
                  BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""")


def m002_platform_settlement(db: sqlite_utils.Database) -> None:
    """Platform-exact prices and quantities, price caps, the personal account and deposit reversals.

    ``price_uyuan`` is the platform's price (micro-yuan, 6 decimals of a yuan), ``qty_e4`` its
    quantity (ten-thousandths); ``amount_fen`` stays the one stored amount. A fee item may carry
    its price cap (限價, ``price_cap_uyuan``) and its 乙 self-pay-first share (``selfpay_permille``).
    """
    x = db.execute
    x("ALTER TABLE hosp_fee_items ADD COLUMN price_cap_uyuan INTEGER CHECK (price_cap_uyuan >= 0)")
    x("ALTER TABLE hosp_fee_items ADD COLUMN selfpay_permille INTEGER "
      "CHECK (selfpay_permille BETWEEN 0 AND 1000)")
    x("ALTER TABLE hosp_charges ADD COLUMN price_uyuan INTEGER")
    x("ALTER TABLE hosp_charges ADD COLUMN qty_e4 INTEGER")
    x("ALTER TABLE hosp_settlements ADD COLUMN acct_fen INTEGER")
    x("ALTER TABLE hosp_settlements ADD COLUMN cash_fen INTEGER")
    x("ALTER TABLE hosp_settlements ADD COLUMN source TEXT NOT NULL DEFAULT ''")
    # 沖銷: a deposit taken back with a supervisor's approval; its receipt is voided
    x("""CREATE TABLE hosp_reversals (
        id INTEGER PRIMARY KEY, admission_id INTEGER NOT NULL REFERENCES hosp_admissions(id),
        receipt_no TEXT NOT NULL, deposit_ledger_id INTEGER NOT NULL REFERENCES hosp_ledger(id),
        refund_ledger_id INTEGER REFERENCES hosp_ledger(id), amount_fen INTEGER NOT NULL,
        method TEXT NOT NULL, supervisor TEXT NOT NULL, cashier TEXT NOT NULL, reason TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('approved','done','failed')),
        approved_at TEXT NOT NULL, done_at TEXT)""")
    x("CREATE UNIQUE INDEX hosp_reversals_open ON hosp_reversals (receipt_no) WHERE state != 'failed'")


def m003_identity_checks(db: sqlite_utils.Database) -> None:
    """人證合一 at the ward (H-A4): each confirmation or refusal, by whom and when (append-only).
    The newest row of an admission decides: a refusal blocks charges and discharge."""
    x = db.execute
    x("""CREATE TABLE hosp_identity_checks (
        id INTEGER PRIMARY KEY, admission_id INTEGER NOT NULL REFERENCES hosp_admissions(id),
        outcome TEXT NOT NULL CHECK (outcome IN ('confirmed','refused')), reason TEXT NOT NULL DEFAULT '',
        staff TEXT NOT NULL, at TEXT NOT NULL)""")
    x("CREATE INDEX hosp_identity_checks_adm ON hosp_identity_checks (admission_id, id)")
    for op in ("UPDATE", "DELETE"):
        x(f"""CREATE TRIGGER hosp_identity_checks_no_{op.lower()} BEFORE {op} ON hosp_identity_checks
              BEGIN SELECT RAISE(ABORT, 'hosp_identity_checks is append-only'); END""")


def m004_bed_marks(db: sqlite_utils.Database) -> None:
    """A free bed's state at the ward: reserved for an arriving patient, being cleaned, ready again
    (append-only; the newest row of a bed decides)."""
    x = db.execute
    x("""CREATE TABLE hosp_bed_marks (
        id INTEGER PRIMARY KEY, ward_code TEXT NOT NULL, bed_no TEXT NOT NULL,
        mark TEXT NOT NULL CHECK (mark IN ('reserved','cleaning','ready')), inpatient_no TEXT,
        staff TEXT NOT NULL, at TEXT NOT NULL)""")
    x("CREATE INDEX hosp_bed_marks_bed ON hosp_bed_marks (ward_code, bed_no, id)")
    for op in ("UPDATE", "DELETE"):
        x(f"""CREATE TRIGGER hosp_bed_marks_no_{op.lower()} BEFORE {op} ON hosp_bed_marks
              BEGIN SELECT RAISE(ABORT, 'hosp_bed_marks is append-only'); END""")


MIGRATIONS = [m001_hospital, m002_platform_settlement, m003_identity_checks, m004_bed_marks]


def m005_perf_charge_days(db: sqlite_utils.Database) -> None:
    """Each stay's charges summed per service day, kept by a trigger on the append-only charge lines
    (so every path that adds a line, a synced one too, keeps it): the daily list's running total reads
    a stay's days instead of all its lines (docs/performance.md, hospital domain)."""
    x = db.execute
    x("""CREATE TABLE hosp_charge_days (
        admission_id INTEGER NOT NULL, service_date TEXT NOT NULL, total_fen INTEGER NOT NULL,
        PRIMARY KEY (admission_id, service_date)) WITHOUT ROWID""")
    x("""INSERT INTO hosp_charge_days SELECT admission_id, service_date, SUM(amount_fen) FROM hosp_charges
         GROUP BY admission_id, service_date""")
    x("""CREATE TRIGGER hosp_charge_days_add AFTER INSERT ON hosp_charges BEGIN
           INSERT INTO hosp_charge_days (admission_id, service_date, total_fen)
           VALUES (new.admission_id, new.service_date, new.amount_fen)
           ON CONFLICT (admission_id, service_date) DO UPDATE SET total_fen = total_fen + excluded.total_fen;
         END""")


MIGRATIONS.append(m005_perf_charge_days)
