"""Daily fee list (日费用清单): item lines per day, day subtotals, running totals, deposit balance."""

from __future__ import annotations

from .capitals import format_yuan
from .common import label, local_time
from .inputs import CATEGORIES, DailyFeeListData, Site
from .layout import Layout

__all__ = ["daily_fee_list"]


def daily_fee_list(site: Site, f: DailyFeeListData) -> Layout:
    lang = site.lang
    L = lambda m: label(m, lang)  # noqa: E731
    doc = Layout(kind="receipt", title=L("Daily fee list"), lang=lang)
    doc.text(site.hospital_name, "center", bold=True)
    doc.text(L("Daily fee list"), "center", (2, 2), bold=True)
    doc.text(f"{L('Patient')}: {f.patient_name}  {L('Inpatient no.')}: {f.inpatient_no}")
    doc.text(f"{L('Ward')}: {f.ward}  {L('Bed')}: {f.bed}")
    running = f.stay_before_fen            # the stay's running total, as the screen shows it
    for day in f.days:
        doc.rule("=")
        doc.text(day.date, bold=True)
        doc.columns((f"{L('Item')}/{L('Spec')}", 4, "left"), (L("Price"), 3, "right"), (L("Qty"), 2, "right"),
                    (L("Amount"), 3, "right"), (L("Cat."), 1, "right"))
        subtotal = 0
        for it in day.items:
            if it.category not in CATEGORIES:
                raise ValueError(f"unknown insurance category {it.category!r} for {it.name!r}")
            subtotal += it.amount
            doc.columns((it.name, 12, "left"), (it.category, 1, "right"))
            doc.columns(("  " + it.spec, 4, "left"), (it.price_text or format_yuan(it.unit_price_fen), 3, "right"),
                        (it.qty_text or str(it.qty), 2, "right"), (format_yuan(it.amount), 3, "right"), ("", 1, "right"))
        running += subtotal
        doc.rule()
        doc.columns((L("Subtotal"), 3, "left"), (format_yuan(subtotal), 2, "right"), bold=True)
        doc.columns((L("Running total"), 3, "left"), (format_yuan(running), 2, "right"))
    doc.rule("=")
    doc.columns((L("Deposits paid"), 3, "left"), (format_yuan(f.deposits_fen), 2, "right"))
    doc.columns((L("Deposit balance"), 3, "left"), (format_yuan(f.deposits_fen - running), 2, "right"), bold=True)
    if f.prompt:
        doc.text(L(f.prompt), bold=True)
    doc.text(f"{L('Time')}: {local_time(f.printed_at, site.timezone)}")
    doc.feed(2)
    doc.cut()
    return doc
