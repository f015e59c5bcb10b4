"""The contract every device object meets, whatever its scheme."""

from __future__ import annotations

import threading

from .status import DeviceStatus
from .url import DeviceURL

__all__ = ["Device", "ROLES"]

#: the roles a kiosk or counter configures a device URL for
ROLES = (
    "card_reader",
    "id_reader",
    "receipt_printer",
    "label_printer",
    "payment_terminal",
    "scanner",
    "camera",
)


class Device:
    """Device logic composed over a transport. Subclasses add the role's own operations.

    Counters (``counters``) and the last error are kept for the technician's diagnostics screen.
    """

    def __init__(self, url: DeviceURL, role: str | None = None):
        self.url = url
        self.role = role
        self.counters: dict[str, int] = {}
        self.last_error: str | None = None
        self._lock = threading.RLock()

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self.counters[name] = self.counters.get(name, 0) + n

    def send_job(self, data: bytes, what: str):
        """Write a whole print job, then ask the printer how it ended (``self.query``, given time
        for the bytes to pass a 115200-baud line). Any fault after the write leaves the job *in
        doubt*: every byte is out and the printer may have printed it."""
        from .errors import DeviceError, PrintInDoubt

        self.transport.write(data)
        self.count("jobs")
        self.count("bytes_out", len(data))
        try:
            return self.query(timeout=max(2.0, len(data) / 10_000))
        except DeviceError as exc:        # timeout, no answer, garbage: the bytes are out
            self.count("jobs_in_doubt")
            self.last_error = str(exc)
            raise PrintInDoubt(f"{self.url.raw}: all {len(data)} bytes of the {what} were sent but the "
                               f"printer did not answer afterwards ({exc}); it may have printed") from exc

    def status(self) -> DeviceStatus:  # pragma: no cover - every driver overrides it
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url.raw} role={self.role}>"
