"""Site configuration in TOML.

Every key is declared in :data:`SCHEMA` (section -> key -> :class:`Key`). An unknown section or
key, a value of the wrong type, or a device URL that does not parse gives a :class:`ConfigError`
naming the file, the line and the key. ``docs/config.md`` documents every key; a test keeps the
two in step.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from drivers.base import ROLES
from drivers.errors import DeviceError
from drivers.registry import check_url

from .errors import ConfigError

__all__ = ["Key", "SCHEMA", "Config", "load_config", "LANGUAGES"]

LANGUAGES = ("zh-Hans", "zh-Hant", "en")


@dataclass(frozen=True)
class Key:
    type: type | tuple
    default: Any
    doc: str
    check: Callable[[Any], str | None] | None = None   # returns an error text, or None


def _lang(v):
    return None if v in LANGUAGES else f"must be one of {', '.join(LANGUAGES)}"


def _positive(v):
    return None if v > 0 else "must be greater than 0"


STAFF_ROLES = ("cashier", "technician", "supervisor")


def _staff_users(v):
    """``[[staff.users]]`` tables: name, role (cashier, technician or supervisor), pin (a hash)."""
    names = set()
    for i, u in enumerate(v):
        if not isinstance(u, dict) or not {"name", "role", "pin"} <= set(u):
            return f"entry {i + 1} must have name, role and pin"
        if u["role"] not in STAFF_ROLES:
            return f"entry {i + 1}: role must be one of {', '.join(STAFF_ROLES)}"
        if not str(u["pin"]).startswith("pbkdf2-sha256$"):
            return f"entry {i + 1}: pin must be a hash from `onestop config pin-hash`"
        if u["name"] in names:
            return f"entry {i + 1}: {u['name']!r} appears twice"
        names.add(u["name"])
    return None


def _http_url(v):
    return None if v == "" or re.match(r"^https?://[^/\s]+", v) else "must be an http:// or https:// URL"


SCHEMA: dict[str, dict[str, Key]] = {
    "site": {
        "name": Key(str, "onestop", "Site name printed on documents and shown on screens."),
        "language": Key(str, "zh-Hans", "Default language: zh-Hans, zh-Hant or en.", _lang),
        "timezone": Key(str, "Asia/Shanghai", "IANA time zone used to show times (stored in UTC)."),
        "device_id": Key(str, "", "This device's ID (prefix of every number it issues); empty = generated once."),
        "counter_window": Key(str, "1", "The counter window patients are sent to when the kiosk cannot help."),
    },
    "devices": {
        role: Key(str, "", f"Device URL for the {role.replace('_', ' ')} (empty = none).") for role in ROLES
    },
    "store": {
        "path": Key(str, "", "SQLite store path; empty = the user's data directory."),
    },
    "sync": {
        "server_url": Key(str, "", "Central server URL; empty = work offline only.", _http_url),
        "ca_file": Key(str, "", "CA certificate (PEM) to trust for an https server_url; empty = system CAs."),
        "interval": Key((int, float), 5, "Seconds between syncs while online.", _positive),
        "batch": Key(int, 200, "Outbox commands per push (the server takes at most 500).", _positive),
        "keep_events": Key(int, 50000, "Pulled events the kiosk keeps behind its cursor before pruning.", _positive),
        "keep_days": Key((int, float), 30, "Days a pulled event is kept at least (pruned only past both limits).",
                         _positive),
    },
    "staff": {
        "cashier_pin": Key(str, "", "PBKDF2 hash of the cashier PIN (make one with `onestop config pin-hash`); empty = counter login refused."),
        "technician_pin": Key(str, "", "PBKDF2 hash of the technician PIN for the diagnostics screen; empty = refused."),
        "supervisor_pin": Key(str, "", "PBKDF2 hash of the supervisor PIN that resolves payments in doubt at the counter; empty = refused."),
        "users": Key(list, [], "Per-staff logins: [[staff.users]] tables with name, role (cashier, technician, supervisor) and pin (a hash); when a role has users, its shared PIN is not used.", _staff_users),
    },
    "kiosk": {
        "idle_timeout": Key((int, float), 90, "Seconds without a touch before the kiosk returns home.", _positive),
        "fullscreen": Key(bool, True, "Kiosk mode: fullscreen, no exit on ESC, no close."),
    },
    "hospital": {
        "insurance_policy": Key(str, "", "Insurance policy tables (TOML); empty = assets/config/insurance.toml."),
        "hospital_level": Key(str, "tertiary", "Hospital level for the policy tables: primary, secondary or tertiary.",
                              lambda v: None if v in ("primary", "secondary", "tertiary")
                              else "must be primary, secondary or tertiary"),
        "low_balance_fen": Key(int, 50000, "Deposit balance (fen) below which the daily list asks for a top-up.",
                               lambda v: None if v >= 0 else "must be 0 or more"),
    },
    "payments": {
        "recovered_approval": Key(str, "post", "What recovery does with an approval the terminal made but onestop "
                                  "did not record: post (book it) or reverse (give it back).",
                                  lambda v: None if v in ("post", "reverse") else "must be post or reverse"),
        "busy_wait": Key((int, float), 10, "Seconds recovery waits for a busy terminal before leaving an attempt in doubt.",
                         _positive),
    },
}


@dataclass
class Config:
    path: str | None = None
    values: dict[str, dict[str, Any]] = field(default_factory=dict)

    def get(self, section: str, key: str) -> Any:
        return self.values.get(section, {}).get(key, SCHEMA[section][key].default)

    @property
    def devices(self) -> dict[str, str]:
        return {role: self.get("devices", role) for role in ROLES}

    @property
    def site_name(self) -> str:
        return self.get("site", "name")

    @property
    def language(self) -> str:
        return self.get("site", "language")


def _line_of(text: str, section: str, key: str | None) -> int:
    current = ""
    for no, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        m = re.match(r"^\[\s*([^\]]+?)\s*\]", s)
        if m:
            current = m.group(1).strip().strip('"')
            if key is None and current == section:
                return no
            continue
        if key is not None and current == section and re.match(rf'^"?{re.escape(key)}"?\s*=', s):
            return no
    return 0


def _where(path: str, text: str, section: str, key: str | None) -> str:
    line = _line_of(text, section, key)
    name = f"{section}.{key}" if key else f"[{section}]"
    return f"{path}:{line}: {name}" if line else f"{path}: {name}"


def _type_ok(value, typ) -> bool:
    types = typ if isinstance(typ, tuple) else (typ,)
    if isinstance(value, bool) and bool not in types:
        return False
    return isinstance(value, types)


def parse_config(text: str, path: str = "<config>") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    values: dict[str, dict[str, Any]] = {}
    for section, body in data.items():
        if section not in SCHEMA:
            raise ConfigError(f"{_where(path, text, section, None)}: unknown section; known: {', '.join(SCHEMA)}")
        if not isinstance(body, dict):
            raise ConfigError(f"{_where(path, text, section, None)}: must be a table")
        for key, value in body.items():
            spec = SCHEMA[section].get(key)
            where = _where(path, text, section, key)
            if spec is None:
                raise ConfigError(f"{where}: unknown key; known in [{section}]: {', '.join(SCHEMA[section])}")
            if not _type_ok(value, spec.type):
                want = " or ".join(t.__name__ for t in (spec.type if isinstance(spec.type, tuple) else (spec.type,)))
                raise ConfigError(f"{where}: expected {want}, got {type(value).__name__} {value!r}")
            if spec.check and (problem := spec.check(value)):
                raise ConfigError(f"{where}: {problem}")
            if section == "devices" and value:
                try:
                    check_url(value, key)
                except DeviceError as exc:
                    raise ConfigError(f"{where}: bad device URL: {exc}") from None
            values.setdefault(section, {})[key] = value
    return Config(path=path, values=values)


def load_config(path: str | os.PathLike | None) -> Config:
    """Load a config file; ``None`` gives the built-in defaults."""
    if path is None:
        return Config()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read config file: {exc}") from None
    return parse_config(text, str(p))
