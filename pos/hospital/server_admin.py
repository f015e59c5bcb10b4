"""The hospital's part of the server's IT page (``/admin``; the platform's part is
``sync.server.admin``, which calls these through the pack's server module):

* :func:`admin_overview`: today's admissions (patients by name, ID number masked), discharges and
  deposits, and the bed conflict queue (open, and the last resolved);
* :func:`admin_conflict`: one entry of that queue, for its page.

The rows are read from the server's tables (``admissions``, ``ledger``, the hospital's view
``bed_conflicts`` of the platform's ``claim_conflicts``, and the ``hospital.patient.identified``
commands for the names). Plain Python over a DB-API cursor: it imports nothing of the server.
"""

from __future__ import annotations

import json

__all__ = ["admin_overview", "admin_conflict", "mask_id", "ADMIN_LABELS"]

_CONFLICT_COLUMNS = ("conflict_id", "bed_id", "admission_id", "device_id", "held_by", "start_at", "created_at",
                     "resolved_at", "resolution")


def mask_id(number: str) -> str:
    """An ID number as a shared screen may show it: the first 6 and the last 4 characters."""
    number = str(number or "")
    return number[:6] + "*" * (len(number) - 10) + number[-4:] if len(number) > 10 else "*" * len(number)


def admin_overview(cur, start: str, end: str, local_day: str) -> dict:
    """Today's admissions, discharges and deposits (``start``/``end``: today's bounds in UTC;
    ``local_day``: today's local date), with the patients' names, and the bed conflict queue."""
    admissions = [dict(zip(("admission_id", "patient", "ward", "admitted_at"), r)) for r in cur.execute(
        "SELECT admission_id, patient, ward, admitted_at FROM admissions WHERE admitted_at >= ? AND admitted_at < ? "
        "ORDER BY admitted_at", (start, end)).fetchall()]
    discharges = [dict(zip(("admission_id", "patient", "scheduled_at", "discharged_at"), r)) for r in cur.execute(
        "SELECT admission_id, patient, discharge_scheduled_at, discharged_at FROM admissions "
        "WHERE discharge_scheduled_at = ? OR (discharged_at >= ? AND discharged_at < ?) ORDER BY admission_id",
        (local_day, start, end)).fetchall()]
    dep = cur.execute("SELECT count(*), coalesce(sum(amount_fen), 0) FROM ledger WHERE entry_kind = 'deposit' "
                      "AND created_at >= ? AND created_at < ?", (start, end)).fetchone()
    people = _patients(cur, {a["patient"] for a in admissions + discharges if a["patient"]})
    for a in admissions + discharges:
        a["patient_name"], a["patient_id"] = people.get(a["patient"], ("", ""))
    cols = ", ".join(_CONFLICT_COLUMNS)
    conflicts = [_conflict(r) for r in cur.execute(
        f"SELECT {cols} FROM bed_conflicts WHERE resolved_at IS NULL ORDER BY created_at").fetchall()]
    resolved = [_conflict(r) for r in cur.execute(
        f"SELECT {cols} FROM bed_conflicts WHERE resolved_at IS NOT NULL ORDER BY resolved_at DESC LIMIT 20"
    ).fetchall()]
    return {"admissions": admissions, "discharges": discharges,
            "deposits": {"count": dep[0], "total_fen": int(dep[1])}, "conflicts": conflicts, "resolved": resolved}


def admin_conflict(cur, conflict_id: str) -> dict | None:
    """One bed conflict (open or resolved), or None when it is not a bed's."""
    r = cur.execute(f"SELECT {', '.join(_CONFLICT_COLUMNS)} FROM bed_conflicts WHERE conflict_id = ?",
                    (conflict_id,)).fetchone()
    return _conflict(r) if r else None


def _conflict(r) -> dict:
    """A queue entry with the platform's names (``resource``, ``holder``) and the hospital's."""
    c = dict(zip(_CONFLICT_COLUMNS, r))
    c["resolution"] = json.loads(c["resolution"]) if c["resolution"] else None
    c["resource"], c["holder"] = f"bed:{c['bed_id']}", c["admission_id"]
    return c


def _patients(cur, uids: set[str]) -> dict[str, tuple[str, str]]:
    """patient_uid -> (name, masked ID number), from the ``hospital.patient.identified`` commands. The
    payload text is canonical JSON (sorted keys, no spaces), so the uid is found as text."""
    out: dict[str, tuple[str, str]] = {}
    uids = sorted(uids)[:500]
    for i in range(0, len(uids), 50):
        part = uids[i:i + 50]
        where = " OR ".join(["payload LIKE ?"] * len(part))
        for (payload,) in cur.execute(
                f"SELECT payload FROM commands WHERE kind = 'hospital.patient.identified' AND ({where})",
                [f'%"patient_uid":{json.dumps(u, ensure_ascii=False)}%' for u in part]).fetchall():
            p = json.loads(payload)
            ident = p.get("identity") if isinstance(p.get("identity"), dict) else {}
            out[p.get("patient_uid")] = (str(p.get("name") or ""), mask_id(ident.get("id_number") or ""))
    return out


#: the hospital's words on the IT page (merged over the platform's by sync.server.admin.LABELS)
ADMIN_LABELS = {
    'en': {
        'admissions': 'Admissions',
        'conflicts': 'Bed conflict queue',
        'bed': 'Bed',
        'admission': 'Admission',
        'patient': 'Patient',
        'ward': 'Ward',
        'resolve_title': 'Resolve a bed conflict',
        'assign_title': 'Assign another bed',
        'bed_no': 'Bed no.',
        'dismiss_title': 'Dismiss without a bed',
        'assigned_to': 'assigned to {bed}',
        'done': 'Resolved: {admission} ({result}).',
        'free_note': 'The bed must be free from now on.',
        'err_bed_taken': 'Bed {bed} is taken by {held_by}.',
        'err_has_bed': '{admission} already holds bed {bed}.',
        'err_bed_required': 'Enter the ward and the bed number.',
    },
    'zh-Hans': {
        'admissions': '入院',
        'conflicts': '床位冲突待处理',
        'bed': '床位',
        'admission': '住院号',
        'patient': '患者',
        'ward': '病区',
        'resolve_title': '处理床位冲突',
        'assign_title': '改分配其他床位',
        'bed_no': '床号',
        'dismiss_title': '不分配床位，关闭此冲突',
        'assigned_to': '改分配至 {bed}',
        'done': '已处理：{admission}（{result}）。',
        'free_note': '该床位须从现在起空闲。',
        'err_bed_taken': '床位 {bed} 已被 {held_by} 占用。',
        'err_has_bed': '{admission} 已有床位 {bed}。',
        'err_bed_required': '请填写病区和床号。',
    },
    'zh-Hant': {
        'admissions': '入院',
        'conflicts': '床位衝突待處理',
        'bed': '床位',
        'admission': '住院號',
        'patient': '患者',
        'ward': '病區',
        'resolve_title': '處理床位衝突',
        'assign_title': '改分配其他床位',
        'bed_no': '床號',
        'dismiss_title': '不分配床位，關閉此衝突',
        'assigned_to': '改分配至 {bed}',
        'done': '已處理：{admission}（{result}）。',
        'free_note': '該床位須從現在起空閒。',
        'err_bed_taken': '床位 {bed} 已被 {held_by} 佔用。',
        'err_has_bed': '{admission} 已有床位 {bed}。',
        'err_bed_required': '請填寫病區和床號。',
    },
}
