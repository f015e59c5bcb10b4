"""The IT staff page (``/admin``): server-rendered HTML from Jinja2 templates, no build step, no script.

What the page shows is gathered here, in two parts:

* the platform's part (:func:`overview`): each kiosk by its enrolled name, with its status
  (online, offline, never seen, needs attention, revoked), last-seen time, queue depth, clock skew
  and device health; open help requests; the head of the event log;
* the site's part (:func:`site_context`, the template ``site/_overview.html``): what each active
  pack's server module gives (``admin_overview``, ``admin_conflict``; for the hospital pack, see
  ``pos.hospital.server_admin``), with the conflict queue of the platform's resource claims.

Templates live in ``sync/server/templates`` (package data); labels in :mod:`.labels`. The page
reloads itself every 15 s, and works on a phone (tables become stacked cards below 700 px).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape

from pos import packs

from .. import protocol as P
from . import helpdesk
from .labels import LABELS as PLATFORM_LABELS
from .labels import LANGS
from .commands import registry
from .service import event_head, today_bounds

__all__ = ["overview", "site_context", "find_conflict", "conflict_params", "Named", "render", "LABELS", "device_status",
           "resolution_text"]

#: health values that mean the device works; anything else makes a kiosk "needs attention"
HEALTHY = {"ok", "connected", "busy", "ready", "online", True}

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


class _Labels(Mapping):
    """The page's words: the platform's, with each active pack's own over them (``ADMIN_LABELS`` of
    its server module), per language: ``LABELS[lang][key]``."""

    def __getitem__(self, lang: str) -> dict:
        if lang not in PLATFORM_LABELS:
            raise KeyError(lang)
        out = dict(PLATFORM_LABELS[lang])
        for extra in _pack_servers("ADMIN_LABELS"):
            out.update(extra.get(lang, {}))
        return out

    def __iter__(self):
        return iter(LANGS)

    def __len__(self) -> int:
        return len(LANGS)


LABELS = _Labels()


# -- the site's part ------------------------------------------------------------------------------
def _pack_servers(hook: str):
    """The server modules of the active packs that offer ``hook``."""
    for p in packs.active():
        if p.server and hasattr(mod := importlib.import_module(p.server), hook):
            yield getattr(mod, hook)


def site_context(cur, tz: str) -> dict:
    """The site's part of the page: what each active pack's server module gives (``admin_overview``:
    for the hospital pack, today's admissions, discharges and deposits and its conflict queue). The
    platform's part is only the conflict queue's place (``conflicts``, ``resolved``)."""
    start, end = today_bounds(tz)
    local_day = datetime.now(ZoneInfo(tz)).strftime("%Y-%m-%d")
    site: dict = {"conflicts": [], "resolved": []}
    for admin_overview in _pack_servers("admin_overview"):
        part = admin_overview(cur, start, end, local_day)
        for key in ("conflicts", "resolved"):          # each pack's queue entries, side by side
            site[key] = site[key] + part.pop(key, [])
        site.update(part)
    return site


def find_conflict(backend, conflict_id: str) -> dict | None:
    """One entry of the conflict queue, as the pack of its resource shows it (``admin_conflict``)."""
    with backend.tx() as cur:
        for admin_conflict in _pack_servers("admin_conflict"):
            if (found := admin_conflict(cur, conflict_id)) is not None:
                return found
    return None


def conflict_params(c: dict) -> dict:
    """The names a conflict's labels use, from its resource type (``RESOURCES`` of the pack):
    ``{resource: its name, holder: who was refused}``."""
    rt = registry().resources.get(str(c.get("resource", "")).partition(":")[0])
    if rt is None:
        return {"resource": c.get("resource", ""), "holder": c.get("holder", "")}
    return {rt.params["resource"]: rt.name(c["resource"]), rt.params["holder"]: c.get("holder", "")}


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


class Named(dict):
    """Label parameters; one a label names but the conflict does not have reads ``?``."""

    def __missing__(self, key):
        return "?"


def resolution_text(t: dict, resolution: dict | None) -> str:
    """An assignment names the new resource as its type's label says (``Bed.label`` in the
    hospital pack: the label text's ``{bed}`` is the resolution's ``bed_id``)."""
    if not resolution:
        return "-"
    if resolution.get("action") == "assign":
        names = Named()
        for rt in registry().resources.values():
            if rt.label in resolution:
                names[rt.params["resource"]] = resolution[rt.label]
        return t["assigned_to"].format_map(names)
    return t["dismissed"].format(reason=resolution.get("reason", ""))


_ENV = Environment(loader=PackageLoader("sync.server", "templates"), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)
_ENV.filters.update(yuan=_yuan, skew=_skew)
_ENV.globals.update(SKEW_WARN_S=P.SKEW_WARN_S, iface_labels=his_labels)


def render(template: str, lang: str, tz: str, **context) -> str:
    t = LABELS[lang] if lang in LABELS else LABELS["zh-Hans"]
    return _ENV.get_template(template).render(
        t=t, lang=lang, local=lambda iso: _local(iso, tz), resolution=lambda r: resolution_text(t, r), **context)
