"""A serial port that only the thread using it ever closes.

The ID-card module and the serial scanner are read by a worker thread while another thread (the
screen that gave up waiting, the device monitor, an app shutting down) may close the device at any
moment. Closing the pyserial port from that other thread frees its descriptor number at once; the
reader, still between its ``select`` and its ``read``, could then read from whatever the kernel
opened next under that number (in tests: the next simulated device's pty) and steal its bytes.

:class:`SerialLine` makes closing a request: if nobody is using the port it closes at once; if a
reader is, the read is cancelled (pyserial's ``cancel_read``) and the reader closes the port itself
when it leaves :meth:`SerialLine.use`.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

from .errors import DeviceNotFound, DeviceTimeout

__all__ = ["SerialLine", "port_locked"]


def port_locked(exc: BaseException) -> bool:
    """Whether pyserial refused to open a port because another program holds it (the ports
    opened with ``exclusive=True`` take an advisory lock, ``flock``, that the other holds)."""
    return "exclusively lock" in str(exc)


class SerialLine:
    def __init__(self, name: str, label: str, baud: int, not_connected: str, transport=None,
                 on_open=None):
        """``name`` goes to ``serial_for_url``; ``label`` (the device URL) starts every error;
        ``on_open(port)`` runs once each time the port is opened, before anyone reads it."""
        self.name, self.label, self.baud = name, label, baud
        self.not_connected = not_connected
        self.on_open = on_open
        self.port = transport
        self._fresh = True          # on_open has not run for this port yet
        self._closed = threading.Event()
        self._busy = threading.Lock()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def _open(self):
        if self.port is None:
            import serial
            try:
                self.port = serial.serial_for_url(self.name, baudrate=self.baud, timeout=0.05)
            except (serial.SerialException, ValueError) as exc:
                raise DeviceNotFound(f"{self.label}: {exc}", user_message=self.not_connected) from exc
            self._fresh = True
        if self._fresh:          # just opened by us, or handed in by the caller
            self._fresh = False
            if self.on_open is not None:
                self.on_open(self.port)
        return self.port

    @contextmanager
    def use(self):
        """Yield the open port to one thread at a time; a close requested meanwhile happens on exit."""
        with self._busy:
            if self._closed.is_set():
                raise DeviceTimeout(f"{self.label}: device closed")
            try:
                yield self._open()
            finally:
                if self._closed.is_set():
                    self._close_port()

    def check_open(self) -> None:
        """Open the port if it is not (raises :class:`DeviceNotFound`), without reading.

        A port a reader is using is open: that answers at once instead of waiting for the read."""
        if self._closed.is_set():
            raise DeviceTimeout(f"{self.label}: device closed")
        if not self._busy.acquire(blocking=False):
            return
        try:
            self._open()
        finally:
            self._busy.release()

    def _close_port(self) -> None:
        port, self.port = self.port, None
        if port is not None:
            port.close()

    def close(self) -> None:
        self._closed.set()
        if self._busy.acquire(blocking=False):
            try:
                self._close_port()
            finally:
                self._busy.release()
        else:
            cancel = getattr(self.port, "cancel_read", None)
            if cancel is not None:
                try:
                    cancel()
                except Exception:  # pragma: no cover - a port going away as we cancel
                    pass
