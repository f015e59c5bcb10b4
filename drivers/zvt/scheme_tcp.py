"""``zvt+tcp://`` - a ZVT card terminal on the network.

URL format::

    zvt+tcp://HOST[:PORT][?timeout=SECONDS&busy_wait=SECONDS&password=NNNNNN&register=1]

PORT defaults to 20007. ``timeout`` is T4, the longest silence from the terminal during a
transaction (restarts with every intermediate status; default 180 s). ``password`` is the
terminal's ECR password (6 digits, default 000000). ``register=0`` skips registration (06 00)
when the connection opens. ``busy_wait`` (default 3 s) is how long a command the terminal refuses
as busy is asked again before the register reports the terminal busy (a refused command was not
started, so asking again can never charge twice).
"""

from __future__ import annotations

from ..status import DeviceStatus
from ..url import DeviceURL, digits
from .terminal import ZvtTerminal
from .transport import TcpLink

__all__ = ["GRAMMAR", "OPTIONS", "ROLES", "DEFAULT_PORT", "open", "probe"]

GRAMMAR = "zvt+tcp://HOST[:PORT][?timeout=SECONDS&ack_timeout=SECONDS&busy_wait=SECONDS&password=NNNNNN&register=1]"
OPTIONS = {"timeout": (float, 180.0), "ack_timeout": (float, 5.0), "busy_wait": (float, 3.0),
           "password": (str, "000000", digits(6)), "register": (bool, True)}
ROLES = ("payment_terminal",)
DEFAULT_PORT = 20007


def check(url: DeviceURL, opts: dict) -> None:
    url.host_port(DEFAULT_PORT, GRAMMAR)


def open(url: DeviceURL, role: str | None = None) -> ZvtTerminal:  # noqa: A001 - registry contract
    opts = url.options_for(OPTIONS, GRAMMAR)
    host, port = url.host_port(DEFAULT_PORT, GRAMMAR)
    timeout = opts["timeout"]
    return ZvtTerminal(url, lambda: TcpLink(host, port, connect_timeout=min(5.0, timeout)), role=role,
                       password=opts["password"], timeout=timeout, ack_timeout=opts["ack_timeout"],
                       register=opts["register"], busy_wait=opts["busy_wait"])


def probe(url: DeviceURL, role: str | None = None) -> DeviceStatus:
    return open(url, role).status()
