"""Settlement list (结算清单): totals by category, pooled fund, self-pay, deposits back, refund or due."""

from __future__ import annotations

from .capitals import fen_to_capitals, format_yuan
from .common import label, local_time
from .inputs import CATEGORIES, SettlementData, Site
from .layout import Layout

__all__ = ["settlement_list"]


def settlement_list(site: Site, s: SettlementData) -> Layout:
    lang = site.lang
    L = lambda m: label(m, lang)  # noqa: E731
    unknown = set(s.totals_by_category) - set(CATEGORIES)
    if unknown:
        raise ValueError(f"unknown insurance categories {sorted(unknown)}")
    doc = Layout(kind="receipt", title=L("Settlement list"), lang=lang)
    doc.text(site.hospital_name, "center", bold=True)
    doc.text(L("Settlement list"), "center", (2, 2), bold=True)
    doc.columns((L("Settlement no."), 2, "left"), (s.settlement_no, 3, "right"))
    doc.columns((L("Patient"), 2, "left"), (s.patient_name, 3, "right"))
    doc.columns((L("Inpatient no."), 2, "left"), (s.inpatient_no, 3, "right"))
    doc.columns((L("Admitted"), 2, "left"), (s.admitted_on, 3, "right"))
    doc.columns((L("Discharged"), 2, "left"), (s.discharged_on, 3, "right"))
    doc.rule()
    for cat in CATEGORIES:
        doc.columns((f"{L('Category')} {cat}", 2, "left"), (format_yuan(s.totals_by_category.get(cat, 0)), 3, "right"))
    doc.columns((L("Total"), 2, "left"), (format_yuan(s.total_fen), 3, "right"), bold=True)
    doc.columns((L("Pooled fund"), 2, "left"), (format_yuan(s.pooled_fen), 3, "right"))
    doc.columns((L("Self-pay"), 2, "left"), (format_yuan(s.self_pay_fen), 3, "right"))
    if s.acct_fen:
        doc.columns((L("Personal account"), 2, "left"), (format_yuan(s.acct_fen), 3, "right"))
    doc.columns((L("Cash share"), 2, "left"), (format_yuan(s.cash_fen), 3, "right"))
    doc.columns((L("Deposits paid"), 2, "left"), (format_yuan(s.deposits_fen), 3, "right"))
    if s.refunded_fen:
        doc.columns((L("Refunded during the stay"), 2, "left"), (format_yuan(s.refunded_fen), 3, "right"))
        doc.columns((L("Net deposits"), 2, "left"), (format_yuan(s.net_deposits_fen), 3, "right"))
    if s.receipts_taken_back:
        doc.text(f"{L('Receipts taken back')}: {', '.join(s.receipts_taken_back)}")
    if s.receipts_voided:
        doc.text(f"{L('Receipts voided')}: {', '.join(s.receipts_voided)}")
    doc.rule()
    key = "Refund" if s.balance_fen >= 0 else "Amount due"
    amount = abs(s.balance_fen)
    doc.columns((L(key), 2, "left"), ("¥" + format_yuan(amount), 3, "right"), bold=True)
    doc.text(f"{L('Amount in words')}: {fen_to_capitals(amount, lang)}")
    if s.settled_at:
        doc.text(f"{L('Time')}: {local_time(s.settled_at, site.timezone)}  {s.operator_id}")
    doc.barcode(s.settlement_no, height=50)
    doc.feed(2)
    doc.cut()
    return doc
