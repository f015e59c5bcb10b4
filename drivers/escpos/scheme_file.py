"""``escpos+file://`` - an ESC/POS printer behind a device file (``/dev/usb/lp0``), write-only.

URL format::

    escpos+file:///dev/usb/lp0[?profile=cn80&chinese=..&qr=..]

A device file cannot answer status queries, so jobs are sent without the status checks.
"""

from __future__ import annotations

import os

from ..status import DeviceStatus
from ..url import DeviceURL
from .printer import COMMON_OPTIONS, EscposPrinter, make_profile
from .transport import FileTransport

GRAMMAR = "escpos+file:///PATH[?profile=NAME&chinese=..&qr=..]"
OPTIONS = dict(COMMON_OPTIONS)
ROLES = ("receipt_printer", "label_printer")


def open(url: DeviceURL, role: str | None = None) -> EscposPrinter:  # noqa: A001
    opts = url.options_for(OPTIONS, GRAMMAR)
    return EscposPrinter(url, role, FileTransport(url.path), make_profile(url, opts))


def probe(url: DeviceURL, role: str | None = None) -> DeviceStatus:
    if not os.access(url.path, os.W_OK):
        return DeviceStatus.disconnected(f"{url.path} is missing or not writable")
    return DeviceStatus.connected("device file writable (no status on this link)")
