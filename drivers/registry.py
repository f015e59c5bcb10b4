"""The URL scheme registry: an explicit table from scheme to driver module.

Each driver module documents its URL format in ``GRAMMAR`` and provides:

``OPTIONS``
    ``{name: (type, default)}`` for the query string; anything else is refused.
``ROLES``
    the device roles the scheme can serve (see :data:`drivers.base.ROLES`).
``open(url: DeviceURL, role: str | None) -> Device``
    open the device (may raise :class:`~drivers.errors.DeviceError`).
``probe(url: DeviceURL, role: str | None) -> DeviceStatus``
    a quick reachability check that does not keep the device.

Modules are imported only when a URL names them, so optional dependencies (pyscard, pyusb,
OpenCV) stay inside their own driver. Nothing registers itself on import.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

from .base import ROLES, Device
from .errors import BadDeviceURL, DeviceError
from .status import DeviceStatus
from .url import DeviceURL, parse_url

__all__ = ["SCHEMES", "scheme_module", "open_device", "probe", "check_url"]

log = logging.getLogger(__name__)

#: scheme -> module implementing it (the only place a scheme is added)
SCHEMES: dict[str, str] = {
    "sim": "drivers.sim.scheme",
}


def scheme_module(url: DeviceURL | str) -> ModuleType:
    u = parse_url(url) if isinstance(url, str) else url
    try:
        modname = SCHEMES[u.scheme]
    except KeyError:
        raise BadDeviceURL(
            f"{u.raw!r}: unknown device scheme {u.scheme!r}; known: {', '.join(sorted(SCHEMES))}"
        ) from None
    try:
        return importlib.import_module(modname)
    except ImportError as exc:  # a driver whose optional library is missing
        raise DeviceError(f"{u.raw!r}: driver {modname} cannot load: {exc}") from exc


def check_url(url: str, role: str | None = None) -> DeviceURL:
    """Parse and validate a URL (scheme, options, role) without touching the device."""
    u = parse_url(url)
    mod = scheme_module(u)
    u.options_for(mod.OPTIONS, mod.GRAMMAR)
    if role is not None:
        if role not in ROLES:
            raise BadDeviceURL(f"unknown device role {role!r}; known: {', '.join(ROLES)}")
        if role not in mod.ROLES:
            raise BadDeviceURL(
                f"{u.raw!r}: scheme {u.scheme!r} cannot serve as {role} (it serves {', '.join(mod.ROLES)})"
            )
    return u


def open_device(url: str, role: str | None = None) -> Device:
    u = check_url(url, role)
    return scheme_module(u).open(u, role)


def probe(url: str, role: str | None = None) -> DeviceStatus:
    """Status of the device at ``url``; never raises for a device problem."""
    try:
        u = check_url(url, role)
        return scheme_module(u).probe(u, role)
    except DeviceError as exc:
        log.warning("probe %s (%s): %s", url, role, exc)
        return DeviceStatus.error(str(exc))
