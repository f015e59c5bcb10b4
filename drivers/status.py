"""Device status model: one vocabulary for every device, each state with a reason a person can read."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

__all__ = ["DeviceState", "DeviceStatus"]


class DeviceState(str, enum.Enum):
    CONNECTED = "connected"
    BUSY = "busy"
    ERROR = "error"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True)
class DeviceStatus:
    state: DeviceState
    reason: str = ""
    detail: dict = field(default_factory=dict)
    at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.state in (DeviceState.CONNECTED, DeviceState.BUSY)

    @classmethod
    def connected(cls, reason: str = "ready", **detail) -> "DeviceStatus":
        return cls(DeviceState.CONNECTED, reason, detail)

    @classmethod
    def busy(cls, reason: str, **detail) -> "DeviceStatus":
        return cls(DeviceState.BUSY, reason, detail)

    @classmethod
    def error(cls, reason: str, **detail) -> "DeviceStatus":
        return cls(DeviceState.ERROR, reason, detail)

    @classmethod
    def disconnected(cls, reason: str, **detail) -> "DeviceStatus":
        return cls(DeviceState.DISCONNECTED, reason, detail)

    def as_dict(self) -> dict:
        return {"state": self.state.value, "reason": self.reason, "detail": dict(self.detail)}

    def summary(self, limit: int = 200) -> str:
        """One short line: the state, and the reason when the device is not working (``error: paper out``)."""
        text = self.state.value if self.ok or not self.reason else f"{self.state.value}: {self.reason}"
        return text[:limit]
