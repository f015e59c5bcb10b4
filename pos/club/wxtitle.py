"""The WeChat invoice-title QR code (我的—个人信息—我的发票抬头) and what WeChat answers for it.

The QR code a guest shows does not carry the title itself: it is a link to WeChat's
``usertitlewxa`` page with an opaque ``invoice_key``, e.g. (WeChat's own example for
``invoicescantitle``, developers.weixin.qq.com/doc/service/api/invoice/name/api_invoicescantitle)::

    https://mp.weixin.qq.com/intp/invoice/usertitlewxa?action=list_auth&invoice_key=abcd

and, as scanned by a developer (developers.weixin.qq.com community, "商户扫描用户的发票抬头二维码"),
with a long base64-like key and a ``#wechat_redirect`` fragment. The merchant posts the scanned
text unchanged as ``scan_text`` to ``POST /card/invoice/scantitle`` and gets back ``errcode``,
``title_type`` (0 a company, 1 a person), ``title``, ``tax_no``, ``addr``, ``phone``,
``bank_type``, ``bank_no``.

:func:`parse_title_qr` tells a title QR from anything else the scanner reads (a payment code, a
URL of another page) before anything is sent; :func:`parse_scantitle` turns WeChat's answer into
the buyer of a fapiao. The HTTP call is the adapter's (:mod:`kiosk.club.cashier_wechat`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from .errors import ClubError

__all__ = ["TitleQR", "InvoiceTitle", "parse_title_qr", "parse_scantitle", "clean_tax_no"]

_HOST = "mp.weixin.qq.com"
_PATH = "/intp/invoice/usertitlewxa"
_KEY = re.compile(r"^\S{1,512}$")
_TAX = re.compile(r"^[0-9A-Z]{15,20}$")


@dataclass(frozen=True)
class TitleQR:
    scan_text: str          # what goes to WeChat, unchanged
    invoice_key: str


@dataclass(frozen=True)
class InvoiceTitle:
    company: bool
    title: str
    tax_no: str = ""
    address: str = ""
    phone: str = ""
    bank: str = ""
    bank_account: str = ""


def parse_title_qr(text: str) -> TitleQR:
    """The scanned text of a WeChat invoice-title QR code, or ClubError(not_a_title_qr)."""
    raw = (text or "").strip()
    try:
        u = urlsplit(raw)
    except ValueError as exc:
        raise ClubError(f"scanned text is not a URL: {exc}", code="not_a_title_qr") from exc
    if u.scheme != "https" or (u.hostname or "").lower() != _HOST or u.path != _PATH:
        raise ClubError(f"scanned text is not a WeChat invoice-title link ({u.scheme}://{u.hostname}{u.path})",
                        code="not_a_title_qr")
    q = parse_qs(u.query, keep_blank_values=True)
    keys = q.get("invoice_key", [])
    if len(keys) != 1 or not keys[0] or not _KEY.match(keys[0]):
        raise ClubError("WeChat invoice-title link without a single invoice_key", code="not_a_title_qr")
    if q.get("action", ["list_auth"]) != ["list_auth"]:
        raise ClubError(f"WeChat invoice link with action {q.get('action')}", code="not_a_title_qr")
    return TitleQR(raw, keys[0])


def clean_tax_no(value: str) -> str:
    """A buyer's tax number as the fapiao needs it: upper case, no spaces; '' for none. A unified
    social credit code has 18 characters, older taxpayer numbers 15 or 20."""
    v = re.sub(r"\s+", "", value or "").upper()
    if v and not _TAX.match(v):
        raise ClubError(f"tax number {v!r} is not 15 to 20 letters and digits")
    return v


def parse_scantitle(answer: dict) -> InvoiceTitle:
    """WeChat's ``scantitle`` answer -> the buyer; ClubError(title_lookup_failed) on an error."""
    if not isinstance(answer, dict):
        raise ClubError("WeChat scantitle: the answer is not a JSON object", code="title_lookup_failed")
    if answer.get("errcode", 0) != 0:
        raise ClubError(f"WeChat scantitle: errcode {answer.get('errcode')} {answer.get('errmsg', '')}",
                        code="title_lookup_failed")
    title = str(answer.get("title") or "").strip()
    if not title:
        raise ClubError("WeChat scantitle: no title in the answer", code="title_lookup_failed")
    kind = answer.get("title_type")
    tax = str(answer.get("tax_no") or "").strip()
    company = kind == 0 if kind in (0, 1) else bool(tax)     # WeChat's own example omits title_type
    s = lambda k: str(answer.get(k) or "").strip()           # noqa: E731
    return InvoiceTitle(company, title, re.sub(r"\s+", "", tax).upper(), s("addr"), s("phone"), s("bank_type"),
                        s("bank_no"))
