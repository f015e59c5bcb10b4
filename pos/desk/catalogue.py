"""The desk's configurable category tree and teams (``assets/config/desk_categories.toml``, or the
file ``[desk] categories`` names): a category's code is its path, a child inherits from its parent."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import ConfigError

__all__ = ["Category", "Catalogue", "load_catalogue", "DEFAULT_PATH"]

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "assets" / "config" / "desk_categories.toml"
_INHERITED = ("kind", "team", "priority", "sla_hours", "payable", "fee_related", "emergency", "fee_fen")


@dataclass(frozen=True)
class Category:
    code: str
    name: dict
    kind: str
    team: str
    priority: int
    sla_hours: int
    payable: bool = False
    fee_related: bool = False
    emergency: bool = False
    fee_fen: int | None = None
    keywords: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return self.name.get(lang) or self.name.get("en") or self.code


@dataclass(frozen=True)
class Catalogue:
    categories: dict[str, Category]
    teams: dict[str, tuple[str, ...]]
    alarms: dict[str, str] = field(default_factory=dict)

    def get(self, code: str) -> Category:
        try:
            return self.categories[code]
        except KeyError:
            raise ConfigError(f"no desk category {code!r}") from None

    def leaves(self) -> list[Category]:
        codes = set(self.categories)
        return [c for c in self.categories.values() if not any(o.startswith(c.code + ".") for o in codes)]


@lru_cache(maxsize=8)
def load_catalogue(path: str | None = None) -> Catalogue:
    p = Path(path) if path else DEFAULT_PATH
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"desk categories {p}: {exc}") from None
    raw = {c["code"]: c for c in data.get("category", [])}
    out: dict[str, Category] = {}
    for code in sorted(raw, key=lambda c: c.count(".")):
        node, parent = dict(raw[code]), raw.get(code.rpartition(".")[0]) if "." in code else None
        if parent is not None:
            base = out[parent["code"]]
            for k in _INHERITED:
                node.setdefault(k, getattr(base, k))
        missing = [k for k in ("kind", "team", "priority", "sla_hours") if k not in node]
        if missing:
            raise ConfigError(f"desk category {code}: {', '.join(missing)} not set (nor on a parent)")
        if node["kind"] not in ("enquiry", "complaint", "service_request"):
            raise ConfigError(f"desk category {code}: kind {node['kind']!r}")
        if node["team"] not in data.get("teams", {}):
            raise ConfigError(f"desk category {code}: no team {node['team']!r}")
        out[code] = Category(code=code, name=node.get("name", {}), kind=node["kind"], team=node["team"],
                             priority=int(node["priority"]), sla_hours=int(node["sla_hours"]),
                             payable=bool(node.get("payable", False)), fee_related=bool(node.get("fee_related", False)),
                             emergency=bool(node.get("emergency", False)), fee_fen=node.get("fee_fen"),
                             keywords=tuple(node.get("keywords", ())))
    return Catalogue(out, {k: tuple(v) for k, v in data.get("teams", {}).items()}, dict(data.get("alarms", {})))
