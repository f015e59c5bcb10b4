"""Card-profile files: a TOML description of a virtual card, turned into a :class:`CardFS`.

A technician writes the holder's data in plain words; this module encodes it the way the real
card stores it (SSSE records, eGK gzip XML). Profiles live in ``assets/cards/``. Keys:

``kind``            ``"ssse"`` or ``"egk"``
``atr``             hex, optional
``[card]``/``[holder]`` (ssse), ``[person]``/``[insurance]`` (egk): the data
``[behaviour]``     ``strict_le``, ``select_61``, ``chunk``, ``pin``, ``record_ids`` (see
                    :mod:`drivers.sim.cardfs`); ``record_layout`` (ssse): ``"tagged"`` (default:
                    each record's number is its tag, 08-0D and 4E in EF06) or ``"compact"`` (the
                    records in physical order 1, 2, 3 ..., so EF06 has 7 records and record
                    *number* 08 does not exist)
``uid``             hex: the UID a contactless reader returns for PC/SC GET DATA ``FF CA 00 00 00``
                    (a member card of the club is a ``blank`` card with a UID)
``[raw]``           fault rehearsal: ``"EF06:09" = "hex"`` replaces one raw record,
                    ``"EF.PD" = "hex"`` / ``"EF.VD" = "hex"`` replace a whole eGK file
"""

from __future__ import annotations

import datetime as _dt
import gzip
import tomllib
from pathlib import Path
from xml.sax.saxutils import escape

from .cardfs import EF, Application, CardFS

__all__ = ["load_profile", "build_card", "CARDS_DIR", "ssse_name_records"]

CARDS_DIR = Path(__file__).resolve().parent.parent.parent / "assets" / "cards"
SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")
HCA_AID = bytes.fromhex("D27600000102")
_SSSE_ATR = bytes.fromhex("3B6D00000081868400000000000000000000")
_EGK_ATR = bytes.fromhex("3BD396FF81B1FE451F078081052D")


def load_profile(path: str | Path) -> dict:
    p = Path(path)
    if not p.exists() and not p.suffix and (CARDS_DIR / f"{p}.toml").exists():
        p = CARDS_DIR / f"{p}.toml"
    with p.open("rb") as fh:
        prof = tomllib.load(fh)
    prof.setdefault("_path", str(p))
    return prof


def _rec(tag: int, value: bytes) -> bytes:
    return bytes([tag, len(value)]) + value


def _fixed(value: bytes, n: int, pad: bytes = b"\x00") -> bytes:
    if len(value) > n:
        raise ValueError(f"{value!r} longer than {n} bytes")
    return value + pad * (n - len(value))


def _bcd_date(text: str | None) -> bytes:
    if not text:
        return b"\x00" * 4
    return bytes.fromhex(_dt.date.fromisoformat(str(text)).strftime("%Y%m%d"))


def ssse_name_records(name: str) -> tuple[bytes, bytes | None]:
    """Name as GB 18030 in the 30-byte record 09, continued in the 20-byte record 4E if longer."""
    raw = name.encode("gb18030")
    if len(raw) <= 30:
        return _fixed(raw, 30), None
    cut = 0
    for ch in name:              # cut on a character boundary
        n = len(ch.encode("gb18030"))
        if cut + n > 30:
            break
        cut += n
    return _fixed(raw[:cut], 30), _fixed(raw[cut:], 20)


def _ssse(prof: dict) -> list[Application]:
    card, holder = prof.get("card", {}), prof.get("holder", {})
    name09, name4e = ssse_name_records(holder.get("name", ""))
    ef05 = {
        0x01: _fixed(card.get("card_id", "").encode("ascii"), 16),
        0x02: _fixed(str(card.get("card_type", "3")).encode("ascii"), 1),
        0x03: _fixed(card.get("spec_version", "3.00").encode("ascii"), 4),
        0x04: _fixed(card.get("init_org", "").encode("ascii"), 12),
        0x05: _bcd_date(card.get("issue_date")),
        0x06: _bcd_date(card.get("expiry")),
        0x07: _fixed(card.get("card_number", "").encode("ascii"), 9),
    }
    ef06 = {
        0x08: _fixed(holder.get("ss_number", "").encode("ascii"), 18),
        0x09: name09,
        0x0A: _fixed(str(holder.get("sex", "")).encode("ascii"), 1),
        0x0B: bytes.fromhex(str(holder.get("ethnicity", "01")).zfill(2)),
        0x0C: bytes.fromhex(str(holder.get("birthplace", "000000")).zfill(6)),
        0x0D: _bcd_date(holder.get("birth_date")),
    }
    recs05 = {k: _rec(k, v) for k, v in ef05.items()}
    recs06 = {k: _rec(k, v) for k, v in ef06.items()}
    if name4e is not None or holder.get("name_extension_record", True):
        recs06[0x4E] = _rec(0x4E, name4e or b"\x00" * 20)
    for key, hexval in prof.get("raw", {}).items():
        fid, _, num = key.partition(":")
        target = {"EF05": recs05, "EF06": recs06}[fid.upper()]
        target[int(num, 16)] = bytes.fromhex(hexval)
    layout = prof.get("behaviour", {}).get("record_layout", "tagged")
    if layout == "compact":
        recs05 = {i: r for i, (_t, r) in enumerate(sorted(recs05.items()), start=1)}
        recs06 = {i: r for i, (_t, r) in enumerate(sorted(recs06.items()), start=1)}
    elif layout != "tagged":
        raise ValueError(f"record_layout must be tagged or compact, not {layout!r}")
    pin = prof.get("behaviour", {}).get("pin")
    fci = bytes.fromhex("6F108408") + SSSE_AID[:8] + bytes.fromhex("A5049F080103")
    return [Application(SSSE_AID, [EF(b"\xEF\x05", 5, recs05), EF(b"\xEF\x06", 6, recs06, protected=bool(pin))],
                        fci=fci)]


def _egk_xml(prof: dict) -> tuple[bytes, bytes]:
    p, ins = prof.get("person", {}), prof.get("insurance", {})
    ns = "http://ws.gematik.de/fa/vsdm/vsd/v5.2"

    def d(v):
        return _dt.date.fromisoformat(str(v)).strftime("%Y%m%d") if v else ""

    pd = (f'<?xml version="1.0" encoding="ISO-8859-15" standalone="yes"?>'
          f'<vsd:UC_PersoenlicheVersichertendatenXML xmlns:vsd="{ns}" CDM_VERSION="5.2.0">'
          f'<vsd:Versicherter><vsd:Versicherten_ID>{escape(p.get("versicherten_id", ""))}</vsd:Versicherten_ID>'
          f'<vsd:Person><vsd:Geburtsdatum>{d(p.get("geburtsdatum"))}</vsd:Geburtsdatum>'
          f'<vsd:Vorname>{escape(p.get("vorname", ""))}</vsd:Vorname>'
          f'<vsd:Nachname>{escape(p.get("nachname", ""))}</vsd:Nachname>'
          f'<vsd:Geschlecht>{escape(p.get("geschlecht", ""))}</vsd:Geschlecht>'
          f'</vsd:Person></vsd:Versicherter></vsd:UC_PersoenlicheVersichertendatenXML>')
    vd = (f'<?xml version="1.0" encoding="ISO-8859-15" standalone="yes"?>'
          f'<vsd:UC_AllgemeineVersicherungsdatenXML xmlns:vsd="{ns}" CDM_VERSION="5.2.0">'
          f'<vsd:Versicherter><vsd:Versicherungsschutz><vsd:Beginn>{d(ins.get("beginn"))}</vsd:Beginn>'
          + (f'<vsd:Ende>{d(ins.get("ende"))}</vsd:Ende>' if ins.get("ende") else "")
          + f'<vsd:Kostentraeger><vsd:Kostentraegerkennung>{escape(ins.get("ik", ""))}</vsd:Kostentraegerkennung>'
          f'<vsd:Name>{escape(ins.get("kostentraeger", ""))}</vsd:Name></vsd:Kostentraeger>'
          f'</vsd:Versicherungsschutz></vsd:Versicherter></vsd:UC_AllgemeineVersicherungsdatenXML>')
    return pd.encode("iso-8859-15"), vd.encode("iso-8859-15")


def _egk(prof: dict) -> list[Application]:
    pd_xml, vd_xml = _egk_xml(prof)
    pd_gz = gzip.compress(pd_xml, mtime=0)
    pd = len(pd_gz).to_bytes(2, "big") + pd_gz + b"\x00" * 16          # files are padded
    vd_gz = gzip.compress(vd_xml, mtime=0)
    start, end = 8, 8 + len(vd_gz) - 1
    vd = start.to_bytes(2, "big") + end.to_bytes(2, "big") + b"\xff\xff\xff\xff" + vd_gz + b"\x00" * 16
    raw = prof.get("raw", {})
    pd = bytes.fromhex(raw["EF.PD"]) if "EF.PD" in raw else pd
    vd = bytes.fromhex(raw["EF.VD"]) if "EF.VD" in raw else vd
    return [Application(HCA_AID, [EF(b"\xD0\x01", 1, data=pd), EF(b"\xD0\x02", 2, data=vd)])]


def build_card(prof: dict) -> CardFS:
    kind = prof.get("kind")
    if kind == "ssse":
        apps, atr = _ssse(prof), _SSSE_ATR
    elif kind == "egk":
        apps, atr = _egk(prof), _EGK_ATR
    elif kind == "blank":
        apps, atr = [], bytes.fromhex("3B0000")
    else:
        raise ValueError(f"card profile kind must be ssse, egk or blank, not {kind!r}")
    b = prof.get("behaviour", {})
    atr = bytes.fromhex(prof["atr"]) if "atr" in prof else atr
    return CardFS(atr, apps, strict_le=b.get("strict_le", True), select_61=b.get("select_61", False),
                  chunk=int(b.get("chunk", 0)), pin=b.get("pin"), record_ids=b.get("record_ids", True),
                  uid=bytes.fromhex(prof["uid"]) if prof.get("uid") else None)
