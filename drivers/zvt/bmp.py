"""ZVT BMP fields and the TLV container (BMP 06).

A BMP field is a one-byte tag followed by a value whose length the tag fixes, or by an LLVAR /
LLLVAR length (two or three bytes ``F0+digit``, e.g. ``F1 F2`` = 12), or, for the TLV container
06, by a BER length. Numbers are packed BCD (amount 04: 6 bytes = 12 digits of the smallest
currency unit; trace 0B: 3 bytes; receipt 87: 2 bytes; terminal ID 29: 4 bytes).

Card data is cleaned **while parsing**: the PAN (22) is masked at once (at most first 6 + last 4
digits, see :mod:`drivers.pci`), the expiry date (0E) and the track data (23, 24, 2D) are skipped
and never returned.
"""

from __future__ import annotations

from ..errors import ProtocolError
from ..pci import mask_pan

__all__ = [
    "FIELDS", "DROPPED", "bcd_encode", "bcd_decode", "parse_bmps", "encode_bmps", "Fields",
    "parse_tlv", "encode_tlv", "ll_encode", "pan_from_bcd",
]

# tag: (name, kind, size)  kind: bin | bcd | ll | lll | tlv
FIELDS: dict[int, tuple[str, str, int]] = {
    0x01: ("timeout", "bin", 1),
    0x02: ("max_status_infos", "bin", 1),
    0x03: ("service_byte", "bin", 1),
    0x04: ("amount", "bcd", 6),
    0x05: ("pump_no", "bin", 1),
    0x06: ("tlv", "tlv", 0),
    0x0B: ("trace_no", "bcd", 3),
    0x0C: ("time", "bcd", 3),
    0x0D: ("date_mmdd", "bcd", 2),
    0x0E: ("expiry", "bcd", 2),
    0x17: ("card_seq_no", "bcd", 2),
    0x19: ("payment_type", "bin", 1),
    0x22: ("pan", "ll", 0),
    0x23: ("track2", "ll", 0),
    0x24: ("track3", "lll", 0),
    0x27: ("result_code", "bin", 1),
    0x29: ("terminal_id", "bcd", 4),
    0x2A: ("vu_no", "bin", 15),
    0x2D: ("track1", "ll", 0),
    0x2E: ("sync_chip_data", "lll", 0),
    0x37: ("orig_trace_no", "bcd", 3),
    0x3A: ("cvv", "bcd", 2),
    0x3B: ("auth_code", "bin", 8),
    0x3C: ("additional_text", "lll", 0),
    0x3D: ("password", "bcd", 3),
    0x49: ("currency", "bcd", 2),
    0x60: ("totals", "lll", 0),
    0x87: ("receipt_no", "bcd", 2),
    0x88: ("turnover_no", "bcd", 3),
    0x8A: ("card_type", "bin", 1),
    0x8B: ("card_name", "ll", 0),
    0x8C: ("card_type_id", "bin", 1),
    0x92: ("offline_chip_data", "lll", 0),
    0x9A: ("geldkarte_record", "lll", 0),
    0xA0: ("result_code_as", "bin", 1),
    0xA7: ("chip_data", "ll", 0),
    0xAA: ("date", "bcd", 3),
    0xAF: ("ef_info", "lll", 0),
    0xBA: ("aid_param", "bin", 5),
    0xD0: ("algo_key", "bin", 1),
    0xD1: ("card_offset", "ll", 0),
    0xD2: ("direction", "bin", 1),
    0xD3: ("key_position", "bin", 1),
    0xE0: ("input_min", "bin", 1),
    **{0xE0 + i: (f"text2_line{i}", "ll", 0) for i in range(1, 9)},
    0xE9: ("max_input_length", "bin", 1),
    0xEA: ("input_echo", "bin", 1),
    0xEB: ("mac", "bin", 8),
    0xF0: ("display_duration", "bin", 1),
    **{0xF0 + i: (f"text1_line{i}", "ll", 0) for i in range(1, 9)},
    0xF9: ("beeps", "bin", 1),
    0xFA: ("status", "bin", 1),
    0xFB: ("ok_required", "bin", 1),
    0xFC: ("dialog_control", "bin", 1),
}

#: fields read past and never returned (sensitive authentication / cardholder data)
DROPPED = frozenset({0x0E, 0x23, 0x24, 0x2D, 0x3A, 0xD1})

Fields = dict  # name -> value (str for BCD/PAN, int for 1-byte binary, bytes otherwise)


def bcd_encode(value: int | str, size: int) -> bytes:
    digits = str(value)
    if not digits.isdigit():
        raise ValueError(f"BCD value must be digits: {value!r}")
    if len(digits) > size * 2:
        raise ValueError(f"{value!r} does not fit in {size} BCD bytes")
    return bytes.fromhex(digits.rjust(size * 2, "0"))


def bcd_decode(raw: bytes) -> str:
    text = raw.hex()
    if not text.isdigit():
        raise ProtocolError(f"bad BCD digits {text!r}")
    return text


def ll_encode(value: bytes, digits: int) -> bytes:
    n = str(len(value)).rjust(digits, "0")
    if len(n) > digits:
        raise ValueError(f"variable field of {len(value)} bytes is too long")
    return bytes(0xF0 | int(d) for d in n) + value


def _ll_decode(buf: bytes, pos: int, digits: int) -> tuple[int, int]:
    if pos + digits > len(buf):
        raise ProtocolError("truncated LLVAR length")
    n = 0
    for b in buf[pos:pos + digits]:
        if b & 0xF0 != 0xF0 or (b & 0x0F) > 9:
            raise ProtocolError(f"bad LLVAR length byte {b:02X}")
        n = n * 10 + (b & 0x0F)
    return n, pos + digits


def _ber_length(buf: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(buf):
        raise ProtocolError("truncated TLV length")
    first = buf[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if count == 0 or count > 2 or pos + 1 + count > len(buf):
        raise ProtocolError(f"bad TLV length byte {first:02X}")
    return int.from_bytes(buf[pos + 1:pos + 1 + count], "big"), pos + 1 + count


def _ber_len_encode(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82]) + n.to_bytes(2, "big")


def parse_tlv(buf: bytes, depth: int = 0) -> list[tuple[int, object]]:
    """BER-TLV as ``[(tag, value)]``; a constructed tag's value is its parsed children."""
    if depth > 8:
        raise ProtocolError("TLV nested too deep")
    out: list[tuple[int, object]] = []
    pos = 0
    while pos < len(buf):
        start = pos
        tag = buf[pos]
        pos += 1
        if tag & 0x1F == 0x1F:
            while True:
                if pos >= len(buf):
                    raise ProtocolError("truncated TLV tag")
                tag = tag << 8 | buf[pos]
                pos += 1
                if not buf[pos - 1] & 0x80:
                    break
                if pos - start > 4:
                    raise ProtocolError("TLV tag too long")
        length, pos = _ber_length(buf, pos)
        if pos + length > len(buf):
            raise ProtocolError("truncated TLV value")
        value = bytes(buf[pos:pos + length])
        pos += length
        first = tag >> (8 * ((tag.bit_length() - 1) // 8)) if tag > 0xFF else tag
        out.append((tag, parse_tlv(value, depth + 1) if first & 0x20 else value))
    return out


def encode_tlv(items: list[tuple[int, object]]) -> bytes:
    out = bytearray()
    for tag, value in items:
        body = encode_tlv(value) if isinstance(value, list) else bytes(value)
        out += tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big") + _ber_len_encode(len(body)) + body
    return bytes(out)


def pan_from_bcd(raw: bytes) -> str:
    """PAN nibbles -> masked PAN (``E`` nibbles are digits the terminal already masked, ``F`` pads)."""
    chars = []
    for nib in raw.hex().upper():
        if nib == "F":
            break
        if nib == "E":
            chars.append("*")
        elif nib.isdigit():
            chars.append(nib)
        else:
            raise ProtocolError("bad PAN nibble")
    return mask_pan("".join(chars))


def parse_bmps(buf: bytes) -> Fields:
    """Parse a run of BMP fields. Unknown tags are a :class:`ProtocolError` (their length is unknown)."""
    out: Fields = {}
    pos = 0
    while pos < len(buf):
        tag = buf[pos]
        pos += 1
        spec = FIELDS.get(tag)
        if spec is None:
            raise ProtocolError(f"unknown BMP tag {tag:02X} at offset {pos - 1}")
        name, kind, size = spec
        if kind in ("bin", "bcd"):
            if pos + size > len(buf):
                raise ProtocolError(f"BMP {tag:02X} truncated")
            raw = bytes(buf[pos:pos + size])
            pos += size
        elif kind in ("ll", "lll"):
            n, pos = _ll_decode(buf, pos, 2 if kind == "ll" else 3)
            if pos + n > len(buf):
                raise ProtocolError(f"BMP {tag:02X} truncated")
            raw = bytes(buf[pos:pos + n])
            pos += n
        else:  # tlv
            n, pos = _ber_length(buf, pos)
            if pos + n > len(buf):
                raise ProtocolError("BMP 06 truncated")
            raw = bytes(buf[pos:pos + n])
            pos += n
        if tag in DROPPED:
            continue
        if tag == 0x22:
            out[name] = pan_from_bcd(raw)
        elif kind == "bcd":
            out[name] = bcd_decode(raw)
        elif kind == "bin" and size == 1:
            out[name] = raw[0]
        elif kind == "tlv":
            out[name] = parse_tlv(raw)
        else:
            out[name] = raw
    return out


_BY_NAME = {spec[0]: (tag, spec) for tag, spec in FIELDS.items()}


def encode_bmps(items: list[tuple[str, object]]) -> bytes:
    """Encode ``[(name, value)]`` in the given order (names as in :data:`FIELDS`)."""
    out = bytearray()
    for name, value in items:
        tag, (_, kind, size) = _BY_NAME[name]
        out.append(tag)
        if kind == "bcd":
            out += bcd_encode(value, size)
        elif kind == "bin":
            raw = bytes([value]) if isinstance(value, int) else bytes(value)
            if len(raw) != size:
                raise ValueError(f"BMP {name} takes {size} bytes")
            out += raw
        elif kind in ("ll", "lll"):
            out += ll_encode(bytes(value), 2 if kind == "ll" else 3)
        else:
            body = encode_tlv(value) if isinstance(value, list) else bytes(value)
            out += _ber_len_encode(len(body)) + body
    return bytes(out)
