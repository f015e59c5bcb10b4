"""Device URLs.

A device address is a URL whose scheme names a driver module (see :mod:`drivers.registry`)::

    escpos+tcp://10.0.0.5:9100?profile=TM-T88V
    zvt+serial:///dev/ttyUSB1?baud=9600
    pcsc://ACS
    sim://printer

The part after ``://`` up to the first ``/`` or ``?`` is kept raw in :attr:`DeviceURL.netloc`,
because some schemes put things there that are not host:port (``escpos+usb://04b8:0202``).
Options come from the query string; each driver module declares which it accepts and their
types, and :func:`DeviceURL.options_for` rejects anything else with the module's grammar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

from .errors import BadDeviceURL

__all__ = ["DeviceURL", "parse_url", "digits"]


def digits(n: int):
    """An option check: exactly ``n`` digits (for ``spec`` entries ``(str, default, digits(6))``)."""
    def check(value: str) -> str | None:
        return None if len(value) == n and value.isascii() and value.isdigit() else f"must be exactly {n} digits"
    return check


@dataclass(frozen=True)
class DeviceURL:
    raw: str
    scheme: str
    netloc: str
    path: str
    query: dict = field(default_factory=dict)

    @property
    def host(self) -> str:
        host, _, _ = self.netloc.rpartition(":") if self._has_port() else (self.netloc, "", "")
        return host.strip("[]")

    @property
    def port(self) -> int | None:
        if not self._has_port():
            return None
        return int(self.netloc.rpartition(":")[2])

    def _has_port(self) -> bool:
        head, sep, tail = self.netloc.rpartition(":")
        return bool(sep) and bool(head) and tail.isdigit()

    def host_port(self, default_port: int | None = None, grammar: str = "") -> tuple[str, int]:
        host = self.host
        port = self.port if self.port is not None else default_port
        if not host or port is None:
            raise BadDeviceURL(f"{self.raw!r}: expected host:port{_g(grammar)}")
        if not 0 < port < 65536:
            raise BadDeviceURL(f"{self.raw!r}: port {port} out of range{_g(grammar)}")
        return host, port

    def options_for(self, spec: dict, grammar: str = "") -> dict:
        """Validate the query against ``spec`` (name -> (type, default[, check])) and return typed values.
        Numbers must be finite and not negative; ``check(value)`` returns an error text or None."""
        unknown = sorted(set(self.query) - set(spec))
        if unknown:
            raise BadDeviceURL(
                f"{self.raw!r}: unknown option(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(sorted(spec)) or 'none'}{_g(grammar)}"
            )
        out = {}
        for name, (typ, default, *check) in spec.items():
            if name not in self.query:
                out[name] = default
                continue
            value = self.query[name]
            try:
                if typ is bool:
                    if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                        raise ValueError(value)
                    out[name] = value.lower() in ("1", "true", "yes", "on")
                else:
                    out[name] = typ(value)
            except ValueError:
                raise BadDeviceURL(
                    f"{self.raw!r}: option {name}={value!r} is not a valid {typ.__name__}{_g(grammar)}"
                ) from None
            problem = None
            if typ in (int, float) and not (math.isfinite(out[name]) and out[name] >= 0):
                problem = "must be a finite number, 0 or more"
            elif check:
                problem = check[0](out[name])
            if problem:
                raise BadDeviceURL(f"{self.raw!r}: option {name}={value!r} {problem}{_g(grammar)}")
        return out

    def __str__(self) -> str:
        return self.raw


def _g(grammar: str) -> str:
    return f" (format: {grammar})" if grammar else ""


def parse_url(url: str) -> DeviceURL:
    """Split a device URL into its parts; raises :class:`BadDeviceURL` for anything malformed."""
    if not isinstance(url, str) or "://" not in url:
        raise BadDeviceURL(f"{url!r} is not a device URL (expected scheme://...)")
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if not scheme or not all(c.isalnum() or c in "+-." for c in scheme):
        raise BadDeviceURL(f"{url!r}: bad scheme {scheme!r}")
    rest, _, query = rest.partition("?")
    if rest.startswith("/"):
        netloc, path = "", rest
    else:
        netloc, slash, path = rest.partition("/")
        path = slash + path
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise BadDeviceURL(f"{url!r}: malformed query string {query!r}") from None
    q: dict[str, str] = {}
    for k, v in pairs:
        if k in q:
            raise BadDeviceURL(f"{url!r}: option {k!r} given twice")
        q[k] = v
    return DeviceURL(raw=url, scheme=scheme, netloc=unquote(netloc), path=unquote(path), query=q)
