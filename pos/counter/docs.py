"""Counter documents: the domain's rows turned into the document builders' inputs, and the shift
report (Chinese-first, both scripts)."""

from __future__ import annotations

import datetime as dt

from pos.documents import (DepositReceiptData, Layout, SettlementData, Site, WristbandData, deposit_receipt,
                           settlement_list, wristband)
from pos.documents.capitals import format_yuan
from pos.documents.common import age_text, local_time

__all__ = ["doc_site", "receipt_layout", "wristband_layout", "settlement_layout", "shift_report_layout"]

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


def receipt_layout(site: Site, r: dict, operator_id: str) -> Layout:
    """``r``: a receipt row joined with its ledger entry, patient and ward (see CounterDesk)."""
    method = r["method"] if r["method"] in ("card", "cash", "wechat", "alipay") else "cash"
    return deposit_receipt(site, DepositReceiptData(
        receipt_no=r["receipt_no"], patient_name=r["name"], inpatient_no=r["inpatient_no"], amount_fen=r["amount_fen"],
        method=method, operator_id=operator_id, paid_at=r["issued_at"], card_masked=r.get("masked_pan") or "",
        terminal_ref=r.get("reference") if method == "card" else "", ward=r.get("ward_name") or ""))


def wristband_layout(site: Site, w: dict, bed: str, admitted_at: str) -> Layout:
    day = dt.date.today()
    return wristband(site, WristbandData(
        name=w["name"], sex=w["sex"] if w["sex"] in ("M", "F") else "M", age=age_text(w["birth_date"], day),
        inpatient_no=w["inpatient_no"], ward=w["ward_name"], bed=bed or "",
        admitted_on=local_time(admitted_at, site.timezone)[:10]))


def settlement_layout(site: Site, s: dict, totals: dict, admitted_at: str, taken: tuple, settled_at: str,
                      operator_id: str) -> Layout:
    return settlement_list(site, SettlementData(
        settlement_no=s["settlement_no"], patient_name=s["name"], inpatient_no=s["inpatient_no"],
        admitted_on=local_time(admitted_at, site.timezone)[:10],
        discharged_on=local_time(settled_at, site.timezone)[:10], totals_by_category=totals,
        pooled_fen=s["pooled_fen"], deposits_fen=s["deposits_fen"], receipts_taken_back=tuple(taken), settled_at=settled_at,
        operator_id=operator_id))


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
