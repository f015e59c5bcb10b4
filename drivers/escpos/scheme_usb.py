"""``escpos+usb://`` - an ESC/POS printer on USB through pyusb (optional: ``pip install pyusb``).

URL format::

    escpos+usb://VID:PID[?profile=cn80&chinese=..&qr=..]     e.g. escpos+usb://04b8:0202
"""

from __future__ import annotations

from ..errors import BadDeviceURL
from ..status import DeviceStatus
from ..url import DeviceURL
from .printer import COMMON_OPTIONS, EscposPrinter, make_profile
from .transport import UsbTransport

GRAMMAR = "escpos+usb://VID:PID[?profile=NAME&chinese=..&qr=..]"
OPTIONS = dict(COMMON_OPTIONS)
ROLES = ("receipt_printer", "label_printer")


def ids_of(url: DeviceURL) -> tuple[int, int]:
    vid, sep, pid = url.netloc.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(vid, 16), int(pid, 16)
    except ValueError:
        raise BadDeviceURL(f"{url.raw!r}: expected hexadecimal VID:PID (format: {GRAMMAR})") from None


def open(url: DeviceURL, role: str | None = None) -> EscposPrinter:  # noqa: A001
    opts = url.options_for(OPTIONS, GRAMMAR)
    vid, pid = ids_of(url)
    return EscposPrinter(url, role, UsbTransport(vid, pid), make_profile(url, opts))


def probe(url: DeviceURL, role: str | None = None) -> DeviceStatus:
    with open(url, role) as p:
        return p.status()
