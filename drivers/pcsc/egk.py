"""The German electronic health card (eGK), health-care application (HCA).

Read sequence (gematik object system, as public readers do it over the contact interface):

1. ``SELECT`` DF.HCA by AID ``D2 76 00 00 01 02``.
2. EF.PD (SFI 01): 2-byte big-endian length, then that many bytes of gzip.
3. EF.VD (SFI 02): four 2-byte offsets (VD start, VD end inclusive, GVD start, GVD end;
   ``FFFF`` = absent), each part gzip.

The XML inside is ISO-8859-15 (``UC_PersoenlicheVersichertendatenXML`` and
``UC_AllgemeineVersicherungsdatenXML``); elements are matched by local name so the schema
version's namespace does not matter.
"""

from __future__ import annotations

import logging
import zlib
import xml.etree.ElementTree as ET

from ..identity import Identity, Insurance, UnreadableCard, iso_date
from .transport import ApduTransport

__all__ = ["HCA_AID", "EgkCard", "gunzip", "parse_pd", "parse_vd", "egk_identity"]

log = logging.getLogger(__name__)

HCA_AID = bytes.fromhex("D27600000102")
SFI_PD, SFI_VD = 0x01, 0x02
_CHUNK = 0xFC
_MAX_FILE = 0x8000   # EF.PD is 850 bytes and EF.VD 1250 on G2 cards; anything huge is garbage


def gunzip(data: bytes, what: str) -> bytes:
    try:
        d = zlib.decompressobj(31)
        out = d.decompress(data, 1 << 20)
        if d.unconsumed_tail:
            raise UnreadableCard(f"{what}: decompresses to more than 1 MiB")
        if not d.eof:
            raise UnreadableCard(f"{what}: gzip stream is truncated")
        return out
    except zlib.error as exc:
        raise UnreadableCard(f"{what}: not gzip ({exc})") from exc


def _xml(data: bytes, what: str) -> ET.Element:
    try:
        return ET.fromstring(data.decode("iso-8859-15"))
    except (ET.ParseError, ValueError) as exc:
        raise UnreadableCard(f"{what}: bad XML ({exc})") from exc


def _find(root: ET.Element, *names: str) -> str | None:
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == names[0]:
            if len(names) == 1:
                return (el.text or "").strip() or None
            found = _find(el, *names[1:])
            if found is not None:
                return found
    return None


def parse_pd(content: bytes) -> ET.Element:
    """EF.PD file content (length prefix + gzip) to the personal-data XML root."""
    if len(content) < 2:
        raise UnreadableCard("EF.PD: too short")
    length = int.from_bytes(content[:2], "big")
    body = content[2:2 + length] if length <= len(content) - 2 else content[2:]
    return _xml(gunzip(body, "EF.PD"), "EF.PD")


def parse_vd(content: bytes) -> ET.Element | None:
    """EF.VD file content to the insurance-data XML root (None when the VD part is absent)."""
    if len(content) < 8:
        raise UnreadableCard("EF.VD: too short")
    start, end = int.from_bytes(content[0:2], "big"), int.from_bytes(content[2:4], "big")
    if start == 0xFFFF:
        return None
    if not 8 <= start <= end < len(content):
        raise UnreadableCard(f"EF.VD: offsets {start}..{end} outside {len(content)} bytes")
    return _xml(gunzip(content[start:end + 1], "EF.VD"), "EF.VD")


def egk_identity(pd: ET.Element, vd: ET.Element | None) -> Identity:
    first = _find(pd, "Vorname") or ""
    last = _find(pd, "Nachname") or ""
    name = " ".join(x for x in (first, last) if x)
    if not name:
        raise UnreadableCard("EF.PD: no name")
    member = _find(pd, "Versicherten_ID")
    if not member:
        raise UnreadableCard("EF.PD: no Versicherten_ID")
    try:
        birth = iso_date(_find(pd, "Geburtsdatum"))
        valid = iso_date(_find(vd, "Versicherungsschutz", "Ende")) if vd is not None else None
    except ValueError as exc:
        raise UnreadableCard(f"eGK: {exc}") from exc
    sex = {"M": "M", "W": "F"}.get((_find(pd, "Geschlecht") or "").upper(), "U")
    payer_name = _find(vd, "Kostentraeger", "Name") if vd is not None else None
    payer_ik = _find(vd, "Kostentraeger", "Kostentraegerkennung") if vd is not None else None
    return Identity(source="egk", name=name, sex=sex, birth_date=birth, id_number=member,
                    card_number=None, issuer=payer_name, valid_until=valid,
                    insurance=Insurance(scheme="DE-GKV", member_id=member, payer=payer_ik))


class EgkCard:
    """Reads the HCA of an eGK through an :class:`ApduTransport`."""

    kind = "egk"

    def __init__(self, transport: ApduTransport):
        self.t = transport

    def select(self) -> None:
        self.t.send(0x00, 0xA4, 0x04, 0x0C, HCA_AID)

    def _read(self, offset: int, n: int, sfi: int | None = None) -> bytes:
        out = bytearray()
        while n > 0:
            step = min(n, _CHUNK)
            part = self.t.read_binary(offset, step, sfi)
            if not part:
                raise UnreadableCard(f"eGK: empty READ BINARY at offset {offset}")
            out += part
            offset += len(part)
            n -= len(part)
            sfi = None      # after the first SFI read the file is current
        return bytes(out)

    def read_pd(self) -> bytes:
        head = self._read(0, 2, SFI_PD)
        length = int.from_bytes(head, "big")
        if not 0 < length <= _MAX_FILE:
            raise UnreadableCard(f"EF.PD: implausible length {length}")
        return head + self._read(2, length)

    def read_vd(self) -> bytes:
        head = self._read(0, 8, SFI_VD)
        start, end = int.from_bytes(head[0:2], "big"), int.from_bytes(head[2:4], "big")
        if start == 0xFFFF:
            return head
        if not 8 <= start <= end < _MAX_FILE:
            raise UnreadableCard(f"EF.VD: offsets {start}..{end} implausible")
        body = self._read(8, end + 1 - 8)
        return head + body

    def read(self, selected: bool = False) -> Identity:
        if not selected:
            self.select()
        pd = parse_pd(self.read_pd())
        vd = parse_vd(self.read_vd())
        ident = egk_identity(pd, vd)
        log.info("eGK read: payer %s, %d APDUs", ident.insurance.payer, self.t.apdus)
        return ident
