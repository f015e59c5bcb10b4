"""ESC/POS and ZPL encoders/decoders driven with raw bytes (no sockets), fuzzed with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from drivers.escpos.profiles import get_profile
from drivers.escpos.render import render_escpos
from drivers.escpos.status import PrinterState, decode_status, encode_status, is_status_byte
from drivers.sim.escpos_decode import EscposDecoder
from drivers.sim.zpl_decode import ZplDecoder
from drivers.textgrid import format_block, text_width, wrap
from drivers.zpl.render import render_zpl
from drivers.zpl.status import decode_host_status, encode_host_status
from pos.documents import Layout, deposit_receipt, mark_copy, wristband
from tests._print_samples import RECEIPT, SITE, WRISTBAND

CJK = st.text(alphabet=st.sampled_from("张三李四预交金收款收据壹仟元整住院號碼醫院（）：¥"), min_size=1, max_size=12)
ASCII = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20)


def _decode(data: bytes, chunks: list[int] | None = None):
    docs = []
    dec = EscposDecoder(on_doc=docs.append)
    pos = 0
    for n in chunks or []:
        dec.feed(data[pos:pos + n])
        pos += n
    dec.feed(data[pos:])
    dec.finish_doc()
    return docs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(st.one_of(CJK, ASCII), min_size=1, max_size=6), qr=ASCII, code=ASCII,
       chunks=st.lists(st.integers(1, 50), max_size=20))
def test_native_render_decodes_back_in_any_chunking(lines, qr, code, chunks):
    lay = Layout()
    for t in lines:
        lay.text(t)
    lay.qr(qr).barcode(code).cut()
    data = render_escpos(lay.to_dict(), get_profile("cn80"))
    docs = _decode(data, chunks)
    assert len(docs) == 1
    doc = docs[0]
    assert [t.rstrip() for t in doc.texts if t.strip()] == [t.rstrip() for t in lines if t.strip()]
    assert doc.qr_codes == [qr] and doc.barcodes == [("CODE128", code)] and doc.cut


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
@example(b"\x1dv0\x00\x00\x00\x05\x00")              # zero-width raster image
@example(b"\x1b*\x00\x00\x00")                       # zero-width column image
@example(b"\x1d(k\x00\x00")                          # empty 2D-code function
@example(b"\x10\x14\x08")                            # truncated real-time command
def test_decoder_never_crashes_on_garbage(data):
    replies = []
    dec = EscposDecoder(status=lambda n: 0x12)
    replies.append(dec.feed(data))
    dec.finish_doc()
    assert all(b == 0x12 for r in replies for b in r)


def test_status_query_is_answered_mid_stream():
    dec = EscposDecoder(status=lambda n: {1: 0x16, 2: 0x12, 4: 0x7E}[n])
    assert dec.feed(b"\x1b@hello\x10\x04\x01\x10\x04") == b"\x16"
    assert dec.feed(b"\x04") == b"\x7e"


@given(st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_status_round_trip(online, cover, paper_out, near_end):
    state = PrinterState(online=online, cover_open=cover, paper_out=paper_out, near_end=near_end)
    got = decode_status(*encode_status(state))
    assert got.paper_out == paper_out and got.cover_open == cover
    assert got.ready == state.ready
    assert got.near_end == (near_end or paper_out)


@given(st.integers(0, 255))
def test_status_byte_validation(b):
    if is_status_byte(b):
        decode_status(b, 0x12, 0x12)
    else:
        with pytest.raises(ValueError):
            decode_status(b, 0x12, 0x12)


def test_chinese_mode_bytes_are_gb18030():
    data = render_escpos(Layout().text("壹仟元整").to_dict(), get_profile("cn80"))
    assert b"\x1c&" in data and "壹仟元整".encode("gb18030") in data
    raster = render_escpos(Layout().text("壹仟元整").to_dict(), get_profile("raster80"))
    assert b"\x1c&" not in raster and "壹".encode("gb18030") not in raster and b"\x1dv0" in raster


def test_drawer_only_when_profile_has_one():
    lay = Layout().drawer().to_dict()
    assert b"\x1bp" in render_escpos(lay, get_profile("cn80"))
    assert b"\x1bp" not in render_escpos(lay, get_profile("cn58"))


def test_text_grid():
    assert text_width("张三abc") == 7
    assert wrap("预交金收款收据", 6) == ["预交金", "收款收", "据"]
    line = format_block({"type": "columns", "cells": [{"text": "金额", "width": 1, "align": "left"},
                                                      {"text": "¥1.00", "width": 1, "align": "right"}]}, 20)
    assert line == ["金额      " + "     ¥1.00"] and text_width(line[0]) == 20


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.one_of(CJK, ASCII), st.integers(1, 5), st.sampled_from(["left", "center", "right"])),
                min_size=1, max_size=4), st.integers(16, 64))
@example([("¥", 1, "left"), ("¥", 1, "left"), ("¥", 4, "left")], 16)   # narrow cells overflowed the line
def test_columns_always_fit_the_line(cells, cols):
    block = {"type": "columns", "cells": [{"text": t, "width": w, "align": a} for t, w, a in cells]}
    for line in format_block(block, cols):
        assert text_width(line) <= cols


def test_layout_dict_round_trip_and_copy_mark():
    lay = deposit_receipt(SITE, RECEIPT)
    d = lay.to_dict()
    assert Layout.from_dict(d).to_dict() == d
    c = mark_copy(d, 3)
    assert c["copy"] and c["blocks"][0]["text"] == "** 副本 COPY #3 **"
    assert mark_copy(c, 4)["blocks"][0]["text"] == "** 副本 COPY #4 **"
    assert sum("副本" in b.get("text", "") for b in mark_copy(c, 4)["blocks"]) == 2
    with pytest.raises(ValueError):
        Layout.from_dict(dict(d, version=2))


def test_receipt_never_prints_full_card_number():
    texts = " ".join(deposit_receipt(SITE, RECEIPT).texts())
    assert "**** **** **** 0123" in texts and "6222021234567890123" not in texts


# -- ZPL ------------------------------------------------------------------------------
def test_zpl_wristband_fields():
    z = render_zpl(wristband(SITE, WRISTBAND).to_dict(), {"dpi": 203})
    assert b"^BCR" in z and b"^BQN" in z and b"^GFA" in z and b"^FDMA,ZY2026000123^FS" in z
    labels = []
    ZplDecoder(on_doc=labels.append).feed(z)
    assert labels[0].qr_codes == ["ZY2026000123"] and (labels[0].width, labels[0].length) == (200, 2238)


@given(st.booleans(), st.booleans(), st.booleans())
def test_zpl_host_status_round_trip(paper_out, paused, head_up):
    got = decode_host_status(encode_host_status(paper_out, paused, head_up))
    assert got == {"paper_out": paper_out, "paused": paused, "head_up": head_up}


def test_zpl_host_status_rejects_garbage():
    with pytest.raises(ValueError):
        decode_host_status(b"hello")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("^~XAZFDOSGBCQ0123456789,ABCRN \n张"), max_size=200))
@example("^XA^GFA,4,4,0,FFFF^XZ")                    # zero bytes per row
@example("^XA^FO,^A0R,,^FD^XZ")                      # empty parameters
def test_zpl_decoder_never_crashes(text):
    labels = []
    dec = ZplDecoder(status=lambda: b"S", on_doc=labels.append)
    dec.feed(text.encode())
    for lab in labels:
        lab.render()


def test_document_inputs_are_checked():
    from dataclasses import replace

    from pos.documents import daily_fee_list, settlement_list
    from pos.documents.common import local_time, mask_card
    from tests._print_samples import FEES, SETTLEMENT

    assert local_time("2026-11-28T16:30:00Z", "Asia/Shanghai") == "2026-11-29 00:30"
    assert local_time("2026-11-28T16:30:00Z", "Asia/Hong_Kong") == "2026-11-29 00:30"
    assert mask_card("6222 **** **** 1234") == "**** **** **** 1234" and mask_card("") == ""
    with pytest.raises(ValueError):
        deposit_receipt(SITE, replace(RECEIPT, method="bitcoin"))
    with pytest.raises(ValueError):
        deposit_receipt(SITE, replace(RECEIPT, amount_fen=0))
    with pytest.raises(ValueError):
        wristband(SITE, replace(WRISTBAND, sex="X"))
    unknown = [b["text"] for b in wristband(SITE, replace(WRISTBAND, sex="")).blocks if b["type"] == "text"]
    assert WRISTBAND.name in unknown[0] and "男" not in unknown[0] and "女" not in unknown[0]
    bad_day = replace(FEES.days[0], items=(replace(FEES.days[0].items[0], category="丁"),))
    with pytest.raises(ValueError):
        daily_fee_list(SITE, replace(FEES, days=(bad_day,)))
    with pytest.raises(ValueError):
        settlement_list(SITE, replace(SETTLEMENT, totals_by_category={"X": 1}))
    with pytest.raises(ValueError):
        Layout().barcode("住院号")                      # Code 128 cannot carry CJK
