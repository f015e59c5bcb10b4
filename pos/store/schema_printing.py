"""The print journal table: every print job, recorded before it is sent."""

from __future__ import annotations

import sqlite_utils


def m001_print_jobs(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE print_jobs (
            job_id      TEXT PRIMARY KEY,            -- UUIDv7
            created_at  TEXT NOT NULL,               -- UTC ISO 8601
            updated_at  TEXT NOT NULL,
            kind        TEXT NOT NULL,               -- deposit_receipt, wristband, fee_list, ...
            ref         TEXT NOT NULL DEFAULT '',    -- the document's own number (e.g. a receipt's)
            role        TEXT NOT NULL,               -- receipt_printer or label_printer
            printer_url TEXT NOT NULL DEFAULT '',
            layout      TEXT NOT NULL,               -- JSON (pos.documents.layout dict form)
            state       TEXT NOT NULL CHECK (state IN ('queued', 'printing', 'printed', 'failed')),
            attempts    INTEGER NOT NULL DEFAULT 0,
            reprint_of  TEXT REFERENCES print_jobs (job_id),
            copy_no     INTEGER NOT NULL DEFAULT 0,  -- 0 = original; n = n-th reprint (marked COPY)
            uncertain   INTEGER NOT NULL DEFAULT 0,  -- 1 = interrupted while sending: may have printed
            last_error  TEXT,
            printed_at  TEXT,
            nbytes      INTEGER
        )
        """
    )
    db.execute("CREATE INDEX print_jobs_state ON print_jobs (state, created_at)")
    db.execute("CREATE INDEX print_jobs_ref ON print_jobs (ref)")


MIGRATIONS = [m001_print_jobs]
