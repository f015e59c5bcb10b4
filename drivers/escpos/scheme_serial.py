"""``escpos+serial://`` - an ESC/POS printer on a serial port (through ``serial.serial_for_url``).

URL format::

    escpos+serial:///dev/ttyUSB0[?baud=115200&profile=cn80&chinese=..&qr=..&timeout=5]
    escpos+serial://socket://HOST:PORT   (any pyserial URL after the scheme)
"""

from __future__ import annotations

from ..status import DeviceStatus
from ..url import DeviceURL
from .printer import COMMON_OPTIONS, EscposPrinter, make_profile
from .transport import SerialTransport

GRAMMAR = "escpos+serial://PORT[?baud=115200&profile=NAME&chinese=..&qr=..&timeout=S]"
OPTIONS = dict(COMMON_OPTIONS, baud=(int, 115200))
ROLES = ("receipt_printer", "label_printer")


def port_of(url: DeviceURL) -> str:
    """``escpos+serial:///dev/ttyUSB0`` -> ``/dev/ttyUSB0``; ``escpos+serial://loop://`` -> ``loop://``."""
    rest = url.raw.split("://", 1)[1].split("?", 1)[0]
    return rest


def open(url: DeviceURL, role: str | None = None) -> EscposPrinter:  # noqa: A001
    opts = url.options_for(OPTIONS, GRAMMAR)
    return EscposPrinter(url, role, SerialTransport(port_of(url), opts["baud"], opts["timeout"]),
                         make_profile(url, opts))


def probe(url: DeviceURL, role: str | None = None) -> DeviceStatus:
    with open(url, role) as p:
        return p.status()
