"""``zvt+serial://`` - a ZVT card terminal on a serial line (RS-232, USB adapter or pty).

URL format::

    zvt+serial:///dev/ttyUSB0[?baud=9600&timeout=SECONDS&password=NNNNNN&register=1]

The port is opened with ``serial.serial_for_url`` (8 data bits, no parity, 2 stop bits).
Frames are DLE STX ... DLE ETX with CRC-16 and ACK/NAK (see :mod:`drivers.zvt.framing`).
``timeout`` is T4 (default 180 s); ``password`` the ECR password (6 digits).
"""

from __future__ import annotations

from ..errors import BadDeviceURL
from ..status import DeviceStatus
from ..url import DeviceURL, digits
from .terminal import ZvtTerminal
from .transport import SerialLink

__all__ = ["GRAMMAR", "OPTIONS", "ROLES", "open", "probe"]

GRAMMAR = "zvt+serial:///dev/PORT[?baud=9600&timeout=SECONDS&ack_timeout=SECONDS&busy_wait=SECONDS&password=NNNNNN&register=1]"
OPTIONS = {"baud": (int, 9600), "timeout": (float, 180.0), "ack_timeout": (float, 5.0), "busy_wait": (float, 3.0),
           "password": (str, "000000", digits(6)), "register": (bool, True)}
ROLES = ("payment_terminal",)


def check(url: DeviceURL, opts: dict) -> None:
    if url.netloc or not url.path:
        raise BadDeviceURL(f"{url.raw!r}: expected a port path such as /dev/ttyUSB0 (format: {GRAMMAR})")


def open(url: DeviceURL, role: str | None = None) -> ZvtTerminal:  # noqa: A001 - registry contract
    opts = url.options_for(OPTIONS, GRAMMAR)
    check(url, opts)
    port, baud = url.path, opts["baud"]
    return ZvtTerminal(url, lambda: SerialLink(port, baud=baud), role=role, password=opts["password"],
                       timeout=opts["timeout"], ack_timeout=opts["ack_timeout"], register=opts["register"],
                       busy_wait=opts["busy_wait"])


def probe(url: DeviceURL, role: str | None = None) -> DeviceStatus:
    return open(url, role).status()
