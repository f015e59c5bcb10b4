"""Patient search at the counter: by name, ID number, inpatient number, notice number, or a
scanned wristband / deposit receipt code. Read-only SQL on the store's connection (the counter's
search; with :mod:`pos.hospital.views`, the hospital's read model)."""

from __future__ import annotations

__all__ = ["search", "open_notices", "by_initials", "initials", "KIND_ADMISSION", "KIND_NOTICE"]

KIND_ADMISSION = "admission"
KIND_NOTICE = "notice"

_ADMISSIONS = """
SELECT a.inpatient_no, a.uid, a.state, a.ward_code, a.green_channel, a.admitted_at, p.name, p.sex,
       p.birth_date, i.id_number
FROM hosp_admissions a JOIN hosp_patients p ON p.id = a.patient_id
LEFT JOIN hosp_identities i ON i.id = a.identity_id
WHERE a.inpatient_no IS NOT NULL AND ({where})
ORDER BY a.admitted_at DESC, a.id DESC LIMIT ?"""

_NOTICES = """
SELECT notice_no, patient_name AS name, id_number, ward_code, suggested_deposit_fen, issued_at, source
FROM hosp_notices WHERE state = 'open' AND ({where}) ORDER BY issued_at DESC, id DESC LIMIT ?"""


def _rows(conn, sql: str, params) -> list[dict]:
    cur = conn.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def search(conn, query: str, limit: int = 20) -> list[dict]:
    """Admissions and open notices matching ``query`` (each row has ``kind``).

    An exact inpatient number, a deposit receipt number or a notice number finds just that; two or
    more Latin letters are a name's pinyin initials (``wz``: 王喆); a digit string finds ID numbers
    (exact or by their last digits); anything else is a name part.
    """
    q = (query or "").strip()
    if not q:
        return []
    up = q.upper()
    adm = _rows(conn, _ADMISSIONS.format(where="a.inpatient_no = ? OR a.id IN "
                                               "(SELECT admission_id FROM hosp_receipts WHERE receipt_no = ?)"),
                (up, up, limit))
    if adm:
        return [dict(r, kind=KIND_ADMISSION) for r in adm]
    notices = _rows(conn, _NOTICES.format(where="notice_no = ?"), (up, limit))
    if notices:
        return [dict(r, kind=KIND_NOTICE) for r in notices]
    if q.isascii() and q.isalpha() and len(q) >= 2:
        return by_initials(conn, q, limit)
    if any(ch.isdigit() for ch in q) and q.replace("x", "X").rstrip("X").isdigit():
        where_a, where_n, args = "i.id_number = ? OR i.id_number LIKE ?", "id_number = ? OR id_number LIKE ?", \
            (up, "%" + up)
    else:
        where_a, where_n, args = "p.name LIKE ?", "patient_name LIKE ?", ("%" + q + "%",)
    out = [dict(r, kind=KIND_ADMISSION) for r in _rows(conn, _ADMISSIONS.format(where=where_a), (*args, limit))]
    out += [dict(r, kind=KIND_NOTICE) for r in _rows(conn, _NOTICES.format(where=where_n), (*args, limit))]
    return out[:limit]


def initials(name: str) -> str:
    """The pinyin initials of a Chinese name: 王喆 -> ``wz`` (the common reading of each character)."""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(name or "", style=Style.FIRST_LETTER, errors="ignore")).lower()


def by_initials(conn, letters: str, limit: int = 20, scan: int = 5000) -> list[dict]:
    """Admissions (not discharged) and open notices whose name's pinyin initials start with
    ``letters`` (``wz`` finds 王喆): how a cashier without a Chinese input method finds a name."""
    want = letters.lower()
    adm = _rows(conn, _ADMISSIONS.format(where="a.state != 'discharged'"), (scan,))
    out = [dict(r, kind=KIND_ADMISSION) for r in adm if initials(r["name"]).startswith(want)]
    out += [dict(r, kind=KIND_NOTICE) for r in _rows(conn, _NOTICES.format(where="1"), (scan,))
            if initials(r["name"]).startswith(want)]
    return out[:limit]


def open_notices(conn, limit: int = 50) -> list[dict]:
    """Every open admission notice, newest first (the registration list)."""
    return [dict(r, kind=KIND_NOTICE) for r in _rows(conn, _NOTICES.format(where="1"), (limit,))]
