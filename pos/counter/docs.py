"""Counter documents: the cashier's shift report (Chinese-first, both scripts). Receipts, wristbands
and settlement lists come from :class:`pos.hospital.print_docs.DocumentPrinter`, as at the kiosk."""

from __future__ import annotations

from pos.documents import Layout, Site
from pos.documents.capitals import format_yuan
from pos.documents.common import local_time

__all__ = ["doc_site", "shift_report_layout"]

#: shift report labels: English -> (zh-Hans, zh-Hant)
SHIFT_LABELS = {
    "title": ("收款员交班报表", "收款員交班報表"),
    "cashier": ("收款员", "收款員"),
    "opened": ("开班", "開班"),
    "closed": ("交班", "交班"),
    "float": ("备用金", "備用金"),
    "cash_in": ("现金收入", "現金收入"),
    "cash_out": ("现金退款", "現金退款"),
    "expected": ("应有现金", "應有現金"),
    "counted": ("清点现金", "清點現金"),
    "difference": ("差额", "差額"),
    "cards": ("银行卡(本机)", "銀行卡(本機)"),
    "terminal": ("终端日结", "終端日結"),
    "card_diff": ("银行卡差额", "銀行卡差額"),
    "count": ("笔数", "筆數"),
    "pieces": ("张/枚", "張/枚"),
}


def _l(key: str, lang: str) -> str:
    hans, hant = SHIFT_LABELS[key]
    return hant if lang == "zh-Hant" else hans


def doc_site(config, lang: str) -> Site:
    return Site.from_config(config, lang)


def shift_report_layout(site: Site, rep: dict) -> Layout:
    """The printed shift report: cash expected vs counted, card totals vs the terminal's end-of-day."""
    lang = site.lang
    L = lambda k: _l(k, lang)  # noqa: E731
    y = lambda fen: "¥" + format_yuan(fen)  # noqa: E731
    doc = Layout(kind="receipt", title=L("title"), lang=lang)
    doc.text(site.hospital_name, "center", bold=True)
    doc.text(L("title"), "center", (2, 2), bold=True)
    doc.text("SHIFT REPORT", "center")
    doc.rule()
    doc.columns((L("cashier"), 2, "left"), (rep["cashier"], 3, "right"))
    doc.columns((L("opened"), 2, "left"), (local_time(rep["opened_at"], site.timezone), 3, "right"))
    doc.columns((L("closed"), 2, "left"), (local_time(rep["closed_at"], site.timezone), 3, "right"))
    doc.rule()
    doc.columns((L("float"), 2, "left"), (y(rep["float_fen"]), 3, "right"))
    doc.columns((L("cash_in"), 2, "left"), (y(rep["cash_in_fen"]), 3, "right"))
    doc.columns((L("cash_out"), 2, "left"), (y(rep["cash_out_fen"]), 3, "right"))
    doc.columns((L("expected"), 2, "left"), (y(rep["expected_fen"]), 3, "right"), bold=True)
    for denom, n in sorted(rep["counts"].items(), reverse=True):
        if n:
            doc.columns((f"  {y(denom)} x {n}", 3, "left"), (y(denom * n), 2, "right"))
    doc.columns((L("counted"), 2, "left"), (y(rep["counted_fen"]), 3, "right"), bold=True)
    doc.columns((L("difference"), 2, "left"), (y(rep["difference_fen"]), 3, "right"), bold=True)
    doc.rule()
    doc.columns((f"{L('cards')} ({rep['card_count']} {L('count')})", 3, "left"), (y(rep["card_fen"]), 2, "right"))
    if rep.get("eod") is not None:
        eod = rep["eod"]
        doc.columns((f"{L('terminal')} ({eod['count']} {L('count')})", 3, "left"), (y(eod["total_fen"]), 2, "right"))
        doc.columns((L("card_diff"), 2, "left"), (y(eod["total_fen"] - rep["card_fen"]), 3, "right"), bold=True)
    doc.feed(2)
    doc.cut()
    return doc
