"""Alipay open API (``openapi.alipay.com/gateway.do``), 当面付: ``alipay.trade.precreate`` (shown
QR), ``alipay.trade.pay`` with ``scene=bar_code`` (scanned payment code), ``alipay.trade.query``,
``alipay.trade.close`` and ``alipay.trade.refund``.

Requests are form posts: common parameters ``app_id, method, format=JSON, charset=utf-8,
sign_type=RSA2, timestamp`` (Beijing time, ``yyyy-MM-dd HH:mm:ss``), ``version=1.0`` and
``biz_content`` (JSON). ``sign``: SHA256withRSA (PKCS#1 v1.5) with the merchant's private key over
the other non-empty parameters sorted by name, ``k=v`` joined by ``&``, base64. The reply's ``sign``
covers the raw text of its ``<method>_response`` object and is checked with the Alipay public key.
Amounts are yuan strings with two decimals, converted exactly from integer fen. ``code`` 10000 is
success, 10003 "waiting for the payer", 20000 "unknown" (query it), 40004 a business refusal.
"""

from __future__ import annotations

import base64
import datetime as dt
import json

import httpx

from drivers.errors import PaymentInDoubt
from drivers.payment import NotSent
from pos.payments.qr import QrOrder

from ._http import fen, post, yuan

__all__ = ["Alipay", "response_object"]

_STATUS = {"WAIT_BUYER_PAY": "pending", "TRADE_SUCCESS": "paid", "TRADE_FINISHED": "paid", "TRADE_CLOSED": "closed"}
_BEIJING = dt.timezone(dt.timedelta(hours=8))


def response_object(text: str, node: str) -> tuple[str, str]:
    """(raw text of ``node``'s object, sign) of a gateway reply: the signature covers the raw text."""
    data = json.loads(text)
    key = f'"{node}":'
    start = text.index(key) + len(key)
    while text[start] in " \t\r\n":
        start += 1
    _obj, end = json.JSONDecoder().raw_decode(text, start)
    return text[start:end], data.get("sign", "")


class Alipay:
    provider = "alipay"

    def __init__(self, url: str, *, app_id: str, private_key_pem: bytes, alipay_public_key_pem: bytes,
                 notify_url: str = "", timeout: float = 10.0, client: httpx.Client | None = None):
        from cryptography.hazmat.primitives import serialization

        self.url = url.rstrip("/")
        self.app_id, self.notify_url = app_id, notify_url
        self._key = serialization.load_pem_private_key(private_key_pem, None)
        self._alipay = serialization.load_pem_public_key(alipay_public_key_pem)
        self.client = client or httpx.Client(timeout=timeout)

    def sign(self, params: dict) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        text = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v not in ("", None))
        return base64.b64encode(self._key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode()

    def call(self, method: str, op: str, biz: dict) -> dict:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        params = {"app_id": self.app_id, "method": method, "format": "JSON", "charset": "utf-8",
                  "sign_type": "RSA2", "timestamp": dt.datetime.now(_BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
                  "version": "1.0", "notify_url": self.notify_url,
                  "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":"))}
        params = {k: v for k, v in params.items() if v}
        params["sign"] = self.sign(params)
        r = post(self.client, self.url + "/gateway.do", op=op, data=params,
                 headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"})
        node = method.replace(".", "_") + "_response"
        try:
            raw, sig = response_object(r.text, node)
            self._alipay.verify(base64.b64decode(sig), raw.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        except ValueError as exc:
            if '"error_response"' in r.text:
                raise NotSent(f"{method}: refused: {r.text[:200]}") from exc
            raise PaymentInDoubt(f"{method}: unreadable reply") from exc
        except InvalidSignature as exc:
            raise PaymentInDoubt(f"{method}: the reply's signature does not match") from exc
        out = json.loads(raw)
        if out.get("code") == "40002":           # bad parameters or signature: the call was not taken
            raise NotSent(f"{method}: refused: {out.get('sub_code')} {out.get('sub_msg', '')}")
        if out.get("code") == "20000":
            raise PaymentInDoubt(f"{method}: service unavailable, outcome unknown")
        return out

    # -- QrGateway ------------------------------------------------------------------------
    def precreate(self, order_no: str, amount_fen: int, subject: str) -> str:
        out = self.call("alipay.trade.precreate", "precreate", {
            "out_trade_no": order_no, "total_amount": yuan(amount_fen), "subject": subject[:256],
            "qr_code_timeout_express": "3m"})
        if out.get("code") != "10000" or not out.get("qr_code"):
            raise NotSent(f"precreate refused: {out.get('sub_code')} {out.get('sub_msg', '')}")
        return out["qr_code"]

    def micropay(self, order_no: str, amount_fen: int, subject: str, auth_code: str) -> QrOrder:
        out = self.call("alipay.trade.pay", "micropay", {
            "out_trade_no": order_no, "scene": "bar_code", "auth_code": auth_code, "subject": subject[:256],
            "total_amount": yuan(amount_fen)})
        if out.get("code") == "10000":
            return QrOrder("paid", out.get("trade_no"), fen(out["total_amount"]))
        if out.get("code") == "10003":
            return QrOrder("pending", reason="10003")
        return QrOrder("failed", reason=f"{out.get('sub_code')} {out.get('sub_msg', '')}".strip())

    def query(self, order_no: str) -> QrOrder:
        out = self.call("alipay.trade.query", "query", {"out_trade_no": order_no})
        if out.get("code") != "10000":
            if out.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
                return QrOrder("unknown", reason="ACQ.TRADE_NOT_EXIST")
            raise PaymentInDoubt(f"trade.query: {out.get('sub_code')}")
        st = out.get("trade_status", "")
        return QrOrder(_STATUS.get(st, "pending"), out.get("trade_no"),
                       fen(out["total_amount"]) if out.get("total_amount") else None, reason=st)

    def close(self, order_no: str) -> None:
        out = self.call("alipay.trade.close", "close", {"out_trade_no": order_no})
        if out.get("code") != "10000" and out.get("sub_code") not in ("ACQ.TRADE_NOT_EXIST", "ACQ.TRADE_STATUS_ERROR"):
            raise PaymentInDoubt(f"trade.close: {out.get('sub_code')}")

    def refund(self, order_no: str, refund_no: str, amount_fen: int, total_fen: int) -> QrOrder:
        out = self.call("alipay.trade.refund", "refund", {
            "out_trade_no": order_no, "refund_amount": yuan(amount_fen), "out_request_no": refund_no})
        if out.get("code") == "10000":
            return QrOrder("paid", out.get("trade_no"), amount_fen)
        return QrOrder("failed", reason=f"{out.get('sub_code')} {out.get('sub_msg', '')}".strip())
