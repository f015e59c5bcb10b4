"""SAM_V frames: the serial protocol of the resident-ID-card (第二代居民身份证) reader module.

::

    host -> module:  AA AA AA 96 69 | LEN (2, big-endian) | CMD PARA DATA   | CHK
    module -> host:  AA AA AA 96 69 | LEN (2, big-endian) | SW1 SW2 SW3 DATA | CHK

LEN counts every byte after itself, CHK included; CHK is the XOR of LEN and the body. This
module only builds and parses bytes (no I/O): :class:`FrameParser` is fed whatever the serial
port delivered and returns whole frames, skipping noise before a header.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ProtocolError

__all__ = ["PREAMBLE", "Frame", "FrameParser", "encode", "xor", "SW_OK", "SW_FOUND",
           "SW_FIND_FAILED", "SW_SELECT_FAILED", "SW_READ_FAILED", "SW_TEXT"]

PREAMBLE = b"\xAA\xAA\xAA\x96\x69"
MAX_LEN = 0x1000          # the longest reply (text + photo + fingerprint) is under 4 KiB

SW_OK, SW_FOUND = 0x90, 0x9F
SW_FIND_FAILED, SW_SELECT_FAILED, SW_READ_FAILED = 0x80, 0x81, 0x41
SW_TEXT = {0x90: "ok", 0x9F: "card found", 0x80: "no card found", 0x81: "card select failed",
           0x41: "card read failed", 0x10: "checksum error", 0x11: "length error",
           0x21: "bad command", 0x23: "unauthorised command", 0x24: "unrecognised error",
           0x31: "card authentication failed", 0x32: "random number check failed",
           0x33: "verification error", 0x40: "wrong card", 0x66: "module not authorised"}


def xor(data: bytes) -> int:
    x = 0
    for b in data:
        x ^= b
    return x


def encode(body: bytes) -> bytes:
    """Wrap ``body`` (CMD PARA DATA, or SW1 SW2 SW3 DATA) into a frame."""
    if len(body) + 1 > MAX_LEN:
        raise ValueError("frame too long")
    head = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + head + body + bytes([xor(head + body)])


@dataclass(frozen=True)
class Frame:
    body: bytes

    @property
    def sw3(self) -> int:
        return self.body[2] if len(self.body) >= 3 else -1

    @property
    def data(self) -> bytes:
        return self.body[3:]


class FrameParser:
    """Incremental parser. ``feed`` returns complete frames; a bad checksum or impossible
    length raises :class:`ProtocolError` after dropping that header, so the stream resynchronises.
    ``skipped`` counts noise bytes dropped before headers."""

    def __init__(self):
        self.buf = bytearray()
        self.skipped = 0

    def feed(self, data: bytes) -> list[Frame]:
        self.buf += data
        out = []
        while True:
            i = self.buf.find(PREAMBLE)
            if i < 0:
                keep = len(PREAMBLE) - 1      # a header may be split across reads
                drop = max(0, len(self.buf) - keep)
                self.skipped += drop
                del self.buf[:drop]
                return out
            if i:
                self.skipped += i
                del self.buf[:i]
            if len(self.buf) < 7:
                return out
            length = int.from_bytes(self.buf[5:7], "big")
            if not 1 <= length <= MAX_LEN:
                del self.buf[:len(PREAMBLE)]
                raise ProtocolError(f"SAM_V frame with impossible length {length}")
            if len(self.buf) < 7 + length:
                return out
            frame = bytes(self.buf[:7 + length])
            del self.buf[:7 + length]
            head_body, chk = frame[5:-1], frame[-1]
            if xor(head_body) != chk:
                raise ProtocolError(f"SAM_V frame checksum {chk:02X}, expected {xor(head_body):02X}")
            out.append(Frame(frame[7:-1]))

    @property
    def pending(self) -> int:
        return len(self.buf)
