"""The desk pack's pages on the central server's IT site (``Pack.pages``, behind the admin's login):

* ``/admin/packs/desk/report?month=YYYY-MM``: the monthly statistics (C-5) computed by the database
  (:func:`pos.desk.report_sql.monthly_sql`), the charts, the month-over-month comparison, the
  written analysis and the manager's sign-off. Signing stores who and when, the figures as signed
  and the PDF with the analysis and the sign-off (and its SHA-256); after that the month's analysis
  and sign-off are refused (409) and the page shows the signed figures.
* ``report/chart/{name}?month=``: one chart as PNG (matplotlib); ``report/pdf?month=``: the signed
  PDF, or a draft while unsigned.
* ``intake-callers``: which enrolled devices may call the intake endpoint, and as what
  (``monitoring``: alarms; ``repair_centre``: imported orders).

Plain Python over :class:`pos.packs.PageRequest`; the words are :func:`pos.desk.report_pdf.T`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections import OrderedDict
from datetime import datetime
from zoneinfo import ZoneInfo

from ..ids import utcnow_iso
from ..packs import PageResponse
from .report import previous_month
from .report_pdf import T

__all__ = ["report", "chart", "pdf", "analysis", "sign", "intake_callers", "ROLES", "CHARTS"]

log = logging.getLogger(__name__)

ROLES = ("monitoring", "repair_centre")
CHARTS = ("daily", "channels", "categories", "causes", "satisfaction")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_charts: OrderedDict = OrderedDict()            # (month, lang, figures' hash) -> {name: png}
_charts_lock = threading.Lock()                # pyplot (the charts, also in the PDF) is not thread-safe


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _month(page) -> str:
    m = (page.form.get("month") or page.query.get("month") or "").strip()
    if not m:
        now = datetime.now(ZoneInfo(page.tz))
        return previous_month(f"{now.year}-{now.month:02d}")     # the last whole month
    if not _MONTH.match(m):
        raise _Refused(422, T("Give the month as YYYY-MM.", page.lang))
    return m


def _saved(cur, month: str) -> dict | None:
    row = cur.execute("SELECT analysis, analysis_by, analysis_at, signed_by, signed_at, report_json, sha256 "
                      "FROM desk_reports WHERE month = ?", (month,)).fetchone()
    if row is None:
        return None
    keys = ("analysis", "analysis_by", "analysis_at", "signed_by", "signed_at", "report_json", "sha256")
    return dict(zip(keys, row))


def _figures(page, month: str) -> tuple[dict, dict | None]:
    """The month's report (as signed, once signed) and its saved analysis and sign-off."""
    from .report_sql import monthly_sql

    with page.backend.tx() as cur:
        saved = _saved(cur, month)
        if saved and saved["signed_at"]:
            return json.loads(saved["report_json"]), saved
        return monthly_sql(cur, month, page.tz), saved


def _error(page, exc: _Refused) -> PageResponse:
    log.warning("desk page %s %s refused (%d): %s", page.method, page.path, exc.status, exc.message)
    try:
        month = _month(page)
    except _Refused:
        month = ""
    if page.method == "GET" and not month:
        return PageResponse(exc.message, exc.status, "text/plain; charset=utf-8")
    return _page(page, month, error=exc.message, status=exc.status)


def _page(page, month: str, notice: str = "", error: str = "", status: int = 200) -> PageResponse:
    report_, saved = _figures(page, month) if month else (None, None)
    cur = report_["current"] if report_ else None
    L = lambda m: T(m, page.lang)  # noqa: E731
    from .catalogue import load_catalogue
    cat = load_catalogue()
    html = page.render("desk_report.html", L=L, month=month, r=report_, c=cur, saved=saved or {},
                       notice=notice, error=error, charts=CHARTS, url=page.url,
                       name=lambda c: cat.categories[c].label(page.lang) if c in cat.categories else (c or "-"),
                       avg=lambda s, n, d=1: round(s / d / n, 1) if n else None)
    return PageResponse(html, status)


def report(page) -> PageResponse:
    try:
        month = _month(page)
    except _Refused as exc:
        return _error(page, exc)
    q = page.query
    notice = T("The analysis is saved.", page.lang) if q.get("saved") else \
        T("The report is signed off.", page.lang) if q.get("signed") else ""
    return _page(page, month, notice=notice)


def chart(page) -> PageResponse:
    from .report_pdf import charts

    try:
        month = _month(page)
        name = page.params.get("name", "")
        if name not in CHARTS:
            raise _Refused(404, T("No such chart.", page.lang))
    except _Refused as exc:
        return PageResponse(exc.message, exc.status, "text/plain; charset=utf-8")
    figures, _ = _figures(page, month)
    key = (month, page.lang, hashlib.sha256(json.dumps(figures, sort_keys=True, default=str).encode()).hexdigest())
    with _charts_lock:              # pyplot is not thread-safe; the page's five images come at once
        pngs = _charts.get(key)
        if pngs is None:
            pngs = _charts[key] = charts(figures, page.lang)
            while len(_charts) > 8:
                _charts.popitem(last=False)
    return PageResponse(pngs[name], 200, "image/png")


def _signoff_text(saved: dict, tz: str) -> str:
    at = datetime.fromisoformat(saved["signed_at"].replace("Z", "+00:00")).astimezone(ZoneInfo(tz))
    return f"{saved['signed_by']} · {at:%Y-%m-%d %H:%M}"


def pdf(page) -> PageResponse:
    from .report_pdf import render_pdf

    try:
        month = _month(page)
    except _Refused as exc:
        return PageResponse(exc.message, exc.status, "text/plain; charset=utf-8")
    with page.backend.tx() as cur:
        row = cur.execute("SELECT pdf FROM desk_reports WHERE month = ? AND signed_at IS NOT NULL",
                          (month,)).fetchone()
    if row is not None:
        return PageResponse(bytes(row[0]), 200, "application/pdf")
    figures, saved = _figures(page, month)
    with _charts_lock:
        doc = render_pdf(figures, lang=page.lang, analysis=(saved or {}).get("analysis", ""))
    return PageResponse(doc, 200, "application/pdf")


def analysis(page) -> PageResponse:
    """POST: the written analysis of the month (refused once signed)."""
    try:
        month = _month(page)
        text = page.form.get("analysis", "")
        by = page.form.get("by", "").strip()
        if len(text) > 20000 or len(by) > 80:
            raise _Refused(422, T("The analysis is too long.", page.lang))
        with page.backend.tx() as cur:
            cur.execute("INSERT INTO desk_reports (month) VALUES (?) ON CONFLICT (month) DO NOTHING", (month,))
            cur.execute("UPDATE desk_reports SET analysis = ?, analysis_by = ?, analysis_at = ? "
                        "WHERE month = ? AND signed_at IS NULL", (text, by, utcnow_iso(), month))
            if cur.rowcount != 1:
                raise _Refused(409, T("The report is signed off and can no longer be changed.", page.lang))
    except _Refused as exc:
        return _error(page, exc)
    log.info("desk report %s: analysis saved by %s (%d characters)", month, by or "-", len(text))
    return PageResponse(location=page.url("report", month=month, saved="1"))


def sign(page) -> PageResponse:
    """POST: the manager's sign-off: who, when, the figures as signed and the signed PDF."""
    from .report_pdf import render_pdf
    from .report_sql import monthly_sql

    try:
        month = _month(page)
        who = page.form.get("signed_by", "").strip()
        if not who or len(who) > 80:
            raise _Refused(422, T("Give the manager's name to sign off.", page.lang))
        with page.backend.tx() as cur:
            saved = _saved(cur, month) or {}
            if saved.get("signed_at"):
                raise _Refused(409, T("The report is signed off and can no longer be changed.", page.lang))
            if not (saved.get("analysis") or "").strip():
                raise _Refused(422, T("Write the analysis before signing off.", page.lang))
            figures = monthly_sql(cur, month, page.tz)
        at = utcnow_iso()
        with _charts_lock:
            doc = render_pdf(figures, lang=page.lang, analysis=saved["analysis"],
                             signed_by=_signoff_text({"signed_by": who, "signed_at": at}, page.tz))
        digest = hashlib.sha256(doc).hexdigest()
        with page.backend.tx() as cur:
            # the analysis must be the one rendered: a change in between makes this sign-off fail
            cur.execute("UPDATE desk_reports SET signed_by = ?, signed_at = ?, report_json = ?, pdf = ?, sha256 = ? "
                        "WHERE month = ? AND signed_at IS NULL AND analysis = ?",
                        (who, at, json.dumps(figures, ensure_ascii=False, default=str), doc, digest, month,
                         saved["analysis"]))
            if cur.rowcount != 1:
                raise _Refused(409, T("The report is signed off and can no longer be changed.", page.lang))
    except _Refused as exc:
        return _error(page, exc)
    log.info("desk report %s signed off by %s at %s (sha256 %s)", month, who, at, digest[:16])
    return PageResponse(location=page.url("report", month=month, signed="1"))


def intake_callers(page) -> PageResponse:
    """GET: the devices allowed to call the intake endpoint; POST ``device_id``, ``role`` (``""``
    withdraws)."""
    L = lambda m: T(m, page.lang)  # noqa: E731
    error, status = "", 200
    if page.method == "POST":
        dev, role = page.form.get("device_id", "").strip(), page.form.get("role", "").strip()
        with page.backend.tx() as cur:
            known = cur.execute("SELECT 1 FROM devices WHERE device_id = ? AND revoked_at IS NULL",
                                (dev,)).fetchone()
            if not known or role not in (*ROLES, ""):
                error, status = L("Unknown device or role."), 422
            elif role:
                cur.execute("INSERT INTO desk_intake_callers (device_id, role, granted_at) VALUES (?, ?, ?) "
                            "ON CONFLICT (device_id) DO UPDATE SET role = excluded.role, granted_at = "
                            "excluded.granted_at", (dev, role, utcnow_iso()))
            else:
                cur.execute("DELETE FROM desk_intake_callers WHERE device_id = ?", (dev,))
        if not error:
            log.info("desk intake: device %s %s", dev, f"allowed as {role}" if role else "withdrawn")
            return PageResponse(location=page.url("intake-callers"))
        log.warning("desk intake callers: refused %r as %r", dev[:32], role[:32])
    with page.backend.tx() as cur:
        callers = cur.execute("SELECT device_id, role, granted_at FROM desk_intake_callers "
                              "ORDER BY device_id").fetchall()
        devices = [r[0] for r in cur.execute("SELECT device_id FROM devices WHERE revoked_at IS NULL "
                                             "ORDER BY device_id").fetchall()]
    return PageResponse(page.render("desk_intake.html", L=L, callers=callers, devices=devices, roles=ROLES,
                                    error=error, url=page.url), status)
