"""The IT staff page (``/admin``): server-rendered HTML from Jinja2 templates, no build step, no script.

What the page shows is gathered here, in two parts:

* the platform's part (:func:`overview`): each kiosk by its enrolled name, with its status
  (online, offline, never seen, needs attention, revoked), last-seen time, queue depth, clock skew
  and device health; open help requests; the head of the event log;
* the site's part (:func:`site_context`, the template ``site/_overview.html``): for the hospital,
  today's admissions (patients by name, ID masked), discharges and deposits, and the bed conflict
  queue. A site pack replaces this one function and its templates.

Templates live in ``sync/server/templates`` (package data); labels in :mod:`.labels`. The page
reloads itself every 15 s, and works on a phone (tables become stacked cards below 700 px).
"""

from __future__ import annotations

import importlib
import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape

from pos import packs

from .. import protocol as P
from . import helpdesk
from .labels import LABELS
from .service import event_head, today_bounds

__all__ = ["overview", "site_context", "find_conflict", "render", "LABELS", "mask_id", "device_status",
           "resolution_text"]

#: health values that mean the device works; anything else makes a kiosk "needs attention"
HEALTHY = {"ok", "connected", "busy", "ready", "online", True}

_CONFLICT_COLUMNS = ("conflict_id", "bed_id", "admission_id", "device_id", "held_by", "start_at", "created_at",
                     "resolved_at", "resolution")


def mask_id(number: str) -> str:
    """An ID number as a shared screen may show it: the first 6 and the last 4 characters."""
    number = str(number or "")
    return number[:6] + "*" * (len(number) - 10) + number[-4:] if len(number) > 10 else "*" * len(number)


def _health(text) -> dict:
    """Stored health, read back whatever it is (older servers stored it cut short)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"?": "unreadable"}
    return {str(k)[:40]: str(v)[:200] for k, v in value.items()} if isinstance(value, dict) else {"?": "unreadable"}


def _age_s(iso: str | None, now: float) -> float | None:
    if not iso:
        return None
    try:
        return now - datetime.fromisoformat(str(iso).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def device_status(d: dict, offline_after_s: float, now: float) -> str:
    """``revoked``, ``never`` (enrolled, not seen), ``offline``, ``attention`` (a device unwell), ``ok``."""
    if d["revoked_at"]:
        return "revoked"
    age = _age_s(d["last_seen"], now)
    if age is None:
        return "never"
    if age > offline_after_s:
        return "offline"
    if any(v not in HEALTHY and str(v).lower() not in HEALTHY for v in d["health"].values()):
        return "attention"
    return "ok"


def his_page(settings) -> dict:
    """The HIS interface's part of the page (none unless the server runs one: then it is imported)."""
    if getattr(settings, "his", None) is None:
        return {"interfaces": []}
    from .his import page_context
    return page_context(settings)


def his_labels(lang: str) -> dict:
    from .his import labels
    return labels(lang)


def overview(backend, settings) -> dict:
    """Everything the page and ``/v1/admin/overview`` show."""
    now = time.time()
    with backend.tx() as cur:
        devices = [dict(zip(("device_id", "name", "last_seen", "queue_depth", "skew_s", "health", "revoked_at",
                             "last_seq_pulled", "enrolled_at"), r))
                   for r in cur.execute("SELECT device_id, name, last_seen, queue_depth, skew_s, health, revoked_at, "
                                        "last_seq_pulled, enrolled_at FROM devices ORDER BY device_id").fetchall()]
        help_open = helpdesk.open_requests(cur)
        head = event_head(cur)
        site = site_context(cur, settings.timezone)
    names = {}
    for d in devices:
        d["health"] = _health(d["health"])
        d["status"] = device_status(d, settings.offline_after_s, now)
        names[d["device_id"]] = d["name"] or d["device_id"]
    for h in help_open:
        h["device_name"] = names.get(h["device_id"], h["device_id"])
    return {"devices": devices, "help": help_open, "head": head, **site, **his_page(settings)}


# -- the site's part (hospital) -------------------------------------------------------------------
def site_context(cur, tz: str) -> dict:
    """The site's part of the page: what each active pack's server module gives (``admin_overview``:
    for the hospital, today's admissions, discharges and deposits), then the bed conflict queue."""
    start, end = today_bounds(tz)
    local_day = datetime.now(ZoneInfo(tz)).strftime("%Y-%m-%d")
    site: dict = {"admissions": [], "discharges": [], "deposits": {"count": 0, "total_fen": 0}}
    for p in packs.active():
        if p.server and hasattr(mod := importlib.import_module(p.server), "admin_overview"):
            site.update(mod.admin_overview(cur, start, end, local_day))
    admissions, discharges = site["admissions"], site["discharges"]
    cols = ", ".join(_CONFLICT_COLUMNS)
    conflicts = [_conflict(r) for r in cur.execute(
        f"SELECT {cols} FROM bed_conflicts WHERE resolved_at IS NULL ORDER BY created_at").fetchall()]
    resolved = [_conflict(r) for r in cur.execute(
        f"SELECT {cols} FROM bed_conflicts WHERE resolved_at IS NOT NULL ORDER BY resolved_at DESC LIMIT 20"
    ).fetchall()]
    people = _patients(cur, {a["patient"] for a in admissions + discharges if a["patient"]})
    for a in admissions + discharges:
        a["patient_name"], a["patient_id"] = people.get(a["patient"], ("", ""))
    return {**site, "conflicts": conflicts, "resolved": resolved}


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


def _conflict(row) -> dict:
    c = dict(zip(_CONFLICT_COLUMNS, row))
    c["resolution"] = json.loads(c["resolution"]) if c["resolution"] else None
    return c


def find_conflict(backend, conflict_id: str) -> dict | None:
    with backend.tx() as cur:
        row = cur.execute(f"SELECT {', '.join(_CONFLICT_COLUMNS)} FROM bed_conflicts WHERE conflict_id = ?",
                          (conflict_id,)).fetchone()
    return _conflict(row) if row else None


# -- rendering -----------------------------------------------------------------------------------
def _local(iso, tz: str) -> str:
    if not iso:
        return "-"
    try:
        return datetime.fromisoformat(str(iso).replace("Z", "+00:00")).astimezone(ZoneInfo(tz)).strftime(
            "%m-%d %H:%M:%S")
    except ValueError:
        return str(iso)


def _yuan(fen: int) -> str:
    """Integer fen as yuan, exact (no float)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def _skew(skew) -> str:
    if skew is None:
        return "-"
    return f"{round(skew):+d}" if round(skew) else "0"


def resolution_text(t: dict, resolution: dict | None) -> str:
    if not resolution:
        return "-"
    if resolution.get("action") == "assign":
        return t["assigned_to"].format(bed=resolution.get("bed_id", "?"))
    return t["dismissed"].format(reason=resolution.get("reason", ""))


_ENV = Environment(loader=PackageLoader("sync.server", "templates"), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)
_ENV.filters.update(yuan=_yuan, skew=_skew)
_ENV.globals.update(SKEW_WARN_S=P.SKEW_WARN_S, iface_labels=his_labels)


def render(template: str, lang: str, tz: str, **context) -> str:
    t = LABELS.get(lang, LABELS["zh-Hans"])
    return _ENV.get_template(template).render(
        t=t, lang=lang, local=lambda iso: _local(iso, tz), resolution=lambda r: resolution_text(t, r), **context)
