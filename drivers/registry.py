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
import threading
import weakref
from types import ModuleType

from .base import ROLES, Device
from .errors import BadDeviceURL, DeviceBusy, DeviceError
from .status import DeviceStatus
from .url import DeviceURL, parse_url

__all__ = ["SCHEMES", "scheme_module", "open_device", "probe", "check_url", "in_use"]

log = logging.getLogger(__name__)

#: scheme -> module implementing it (the only place a scheme is added)
SCHEMES: dict[str, str] = {
    "sim": "drivers.sim.scheme",
    "escpos+tcp": "drivers.escpos.scheme_tcp",
    "escpos+serial": "drivers.escpos.scheme_serial",
    "escpos+usb": "drivers.escpos.scheme_usb",
    "escpos+file": "drivers.escpos.scheme_file",
    "zpl+tcp": "drivers.zpl.scheme_tcp",
    "pcsc": "drivers.pcsc",
    "cnid+serial": "drivers.cnid",
    "camera": "drivers.camera",
    "camera+file": "drivers.camera",
    "scanner+serial": "drivers.scanner",
    "zvt+tcp": "drivers.zvt.scheme_tcp",
    "zvt+serial": "drivers.zvt.scheme_serial",
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
    opts = u.options_for(mod.OPTIONS, mod.GRAMMAR)
    check = getattr(mod, "check", None)      # what open() checks before it touches the device
    if check is not None:
        check(u, opts)
    if role is not None:
        if role not in ROLES:
            raise BadDeviceURL(f"unknown device role {role!r}; known: {', '.join(ROLES)}")
        if role not in mod.ROLES:
            raise BadDeviceURL(
                f"{u.raw!r}: scheme {u.scheme!r} cannot serve as {role} (it serves {', '.join(mod.ROLES)})"
            )
    return u


_in_use: dict[str, weakref.WeakSet] = {}    # url -> devices open now (a dropped one leaves by itself)
_in_use_lock = threading.Lock()
_probe_locks: dict[str, threading.Lock] = {}
PROBE_WAIT_S = 15.0


def _probe_lock(url: str) -> threading.Lock:
    with _in_use_lock:
        return _probe_locks.setdefault(url, threading.Lock())


def in_use(url: str) -> bool:
    """Whether this process has the device at ``url`` open right now."""
    with _in_use_lock:
        return bool(_in_use.get(url))


def open_device(url: str, role: str | None = None) -> Device:
    """Open the device at ``url``. Until it is closed, :func:`probe` reports it busy instead of
    opening it a second time (a serial port or a terminal link has one user at a time)."""
    u = check_url(url, role)
    lock = _probe_lock(url)
    if not lock.acquire(timeout=PROBE_WAIT_S):  # let a status probe that is under way finish first
        raise DeviceBusy(f"{url}: a status check did not finish within {PROBE_WAIT_S:g} s")
    try:
        dev = scheme_module(u).open(u, role)
        with _in_use_lock:
            _in_use.setdefault(url, weakref.WeakSet()).add(dev)
    finally:
        lock.release()
    # no strong reference from the device to itself: a device nobody holds is freed, and leaves
    # the in-use set, even if its owner forgot to close it
    ref, cls_close = weakref.ref(dev), type(dev).close

    def close_and_release(*args, **kwargs):
        d = ref()
        if d is None:
            return None
        try:
            return cls_close(d, *args, **kwargs)
        finally:
            with _in_use_lock:
                _in_use.get(url, weakref.WeakSet()).discard(d)

    dev.close = close_and_release
    return dev


def probe(url: str, role: str | None = None) -> DeviceStatus:
    """Status of the device at ``url``; never raises for a device problem. A device this process
    has open is reported busy without being touched."""
    lock = _probe_lock(url)
    if in_use(url) or not lock.acquire(blocking=False):
        return DeviceStatus.busy("in use")
    try:
        if in_use(url):
            return DeviceStatus.busy("in use")
        u = check_url(url, role)
        return scheme_module(u).probe(u, role)
    except DeviceError as exc:
        log.warning("probe %s (%s): %s", url, role, exc)
        return DeviceStatus.error(str(exc))
    finally:
        lock.release()
