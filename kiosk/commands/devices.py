"""``onestop devices``: configured and discovered devices with their status."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor

from drivers.registry import probe
from pos.config import Config
from pos.errors import ConfigError

from ..runtime import config_from_args


def register(sub, parents):
    p = sub.add_parser("devices", parents=parents, help="list configured and discovered devices with their status",
                       description="List every configured device with its status, and what discovery finds "
                                   "(serial ports, PC/SC readers, cameras). Exits 1 if a configured device is not usable.")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def device_report(config: Config) -> list[dict]:
    roles = [(r, u) for r, u in config.devices.items() if u]
    with ThreadPoolExecutor(max_workers=max(1, len(roles))) as pool:
        statuses = list(pool.map(lambda ru: probe(ru[1], ru[0]), roles))
    return [{"role": r, "url": u, **s.as_dict()} for (r, u), s in zip(roles, statuses)]


def run(args) -> int:
    config_error = None
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        config_error, config = str(exc), Config()
    from drivers.discovery import discover

    configured = device_report(config)
    found = [d.as_dict() for d in discover()]
    unusable = [d for d in configured if d["state"] not in ("connected", "busy")]
    if args.json:
        print(json.dumps({"config": config.path, "config_error": config_error,
                          "configured": configured, "discovered": found}, ensure_ascii=False, indent=2))
    else:
        print(f"configured ({config.path or 'built-in defaults'}):")
        if not configured:
            print("  (none)")
        for d in configured:
            print(f"  {d['role']:<18} {d['state']:<12} {d['url']}  - {d['reason']}")
        print("discovered:")
        if not found:
            print("  (none)")
        for d in found:
            print(f"  {d['bus']:<6} {d['id']}  {d['description']}  -> {d['url_hint']}")
    if config_error:
        print(f"onestop devices: {config_error}", file=sys.stderr)
        return 1
    if unusable:
        names = ", ".join(f"{d['role']} ({d['reason']})" for d in unusable)
        print(f"onestop devices: not usable: {names}", file=sys.stderr)
        return 1
    return 0
