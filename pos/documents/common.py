"""Shared helpers for document builders: labels in both scripts, time, masking."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

__all__ = ["label", "LABELS", "local_time", "mask_card", "METHOD_LABELS"]

#: English msgid -> (zh-Hans, zh-Hant); the English text is printed as a subtitle where useful
LABELS: dict[str, tuple[str, str]] = {
    "Deposit receipt": ("预交金收款收据", "預交金收款收據"),
    "Receipt no.": ("收据号", "收據號"),
    "Patient": ("患者", "患者"),
    "Inpatient no.": ("住院号", "住院號"),
    "Ward": ("病区", "病區"),
    "Amount": ("金额", "金額"),
    "Amount in words": ("大写", "大寫"),
    "Payment method": ("支付方式", "支付方式"),
    "Card": ("卡号", "卡號"),
    "Terminal ref.": ("终端参考号", "終端參考號"),
    "Cashier/kiosk": ("收款员/终端", "收款員/終端"),
    "Time": ("时间", "時間"),
    "Keep this receipt; it is needed at discharge.": ("请妥善保管，出院结算时需交回。", "請妥善保管，出院結算時需交回。"),
    "Wristband": ("腕带", "腕帶"),
    "Sex": ("性别", "性別"),
    "Age": ("年龄", "年齡"),
    "Bed": ("床号", "床號"),
    "Admitted": ("入院", "入院"),
    "Allergy": ("过敏", "過敏"),
    "Male": ("男", "男"),
    "Female": ("女", "女"),
    "Daily fee list": ("日费用清单", "日費用清單"),
    "Item": ("项目", "項目"),
    "Spec": ("规格", "規格"),
    "Price": ("单价", "單價"),
    "Qty": ("数量", "數量"),
    "Cat.": ("类", "類"),
    "Subtotal": ("小计", "小計"),
    "Running total": ("累计", "累計"),
    "Deposits paid": ("预交金", "預交金"),
    "Deposit balance": ("预交金余额", "預交金餘額"),
    "Your deposit is running low. Please top up at the cashier or the kiosk.":
        ("预交金余额不足，请到收费处或自助机补缴。", "預交金餘額不足，請到收費處或自助機補繳。"),
    "Settlement list": ("结算清单", "結算清單"),
    "Settlement no.": ("结算号", "結算號"),
    "Discharged": ("出院", "出院"),
    "Category": ("类别", "類別"),
    "Total": ("合计", "合計"),
    "Pooled fund": ("统筹支付", "統籌支付"),
    "Self-pay": ("个人自付", "個人自付"),
    "Deposits taken back": ("收回预交金", "收回預交金"),
    "Receipts taken back": ("收回收据", "收回收據"),
    "Refunded during the stay": ("住院期间已退", "住院期間已退"),
    "Net deposits": ("预交金净额", "預交金淨額"),
    "Personal account": ("个人账户支付", "個人賬戶支付"),
    "Cash share": ("个人现金支付", "個人現金支付"),
    "Receipts voided": ("作废收据", "作廢收據"),
    "VOID": ("已作废", "已作廢"),
    "Reversed by": ("冲销审批", "沖銷審批"),
    "Refund": ("应退金额", "應退金額"),
    "Amount due": ("应补金额", "應補金額"),
    "Printer test page": ("打印机测试页", "打印機測試頁"),
    "Where to go": ("请前往", "請前往"),
    "Window": ("窗口", "窗口"),
    "Window number": ("号窗口", "號窗口"),
    "Reference": ("参考号", "參考號"),
    "Cash": ("现金", "現金"),
    "Bank card": ("银行卡", "銀行卡"),
    "WeChat Pay": ("微信支付", "微信支付"),
    "Alipay": ("支付宝", "支付寶"),
    "Insurance account": ("医保个人账户", "醫保個人賬戶"),
}

METHOD_LABELS = {"card": "Bank card", "cash": "Cash", "wechat": "WeChat Pay", "alipay": "Alipay",
                 "insurance": "Insurance account"}


def label(msgid: str, lang: str) -> str:
    hans, hant = LABELS[msgid]
    return hant if lang == "zh-Hant" else hans


def local_time(utc_iso: str, tz: str) -> str:
    """``2026-11-28T02:15:00Z`` -> ``2026-11-28 10:15`` in ``tz``."""
    s = utc_iso.strip()
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def mask_card(card: str) -> str:
    """Only the last four digits survive: ``6222021234567890123`` -> ``**** **** **** 0123``."""
    digits = re.sub(r"\D", "", card or "")
    if not digits:
        return ""
    return "**** **** **** " + digits[-4:].rjust(4, "*")


def age_text(birth_date: str | None, day) -> str:
    """Age as a wristband shows it on ``day``: whole years, or months (``3月``) for a baby."""
    import datetime as dt

    if not birth_date:
        return ""
    b = dt.date.fromisoformat(birth_date[:10])
    years = day.year - b.year - ((day.month, day.day) < (b.month, b.day))
    if years >= 1:
        return str(years)
    months = (day.year - b.year) * 12 + day.month - b.month - (day.day < b.day)
    return f"{max(months, 0)}月"
