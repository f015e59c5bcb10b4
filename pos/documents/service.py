"""Service documents: the technician test page and the "where to go" slip."""

from __future__ import annotations

from .common import label, local_time
from .inputs import Site, TestPageData, WhereToGoData
from .layout import Layout

__all__ = ["printer_test_page", "printer_test_label", "where_to_go"]

SAMPLE_HANS = "简体：预交金收款收据 壹仟元整 住院号"
SAMPLE_HANT = "繁體：預交金收款收據 壹仟元整 住院號"


def printer_test_page(site: Site, t: TestPageData) -> Layout:
    lang = site.lang
    doc = Layout(kind="receipt", title=label("Printer test page", lang), lang=lang)
    doc.text(label("Printer test page", lang), "center", (2, 2), bold=True)
    doc.text("PRINTER TEST PAGE", "center")
    doc.rule()
    doc.text(f"URL: {t.printer_url}")
    doc.text(f"Profile: {t.profile}")
    doc.text(f"Model: {t.model or '-'}")
    doc.text(f"Code page: {t.code_page or '-'}")
    if t.capabilities:
        doc.text("Caps: " + ", ".join(t.capabilities))
    doc.rule()
    doc.text(SAMPLE_HANS)
    doc.text(SAMPLE_HANT)
    doc.text("ASCII: 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    doc.text("Double size 2x2", size=(2, 2))
    doc.rule()
    doc.barcode("TEST-0123456789")
    doc.qr("onestop test page")
    if t.printed_at:
        doc.text(local_time(t.printed_at, site.timezone), "center")
    doc.feed(2)
    doc.cut()
    return doc


def printer_test_label(site: Site, t: TestPageData) -> Layout:
    """The test page for a wristband/label printer: short lines on a 25 mm x 280 mm band."""
    lang = site.lang
    doc = Layout(kind="label", title=label("Printer test page", lang), lang=lang, width_mm=25, label_mm=(25, 280))
    doc.text(label("Printer test page", lang) + " TEST", size=(2, 2), bold=True)
    doc.text(f"{t.profile} {t.model}".strip())
    doc.text(SAMPLE_HANS.split("：")[1][:7] + " / " + SAMPLE_HANT.split("：")[1][:7])
    doc.text(t.printer_url[:40])
    doc.barcode("TEST-0123456789", hri=False)
    doc.qr("onestop test label")
    return doc


def where_to_go(site: Site, w: WhereToGoData) -> Layout:
    lang = site.lang
    doc = Layout(kind="receipt", title=label("Where to go", lang), lang=lang)
    doc.text(site.hospital_name, "center", bold=True)
    doc.text(label("Where to go", lang), "center", (2, 2), bold=True)
    doc.text(w.headline or f"{w.window}{label('Window number', lang)}", "center", (3, 3), bold=True)
    doc.text(w.message, "center")
    doc.text(w.message_en, "center")
    if w.reference:
        doc.text(f"{label('Reference', lang)}: {w.reference}", "center")
        doc.barcode(w.reference, height=50)
    if w.printed_at:
        doc.text(local_time(w.printed_at, site.timezone), "center")
    doc.feed(2)
    doc.cut()
    return doc
