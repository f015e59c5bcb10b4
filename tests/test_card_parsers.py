"""Card-data parsers without I/O: SSSE records, eGK files, the APDU transport's status words and the
identity record. Fuzzed with hypothesis: every input gives a checked record or a clear CardError."""

from __future__ import annotations

import datetime as dt
import gzip
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from drivers.errors import CardError
from drivers.identity import (CardExpired, Identity, UnreadableCard, gb11643_check_digit,
                              valid_cn_id_number)
from drivers.pcsc import read_card
from drivers.pcsc.egk import parse_pd, parse_vd
from drivers.pcsc.ssse import decode_text, holder_identity, parse_record
from drivers.pcsc.transport import ApduTransport, StatusWordError
from drivers.sim.cardprofile import build_card, load_profile, ssse_name_records


class FsConnection:
    """Hands APDUs to the virtual card's file system in-process (the PC/SC path is in test_pcsc)."""

    def __init__(self, fs, script=None):
        self.fs, self.sent = fs, []

    def transmit(self, apdu):
        self.sent.append(bytes(apdu))
        r = self.fs.process(bytes(apdu))
        return list(r[:-2]), r[-2], r[-1]


def test_gb11643():
    assert gb11643_check_digit("11010519491231002") == "X"
    assert valid_cn_id_number("11010519491231002X") and valid_cn_id_number("11010519491231002x")
    assert not valid_cn_id_number("110105194912310021")
    assert not valid_cn_id_number("110105194913310028")     # month 13
    assert not valid_cn_id_number("1101051949123100")


def test_identity_json_shape_and_expiry():
    ident = Identity(source="evoucher", token="abc")
    assert ident.as_json() == {"source": "evoucher", "name": "", "sex": "U", "birth_date": None,
                               "id_number": None, "card_number": None, "issuer": None, "valid_until": None,
                               "insurance": {"scheme": None, "member_id": None, "payer": None}, "token": "abc"}
    old = Identity(source="ssc", name="x", valid_until="2020-01-01")
    with pytest.raises(CardExpired):
        old.check_valid(dt.date(2020, 1, 2))
    assert old.check_valid(dt.date(2020, 1, 1)) is old
    with pytest.raises(ValueError):
        Identity(source="passport")
    with pytest.raises(ValueError):
        Identity(source="ssc", sex="X")


def test_status_words_61_and_6c():
    fs = build_card(load_profile("ssse_zhang"))        # select_61 + strict Le
    conn = FsConnection(fs)
    ident = read_card(conn)
    assert ident.name == "张𠀀"
    assert b"\x00\xC0\x00\x00" in [a[:4] for a in conn.sent]              # GET RESPONSE after 61xx
    ext = [a for a in conn.sent if a[:4] == b"\x00\xB2\x4E\x00"]     # by identifier 4E
    assert [a[4] for a in ext] == [0x00, 0x16]                          # 6C16 -> re-sent with Le=22


def test_ef06_read_by_record_identifier_as_the_spec_example():
    """``00 B2 08 00 14``: READ RECORD, P1 = identifier 08 (social-security number), P2 b3-b1 =
    000, Le = 18 + 2 (the example in our smart-card research notes, from the card specification)."""
    prof = load_profile("ssse_wang")
    fs = build_card({**prof, "behaviour": {"record_layout": "compact"}})
    conn = FsConnection(fs)
    assert read_card(conn).name == "王喆"
    assert bytes.fromhex("00B2080014") in conn.sent
    assert not [a for a in conn.sent if a[1] == 0xB2 and a[3] == 0x04]     # no record numbers at all
    # the compact card: EF06 has 7 physical records, so record *number* 08 does not exist
    t = ApduTransport(FsConnection(fs))
    t.select_aid(bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF"))
    t.select_fid(b"\xEF\x06")
    with pytest.raises(StatusWordError) as info:
        t.read_record(0x08, 0x14)
    assert info.value.sw == 0x6A83
    assert t.read_record(0x01, 0x14)[:2] == b"\x08\x12"            # physical record 1 holds tag 08


def test_card_without_identifier_reads_falls_back_to_record_numbers():
    prof = load_profile("ssse_wang")
    conn = FsConnection(build_card({**prof, "behaviour": {"record_ids": False}}))
    assert read_card(conn).name == "王喆"
    reads = [a[:4].hex() for a in conn.sent if a[1] == 0xB2]
    # each file: the identifier read is refused once (6A81), then every record by number
    assert reads[:2] == ["00b20100", "00b20104"] and "00b20804" in reads and "00b24e04" in reads
    assert len([r for r in reads if r.endswith("00")]) == 2                # once per file


def test_status_word_errors():
    fs = build_card({"kind": "blank"})
    t = ApduTransport(FsConnection(fs))
    with pytest.raises(StatusWordError) as info:
        t.select_aid(b"\x01\x02")
    assert info.value.sw == 0x6A82
    fs = build_card({**load_profile("ssse_wang"), "behaviour": {"pin": "123456"}})
    with pytest.raises(CardError, match="PIN"):
        read_card(FsConnection(fs))


def test_long_name_split_on_character_boundary():
    name = "欧阳娜娜丽莎𠀀𠀁𠀂阿依古丽买买提江"
    rec09, rec4e = ssse_name_records(name)
    assert len(rec09) == 30 and len(rec4e) == 20
    text, _ = decode_text(rec09.rstrip(b"\x00") + rec4e, "name")
    assert text == name


def test_private_use_name_is_flagged():
    text, warnings = decode_text(b"\xAA\xA1\xB0\xA1", "name")       # GBK user-defined area + 啊
    assert text == "\ue000啊" and warnings


def test_record_errors():
    assert parse_record(9, b"\x09\x02AB\x00") == b"AB"
    for raw in (b"", b"\x09", b"\x0A\x01A", b"\x09\x05AB"):
        with pytest.raises(UnreadableCard):
            parse_record(9, raw)


def _records():
    prof = load_profile("ssse_wang")
    fs = build_card(prof)
    ef05 = {k: parse_record(k, v) for k, v in fs.apps[0].efs[0].records.items()}
    ef06 = {k: parse_record(k, v) for k, v in fs.apps[0].efs[1].records.items() if k != 0x4E}
    return ef05, ef06


@settings(max_examples=300)
@given(st.sampled_from([(5, k) for k in range(1, 8)] + [(6, k) for k in range(8, 14)]), st.binary(max_size=40))
def test_fuzz_ssse_fields(where, value):
    ef05, ef06 = _records()
    (ef05 if where[0] == 5 else ef06)[where[1]] = value
    try:
        ident = holder_identity(ef05, ef06)
    except (UnreadableCard, KeyError):
        return
    assert ident.source == "ssc" and ident.name
    if ident.id_number and len(ident.id_number) == 18 and ident.id_number[:17].isdigit():
        assert valid_cn_id_number(ident.id_number)


@settings(max_examples=300)
@given(st.binary(max_size=64))
@example(b"\x09\x04\xAA\xA1\xB0\xA1")     # found by the suite: private-use GBK is not a control char
def test_fuzz_record_and_text(raw):
    try:
        value = parse_record(raw[0] if raw else 9, raw)
        text, _ = decode_text(value, "name")
    except UnreadableCard:
        return
    assert all(unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Cn") for ch in text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_egk_files(data):
    for parse in (parse_pd, parse_vd):
        try:
            parse(data)
        except UnreadableCard:
            pass


def test_egk_garbage_xml_and_truncated_gzip():
    gz = gzip.compress(b"<not-xml")
    with pytest.raises(UnreadableCard, match="XML"):
        parse_pd(len(gz).to_bytes(2, "big") + gz)
    gz = gzip.compress(b"<a/>" * 100)
    with pytest.raises(UnreadableCard, match="truncated"):
        parse_pd(len(gz).to_bytes(2, "big") + gz[:-20])


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 400), st.integers(0, 255))
def test_fuzz_corrupted_egk_card(pos, value):
    prof = load_profile("egk_mueller")
    fs = build_card(prof)
    ef = fs.apps[0].efs[pos % 2]
    data = bytearray(ef.data)
    data[pos % len(data)] = value
    ef.data = bytes(data)
    try:
        ident = read_card(FsConnection(fs))
    except CardError:
        return
    assert ident.source == "egk" and ident.name
