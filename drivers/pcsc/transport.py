"""APDU transport over a pyscard connection, with the status-word handling real cards need.

* ``61xx``: more data waits; fetch it with GET RESPONSE (``00 C0 00 00 xx``), repeatedly.
* ``6Cxx``: wrong Le; send the same command again with Le = xx (once).
* ``6A82`` (file or application not found) and ``6982`` (security status not satisfied) and
  every other non-``9000`` word raise :class:`StatusWordError` carrying the status word.

A card pulled out (or a reader gone) during a transmit raises
:class:`~drivers.identity.CardRemoved`. The transport only needs an object with pyscard's
``transmit(list[int]) -> (data, sw1, sw2)``, so tests and benches can give it any connection.
"""

from __future__ import annotations

import logging

from ..errors import CardError
from ..identity import CardRemoved

__all__ = ["ApduTransport", "StatusWordError", "build_apdu", "SW_OK", "SW_FILE_NOT_FOUND",
           "SW_SECURITY", "SW_WRONG_LENGTH"]

log = logging.getLogger(__name__)

SW_OK = 0x9000
SW_FILE_NOT_FOUND = 0x6A82
SW_SECURITY = 0x6982
SW_WRONG_LENGTH = 0x6700

_MAX_GET_RESPONSE = 64   # a card that keeps answering 61xx forever is broken, not slow


class StatusWordError(CardError):
    """The card refused a command; ``sw`` holds the status word."""

    def __init__(self, sw: int, command: str):
        self.sw = sw
        super().__init__(f"card answered {sw:04X} to {command}")


def build_apdu(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
    """A short-form C-APDU (case 1-4)."""
    if len(data) > 255:
        raise ValueError("short APDUs carry at most 255 data bytes")
    out = bytes([cla, ins, p1, p2])
    if data:
        out += bytes([len(data)]) + bytes(data)
    if le is not None:
        out += bytes([le & 0xFF])
    return out


class ApduTransport:
    """Sends C-APDUs and returns the response data of a successful command."""

    def __init__(self, connection, name: str = "card"):
        self.connection = connection
        self.name = name
        self.apdus = 0

    def _raw(self, apdu: bytes) -> tuple[bytes, int]:
        self.apdus += 1
        try:
            data, sw1, sw2 = self.connection.transmit(list(apdu))
        except CardError:
            raise
        except Exception as exc:  # pyscard's CardConnectionException / NoCardException tree
            log.warning("%s: transmit %s failed: %s", self.name, apdu[:4].hex(" "), exc)
            raise CardRemoved(f"{self.name}: card removed or reader gone during read ({exc})") from exc
        return bytes(data), (sw1 << 8) | sw2

    def send(self, cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None,
             *, accept: tuple[int, ...] = ()) -> bytes:
        apdu = build_apdu(cla, ins, p1, p2, data, le)
        resp, sw = self._raw(apdu)
        if sw >> 8 == 0x6C:
            apdu = build_apdu(cla, ins, p1, p2, data, sw & 0xFF)
            resp, sw = self._raw(apdu)
        out = bytearray(resp)
        rounds = 0
        while sw >> 8 == 0x61:
            rounds += 1
            if rounds > _MAX_GET_RESPONSE:
                raise CardError(f"{self.name}: endless GET RESPONSE chain")
            more, sw = self._raw(build_apdu(0x00, 0xC0, 0x00, 0x00, le=sw & 0xFF))
            out += more
        if sw != SW_OK and sw not in accept:
            raise StatusWordError(sw, apdu[:4].hex(" ").upper())
        return bytes(out)

    def select_aid(self, aid: bytes, p2: int = 0x00) -> bytes:
        return self.send(0x00, 0xA4, 0x04, p2, aid, le=0x00 if p2 == 0x00 else None)

    def select_fid(self, fid: bytes) -> bytes:
        return self.send(0x00, 0xA4, 0x02, 0x00, fid)

    def read_record(self, number: int, le: int = 0x00) -> bytes:
        """READ RECORD by record number (P2 b3-b1 = 100) in the current EF."""
        return self.send(0x00, 0xB2, number, 0x04, le=le)

    def read_record_by_id(self, identifier: int, le: int = 0x00) -> bytes:
        """READ RECORD, first occurrence of record identifier P1 (P2 b3-b1 = 000) in the current EF."""
        return self.send(0x00, 0xB2, identifier, 0x00, le=le)

    def read_binary(self, offset: int, le: int, sfi: int | None = None) -> bytes:
        if sfi is not None:
            return self.send(0x00, 0xB0, 0x80 | sfi, offset & 0xFF, le=le)
        return self.send(0x00, 0xB0, (offset >> 8) & 0x7F, offset & 0xFF, le=le)
