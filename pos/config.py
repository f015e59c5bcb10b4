"""Site configuration in TOML.

Every key is declared in :data:`SCHEMA` (section -> key -> :class:`Key`): the platform's sections
here, a site pack's own sections in its manifest (``Pack.config``). An unknown section or
key, a value of the wrong type, or a device URL that does not parse gives a :class:`ConfigError`
naming the file, the line and the key. ``docs/config.md`` documents every key; a test keeps the
two in step.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from drivers.base import ROLES
from drivers.errors import DeviceError
from drivers.registry import check_url

from .errors import ConfigError

__all__ = ["Key", "SCHEMA", "Config", "load_config", "LANGUAGES", "install_pack_sections"]

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
    return None if math.isfinite(v) and v > 0 else "must be a finite number greater than 0"


def _between(lo, hi):
    """A number from ``lo`` to ``hi`` (inclusive), finite: 1e999 is infinity and is refused."""
    def check(v):
        return None if math.isfinite(v) and lo <= v <= hi else f"must be from {lo:g} to {hi:g}"
    return check


def _above(lo, hi):
    """A number greater than ``lo``, at most ``hi``, finite."""
    def check(v):
        return None if math.isfinite(v) and lo < v <= hi else f"must be greater than {lo:g} and at most {hi:g}"
    return check


#: the most commands the server takes in one push (sync.protocol.MAX_BATCH; pos does not import sync)
MAX_PUSH_BATCH = 500

_PIN_HASH = re.compile(r"^pbkdf2-sha256\$[1-9][0-9]{3,7}\$[^$\s]{8,64}\$[0-9a-f]{64}$")


def _pin_hash(v):
    if v == "" or _PIN_HASH.match(v):
        return None
    return "must be a PIN hash made by `onestop config pin-hash`, never the PIN itself"


def _timezone(v):
    try:
        ZoneInfo(v)
    except (ValueError, ZoneInfoNotFoundError):
        return "must be an IANA time zone such as Asia/Shanghai"
    return None


def _device_id(v):
    ok = v == "" or (2 <= len(v) <= 32 and v.isascii() and v.isalnum() and v.upper() == v)
    return None if ok else "must be 2-32 capital letters or digits (the server enrols no other), or empty"


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
        "timezone": Key(str, "Asia/Shanghai", "IANA time zone used to show times (stored in UTC).", _timezone),
        "device_id": Key(str, "", "This device's ID (prefix of every number it issues): 2-32 capital letters or "
                         "digits; empty = generated once.", _device_id),
        "counter_window": Key(str, "1", "The counter window patients are sent to when the kiosk cannot help."),
        "packs": Key(list, [], "Site packs this site runs (entry point names of onestop.packs, or module:attr paths); "
                     "empty = every installed pack.", lambda v: None if all(isinstance(x, str) and x for x in v)
                     else "must be a list of pack names"),
    },
    "devices": {
        role: Key(str, "", f"Device URL for the {role.replace('_', ' ')} (empty = none).") for role in ROLES
    },
    "store": {
        "path": Key(str, "", "SQLite store path; empty = the user's data directory."),
        "archive_days": Key((int, float), 90, "Days acknowledged outbox rows, finished card payments and printed "
                            "layouts stay in the store before they move to its archive file.", _positive),
    },
    "sync": {
        "server_url": Key(str, "", "Central server URL; empty = work offline only.", _http_url),
        "ca_file": Key(str, "", "CA certificate (PEM) to trust for an https server_url; empty = system CAs."),
        "interval": Key((int, float), 5, "Seconds between syncs while online (more than 0, at most 3600).",
                        _above(0, 3600)),
        "batch": Key(int, 200, f"Outbox commands per push: 1 to {MAX_PUSH_BATCH} (the most the server takes).",
                     _between(1, MAX_PUSH_BATCH)),
        "keep_events": Key(int, 50000, "Pulled events the kiosk keeps behind its cursor before pruning (1 to 10^9).",
                           _between(1, 10**9)),
        "keep_days": Key((int, float), 30, "Days a pulled event is kept at least (pruned only past both limits; "
                         "at most 3650).", _above(0, 3650)),
    },
    "staff": {
        "cashier_pin": Key(str, "", "PBKDF2 hash of the cashier PIN (make one with `onestop config pin-hash`; a "
                           "plain PIN is refused); empty = counter login refused.", _pin_hash),
        "technician_pin": Key(str, "", "PBKDF2 hash of the technician PIN for the diagnostics screen; empty = refused.",
                              _pin_hash),
        "supervisor_pin": Key(str, "", "PBKDF2 hash of the supervisor PIN that approves a deposit reversal (沖銷) "
                              "and resolves card payments in doubt at the counter; empty = refused.", _pin_hash),
        "users": Key(list, [], "Per-staff logins: [[staff.users]] tables with name, role (cashier, technician, supervisor) and pin (a hash); when a role has users, its shared PIN is not used.", _staff_users),
    },
    "kiosk": {
        "idle_timeout": Key((int, float), 90, "Seconds without a touch before the kiosk returns home (more than 0, "
                            "at most 86400).", _above(0, 86400)),
        "fullscreen": Key(bool, True, "Kiosk mode: fullscreen, no exit on ESC, no close."),
        "usb_path": Key(str, "", "Folder where a USB stick is mounted, for the diagnostics bundle (besides what is "
                        "mounted under /media and /run/media); empty = detect only."),
    },
    "payments": {
        "recovered_approval": Key(str, "post", "What recovery does with an approval the terminal made but onestop "
                                  "did not record: post (book it) or reverse (give it back).",
                                  lambda v: None if v in ("post", "reverse") else "must be post or reverse"),
        "busy_wait": Key((int, float), 10, "Seconds recovery waits for a busy terminal before leaving an attempt in doubt "
                         "(more than 0, at most 600).", _above(0, 600)),
    },
    "qrpay": {
        "wechat_url": Key(str, "", "WeChat Pay API v2 base URL (https://api.mch.weixin.qq.com); empty = WeChat Pay not "
                          "offered.", _http_url),
        "wechat_appid": Key(str, "", "WeChat Pay appid of the merchant."),
        "wechat_mch_id": Key(str, "", "WeChat Pay merchant number (mch_id)."),
        "wechat_key_file": Key(str, "", "File (mode 0600) holding the WeChat Pay API v2 key."),
        "alipay_url": Key(str, "", "Alipay open API base URL (https://openapi.alipay.com); empty = Alipay not offered.",
                          _http_url),
        "alipay_app_id": Key(str, "", "Alipay app_id of the merchant's application."),
        "alipay_private_key_file": Key(str, "", "PEM file (mode 0600) of the merchant's RSA2 private key."),
        "alipay_public_key_file": Key(str, "", "PEM file of the Alipay public key (checks the replies)."),
        "unionpay_url": Key(str, "", "UnionPay online (acp 5.1.0) gateway base URL; empty = UnionPay QR not offered.",
                            _http_url),
        "unionpay_mer_id": Key(str, "", "UnionPay merchant number (merId)."),
        "unionpay_cert_id": Key(str, "", "certId of the merchant's UnionPay signing certificate."),
        "unionpay_private_key_file": Key(str, "", "PEM file (mode 0600) of the merchant's UnionPay signing key."),
        "unionpay_public_key_file": Key(str, "", "PEM file of UnionPay's public key (checks the replies)."),
        "poll": Key((int, float), 2, "Seconds between order queries while a payment QR is shown (more than 0, at most 60).",
                    _above(0, 60)),
        "wait": Key((int, float), 120, "Seconds a payment QR stays on the screen before its order is closed (more "
                    "than 0, at most 900).", _above(0, 900)),
    },
}


def install_pack_sections() -> None:
    """Make :data:`SCHEMA` the platform's sections plus the active site packs' (``Pack.config``, e.g.
    the hospital pack's ``[hospital]``); a pack cannot redefine a platform section."""
    from .packs import config_sections

    sections = config_sections()
    for section in [s for s in SCHEMA if s not in _PLATFORM_SECTIONS and s not in sections]:
        del SCHEMA[section]                 # a pack no longer running
    for section, keys in sections.items():
        if section in _PLATFORM_SECTIONS:
            raise ConfigError(f"a site pack may not redefine the platform's [{section}] section")
        SCHEMA[section] = keys


_PLATFORM_SECTIONS = frozenset(SCHEMA)


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
    """Parse and check a site configuration. A ``[site] packs`` list chooses the packs this process
    runs (``pos.packs.enable``) before their sections are checked."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"{path}: not a usable config: arrays or tables nested too deeply") from None
    chosen = data.get("site", {}).get("packs") if isinstance(data.get("site"), dict) else None
    if chosen and isinstance(chosen, list) and all(isinstance(x, str) for x in chosen):
        from .packs import PackError, enable

        enable(chosen)
        try:
            install_pack_sections()
        except (PackError, ImportError, AttributeError) as exc:
            enable(None)
            raise ConfigError(f"{_where(path, text, 'site', 'packs')}: {exc}") from None
    else:
        install_pack_sections()              # the packs this process runs now (pos.packs.enable)
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


install_pack_sections()
