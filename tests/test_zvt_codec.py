"""ZVT codec layers driven with raw bytes: APDU, BMP/TLV, serial framing, ACK/NAK session."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from drivers.errors import ProtocolError
from drivers.pci import mask_pan, redact
from drivers.zvt import messages as m
from drivers.zvt.apdu import Apdu, apdu_length, decode_apdu, encode_apdu
from drivers.zvt.bmp import bcd_encode, encode_bmps, encode_tlv, parse_bmps, parse_tlv
from drivers.zvt.framing import (ACK, NAK, Ack, BadFrame, Frame, FrameDecoder, Garbage, Nak, Received,
                                 SendFailed, Sent, SerialSession, crc16, encode_frame)
from drivers.zvt.terminal import decode_status_info, print_lines


# -- APDU -----------------------------------------------------------------------------------
def test_short_apdu_bytes():
    assert encode_apdu(Apdu(0x06, 0x01, b"\x04\x00\x00\x00\x00\x50\x00")) == bytes.fromhex("06010704000000005000")
    assert encode_apdu(Apdu(0x80, 0x00)) == b"\x80\x00\x00"


def test_extended_length_is_ff_then_little_endian():
    data = bytes(300)
    raw = encode_apdu(Apdu(0x06, 0xD3, data))
    assert raw[:5] == bytes([0x06, 0xD3, 0xFF, 300 & 0xFF, 300 >> 8])
    assert apdu_length(raw) == 305
    assert decode_apdu(raw) == Apdu(0x06, 0xD3, data)
    # 255 bytes already needs the extended form (FF is the escape)
    assert encode_apdu(Apdu(1, 2, bytes(255)))[2:5] == b"\xff\xff\x00"


def test_decode_refuses_wrong_lengths():
    with pytest.raises(ProtocolError):
        decode_apdu(b"\x80\x00")
    with pytest.raises(ProtocolError):
        decode_apdu(b"\x80\x00\x02\x01")
    with pytest.raises(ProtocolError):
        decode_apdu(b"\x80\x00\x00\x00")


@given(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=700))
def test_apdu_roundtrip(cls, instr, data):
    raw = encode_apdu(Apdu(cls, instr, data))
    assert apdu_length(raw) == len(raw)
    assert decode_apdu(raw) == Apdu(cls, instr, data)


@given(st.binary(max_size=400))
def test_decode_apdu_never_crashes(raw):
    try:
        a = decode_apdu(raw)
    except ProtocolError:
        return
    assert encode_apdu(a) == raw or raw[2] == 0xFF  # short lengths may be written in the long form


# -- BMP ------------------------------------------------------------------------------------
def test_authorisation_bytes():
    apdu = m.authorisation(50000)
    assert apdu.encode() == bytes.fromhex("06010c" "04000000050000" "490156" "1940")


def test_amount_trace_receipt_tid_bcd():
    raw = encode_bmps([("amount", 123456), ("trace_no", "000042"), ("receipt_no", "0007"),
                       ("terminal_id", "52500001"), ("currency", 156)])
    assert raw == bytes.fromhex("04000000123456" "0b000042" "870007" "2952500001" "490156")
    f = parse_bmps(raw)
    assert f == {"amount": "000000123456", "trace_no": "000042", "receipt_no": "0007",
                 "terminal_id": "52500001", "currency": "0156"}


def test_pan_is_masked_and_expiry_dropped_while_parsing():
    raw = bytes([0x22, 0xF0, 0xF8]) + bytes.fromhex("4761739001010119") + bytes.fromhex("0e2812") \
        + bytes([0x23, 0xF0, 0xF2]) + b"\x47\x61"
    f = parse_bmps(raw)
    assert f == {"pan": "476173******0119"}
    # odd-length PAN padded with F, and terminal-masked E digits
    f = parse_bmps(bytes([0x22, 0xF1, 0xF0]) + bytes.fromhex("6222988812340000018F"))
    assert f["pan"] == "622298*********0018"
    f = parse_bmps(bytes([0x22, 0xF0, 0xF8]) + bytes.fromhex("672559EEEEEE1234"))
    assert f["pan"] == "672559******1234"


def test_status_info_fields_we_keep():
    data = encode_bmps([("result_code", 0), ("amount", 50000), ("trace_no", "000001"), ("receipt_no", "0001"),
                        ("terminal_id", "52500001"), ("auth_code", b"A00001\x00\x00"),
                        ("pan", bytes.fromhex("6212345678901232")), ("expiry", "2912"), ("card_type", 0xE0),
                        ("card_name", b"UnionPay\x00")])
    info = decode_status_info(data)
    assert info == {"amount_fen": 50000, "trace_no": "000001", "receipt_no": "0001", "terminal_id": "52500001",
                    "auth_code": "A00001", "masked_pan": "621234******1232", "brand": "UnionPay", "result_code": 0}


def test_llvar_length_and_unknown_tag_errors():
    with pytest.raises(ProtocolError):
        parse_bmps(bytes([0x22, 0xF0, 0xF9]) + b"\x12")          # truncated
    with pytest.raises(ProtocolError):
        parse_bmps(bytes([0x22, 0x10, 0xF2]) + b"\x12\x34")      # bad length byte
    with pytest.raises(ProtocolError):
        parse_bmps(b"\x99\x00")                                   # unknown tag
    with pytest.raises(ProtocolError):
        parse_bmps(b"\x04\x00\x00\x00\x00\x0a\x00")               # bad BCD digit


def test_tlv_container_and_print_block():
    items = [(0x25, [(0x07, b"LINE ONE"), (0x07, b"CARD 4761739001010119")]), (0x1F10, b"\x01")]
    raw = encode_tlv(items)
    assert parse_tlv(raw) == items
    apdu = Apdu(*m.PRINT_BLOCK, encode_bmps([("tlv", items)]))
    assert print_lines(apdu) == ["LINE ONE", "CARD 476173******0119"]
    long_value = [(0x07, bytes(200))]
    assert parse_tlv(encode_tlv(long_value)) == long_value   # 81 xx length form


@given(st.binary(max_size=300))
@example(b"\x06\x82\xff\xff")
@example(b"\x22\xf9\xf9")
@example(b"\x06\x81")
def test_bmp_parser_fuzz(raw):
    try:
        f = parse_bmps(raw)
    except ProtocolError:
        return
    assert "expiry" not in f and "track2" not in f
    if "pan" in f:
        assert sum(c.isdigit() for c in f["pan"]) <= 10


@given(st.binary(max_size=200))
def test_tlv_parser_fuzz(raw):
    try:
        parse_tlv(raw)
    except ProtocolError:
        pass


@given(st.integers(1, 999_999_999_999))
def test_amount_roundtrip(fen):
    assert int(parse_bmps(encode_bmps([("amount", fen)]))["amount"]) == fen


def test_bcd_refuses_overflow():
    with pytest.raises(ValueError):
        bcd_encode(10 ** 12, 6)


# -- framing --------------------------------------------------------------------------------
def test_crc_is_reflected_ccitt_kermit():
    assert crc16(b"123456789") == 0x2189      # CRC-16/KERMIT check value (CRC catalogue)


def test_frame_layout_with_dle_stuffing():
    apdu = bytes([0x80, 0x00, 0x02, 0x10, 0x05])
    raw = encode_frame(apdu)
    crc = crc16(apdu + b"\x03")
    assert raw == b"\x10\x02\x80\x00\x02\x10\x10\x05\x10\x03" + bytes([crc & 0xFF, crc >> 8])
    assert FrameDecoder().feed(raw) == [Frame(apdu)]


def test_decoder_resyncs_after_garbage_and_reports_bad_crc():
    good = encode_frame(b"\x06\x0f\x00")
    bad = bytearray(good)
    bad[-1] ^= 0x55
    evs = FrameDecoder().feed(b"\x42\x99" + bytes(bad) + b"\x10\x77" + good)
    assert isinstance(evs[0], Garbage)
    assert isinstance(evs[1], BadFrame)
    assert evs[-1] == Frame(b"\x06\x0f\x00")


def test_decoder_byte_by_byte_and_ack_nak():
    dec = FrameDecoder()
    out = []
    for b in b"\x06" + encode_frame(b"\x04\xff\x01\x0a") + b"\x15":
        out += dec.feed(bytes([b]))
    assert out == [Ack(), Frame(b"\x04\xff\x01\x0a"), Nak()]


def test_session_retransmits_on_nak_and_gives_up():
    s = SerialSession()
    s.send(b"\x06\x01\x00")
    first = s.data_to_send()
    assert first == encode_frame(b"\x06\x01\x00")
    assert s.receive(bytes([NAK])) == []
    assert s.data_to_send() == first            # the same frame again
    assert s.receive(bytes([ACK])) == [Sent()]
    s.send(b"\x06\x01\x00")
    s.data_to_send()
    s.receive(bytes([NAK]))
    s.receive(bytes([NAK]))
    assert s.receive(bytes([NAK])) == [SendFailed("NAK after 3 tries")]


def test_session_timeout_retransmits():
    s = SerialSession()
    s.send(b"\x05\x01\x00")
    frame = s.data_to_send()
    assert s.on_ack_timeout() == []
    assert s.data_to_send() == frame
    s.on_ack_timeout()
    assert isinstance(s.on_ack_timeout()[0], SendFailed)


def test_session_acks_good_frames_and_naks_bad_ones():
    s = SerialSession()
    good = encode_frame(b"\x04\x0f\x00")
    bad = good[:-1] + bytes([good[-1] ^ 1])
    assert s.receive(bad) == []
    assert s.data_to_send() == bytes([NAK])
    assert s.receive(good) == [Received(b"\x04\x0f\x00")]
    assert s.data_to_send() == bytes([ACK])


@settings(max_examples=200)
@given(st.lists(st.binary(min_size=3, max_size=60), min_size=1, max_size=5), st.binary(max_size=20),
       st.integers(1, 17))
def test_framing_roundtrip_any_split(apdus, junk, chunk):
    stream = junk.replace(b"\x10", b"") + b"".join(encode_frame(a) for a in apdus)
    dec = FrameDecoder()
    frames = []
    for i in range(0, len(stream), chunk):
        frames += [e.apdu for e in dec.feed(stream[i:i + chunk]) if isinstance(e, Frame)]
    assert frames == apdus


@given(st.binary(max_size=500))
def test_frame_decoder_fuzz(raw):
    for ev in FrameDecoder().feed(raw):
        if isinstance(ev, Frame):   # a frame only with a correct CRC
            assert encode_frame(ev.apdu)[-2:] == bytes([crc16(ev.apdu + b"\x03") & 0xFF, crc16(ev.apdu + b"\x03") >> 8])


# -- status codes and PCI helpers -------------------------------------------------------------
def test_intermediate_status_message_ids():
    assert m.status_message_id(0x0A) == "Insert, swipe or tap your card"
    assert m.status_message_id(0x01) == "Enter your PIN on the card terminal"
    assert m.status_message_id(0xEE) == "Processing, please wait"


def test_mask_and_redact():
    assert mask_pan("6222988812340000018") == "622298*********0018"
    assert mask_pan("1234") == "*234"
    assert redact("card 4761 7390 0101 0119 ok, order 12345") == "card 476173******0119 ok, order 12345"
    assert redact("trace 000001 receipt 0001") == "trace 000001 receipt 0001"


@given(st.from_regex(r"[0-9]{13,19}", fullmatch=True))
def test_redact_never_leaves_a_pan(pan):
    out = redact(f"x{pan}y")
    assert pan not in out
    assert sum(c.isdigit() for c in out) <= 10
