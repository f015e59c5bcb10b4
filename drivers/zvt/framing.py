"""ZVT serial framing, without I/O (tests drive it with raw bytes).

On a serial line every APDU travels as ::

    DLE STX  <APDU, each DLE doubled>  DLE ETX  CRC-lo CRC-hi

The CRC is the reflected CRC-16/CCITT (polynomial 0x1021 processed LSB first, i.e. 0x8408;
initial value 0, no final XOR: the catalogue's CRC-16/KERMIT, check value 0x2189 for
"123456789") over the unstuffed APDU followed by the ETX byte, sent low byte first. (ecrterm's
``crc.py`` builds the same 0x8408 table, though it calls it "xmodem"; the non-reflected XMODEM
variant is refused by real terminals.) The
receiver answers each frame with ACK (``06``) or, for a bad CRC or a broken frame, NAK (``15``);
the sender repeats a frame on NAK or when no answer comes within T3, at most :data:`MAX_TRIES`
times in all.

:class:`FrameDecoder` turns bytes into events; :class:`SerialSession` adds the ACK/NAK and
retransmission rules. Neither reads or writes anything: the caller feeds received bytes in,
writes out what :meth:`SerialSession.data_to_send` returns, and calls
:meth:`SerialSession.on_ack_timeout` when T3 passes without an answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ProtocolError

__all__ = [
    "DLE", "STX", "ETX", "ACK", "NAK", "MAX_TRIES", "crc16", "encode_frame", "FrameDecoder",
    "Frame", "BadFrame", "Ack", "Nak", "Garbage", "SerialSession", "Sent", "Received", "SendFailed",
]

DLE, STX, ETX, ACK, NAK = 0x10, 0x02, 0x03, 0x06, 0x15
MAX_TRIES = 3


def _table() -> list[int]:
    tab = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x8408 if c & 1 else c >> 1
        tab.append(c)
    return tab


_TABLE = _table()


def crc16(data: bytes, crc: int = 0) -> int:
    """Reflected CRC-16/CCITT (KERMIT) of ``data``; ``crc`` continues an earlier value."""
    for b in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ b) & 0xFF]
    return crc


def encode_frame(apdu: bytes) -> bytes:
    crc = crc16(bytes(apdu) + bytes([ETX]))
    body = bytes(apdu).replace(b"\x10", b"\x10\x10")
    return bytes([DLE, STX]) + body + bytes([DLE, ETX, crc & 0xFF, crc >> 8])


@dataclass(frozen=True)
class Frame:
    apdu: bytes


@dataclass(frozen=True)
class BadFrame:
    reason: str


@dataclass(frozen=True)
class Ack:
    pass


@dataclass(frozen=True)
class Nak:
    pass


@dataclass(frozen=True)
class Garbage:
    data: bytes


_IDLE, _START, _BODY, _ESC, _CRC = range(5)


class FrameDecoder:
    """Bytes in, events out: Frame, BadFrame (CRC or stuffing error), Ack, Nak, Garbage."""

    def __init__(self, max_apdu: int = 0x10005):
        self.max_apdu = max_apdu
        self._state = _IDLE
        self._body = bytearray()
        self._crc = bytearray()
        self._junk = bytearray()

    def feed(self, data: bytes) -> list:
        events: list = []
        for b in bytes(data):
            st = self._state
            if st == _IDLE:
                if b == DLE:
                    self._state = _START
                elif b == ACK:
                    self._flush_junk(events)
                    events.append(Ack())
                elif b == NAK:
                    self._flush_junk(events)
                    events.append(Nak())
                else:
                    self._junk.append(b)
            elif st == _START:
                if b == STX:
                    self._flush_junk(events)
                    self._body.clear()
                    self._state = _BODY
                else:
                    self._junk += bytes([DLE, b])
                    self._state = _IDLE
            elif st == _BODY:
                if b == DLE:
                    self._state = _ESC
                else:
                    self._body.append(b)
                    if len(self._body) > self.max_apdu:
                        events.append(BadFrame("frame too long"))
                        self._state = _IDLE
            elif st == _ESC:
                if b == DLE:
                    self._body.append(DLE)
                    self._state = _BODY
                elif b == ETX:
                    self._crc.clear()
                    self._state = _CRC
                elif b == STX:  # a new frame started inside this one: the old one is lost
                    events.append(BadFrame("frame restarted before DLE ETX"))
                    self._body.clear()
                    self._state = _BODY
                else:
                    events.append(BadFrame(f"DLE followed by {b:02X}"))
                    self._state = _IDLE
            else:  # _CRC
                self._crc.append(b)
                if len(self._crc) == 2:
                    self._state = _IDLE
                    want = crc16(bytes(self._body) + bytes([ETX]))
                    got = self._crc[0] | self._crc[1] << 8
                    if want == got:
                        events.append(Frame(bytes(self._body)))
                    else:
                        events.append(BadFrame(f"CRC {got:04X}, expected {want:04X}"))
        return events

    def _flush_junk(self, events: list) -> None:
        if self._junk:
            events.append(Garbage(bytes(self._junk)))
            self._junk.clear()

    @property
    def idle(self) -> bool:
        return self._state == _IDLE


@dataclass(frozen=True)
class Sent:
    """The peer acknowledged our frame."""


@dataclass(frozen=True)
class Received:
    apdu: bytes


@dataclass(frozen=True)
class SendFailed:
    reason: str


class SerialSession:
    """ACK/NAK and retransmission over :class:`FrameDecoder` (one frame in flight at a time)."""

    def __init__(self, max_tries: int = MAX_TRIES):
        self.decoder = FrameDecoder()
        self.max_tries = max_tries
        self._out = bytearray()
        self._pending: bytes | None = None
        self._tries = 0
        self.stats = {"frames_out": 0, "frames_in": 0, "retransmits": 0, "naks_sent": 0, "garbage_bytes": 0}

    @property
    def awaiting_ack(self) -> bool:
        return self._pending is not None

    def send(self, apdu: bytes) -> None:
        if self._pending is not None:
            raise ProtocolError("a frame is still waiting for its ACK")
        self._pending = encode_frame(apdu)
        self._tries = 1
        self._out += self._pending
        self.stats["frames_out"] += 1

    def data_to_send(self) -> bytes:
        out, self._out = bytes(self._out), bytearray()
        return out

    def _retransmit(self, why: str) -> list:
        if self._tries >= self.max_tries:
            self._pending = None
            return [SendFailed(f"{why} after {self._tries} tries")]
        self._tries += 1
        self.stats["retransmits"] += 1
        self._out += self._pending
        return []

    def on_ack_timeout(self) -> list:
        if self._pending is None:
            return []
        return self._retransmit("no ACK")

    def receive(self, data: bytes) -> list:
        events: list = []
        for ev in self.decoder.feed(data):
            if isinstance(ev, Ack):
                if self._pending is not None:
                    self._pending = None
                    events.append(Sent())
            elif isinstance(ev, Nak):
                if self._pending is not None:
                    events += self._retransmit("NAK")
            elif isinstance(ev, Frame):
                self.stats["frames_in"] += 1
                self._out.append(ACK)
                events.append(Received(ev.apdu))
            elif isinstance(ev, BadFrame):
                self.stats["naks_sent"] += 1
                self._out.append(NAK)
            elif isinstance(ev, Garbage):
                self.stats["garbage_bytes"] += len(ev.data)
        return events
