"""``escpos+tcp://`` - an ESC/POS printer on the network (raw port 9100).

URL format::

    escpos+tcp://HOST[:PORT][?profile=cn80&chinese=auto|native|raster&qr=auto|native|raster&timeout=5]

PORT defaults to 9100. ``profile`` names an entry of :data:`drivers.escpos.profiles.PROFILES`.
"""

from __future__ import annotations

from ..status import DeviceStatus
from ..url import DeviceURL
from .printer import COMMON_OPTIONS, EscposPrinter, make_profile
from .transport import TcpTransport

GRAMMAR = "escpos+tcp://HOST[:PORT][?profile=NAME&chinese=auto|native|raster&qr=auto|native|raster&timeout=S]"
OPTIONS = dict(COMMON_OPTIONS)
ROLES = ("receipt_printer", "label_printer")


def open(url: DeviceURL, role: str | None = None) -> EscposPrinter:  # noqa: A001 - registry contract
    opts = url.options_for(OPTIONS, GRAMMAR)
    host, port = url.host_port(9100, GRAMMAR)
    return EscposPrinter(url, role, TcpTransport(host, port, opts["timeout"]), make_profile(url, opts))


def probe(url: DeviceURL, role: str | None = None) -> DeviceStatus:
    with open(url, role) as p:
        return p.status()
