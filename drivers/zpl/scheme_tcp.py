"""``zpl+tcp://`` - a Zebra (ZPL II) label / wristband printer on the network.

URL format::

    zpl+tcp://HOST[:PORT][?dpi=300&timeout=5]

PORT defaults to 9100; ``dpi`` is the print head resolution (HC100: 300).
"""

from __future__ import annotations

from ..escpos.transport import TcpTransport
from ..status import DeviceStatus
from ..url import DeviceURL
from .printer import ZplPrinter

GRAMMAR = "zpl+tcp://HOST[:PORT][?dpi=203|300&timeout=S]"
OPTIONS = {"dpi": (int, 300), "timeout": (float, 5.0)}
ROLES = ("label_printer",)


def open(url: DeviceURL, role: str | None = None) -> ZplPrinter:  # noqa: A001 - registry contract
    opts = url.options_for(OPTIONS, GRAMMAR)
    host, port = url.host_port(9100, GRAMMAR)
    return ZplPrinter(url, role, TcpTransport(host, port, opts["timeout"]), {"dpi": opts["dpi"], "name": "zpl"})


def probe(url: DeviceURL, role: str | None = None) -> DeviceStatus:
    with open(url, role) as p:
        return p.status()
