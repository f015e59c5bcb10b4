"""A small ISO 7816 card: applications (DFs by AID), EFs by FID/SFI, records and binary files.

It answers SELECT (by AID / by FID), READ RECORD, READ BINARY, GET RESPONSE and VERIFY, with
the status words real cards send. Behaviour switches rehearse what real cards do:

``strict_le``
    a READ with the wrong Le gets ``6Cxx`` (xx = the right length), as T=0 cards do.
``select_61``
    SELECT by AID answers ``61xx``; the FCI has to be fetched with GET RESPONSE.
``chunk``
    READ answers at most ``chunk`` bytes, then ``61xx`` for the rest (GET RESPONSE chains).
``pin``
    the holder file (EF06 on SSSE cards) answers ``6982`` until VERIFY with this PIN.
``record_ids``
    READ RECORD by record identifier (P2 b3-b1 = 000: the first record whose first byte, its
    tag, is P1) is answered; with ``False`` it gets ``6A81`` (function not supported), as on
    cards that only number their records.

Records are kept by physical record number; READ RECORD with P2 b3-b1 = 100 reads by number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["EF", "Application", "CardFS"]

SW_OK = b"\x90\x00"


def sw(value: int) -> bytes:
    return value.to_bytes(2, "big")


@dataclass
class EF:
    fid: bytes
    sfi: int | None = None
    records: dict[int, bytes] = field(default_factory=dict)   # record number -> raw record
    data: bytes | None = None                                 # transparent content
    protected: bool = False


@dataclass
class Application:
    aid: bytes
    efs: list[EF] = field(default_factory=list)
    fci: bytes = b""


class CardFS:
    """The APDU processor of the virtual card."""

    def __init__(self, atr: bytes, apps: list[Application], *, strict_le: bool = True,
                 select_61: bool = False, chunk: int = 0, pin: str | None = None, record_ids: bool = True,
                 uid: bytes | None = None):
        self.record_ids = record_ids
        self.uid = uid
        self.atr = atr
        self.apps = apps
        self.strict_le = strict_le
        self.select_61 = select_61
        self.chunk = chunk
        self.pin = pin
        self.reset()

    def reset(self) -> None:
        self.app: Application | None = None
        self.ef: EF | None = None
        self.pending = b""
        self.verified = self.pin is None

    # -- helpers ------------------------------------------------------------------------------
    def _answer(self, data: bytes, le: int | None) -> bytes:
        if self.strict_le and le is not None and le != len(data) % 256:
            return sw(0x6C00 | (len(data) & 0xFF))
        if self.chunk and len(data) > self.chunk:
            self.pending = data[self.chunk:]
            return data[:self.chunk] + sw(0x6100 | min(len(self.pending), 0xFF))
        return data + SW_OK

    def _ef_by_sfi(self, sfi: int) -> EF | None:
        if self.app is None:
            return None
        return next((e for e in self.app.efs if e.sfi == sfi), None)

    # -- commands -----------------------------------------------------------------------------
    def process(self, apdu: bytes) -> bytes:
        if len(apdu) < 4:
            return sw(0x6700)
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[4:]
        data, le = b"", None
        if len(body) == 1:
            le = body[0]
        elif len(body) > 1:
            lc = body[0]
            data = body[1:1 + lc]
            if len(data) != lc:
                return sw(0x6700)
            rest = body[1 + lc:]
            le = rest[0] if rest else None
        if ins != 0xC0:
            self.pending = b""
        if cla == 0xFF and ins == 0xCA:
            return self._get_data(p1, p2, le)
        if ins == 0xA4:
            return self._select(p1, p2, data)
        if ins == 0xB2:
            return self._read_record(p1, p2, le)
        if ins == 0xB0:
            return self._read_binary(p1, p2, le)
        if ins == 0xC0:
            return self._get_response(le)
        if ins == 0x20:
            if self.pin is not None and data == bytes.fromhex(self.pin):
                self.verified = True
                return SW_OK
            return sw(0x63C2)
        return sw(0x6D00)

    def _get_data(self, p1: int, p2: int, le: int | None) -> bytes:
        """PC/SC Part 3 GET DATA (``FF CA 00 00 00``: the card's UID; ``P1 = 01``: the historical
        bytes of the ATR). Le 00 = all of it; a shorter Le gets ``6Cxx``; no UID ``6A81``."""
        if p2 != 0 or p1 not in (0, 1):
            return sw(0x6A81)
        if p1 == 0:
            data = self.uid
        else:
            k = self.atr[1] & 0x0F if len(self.atr) > 1 else 0
            data = self.atr[-1 - k:-1] if k else None
        if not data:
            return sw(0x6A81)
        if le not in (None, 0) and le != len(data):
            return sw(0x6C00 | len(data))
        return data + SW_OK

    def _select(self, p1: int, p2: int, data: bytes) -> bytes:
        if p1 == 0x04:
            app = next((a for a in self.apps if a.aid == data), None)
            if app is None:
                return sw(0x6A82)
            self.app, self.ef = app, None
            if p2 == 0x0C:
                return SW_OK
            if self.select_61 and app.fci:
                self.pending = app.fci
                return sw(0x6100 | len(app.fci))
            return app.fci + SW_OK
        if p1 in (0x00, 0x02) and len(data) == 2 and self.app is not None:
            ef = next((e for e in self.app.efs if e.fid == data), None)
            if ef is None:
                return sw(0x6A82)
            self.ef = ef
            return SW_OK
        return sw(0x6A82)

    def _read_record(self, p1: int, p2: int, le: int | None) -> bytes:
        sfi = p2 >> 3
        ef = self._ef_by_sfi(sfi) if sfi else self.ef
        if ef is None:
            return sw(0x6986)       # no current EF
        if sfi:
            self.ef = ef
        if ef.protected and not self.verified:
            return sw(0x6982)
        mode = p2 & 0x07
        if mode == 0x04:                        # record number P1
            if p1 not in ef.records:
                return sw(0x6A83)
            return self._answer(ef.records[p1], le)
        if mode == 0x00 and p1:                 # first occurrence of record identifier P1
            if not self.record_ids:
                return sw(0x6A81)
            for number in sorted(ef.records):
                if ef.records[number][:1] == bytes([p1]):
                    return self._answer(ef.records[number], le)
            return sw(0x6A83)
        return sw(0x6A86)

    def _read_binary(self, p1: int, p2: int, le: int | None) -> bytes:
        if p1 & 0x80:
            ef = self._ef_by_sfi(p1 & 0x1F)
            offset = p2
            if ef is not None:
                self.ef = ef
        else:
            ef, offset = self.ef, (p1 << 8) | p2
        if ef is None or ef.data is None:
            return sw(0x6986)
        if ef.protected and not self.verified:
            return sw(0x6982)
        if offset > len(ef.data):
            return sw(0x6B00)
        want = 256 if not le else le
        part = ef.data[offset:offset + want]
        if len(part) < want:
            return part + sw(0x6282)          # end of file reached before Le bytes
        return part + SW_OK

    def _get_response(self, le: int | None) -> bytes:
        if not self.pending:
            return sw(0x6985)
        want = 256 if not le else le
        part, self.pending = self.pending[:want], self.pending[want:]
        if self.pending:
            return part + sw(0x6100 | min(len(self.pending), 0xFF))
        return part + SW_OK
