"""Deposit receipt (预交金收款收据): figures and 大写, masked card, QR + barcode of the receipt number."""

from __future__ import annotations

from .capitals import fen_to_capitals, format_yuan
from .common import METHOD_LABELS, label, local_time, mask_card
from .inputs import PAYMENT_METHODS, DepositReceiptData, Site
from .layout import Layout, mark_copy

__all__ = ["deposit_receipt"]


def deposit_receipt(site: Site, r: DepositReceiptData, *, copy_no: int = 0) -> Layout:
    """The receipt; ``copy_no`` > 0 marks a reprint (副本 COPY #n)."""
    if r.method not in PAYMENT_METHODS:
        raise ValueError(f"unknown payment method {r.method!r}")
    if r.amount_fen <= 0:
        raise ValueError("a deposit receipt needs a positive amount")
    lang = site.lang
    L = lambda m: label(m, lang)  # noqa: E731
    doc = Layout(kind="receipt", title=L("Deposit receipt"), lang=lang)
    doc.text(site.hospital_name, "center", (1, 1), bold=True)
    doc.text(L("Deposit receipt"), "center", (2, 2), bold=True)
    doc.text("DEPOSIT RECEIPT", "center")
    if r.voided:
        doc.text(f"*** {L('VOID')} VOID ***", "center", (2, 2), bold=True)
    doc.rule()
    doc.columns((L("Receipt no."), 2, "left"), (r.receipt_no, 3, "right"))
    doc.columns((L("Patient"), 2, "left"), (r.patient_name, 3, "right"))
    doc.columns((L("Inpatient no."), 2, "left"), (r.inpatient_no, 3, "right"))
    if r.ward:
        doc.columns((L("Ward"), 2, "left"), (r.ward, 3, "right"))
    doc.rule()
    doc.columns((L("Amount"), 2, "left"), ("¥" + format_yuan(r.amount_fen), 3, "right"), bold=True)
    doc.text(f"{L('Amount in words')}: {fen_to_capitals(r.amount_fen, lang)}", bold=True)
    doc.columns((L("Payment method"), 2, "left"), (L(METHOD_LABELS[r.method]), 3, "right"))
    if r.card_masked:
        doc.columns((L("Card"), 2, "left"), (mask_card(r.card_masked), 3, "right"))
    if r.terminal_ref:
        doc.columns((L("Terminal ref."), 2, "left"), (r.terminal_ref, 3, "right"))
    doc.columns((L("Cashier/kiosk"), 2, "left"), (r.operator_id, 3, "right"))
    doc.columns((L("Time"), 2, "left"), (local_time(r.paid_at, site.timezone), 3, "right"))
    if r.voided:
        doc.text(f"{L('Reversed by')}: {r.voided}")
    doc.rule()
    doc.qr(r.receipt_no, size=6)
    doc.barcode(r.receipt_no, height=60)
    doc.text(L("Keep this receipt; it is needed at discharge."), "center")
    doc.feed(2)
    doc.cut()
    d = doc.to_dict()
    return Layout.from_dict(mark_copy(d, copy_no)) if copy_no else doc
