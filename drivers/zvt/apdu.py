"""ZVT APDUs: ``CLASS INSTR LEN DATA``.

LEN is one byte; the value ``FF`` announces an extended length in the two following bytes,
little-endian (so a data part of 255 bytes or more is ``.. FF lo hi``). The same APDU bytes go
over TCP as they are and over a serial line inside the frames of :mod:`drivers.zvt.framing`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ProtocolError

__all__ = ["Apdu", "encode_apdu", "decode_apdu", "apdu_length", "ACK_APDU", "MAX_DATA"]

MAX_DATA = 0xFFFF


@dataclass(frozen=True)
class Apdu:
    cls: int
    instr: int
    data: bytes = b""

    @property
    def code(self) -> tuple[int, int]:
        return (self.cls, self.instr)

    def encode(self) -> bytes:
        return encode_apdu(self)

    def __repr__(self) -> str:  # never the data: it may hold card fields (see drivers.pci)
        return f"Apdu({self.cls:02X} {self.instr:02X}, {len(self.data)} bytes)"


def encode_apdu(apdu: Apdu) -> bytes:
    n = len(apdu.data)
    if not (0 <= apdu.cls <= 0xFF and 0 <= apdu.instr <= 0xFF):
        raise ValueError("CLASS and INSTR are single bytes")
    if n > MAX_DATA:
        raise ValueError(f"APDU data of {n} bytes is longer than {MAX_DATA}")
    head = bytes([apdu.cls, apdu.instr])
    if n < 0xFF:
        return head + bytes([n]) + apdu.data
    return head + bytes([0xFF, n & 0xFF, n >> 8]) + apdu.data


def apdu_length(buf: bytes) -> int | None:
    """Total length of the APDU at the start of ``buf``, or None if the header is still incomplete."""
    if len(buf) < 3:
        return None
    if buf[2] != 0xFF:
        return 3 + buf[2]
    if len(buf) < 5:
        return None
    return 5 + (buf[3] | buf[4] << 8)


def decode_apdu(buf: bytes) -> Apdu:
    """One complete APDU (exactly; trailing or missing bytes are a :class:`ProtocolError`)."""
    total = apdu_length(buf)
    if total is None:
        raise ProtocolError(f"APDU header incomplete ({len(buf)} bytes)")
    if len(buf) != total:
        raise ProtocolError(f"APDU length mismatch: header says {total} bytes, got {len(buf)}")
    start = 3 if buf[2] != 0xFF else 5
    return Apdu(buf[0], buf[1], bytes(buf[start:]))


ACK_APDU = Apdu(0x80, 0x00)
