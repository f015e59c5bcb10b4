"""Device health for the status strip: a background thread probes every configured device."""

from __future__ import annotations

import logging
import threading

from drivers.registry import probe
from drivers.status import DeviceStatus

log = logging.getLogger(__name__)

__all__ = ["DeviceMonitor"]


class DeviceMonitor:
    """Probes ``{role: url}`` every ``interval`` seconds in its own thread; ``snapshot()`` is safe
    to call from the UI thread. A role with no URL is reported as disconnected ("not configured")."""

    def __init__(self, devices: dict[str, str], interval: float = 5.0):
        self.devices = dict(devices)
        self.interval = interval
        self._status: dict[str, DeviceStatus] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def probe_all(self) -> dict[str, DeviceStatus]:
        result = {}
        for role, url in self.devices.items():
            result[role] = probe(url, role) if url else DeviceStatus.disconnected("not configured")
            prev = self._status.get(role)
            if prev is None or prev.state != result[role].state:
                log.info("device %s (%s): %s - %s", role, url or "-", result[role].state.value, result[role].reason)
        with self._lock:
            self._status = result
        return result

    def snapshot(self) -> dict[str, DeviceStatus]:
        with self._lock:
            return dict(self._status)

    def start(self) -> None:
        if self._thread:
            return
        self._thread = threading.Thread(target=self._run, name="device-monitor", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.probe_all()
            except Exception:  # the monitor must survive any driver bug
                log.exception("device monitor pass failed")
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
