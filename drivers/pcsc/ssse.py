"""The Chinese social-security / medical-insurance card (社保卡), SSSE application.

Read sequence (MOHRSS card specification; public kiosk code sends the same):

1. ``SELECT`` the SSSE application by name ``sx1.sh.社会保障`` (GBK), AID
   ``7378312E73682EC9E7BBE1B1A3D5CF``.
2. ``SELECT EF05`` (card data) and read records 01-07.
3. ``SELECT EF06`` (holder data) and read records 08-0D, then record ``4E``, the name extension
   of 2nd/3rd-generation cards, which continues a name too long for the 30 bytes of record 09.

Each record is ``tag | length | value``, so Le is the value length + 2. The tag is the record's
*identifier*, not necessarily its position: EF06 may hold 08-0D and 4E as physical records 1-7,
and then ``00 B2 08 04`` (record *number* 8) answers 6A83. So records are read by identifier
(``READ RECORD`` with P1 = the tag, P2 b3-b1 = 000, e.g. ``00 B2 08 00 14``), and a file whose
card refuses identifier reads (6A81, 6A86, 6B00, or 6A83 for the file's first record) is read by
record number (P2 ``04``) instead; on such cards the numbers are the tags. Text is GBK; names that GBK cannot hold are written with GB 18030's four-byte
sequences, so names are decoded as GB 18030 (a superset that decodes GBK unchanged).
Characters from the user-defined (private-use) areas cannot be shown reliably: the record is
kept, with a warning for the technician.
"""

from __future__ import annotations

import logging
import unicodedata

from ..errors import CardError
from ..identity import Identity, Insurance, UnreadableCard, iso_date, valid_cn_id_number
from .transport import SW_FILE_NOT_FOUND, ApduTransport, StatusWordError

__all__ = ["SSSE_AID", "SocialSecurityCard", "parse_record", "decode_text", "decode_bcd_date",
           "holder_identity", "EF05_RECORDS", "EF06_RECORDS", "NAME_EXT_RECORD"]

log = logging.getLogger(__name__)

SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")
#: record number -> (field, value length)
EF05_RECORDS = {0x01: ("card_id", 16), 0x02: ("card_type", 1), 0x03: ("spec_version", 4),
                0x04: ("init_org", 12), 0x05: ("issue_date", 4), 0x06: ("expiry", 4),
                0x07: ("card_number", 9)}
EF06_RECORDS = {0x08: ("ss_number", 18), 0x09: ("name", 30), 0x0A: ("sex", 1),
                0x0B: ("ethnicity", 1), 0x0C: ("birthplace", 3), 0x0D: ("birth_date", 4)}
NAME_EXT_RECORD = 0x4E
_PAD = b"\x00\x20\xff"
_SW_RECORD_NOT_FOUND = 0x6A83
#: answers of a card that does not do READ RECORD by identifier: function not supported, wrong
#: P1-P2, wrong parameters
_ID_REFUSED = frozenset({0x6A81, 0x6A86, 0x6B00})
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"}


def parse_record(number: int, raw: bytes) -> bytes:
    """The value of one SSSE record (``tag=number | len | value``); CardError if malformed."""
    if len(raw) < 2:
        raise UnreadableCard(f"record {number:02X}: {len(raw)} byte(s), too short for tag and length")
    if raw[0] != number:
        raise UnreadableCard(f"record {number:02X}: tag {raw[0]:02X} does not match")
    length = raw[1]
    if length > len(raw) - 2:
        raise UnreadableCard(f"record {number:02X}: length {length} but only {len(raw) - 2} byte(s)")
    return bytes(raw[2:2 + length])


def decode_text(value: bytes, field: str) -> tuple[str, list[str]]:
    """GBK/GB 18030 text without padding, and warnings; CardError for invalid bytes."""
    value = value.rstrip(_PAD)
    try:
        text = value.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise UnreadableCard(f"{field}: invalid GBK/GB 18030 bytes {value.hex()} ({exc.reason})") from exc
    if any(unicodedata.category(ch) in _BAD_CATEGORIES for ch in text):
        raise UnreadableCard(f"{field}: control or unassigned characters in {value.hex()}")
    warnings = []
    if any(0xE000 <= ord(ch) <= 0xF8FF for ch in text):
        warnings.append(f"{field} has private-use characters (issuer-defined): {value.hex()}")
    return text.strip(), warnings


def _ascii(value: bytes, field: str) -> str:
    value = value.rstrip(_PAD)
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError as exc:
        raise UnreadableCard(f"{field}: not ASCII: {value.hex()}") from exc
    if not text.isprintable():
        raise UnreadableCard(f"{field}: control characters in {value.hex()}")
    return text.strip()


def decode_bcd_date(value: bytes, field: str) -> str | None:
    """4-byte BCD ``YYYYMMDD`` to ISO; ``None`` for an all-zero/FF date; CardError otherwise."""
    if len(value) != 4:
        raise UnreadableCard(f"{field}: {len(value)} byte(s), expected 4 BCD bytes")
    if value in (b"\x00" * 4, b"\xff" * 4):
        return None
    text = value.hex()
    try:
        return iso_date(text)
    except ValueError as exc:
        raise UnreadableCard(f"{field}: not a BCD date: {text}") from exc


def holder_identity(ef05: dict[int, bytes], ef06: dict[int, bytes], name_ext: bytes = b"") -> Identity:
    """Build the record from raw record values; every field is checked before a record exists."""
    warnings: list[str] = []
    name, w = decode_text(ef06[0x09].rstrip(_PAD) + name_ext, "name")
    warnings += w
    if not name:
        raise UnreadableCard("name record is empty")
    ss_number = _ascii(ef06[0x08], "social security number")
    if len(ss_number) == 18 and ss_number[:17].isdigit() and not valid_cn_id_number(ss_number):
        raise UnreadableCard(f"social security number {ss_number[:6]}... fails the GB 11643 check")
    sex = {b"1": "M", b"2": "F"}.get(ef06[0x0A].rstrip(_PAD)[:1], "U")
    card_id = _ascii(ef05[0x01], "card identifier") if 0x01 in ef05 else ""
    issuer = card_id[:6] or None
    card_number = _ascii(ef05[0x07], "card number") or None
    valid_until = decode_bcd_date(ef05[0x06], "expiry date")
    birth = decode_bcd_date(ef06[0x0D], "birth date")
    return Identity(
        source="ssc", name=name, sex=sex, birth_date=birth, id_number=ss_number or None,
        card_number=card_number, issuer=issuer, valid_until=valid_until,
        insurance=Insurance(scheme="CN-SSC", member_id=ss_number or None, payer=issuer),
        warnings=tuple(warnings),
        extra={"spec_version": _ascii(ef05.get(0x03, b""), "spec version"),
               "card_type": ef05.get(0x02, b"").hex(), "ethnicity": ef06.get(0x0B, b"").hex(),
               "birthplace": ef06.get(0x0C, b"").hex(), "issue_date": decode_bcd_date(ef05[0x05], "issue date")
               if 0x05 in ef05 else None},
    )


class SocialSecurityCard:
    """Reads an SSSE card through an :class:`ApduTransport`."""

    kind = "ssc"

    def __init__(self, transport: ApduTransport):
        self.t = transport
        self._by_id = True

    def select(self) -> None:
        self.t.select_aid(SSSE_AID)

    def _read_file(self, fid: bytes, records: dict) -> dict[int, bytes]:
        self.t.select_fid(fid)
        self._by_id = True
        out = {}
        for tag, (field, length) in records.items():
            try:
                raw = self._record(tag, length + 2, first=not out)
            except StatusWordError as exc:
                if exc.sw == _SW_RECORD_NOT_FOUND:
                    raise UnreadableCard(f"EF{fid.hex().upper()[2:]}: record {tag:02X} ({field}) not found "
                                         f"by identifier or number") from exc
                raise
            out[tag] = parse_record(tag, raw)
        return out

    def _record(self, tag: int, le: int, first: bool = False) -> bytes:
        """One record of the current EF: by identifier, or by number once the card refused that."""
        if self._by_id:
            try:
                return self.t.read_record_by_id(tag, le)
            except StatusWordError as exc:
                if not (exc.sw in _ID_REFUSED or (first and exc.sw == _SW_RECORD_NOT_FOUND)):
                    raise
                log.info("SSSE card refuses READ RECORD by identifier (%04X); reading by record number", exc.sw)
                self._by_id = False
        return self.t.read_record(tag, le)

    def _name_extension(self) -> bytes:
        try:
            raw = self._record(NAME_EXT_RECORD, 0x00)
        except StatusWordError as exc:
            if exc.sw in (SW_FILE_NOT_FOUND, _SW_RECORD_NOT_FOUND):
                return b""              # a 1st-generation card: no extension record
            raise
        return parse_record(NAME_EXT_RECORD, raw)

    def read(self, selected: bool = False) -> Identity:
        if not selected:
            self.select()
        try:
            ef05 = self._read_file(b"\xEF\x05", EF05_RECORDS)
            ef06 = self._read_file(b"\xEF\x06", EF06_RECORDS)
            ext = self._name_extension()
        except StatusWordError as exc:
            if exc.sw == 0x6982:
                raise CardError(f"SSSE card refuses to show holder data without PIN ({exc})",
                                user_message="This card needs its PIN. Please go to the counter.") from exc
            raise
        ident = holder_identity(ef05, ef06, ext)
        log.info("SSSE card read: issuer %s, %d APDUs", ident.issuer, self.t.apdus)
        return ident
