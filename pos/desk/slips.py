"""The desk's printed documents: the dispatch slip the assignee takes (派工单) with a QR code of
the order number, and the owner's archive copy slip (number and SHA-256 as a QR code, a line to
sign on receipt). Laid out with the platform's :class:`pos.documents.layout.Layout` and printed
through the print journal (journalled, retried, reprinted like every print)."""

from __future__ import annotations

from ..documents.common import local_time
from ..documents.layout import Layout

__all__ = ["resident_slip", "dispatch_slip", "owner_copy_slip", "complaint_slip", "slip_code", "parse_slip_code", "label", "LABELS", "slip_qr", "copy_qr"]

#: English -> (zh-Hans, zh-Hant)
LABELS = {
    "Dispatch slip": ("派工单", "派工單"),
    "Order no.": ("工单号", "工單號"),
    "Category": ("类别", "類別"),
    "Unit": ("房号", "房號"),
    "Resident": ("住户", "住戶"),
    "Priority": ("优先级", "優先級"),
    "Deadline": ("完成时限", "完成時限"),
    "Assignee": ("派给", "派給"),
    "Team": ("班组", "班組"),
    "Description": ("内容", "內容"),
    "EMERGENCY": ("紧急", "緊急"),
    "Payable service": ("有偿服务", "有償服務"),
    "Scan the code to start and finish the job.": ("扫码开工、完工", "掃碼開工、完工"),
    "Owner's copy": ("业主存档联", "業主存檔聯"),
    "Closed": ("结案", "結案"),
    "Received by (signature)": ("签收人", "簽收人"),
    "File in the household's file.": ("请存入一户一档", "請存入一戶一檔"),
    "Anonymous": ("匿名", "匿名"),
    "Complaint slip": ("意见箱投诉单", "意見箱投訴單"),
    "Your request": ("您的服务单", "您的服務單"),
    "Scan or type this number at the kiosk to see its progress.": ("在自助机扫码或输入单号可查进度",
                                                                   "在自助機掃碼或輸入單號可查進度"),
    "Slip no.": ("单号", "單號"),
    "What happened:": ("投诉内容：", "投訴內容："),
    "Your name and phone (leave blank to stay anonymous):": ("姓名及电话（可不填，匿名投诉）：",
                                                            "姓名及電話（可不填，匿名投訴）："),
    "Put this slip in the complaint box.": ("填好后投入意见箱", "填好後投入意見箱"),
}


def label(msgid: str, lang: str) -> str:
    if lang == "en":
        return msgid
    hans, hant = LABELS[msgid]
    return hant if lang == "zh-Hant" else hans


def slip_qr(order_no: str) -> str:
    return f"onestop:desk:{order_no}"


def copy_qr(order_no: str, sha256: str) -> str:
    return f"onestop:desk:{order_no}:sha256={sha256}"


def dispatch_slip(order: dict, category_label: str, *, site_name: str = "", lang: str = "zh-Hans",
                  tz: str = "Asia/Shanghai") -> Layout:
    L = lambda m: label(m, lang)  # noqa: E731
    doc = Layout(kind="receipt", title=L("Dispatch slip"), lang=lang)
    if site_name:
        doc.text(site_name, align="center")
    doc.text(L("Dispatch slip"), align="center", size=(2, 2), bold=True)
    if order.get("emergency"):
        doc.text(f"*** {L('EMERGENCY')} ***", align="center", size=(2, 1), bold=True)
    doc.text(f"{L('Order no.')}: {order['order_no']}", size=(1, 2), bold=True)
    doc.rule()
    doc.text(f"{L('Category')}: {category_label}")
    doc.text(f"{L('Unit')}: {order.get('unit') or '-'}")
    doc.text(f"{L('Resident')}: {order.get('party') or L('Anonymous')}")
    doc.text(f"{L('Priority')}: P{order.get('priority') or '-'}")
    if order.get("deadline"):
        doc.text(f"{L('Deadline')}: {local_time(order['deadline'], tz)}", bold=True)
    doc.text(f"{L('Team')}: {order.get('team') or '-'}  {L('Assignee')}: {order.get('assignee') or '-'}", bold=True)
    if order.get("payable"):
        doc.text(L("Payable service"))
    doc.rule()
    doc.text(f"{L('Description')}: {order.get('description') or ''}")
    doc.qr(slip_qr(order["order_no"]), size=6)
    doc.text(L("Scan the code to start and finish the job."), align="center")
    doc.cut()
    return doc


def owner_copy_slip(order: dict, sha256: str, closed_at: str, *, site_name: str = "", lang: str = "zh-Hans",
                    tz: str = "Asia/Shanghai") -> Layout:
    L = lambda m: label(m, lang)  # noqa: E731
    doc = Layout(kind="receipt", title=L("Owner's copy"), lang=lang)
    if site_name:
        doc.text(site_name, align="center")
    doc.text(L("Owner's copy"), align="center", size=(2, 2), bold=True)
    doc.text(f"{L('Order no.')}: {order['order_no']}", bold=True)
    doc.text(f"{L('Unit')}: {order.get('unit') or '-'}")
    doc.text(f"{L('Closed')}: {local_time(closed_at, tz)}")
    doc.text(f"SHA-256: {sha256[:32]}")
    doc.text(f"         {sha256[32:]}")
    doc.qr(copy_qr(order["order_no"], sha256), size=4)
    doc.feed(2)
    doc.text(f"{L('Received by (signature)')}: ________________")
    doc.text(L("File in the household's file."))
    doc.cut()
    return doc


def slip_code(slip_no: str) -> str:
    return f"onestop:desk:slip:{slip_no}"


def parse_slip_code(text: str) -> str | None:
    """The slip number a scanned complaint-box slip carries, or None for any other code."""
    text = (text or "").strip()
    prefix = "onestop:desk:slip:"
    return text[len(prefix):] or None if text.startswith(prefix) else None


def complaint_slip(slip_no: str, *, site_name: str = "", lang: str = "zh-Hans") -> Layout:
    """A blank complaint-box slip: its number as text and QR code, room to write, may stay anonymous."""
    L = lambda m: label(m, lang)  # noqa: E731
    doc = Layout(kind="receipt", title=L("Complaint slip"), lang=lang)
    if site_name:
        doc.text(site_name, align="center")
    doc.text(L("Complaint slip"), align="center", size=(2, 2), bold=True)
    doc.text(f"{L('Slip no.')}: {slip_no}")
    doc.qr(slip_code(slip_no), size=5)
    doc.text(f"{L('Unit')}: ____________")
    doc.text(L("What happened:"))
    doc.feed(6)
    doc.text(L("Your name and phone (leave blank to stay anonymous):"))
    doc.feed(2)
    doc.text(L("Put this slip in the complaint box."), align="center")
    doc.cut()
    return doc


def resident_slip(order: dict, category_label: str, *, site_name: str = "", lang: str = "zh-Hans",
                  tz: str = "Asia/Shanghai") -> Layout:
    """The resident's slip from the lobby kiosk: the order's number as text and QR code."""
    L = lambda m: label(m, lang)  # noqa: E731
    doc = Layout(kind="receipt", title=L("Your request"), lang=lang)
    if site_name:
        doc.text(site_name, align="center")
    doc.text(L("Your request"), align="center", size=(2, 2), bold=True)
    doc.text(f"{L('Order no.')}: {order['order_no']}", size=(1, 2), bold=True)
    doc.text(f"{L('Category')}: {category_label}")
    doc.text(f"{L('Unit')}: {order.get('unit') or L('Anonymous')}")
    doc.text(local_time(order["received_at"], tz))
    doc.qr(slip_qr(order["order_no"]), size=6)
    doc.text(L("Scan or type this number at the kiosk to see its progress."), align="center")
    doc.cut()
    return doc
