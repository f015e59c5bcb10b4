"""Byte transports under the ESC/POS and ZPL command layers: TCP, serial, file, USB.

Each has ``write(bytes)``, ``read(n, timeout) -> bytes`` (may return fewer, or b"" on timeout),
``can_read`` and ``close()``. Library errors become :mod:`drivers.errors` at this boundary.
"""

from __future__ import annotations

import logging
import os
import socket
import time

from ..errors import DeviceBusy, DeviceNotFound, DeviceTimeout, PrinterOffline
from ..serialline import port_locked

__all__ = ["TcpTransport", "SerialTransport", "FileTransport", "UsbTransport"]

log = logging.getLogger(__name__)


class TcpTransport:
    can_read = True

    def __init__(self, host: str, port: int, timeout: float = 5.0):
        self.host, self.port, self.timeout = host, port, timeout
        self._sock: socket.socket | None = None

    def _conn(self) -> socket.socket:
        if self._sock is None:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            except OSError as exc:
                raise PrinterOffline(f"cannot reach printer at {self.host}:{self.port}: {exc}") from exc
            # A job is a few writes then a status query: without this, Nagle holds the query back
            # until the printer's delayed ACK of the job (about 40 ms a job).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock = sock
        return self._sock

    def write(self, data: bytes) -> None:
        try:
            self._conn().sendall(data)
        except OSError as exc:
            self.close()
            raise PrinterOffline(f"printer {self.host}:{self.port} dropped the connection: {exc}") from exc

    def read(self, n: int, timeout: float = 1.0) -> bytes:
        sock = self._conn()
        out = b""
        deadline = time.monotonic() + timeout
        try:
            while len(out) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                sock.settimeout(left)
                chunk = sock.recv(n - len(out))
                if not chunk:
                    self.close()
                    break
                out += chunk
        except socket.timeout:
            pass
        except OSError as exc:
            self.close()
            raise PrinterOffline(f"printer {self.host}:{self.port}: {exc}") from exc
        finally:
            if self._sock is not None:
                self._sock.settimeout(self.timeout)
        return out

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None


class SerialTransport:
    """A pyserial port from ``serial.serial_for_url`` (so ``loop://`` and ``socket://`` work too)."""

    can_read = True

    def __init__(self, port_url: str, baudrate: int = 115200, timeout: float = 2.0):
        import serial

        try:       # exclusive: two programs printing on one port would interleave their jobs
            self._port = serial.serial_for_url(port_url, baudrate=baudrate, timeout=timeout, write_timeout=30,
                                               exclusive=True)
        except (serial.SerialException, ValueError) as exc:
            if port_locked(exc):
                raise DeviceBusy(f"serial printer {port_url}: the port is in use by another program") from exc
            raise DeviceNotFound(f"serial printer {port_url}: {exc}") from exc
        self.port_url = port_url

    def write(self, data: bytes) -> None:
        import serial

        try:
            self._port.write(data)
            self._port.flush()
        except serial.SerialTimeoutException as exc:
            raise DeviceTimeout(f"serial printer {self.port_url}: write timed out (busy or offline)") from exc
        except serial.SerialException as exc:
            raise PrinterOffline(f"serial printer {self.port_url}: {exc}") from exc

    def read(self, n: int, timeout: float = 1.0) -> bytes:
        self._port.timeout = timeout
        return self._port.read(n)

    def close(self) -> None:
        self._port.close()


class FileTransport:
    """A device file such as ``/dev/usb/lp0`` (write-only: no status)."""

    can_read = False

    def __init__(self, path: str):
        self.path = path
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | (os.O_CREAT if not path.startswith("/dev/") else 0),
                               0o644)
        except OSError as exc:
            raise DeviceNotFound(f"printer device file {path}: {exc.strerror}") from exc

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as exc:
            raise PrinterOffline(f"printer device file {self.path}: {exc.strerror}") from exc

    def read(self, n: int, timeout: float = 1.0) -> bytes:
        return b""

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class UsbTransport:
    """A USB printer-class device through pyusb (optional dependency: ``pip install pyusb``)."""

    can_read = True

    def __init__(self, vid: int, pid: int, timeout_ms: int = 5000):
        try:
            import usb.core
            import usb.util
        except ImportError as exc:
            raise DeviceNotFound("USB printers need pyusb (pip install pyusb)") from exc
        dev = usb.core.find(idVendor=vid, idProduct=pid)
        if dev is None:
            raise DeviceNotFound(f"no USB device {vid:04x}:{pid:04x}")
        try:
            if dev.is_kernel_driver_active(0):
                dev.detach_kernel_driver(0)
            dev.set_configuration()
        except usb.core.USBError as exc:
            raise DeviceNotFound(f"USB printer {vid:04x}:{pid:04x}: {exc} (check udev permissions)") from exc
        intf = dev.get_active_configuration()[(0, 0)]
        direction = usb.util.endpoint_direction
        self._out = usb.util.find_descriptor(intf, custom_match=lambda e: direction(e.bEndpointAddress) == usb.util.ENDPOINT_OUT)
        self._in = usb.util.find_descriptor(intf, custom_match=lambda e: direction(e.bEndpointAddress) == usb.util.ENDPOINT_IN)
        self._dev, self._timeout = dev, timeout_ms
        self.can_read = self._in is not None

    def write(self, data: bytes) -> None:
        import usb.core

        try:
            self._out.write(data, self._timeout)
        except usb.core.USBError as exc:
            raise PrinterOffline(f"USB printer: {exc}") from exc

    def read(self, n: int, timeout: float = 1.0) -> bytes:
        import usb.core

        if self._in is None:
            return b""
        try:
            return bytes(self._in.read(max(n, self._in.wMaxPacketSize), int(timeout * 1000)))[:n]
        except usb.core.USBTimeoutError:
            return b""
        except usb.core.USBError as exc:
            raise PrinterOffline(f"USB printer: {exc}") from exc

    def close(self) -> None:
        import usb.util

        usb.util.dispose_resources(self._dev)
