"""``sim://`` - an in-process virtual device for any role.

URL format::

    sim://KIND[?state=STATE]

KIND is a role (``card_reader``, ``id_reader``, ``receipt_printer``, ``label_printer``,
``payment_terminal``, ``scanner``, ``camera``) or a short alias (``card``, ``idcard``,
``printer``, ``label``, ``terminal``, ``scanner``, ``camera``).
STATE sets the status the device reports, to rehearse faults: ``connected`` (default),
``busy``, ``error``, ``disconnected``.
"""

from __future__ import annotations

from ..base import ROLES, Device
from ..errors import BadDeviceURL
from ..status import DeviceState, DeviceStatus
from ..url import DeviceURL

GRAMMAR = "sim://KIND[?state=connected|busy|error|disconnected]"
OPTIONS = {"state": (str, "connected")}
# ROLES (imported above) is what this scheme serves: every role.

ALIASES = {
    "card": "card_reader",
    "idcard": "id_reader",
    "printer": "receipt_printer",
    "label": "label_printer",
    "terminal": "payment_terminal",
}

_REASONS = {
    DeviceState.CONNECTED: "simulated {kind} ready",
    DeviceState.BUSY: "simulated {kind} busy",
    DeviceState.ERROR: "simulated {kind} reports a fault",
    DeviceState.DISCONNECTED: "simulated {kind} unplugged",
}


def kind_of(url: DeviceURL) -> str:
    kind = ALIASES.get(url.netloc, url.netloc)
    if kind not in ROLES:
        raise BadDeviceURL(
            f"{url.raw!r}: unknown simulated device {url.netloc!r}; "
            f"known: {', '.join(sorted(set(ROLES) | set(ALIASES)))} (format: {GRAMMAR})"
        )
    return kind


def _state(url: DeviceURL) -> DeviceState:
    value = url.options_for(OPTIONS, GRAMMAR)["state"]
    try:
        return DeviceState(value)
    except ValueError:
        raise BadDeviceURL(f"{url.raw!r}: state must be one of {', '.join(s.value for s in DeviceState)}") from None


class SimDevice(Device):
    """A virtual device that keeps what it was sent, for the demo and the tests."""

    def __init__(self, url: DeviceURL, role: str | None):
        super().__init__(url, role)
        self.kind = kind_of(url)
        self.state = _state(url)
        self.received: list[bytes] = []

    def status(self) -> DeviceStatus:
        return DeviceStatus(self.state, _REASONS[self.state].format(kind=self.kind.replace("_", " ")), {"simulated": True})

    def write(self, data: bytes) -> int:
        self.count("bytes_out", len(data))
        self.received.append(bytes(data))
        return len(data)


def open(url: DeviceURL, role: str | None = None) -> SimDevice:  # noqa: A001 - registry contract
    return SimDevice(url, role)


def probe(url: DeviceURL, role: str | None = None) -> DeviceStatus:
    return SimDevice(url, role).status()
