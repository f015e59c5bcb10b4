"""ZVT links: move whole APDUs over TCP or over a serial line.

A link has ``send(apdu)``, ``recv(timeout) -> Apdu`` and ``close()``; the terminal logic in
:mod:`drivers.zvt.terminal` does not know which one it has.

* :class:`TcpLink`: the APDU bytes as they are on a TCP stream.
* :class:`SerialLink`: a pyserial port from ``serial.serial_for_url`` (so ``/dev/ttyUSB0``,
  a pty, ``loop://`` and ``socket://`` all work), framed by :class:`~drivers.zvt.framing.SerialSession`.

Errors are translated here: nobody listening -> :class:`DeviceNotFound`; nothing within the
timeout -> :class:`DeviceTimeout`; the peer went away -> :class:`LinkClosed`; bytes that break
the protocol -> :class:`ProtocolError`.
"""

from __future__ import annotations

import logging
import socket
import time

from ..errors import DeviceError, DeviceNotFound, DeviceTimeout, ProtocolError, TerminalBusy
from ..serialline import port_locked
from .apdu import Apdu, apdu_length, decode_apdu, encode_apdu
from .framing import Received, SendFailed, Sent, SerialSession

__all__ = ["TcpLink", "SerialLink", "LinkClosed", "T3_ACK"]

log = logging.getLogger(__name__)

T3_ACK = 1.0  # seconds to wait for ACK/NAK after a serial frame


class LinkClosed(DeviceError):
    """The terminal closed the connection (or the cable went away)."""


class TcpLink:
    def __init__(self, host: str, port: int, connect_timeout: float = 3.0):
        self.peer = f"{host}:{port}"
        try:
            self.sock = socket.create_connection((host, port), timeout=connect_timeout)
        except socket.timeout as exc:
            raise DeviceTimeout(f"ZVT terminal {self.peer}: no answer to connect within {connect_timeout}s") from exc
        except OSError as exc:
            raise DeviceNotFound(f"ZVT terminal {self.peer} unreachable: {exc.strerror or exc}") from exc
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = bytearray()
        self.bytes_out = 0

    def send(self, apdu: Apdu) -> None:
        data = encode_apdu(apdu)
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise LinkClosed(f"ZVT terminal {self.peer}: send failed: {exc}") from exc
        self.bytes_out += len(data)

    def recv(self, timeout: float) -> Apdu:
        deadline = time.monotonic() + timeout
        while True:
            n = apdu_length(self._buf)
            if n is not None and len(self._buf) >= n:
                raw, self._buf = bytes(self._buf[:n]), self._buf[n:]
                return decode_apdu(raw)
            left = deadline - time.monotonic()
            if left <= 0:
                raise DeviceTimeout(f"ZVT terminal {self.peer}: no answer within {timeout}s")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError as exc:
                raise LinkClosed(f"ZVT terminal {self.peer}: connection lost: {exc}") from exc
            if not chunk:
                raise LinkClosed(f"ZVT terminal {self.peer} closed the connection")
            self._buf += chunk

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:  # pragma: no cover
            pass


class SerialLink:
    def __init__(self, port_url: str, baud: int = 9600, ack_timeout: float = T3_ACK):
        import serial

        self.peer = port_url
        self.ack_timeout = ack_timeout
        try:
            # exclusive: another program on this port (a second kiosk process, `onestop pay`, a
            # probe) would read our terminal's answers or send in the middle of a payment
            self.port = serial.serial_for_url(port_url, baudrate=baud, bytesize=8, parity="N",
                                              stopbits=serial.STOPBITS_TWO, timeout=0.05, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            if port_locked(exc):
                raise TerminalBusy(f"ZVT terminal on {port_url}: the port is in use by another program") from exc
            raise DeviceNotFound(f"ZVT terminal on {port_url}: cannot open the port: {exc}") from exc
        try:
            self.port.reset_input_buffer()
        except Exception:  # loop:// and friends may not support it
            pass
        self.session = SerialSession()
        self._inbox: list[bytes] = []

    def _write_out(self) -> None:
        data = self.session.data_to_send()
        if data:
            try:
                self.port.write(data)
                self.port.flush()
            except Exception as exc:
                raise LinkClosed(f"ZVT terminal on {self.peer}: write failed: {exc}") from exc

    def _read(self) -> bytes:
        try:
            return self.port.read(self.port.in_waiting or 1)
        except Exception as exc:
            raise LinkClosed(f"ZVT terminal on {self.peer}: read failed: {exc}") from exc

    def _pump(self, data: bytes) -> list:
        events = self.session.receive(data)
        for ev in events:
            if isinstance(ev, Received):
                self._inbox.append(ev.apdu)
        self._write_out()
        return events

    def send(self, apdu: Apdu) -> None:
        self.session.send(encode_apdu(apdu))
        self._write_out()
        waited_since = time.monotonic()
        while True:
            events = self._pump(self._read())
            for ev in events:
                if isinstance(ev, Sent):
                    return
                if isinstance(ev, SendFailed):
                    raise ProtocolError(f"ZVT terminal on {self.peer}: frame refused ({ev.reason})")
            if not self.session.awaiting_ack:  # pragma: no cover - defensive
                return
            if time.monotonic() - waited_since > self.ack_timeout:
                events = self.session.on_ack_timeout()
                if any(isinstance(e, SendFailed) for e in events):
                    raise DeviceTimeout(f"ZVT terminal on {self.peer}: no ACK for our frame")
                self._write_out()
                waited_since = time.monotonic()

    def recv(self, timeout: float) -> Apdu:
        deadline = time.monotonic() + timeout
        while not self._inbox:
            if time.monotonic() > deadline:
                raise DeviceTimeout(f"ZVT terminal on {self.peer}: no answer within {timeout}s")
            self._pump(self._read())
        return decode_apdu(self._inbox.pop(0))

    def close(self) -> None:
        try:
            self.port.close()
        except Exception:  # pragma: no cover
            pass
