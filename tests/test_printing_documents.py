"""Every document printed to the virtual printer over real TCP sockets, decoded and checked:
Chinese text, amounts, barcode and QR payloads, the cut. PNGs go to the artifacts folder."""

from __future__ import annotations

import pytest

from drivers.errors import CoverOpen, PaperOut, PrinterOffline
from drivers.registry import open_device, probe
from drivers.sim.escpos_decode import EscposDecoder
from drivers.sim.printer import VirtualPrinter, render_doc, scan_codes
from pos.documents import (daily_fee_list, deposit_receipt, settlement_list, printer_test_page, where_to_go,
                           wristband)
from tests._print_samples import FEES, FULL_PAN, RECEIPT, SETTLEMENT, SITE, SITE_HANT, TEST_PAGE, WHERE, WRISTBAND


@pytest.fixture
def vp(artifacts):
    with VirtualPrinter(out_dir=artifacts / "printer") as p:
        yield p


def _print(vp, layout, profile="cn80", scheme="escpos+tcp", role="receipt_printer"):
    query = f"?profile={profile}" if scheme.startswith("escpos") else ""
    dev = open_device(f"{scheme}://127.0.0.1:{vp.port}{query}", role)
    try:
        result = dev.print_layout(layout.to_dict())
    finally:
        dev.close()
    docs = vp.wait_docs(1)
    assert len(docs) == 1
    return docs[0], result


def _save(doc, artifacts, name):
    img = render_doc(doc)
    img.save(artifacts / f"{name}.png")
    return img


def test_deposit_receipt_native_chinese(vp, artifacts):
    doc, result = _print(vp, deposit_receipt(SITE, RECEIPT), "cn80")
    text = doc.text
    for want in ("第一人民医院", "预交金收款收据", "KTEST-000001", "张三", "ZY2026000123", "¥1,000.00",
                 "大写: 壹仟元整", "银行卡", "**** **** **** 0123", "000123", "KTEST", "2026-11-28 10:15"):
        assert want in text, want
    assert FULL_PAN not in text and "62220212" not in text
    assert doc.barcodes == [("CODE128", "KTEST-000001")]
    assert doc.qr_codes == ["KTEST-000001"]
    assert doc.cut and result["bytes"] == doc.nbytes or doc.nbytes >= result["bytes"]
    img = _save(doc, artifacts, "receipt-deposit-native")
    assert ("QR Code", "KTEST-000001") in scan_codes(img)
    assert ("Code 128", "KTEST-000001") in scan_codes(img)


def test_deposit_receipt_traditional(vp, artifacts):
    doc, _ = _print(vp, deposit_receipt(SITE_HANT, RECEIPT), "cn80")
    assert "預交金收款收據" in doc.text and "大寫: 壹仟元整" in doc.text
    _save(doc, artifacts, "receipt-deposit-hant")


def test_deposit_receipt_raster_for_printers_without_chinese(vp, artifacts):
    doc, _ = _print(vp, deposit_receipt(SITE, RECEIPT), "TM-T88V")
    assert not any(ord(c) > 127 for c in doc.text)      # no native CJK sent to a non-Chinese printer
    assert doc.images and doc.images[0].width <= 512
    assert doc.qr_codes == ["KTEST-000001"]             # native QR on this profile
    assert doc.cut
    img = _save(doc, artifacts, "receipt-deposit-raster")
    assert ("QR Code", "KTEST-000001") in scan_codes(img)


def test_raster_qr_when_profile_has_no_native_qr(vp, artifacts):
    doc, _ = _print(vp, deposit_receipt(SITE, RECEIPT), "raster80")
    assert doc.qr_codes == []                            # no GS ( k sent
    img = _save(doc, artifacts, "receipt-deposit-raster-qr")
    assert ("QR Code", "KTEST-000001") in scan_codes(img)


def test_reprint_is_marked_copy(vp, artifacts):
    doc, _ = _print(vp, deposit_receipt(SITE, RECEIPT, copy_no=2), "cn80")
    assert doc.texts[0].strip() == "** 副本 COPY #2 **"
    assert sum("副本 COPY" in t for t in doc.texts) == 2
    _save(doc, artifacts, "receipt-deposit-copy")


def test_wristband_zpl(vp, artifacts):
    doc, _ = _print(vp, wristband(SITE, WRISTBAND), scheme="zpl+tcp", role="label_printer")
    assert "ZY2026000123" in doc.texts                    # ^FD text field
    assert doc.barcodes == [("CODE128", "ZY2026000123")]  # ^BC
    assert doc.qr_codes == ["ZY2026000123"]               # ^BQ
    assert len(doc.images) == 3                           # CJK lines as ^GF graphics
    assert any("张三" in t and "男" in t for t in doc.alt_texts)
    assert any("青霉素" in t for t in doc.alt_texts)
    assert (doc.width, doc.length) == (295, 3307)          # 25 mm x 280 mm at 300 dpi
    img = _save(doc, artifacts, "wristband-zpl")
    assert img.size == (3307, 295)
    codes = scan_codes(img)
    assert ("Code 128", "ZY2026000123") in codes and ("QR Code", "ZY2026000123") in codes


def test_wristband_escpos_label_mode(vp, artifacts):
    doc, _ = _print(vp, wristband(SITE, WRISTBAND), "label-escpos", role="label_printer")
    assert doc.cut and doc.ops[-1].data == "label"        # GS FF: feed to the next label
    assert len(doc.images) == 1 and doc.images[0].width == 200
    img = _save(doc, artifacts, "wristband-escpos-label")
    codes = scan_codes(img)
    assert ("Code 128", "ZY2026000123") in codes and ("QR Code", "ZY2026000123") in codes


def test_daily_fee_list(vp, artifacts):
    doc, _ = _print(vp, daily_fee_list(SITE, FEES), "cn80")
    text = doc.text
    for want in ("日费用清单", "头孢呋辛钠注射液", "0.75g*1支", "12.50", "50.00", "进口营养液", "376.00"):
        assert want in text, want
    lines = doc.texts
    assert any(l.startswith("小计") and l.rstrip().endswith("125.00") for l in lines)
    assert any(l.startswith("小计") and l.rstrip().endswith("426.00") for l in lines)
    assert any(l.startswith("累计") and l.rstrip().endswith("551.00") for l in lines)
    assert any(l.startswith("预交金余额") and l.rstrip().endswith("2,449.00") for l in lines)
    assert any(l.rstrip().endswith("丙") and l.startswith("进口营养液") for l in lines)
    assert any(l.startswith("  0.75g*1支") and l.rstrip().endswith("50.00") for l in lines)
    assert doc.cut
    _save(doc, artifacts, "fee-list")


def test_settlement_list(vp, artifacts):
    doc, _ = _print(vp, settlement_list(SITE, SETTLEMENT), "cn80")
    lines = doc.texts
    assert any(l.startswith("合计") and l.rstrip().endswith("2,300.00") for l in lines)
    assert any(l.startswith("统筹支付") and l.rstrip().endswith("1,500.00") for l in lines)
    assert any(l.startswith("个人自付") and l.rstrip().endswith("800.00") for l in lines)
    assert any(l.startswith("收回预交金") and l.rstrip().endswith("1,000.00") for l in lines)
    assert any(l.startswith("应退金额") and l.rstrip().endswith("¥200.00") for l in lines)
    assert "大写: 贰佰元整" in doc.text
    assert doc.barcodes == [("CODE128", "KTEST-S00001")]
    _save(doc, artifacts, "settlement")


def test_settlement_amount_due():
    from dataclasses import replace

    lay = settlement_list(SITE, replace(SETTLEMENT, deposits_fen=50000))
    texts = lay.texts()
    assert "应补金额" in texts and "¥300.00" in texts


def test_test_page_and_where_to_go(vp, artifacts):
    doc, _ = _print(vp, printer_test_page(SITE, TEST_PAGE), "cn80")
    assert "简体：预交金收款收据 壹仟元整 住院号" in doc.text and "繁體：預交金收款收據 壹仟元整 住院號" in doc.text
    assert doc.barcodes == [("CODE128", "TEST-0123456789")] and doc.qr_codes == ["onestop test page"]
    assert doc.cut
    _save(doc, artifacts, "test-page")
    vp.docs.clear()
    doc, _ = _print(vp, where_to_go(SITE, WHERE), "cn80")
    assert "3号窗口" in doc.text and "请到3号窗口领取收据" in doc.text
    _save(doc, artifacts, "where-to-go")


def test_drawer_kick(vp):
    dev = open_device(f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80", "receipt_printer")
    try:
        dev.kick_drawer()
    finally:
        dev.close()
    vp.stop()                       # closing the connection hands the document over
    assert sum(d.drawer_kicks for d in vp.docs) == 1


@pytest.mark.parametrize("state,error", [({"paper_out": True}, PaperOut), ({"cover_open": True}, CoverOpen),
                                          ({"offline": True}, PrinterOffline)])
def test_status_refuses_job_before_sending(vp, state, error):
    vp.set_state(**state)
    url = f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80"
    assert not probe(url, "receipt_printer").ok
    dev = open_device(url, "receipt_printer")
    with pytest.raises(error):
        dev.print_layout(deposit_receipt(SITE, RECEIPT).to_dict())
    dev.close()
    assert vp.docs == [] and vp.held == []


def test_near_end_prints_and_reports(vp):
    vp.set_state(near_end=True)
    url = f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80"
    st = probe(url, "receipt_printer")
    assert st.ok and st.detail["paper_near_end"] is True
    doc, result = _print(vp, deposit_receipt(SITE, RECEIPT))
    assert result["near_end"] is True and doc.cut


def test_unreachable_printer():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                                # nothing listens there now
    dev = open_device(f"escpos+tcp://127.0.0.1:{port}", "receipt_printer")
    with pytest.raises(PrinterOffline):
        dev.print_layout(deposit_receipt(SITE, RECEIPT).to_dict())
    assert probe(f"zpl+tcp://127.0.0.1:{port}", "label_printer").state.value == "disconnected"


def test_serial_transport_through_serial_for_url(vp):
    # pyserial's socket:// URL: the same serial transport code path a real RS-232 printer uses
    dev = open_device(f"escpos+serial://socket://127.0.0.1:{vp.port}?profile=cn80&baud=115200", "receipt_printer")
    try:
        assert dev.status().ok
        dev.print_layout(deposit_receipt(SITE, RECEIPT).to_dict())
    finally:
        dev.close()
    doc = vp.wait_docs(1)[0]
    assert "壹仟元整" in doc.text and doc.cut


def test_file_transport(tmp_path):
    path = tmp_path / "lp0"
    dev = open_device(f"escpos+file://{path}?profile=cn80", "receipt_printer")
    dev.print_layout(deposit_receipt(SITE, RECEIPT).to_dict())
    dev.close()
    docs = []
    EscposDecoder(on_doc=docs.append).feed(path.read_bytes())
    assert len(docs) == 1 and "壹仟元整" in docs[0].text and docs[0].qr_codes == ["KTEST-000001"]


def test_usb_url_is_validated():
    from drivers.errors import BadDeviceURL, DeviceError

    with pytest.raises(BadDeviceURL):
        open_device("escpos+usb://nothex", "receipt_printer")
    with pytest.raises(DeviceError):                      # no such device (or no pyusb): a clear error
        open_device("escpos+usb://dead:beef", "receipt_printer")


def test_unknown_profile_and_option():
    from drivers.errors import BadDeviceURL

    with pytest.raises(BadDeviceURL, match="unknown printer profile"):
        open_device("escpos+tcp://127.0.0.1:9?profile=nope", "receipt_printer")
    with pytest.raises(BadDeviceURL, match="unknown option"):
        open_device("escpos+tcp://127.0.0.1:9?colour=red", "receipt_printer")
