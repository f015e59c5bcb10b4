"""The site-pack contract: a site (a hospital, a residential-community service desk, a private-room
reception...) is a package that declares everything it adds to the platform in one :class:`Pack`
object, and the platform finds packs in one list.

Where packs are listed
    Installed packs are the ``onestop.packs`` entry points of ``pyproject.toml``::

        [project.entry-points."onestop.packs"]
        hospital = "pos.hospital.pack:PACK"

    A site runs the packs its configuration names (``[site] packs``), or every installed pack when it
    names none. A name is an entry point name or a dotted path ``module:attribute``, so a pack kept
    outside the platform (a test pack in ``tests/``) loads without editing any platform file. The
    process-wide selection is :func:`enable` (also read from ``ONESTOP_PACKS``, comma-separated).

What a pack declares (all optional but the name)
    * ``store_migrations``: modules exposing ``MIGRATIONS`` (functions over a sqlite-utils database)
      for the device's store; ``server_migrations``: modules exposing ``MIGRATIONS`` =
      ``{"sqlite": [(name, [sql or fn(cur)])], "postgres": [...]}`` for the central server.
    * ``kinds``: the outbox command kinds (:class:`Kind`): offline policy, typed payload schema
      (a ``msgspec.Struct``, shared by the emitter and the server, and the source of the OpenAPI
      document), and the server's handler (a dotted path to ``apply(ctx, cmd)``; none = the server
      only records the command and logs one event for it).
    * ``projections``: what a device builds from the events it pulls (:class:`Projection`).
    * ``config``: dotted path of the pack's sections of the site configuration
      (section -> key -> ``pos.config.Key``).
    * ``screens``: name -> dotted path of a module exposing ``SCREEN`` (a Kivy screen class) and
      its kv rules, as text in ``KV`` or as a file ``assets/kv/<KV_FILE>.kv``, so that ``pos``
      never imports a front end; the app shell builds them. Each front end keeps its screens in a
      folder of its own (``kiosk/patient/``, ``kiosk/counter/``, ``kiosk/ward/``...).
      ``fronts``: front end (kiosk, counter...) -> its screen names, the first one its home (a name
      not in any pack's ``screens`` is one of the platform's: login and diagnostics).
    * ``flows``, ``catalogues``, ``documents``: name -> dotted path (or asset path for catalogues),
      the pack's index of them for its screens and tools.
    * ``posters``: dotted path of ``{purpose: fn(service, tx, attempt_row)}``: how an approved card
      payment of that purpose is booked, in the transaction that marks it posted.
    * ``services``: name -> dotted path of ``factory(site)``; ``site.service(name)`` builds it once.
    * ``demo``: a dotted path to ``seed(site)`` that fills the demo store.
    * ``endpoints``: name -> dotted path of ``fn(data, caller, submit) -> (status, body)``: a POST route
      of the central server, ``/v1/packs/<pack>/<name>``, for a system outside the platform (a
      monitoring centre's alarms). The caller signs like a device (an enrolled device's HMAC,
      timestamp and nonce; a forged or replayed call is refused before ``fn`` runs); ``data`` is the
      parsed JSON body, ``caller`` the device ID, ``submit(commands)`` applies ``[{command_id, kind,
      payload, created_at?}]`` as that device's pushed batch (validated like a push) and returns the
      push answer. ``fn`` is plain Python and runs in the server's thread pool.
    * ``pages``: path -> dotted path of ``fn(page: PageRequest) -> PageResponse``: a page of the
      central server's IT site at ``/admin/packs/<pack>/<path>`` (GET and POST; ``{name}`` parts of
      the path are parameters), behind the admin's login like the IT page, in its three languages.
      ``fn`` is plain Python (no web framework) and runs in the server's thread pool;
      ``page.render(template, **context)`` renders the pack's Jinja2 template (``templates/`` beside
      the handler's module, which may extend the IT page's ``base.html``).
    * ``interfaces``: protocol -> dotted path of the module that maps a standard interface's messages
      to the pack's commands (``"hl7v2"``: the central server's HL7 v2 / MLLP engine,
      ``sync.server.his``, frames, stores and acknowledges; the module plans each message into
      commands, checks them, and follows the command log for what goes back; e.g. the hospital pack's
      ``pos.hospital.his_interface``). Plain Python over a database cursor, no network. The engine's
      tables (``his_inbound``, ``his_outbound``, ``his_state``) come from the pack's server migrations
      (e.g. the hospital's ``pos.hospital.his_schema``).
    * ``fhir``: dotted path of the module whose ``TYPES``, ``resource(cur, type, id)``,
      ``everything(cur, id)`` and ``NotFound`` the server's read-only FHIR facade (``/fhir/...``) serves.
    * ``server_tasks``: name -> dotted path of ``fn(backend)``: work the central server runs every few
      seconds in a thread of its own (``sync.server.tasks``), outside any request (e.g. rendering
      archive copies of closed orders).
    * ``server``: the module of the pack's server part: ``LOOKUPS`` (what handlers need looked up per
      batch), ``TABLES`` (column order of the rows they defer) and ``RESOURCES`` (resource type ->
      how its claims speak: events, names, error codes; see ``pos.hospital.server.Bed``).
      Optionally ``admin_overview(cur, start, end, local_day) -> dict``: the pack's part of the
      server's IT page (the hospital: today's admissions, discharges and deposits, and its entries
      of the conflict queue as ``conflicts`` / ``resolved``), ``admin_conflict(cur, conflict_id)``
      (one entry, or None when it is not the pack's) and ``ADMIN_LABELS`` (``{lang: {key: text}}``,
      the page's words it adds; see ``pos.hospital.server_admin``).

Everything here is data: nothing of a pack is imported until it is used (:func:`resolve`).
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any, Callable, Iterable

__all__ = ["Pack", "Kind", "Projection", "installed", "enable", "enabled", "active", "resolve", "kinds", "kind",
           "is_offline_safe", "store_migration_modules", "server_migrations", "projections", "config_sections",
           "PLATFORM_KINDS", "PackError", "PageRequest", "PageResponse", "PayloadInvalid", "check_payload", "hooks", "payload_schemas"]

log = logging.getLogger(__name__)

GROUP = "onestop.packs"


class PackError(LookupError):
    """A pack that cannot be found or that contradicts another (two owners of one kind)."""


@dataclass(frozen=True)
class Kind:
    """One outbox command kind.

    ``offline``: True = safe to record offline (sent when the server answers); False = needs the
    server now (the service refuses it offline, the UI greys the button). ``payload``: a
    ``msgspec.Struct`` the payload must convert to (unknown keys are kept, not checked). ``apply``:
    dotted path of the server handler ``apply(ctx, cmd) -> (status, result, [(event_kind, payload)])``;
    empty = record only, logging one event ``event`` (default: the kind less the pack's prefix).
    ``own_ids``: payload fields that are IDs this device made (must carry its prefix; ``?name`` = only
    when it looks device-made). ``times``: fields normalised to canonical UTC. ``prefetch``: dotted path
    of ``fn(payload) -> (lookup, key)`` naming what the handler needs looked up before a batch applies
    (a lookup a pack's server module declares in ``LOOKUPS``, or ``"claims"``: generic resource claims).
    """

    name: str
    offline: bool = True
    payload: type | None = None
    apply: str = ""
    event: str = ""
    own_ids: tuple = ()
    times: tuple = ()
    prefetch: str = ""


@dataclass(frozen=True)
class Projection:
    """What a device builds from pulled events: ``apply(tx, kind, payload, seq)`` (dotted path) for
    each pulled event whose kind is in ``events``, in the transaction that stores the page.

    ``latest_by`` (optional): ``((event_kind, key_field), ...)`` when this projection's state is made
    by the last event of each of those kinds per key (e.g. the hospital pack: a bed's last
    ``bed.changed``, an admission's last ``discharge.scheduled``); the server's snapshot then carries those events, and a new device
    applies them, in log order, after ``reset(tx)`` (dotted path) instead of replaying the log."""

    name: str
    events: tuple[str, ...]
    apply: str
    reset: str = ""
    latest_by: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Pack:
    name: str
    summary: str = ""
    store_migrations: tuple[str, ...] = ()
    server_migrations: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] = ()
    projections: tuple[Projection, ...] = ()
    server: str = ""                        # module with the server handlers' LOOKUPS / TABLES (optional)
    config: str = ""                        # dotted path of {section: {key: pos.config.Key}}
    services: dict[str, str] = field(default_factory=dict)
    series: tuple[str, ...] = ()            # letters a device may put before its prefix in numbers it issues
    flows: dict[str, str] = field(default_factory=dict)
    screens: dict[str, str] = field(default_factory=dict)
    fronts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    catalogues: dict[str, str] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)
    posters: str = ""
    demo: str = ""
    endpoints: dict[str, str] = field(default_factory=dict)   # name -> dotted path of fn(data, caller, submit)
    server_tasks: dict[str, str] = field(default_factory=dict)  # name -> dotted path of fn(backend), run periodically
    commands: tuple[str, ...] = ()          # command-line modules, each with register(subparsers, parents)
    recover: str = ""                       # dotted path of fn(site): on start-up, finish what a crash left half-done
    pages: dict[str, str] = field(default_factory=dict)   # path -> dotted path of fn(PageRequest) -> PageResponse
    interfaces: dict[str, str] = field(default_factory=dict)  # protocol -> module of its message hooks (below)
    fhir: str = ""                          # module of the pack's read-only FHIR resources (below)


@dataclass
class PageRequest:
    """One request to a pack's page (``Pack.pages``), as the server hands it to the pack.

    ``params``: the path's ``{name}`` parts; ``query``, ``form``: the query string and the posted
    form (last value of each name); ``lang``: zh-Hans, zh-Hant or en (``?lang=``, else the browser's);
    ``tz``: the site's time zone; ``backend``: the server's database (``with backend.tx() as cur``);
    ``render(template, **context)`` -> HTML text; ``url(path, **query)`` -> the URL of another of
    the pack's pages (the language kept)."""

    method: str
    path: str
    params: dict
    query: dict
    form: dict
    lang: str
    tz: str
    backend: Any
    render: Callable[..., str]
    url: Callable[..., str]


@dataclass
class PageResponse:
    """What a pack's page answers: HTML text (or bytes with their ``content_type``), a status, or a
    redirect (``location``: 303 after a POST)."""

    body: str | bytes = ""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    location: str = ""


#: command kinds of the platform itself (device activity journalled by every site): record-only,
#: offline-safe, kept by the server for the IT page and audit
PLATFORM_KINDS = tuple(Kind(k, event=k) for k in (
    "kiosk.service_started", "kiosk.help_requested",
    "print.queued", "print.printed", "print.failed", "print.not_printed", "print.reprint_requested",
    *(f"payment.{state}" for state in ("intent", "sent", "waiting_card", "approved", "declined", "aborted",
                                       "in_doubt", "unresolved", "posted", "reversed")),
    "payment.supervisor_queued", "payment.end_of_day",
    "cash.received", "cash.refunded", "cash.shift_opened", "cash.shift_closed",
)) + (
    # a device's call for a person, open on the IT page and the counter until acknowledged
    # (sync/server/helpdesk.py)
    Kind("help.requested", event="help.requested", times=("at",)),
    Kind("help.acknowledged", event="help.acknowledged"),
    Kind("help.cancelled", event="help.cancelled"),
)


def resolve(path: str) -> Any:
    """``'pkg.module:attr'`` -> the object; ``'pkg.module'`` -> the module (or ``'pkg.module.attr'``)."""
    mod, sep, attr = path.partition(":")
    if not sep:
        try:
            return importlib.import_module(path)
        except ModuleNotFoundError as exc:
            if exc.name != path:
                raise
        mod, _, attr = path.rpartition(".")
    obj = importlib.import_module(mod)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@lru_cache(maxsize=1)
def installed() -> dict[str, str]:
    """Entry point name -> ``module:attr`` for every installed pack (read once per process)."""
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


_selection: tuple[str, ...] | None = None
_current: tuple[str, ...] | None = None          # what enabled() answers, worked out once


def enable(names: Iterable[str] | None) -> None:
    """Choose the packs this process runs (entry point names or dotted paths); None = every installed
    pack (or ``ONESTOP_PACKS``, read when the selection is next needed)."""
    global _selection, _current
    _selection = None if names is None else tuple(names)
    _current = None


def enabled() -> tuple[str, ...]:
    """The names of the packs this process runs (the same tuple object until :func:`enable`)."""
    global _current
    if _current is None:
        _current = _selected()
    return _current


def _selected() -> tuple[str, ...]:
    if _selection is not None:
        return _selection
    env = os.environ.get("ONESTOP_PACKS", "").strip()
    if env:
        return tuple(n.strip() for n in env.split(",") if n.strip())
    names = tuple(sorted(installed()))
    if not names:
        raise PackError("no site pack is installed (the onestop.packs entry points): reinstall onestop "
                        "(scripts/bootstrap.sh) so its entry points are registered")
    return names


@lru_cache(maxsize=8)
def _load(names: tuple[str, ...]) -> tuple[Pack, ...]:
    known = installed()
    out, owners = [], {}
    for name in names:
        target = known.get(name) or (name if (":" in name or "." in name) else None)
        if target is None:
            raise PackError(f"no site pack {name!r} (installed: {', '.join(sorted(known)) or 'none'})")
        pack = resolve(target)
        if not isinstance(pack, Pack):
            raise PackError(f"{target} is not a pos.packs.Pack")
        for k in pack.kinds:
            if k.name in owners:
                raise PackError(f"command kind {k.name!r} declared by both {owners[k.name]} and {pack.name}")
            owners[k.name] = pack.name
        out.append(pack)
    return tuple(out)


def active() -> tuple[Pack, ...]:
    """The packs this process runs, loaded (their manifests only)."""
    return _load(enabled())


def kinds() -> dict[str, Kind]:
    """Every command kind: the platform's and the active packs'."""
    return _kinds(enabled())


@lru_cache(maxsize=8)
def _kinds(names: tuple[str, ...]) -> dict[str, Kind]:
    out = {k.name: k for k in PLATFORM_KINDS}
    for p in _load(names):
        out.update({k.name: k for k in p.kinds})
    return out


def kind(name: str) -> Kind:
    try:
        return kinds()[name]
    except KeyError:
        raise KeyError(f"unknown command kind {name!r}") from None


def is_offline_safe(name: str) -> bool:
    return kind(name).offline


class PayloadInvalid(ValueError):
    """A command payload that does not fit its kind's schema."""


@lru_cache(maxsize=512)
def _optional(schema: type) -> frozenset:
    import msgspec

    return frozenset(f.name for f in msgspec.structs.fields(schema) if not f.required)


def check_payload(name: str, payload: dict) -> dict:
    """``payload`` checked against kind ``name``'s schema (the emitter's and the server's one rule):
    an optional field that is empty counts as absent; more keys than the schema names are kept.
    Returns the payload without its empty optional fields; raises :class:`PayloadInvalid`. A kind
    without a schema (or unknown here) passes unchanged."""
    k = kinds().get(name)
    if k is None or k.payload is None:
        return payload
    import msgspec

    out = dict(payload)
    for field_name in _optional(k.payload):
        if out.get(field_name, 0) in ("", None):
            out.pop(field_name, None)
    try:
        msgspec.convert(out, k.payload)
    except msgspec.ValidationError as exc:
        raise PayloadInvalid(f"{name}: {exc}") from None
    return out


def payload_schemas(ref_template: str = "#/components/schemas/{name}") -> tuple[dict, dict]:
    """JSON Schema of every kind's payload, generated from its msgspec struct (for the OpenAPI
    document): ``({kind: {"$ref": ...}}, {component name: schema})``."""
    import msgspec

    typed = {name: k.payload for name, k in sorted(kinds().items()) if k.payload is not None}
    refs, components = msgspec.json.schema_components(list(typed.values()), ref_template=ref_template)
    return dict(zip(typed, refs)), components


def store_migration_modules() -> list[str]:
    return [m for p in active() for m in p.store_migrations]


def server_migrations(dialect: str) -> list[tuple[str, list]]:
    """``(recorded name, statements)`` of every active pack's server migrations, in pack order."""
    out = []
    for p in active():
        for modname in p.server_migrations:
            for name, statements in importlib.import_module(modname).MIGRATIONS[dialect]:
                out.append((f"{p.name}.{name}", statements))
    return out


def projections() -> list[Projection]:
    return [pr for p in active() for pr in p.projections]


def config_sections() -> dict:
    out: dict = {}
    for p in active():
        if p.config:
            out.update(resolve(p.config))
    return out


def hooks(attr: str) -> list[tuple[Pack, Callable]]:
    """``(pack, resolved object)`` for each active pack that sets ``attr`` (``demo``, ``admin``...)."""
    return [(p, resolve(getattr(p, attr))) for p in active() if getattr(p, attr)]
