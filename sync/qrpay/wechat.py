"""WeChat Pay merchant API v2 (XML over HTTPS, signed with the API key).

Shown QR: ``/pay/unifiedorder`` with ``trade_type=NATIVE`` returns ``code_url``. Scanned code:
``/pay/micropay`` with the payer's ``auth_code``; ``err_code=USERPAYING`` means the payer types the
password, then ``/pay/orderquery`` is polled (``trade_state``). ``/pay/closeorder`` ends an unpaid
order; ``/secapi/pay/refund`` refunds by ``out_refund_no`` (in production it needs the merchant's
client certificate: give the client a ``cert``). Amounts are ``total_fee`` in fen (integers).

Signature (the "安全规范" of the v2 docs): the non-empty fields except ``sign``, sorted by name,
``k=v`` joined by ``&``, plus ``&key=<API key>``; MD5 or HMAC-SHA256, upper-case hex. Every reply's
signature is checked; a reply that fails the check is treated as no reply (in doubt).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import httpx

from drivers.errors import PaymentInDoubt
from drivers.payment import NotSent
from pos.payments.qr import QrOrder

from ._http import post

__all__ = ["WechatPay", "sign"]

_STATES = {"SUCCESS": "paid", "REFUND": "paid", "NOTPAY": "pending", "USERPAYING": "pending",
           "CLOSED": "closed", "REVOKED": "closed", "PAYERROR": "failed"}


def sign(fields: dict, key: str, sign_type: str = "MD5") -> str:
    text = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if v not in ("", None) and k != "sign")
    text += f"&key={key}"
    if sign_type == "HMAC-SHA256":
        return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    if sign_type == "MD5":
        return hashlib.md5(text.encode()).hexdigest().upper()
    raise ValueError(f"unknown sign_type {sign_type!r}")


class WechatPay:
    provider = "wechat"

    def __init__(self, url: str, *, appid: str, mch_id: str, key: str, sign_type: str = "HMAC-SHA256",
                 notify_url: str = "https://localhost/wechat/notify", client_ip: str = "127.0.0.1",
                 timeout: float = 10.0, client: httpx.Client | None = None):
        self.url = url.rstrip("/")
        self.appid, self.mch_id, self.key, self.sign_type = appid, mch_id, key, sign_type
        self.notify_url, self.client_ip = notify_url, client_ip
        self.client = client or httpx.Client(timeout=timeout)

    # -- the wire -------------------------------------------------------------------------
    def call(self, path: str, op: str, fields: dict) -> dict:
        req = {"appid": self.appid, "mch_id": self.mch_id, "nonce_str": secrets.token_hex(16),
               "sign_type": self.sign_type, **{k: str(v) for k, v in fields.items()}}
        req["sign"] = sign(req, self.key, self.sign_type)
        body = "<xml>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in req.items()) + "</xml>"
        r = post(self.client, self.url + path, op=op, content=body.encode("utf-8"),
                 headers={"Content-Type": "text/xml; charset=utf-8"})
        try:
            out = {c.tag: (c.text or "") for c in ET.fromstring(r.content)}
        except ET.ParseError as exc:
            raise PaymentInDoubt(f"{op}: unreadable reply") from exc
        if out.get("return_code") != "SUCCESS":
            # a communication-level refusal (bad signature, bad XML): the request was not taken
            raise NotSent(f"{op}: refused: {out.get('return_msg', '')}")
        if out.get("sign") != sign(out, self.key, self.sign_type):
            raise PaymentInDoubt(f"{op}: the reply's signature does not match")
        return out

    # -- QrGateway ------------------------------------------------------------------------
    def precreate(self, order_no: str, amount_fen: int, subject: str) -> str:
        out = self.call("/pay/unifiedorder", "precreate", {
            "body": subject[:40], "out_trade_no": order_no, "total_fee": amount_fen, "fee_type": "CNY",
            "spbill_create_ip": self.client_ip, "notify_url": self.notify_url, "trade_type": "NATIVE",
            "product_id": order_no})
        if out.get("result_code") != "SUCCESS" or not out.get("code_url"):
            raise NotSent(f"unifiedorder refused: {out.get('err_code')} {out.get('err_code_des', '')}")
        return out["code_url"]

    def micropay(self, order_no: str, amount_fen: int, subject: str, auth_code: str) -> QrOrder:
        out = self.call("/pay/micropay", "micropay", {
            "body": subject[:40], "out_trade_no": order_no, "total_fee": amount_fen, "fee_type": "CNY",
            "spbill_create_ip": self.client_ip, "auth_code": auth_code})
        if out.get("result_code") == "SUCCESS":
            return QrOrder("paid", out.get("transaction_id"), int(out["total_fee"]))
        err = out.get("err_code", "")
        if err == "USERPAYING":
            return QrOrder("pending", reason=err)
        if err in ("SYSTEMERROR", "BANKERROR"):      # the docs: the outcome is unknown, query it
            raise PaymentInDoubt(f"micropay: {err}")
        return QrOrder("failed", reason=f"{err} {out.get('err_code_des', '')}".strip())

    def query(self, order_no: str) -> QrOrder:
        out = self.call("/pay/orderquery", "query", {"out_trade_no": order_no})
        if out.get("result_code") != "SUCCESS":
            if out.get("err_code") == "ORDERNOTEXIST":
                return QrOrder("unknown", reason="ORDERNOTEXIST")
            raise PaymentInDoubt(f"orderquery: {out.get('err_code')}")
        state = _STATES.get(out.get("trade_state", ""), "pending")
        return QrOrder(state, out.get("transaction_id") or None, int(out["total_fee"]) if out.get("total_fee") else None,
                       reason=out.get("trade_state", ""))

    def close(self, order_no: str) -> None:
        out = self.call("/pay/closeorder", "close", {"out_trade_no": order_no})
        if out.get("result_code") != "SUCCESS" and out.get("err_code") not in ("ORDERPAID", "ORDERCLOSED"):
            raise PaymentInDoubt(f"closeorder: {out.get('err_code')}")

    def refund(self, order_no: str, refund_no: str, amount_fen: int, total_fen: int) -> QrOrder:
        out = self.call("/secapi/pay/refund", "refund", {
            "out_trade_no": order_no, "out_refund_no": refund_no, "total_fee": total_fen, "refund_fee": amount_fen})
        if out.get("result_code") == "SUCCESS":
            return QrOrder("paid", out.get("refund_id"), int(out["refund_fee"]))
        if out.get("err_code") in ("SYSTEMERROR", "BIZERR_NEED_RETRY"):
            raise PaymentInDoubt(f"refund: {out.get('err_code')}")
        return QrOrder("failed", reason=f"{out.get('err_code')} {out.get('err_code_des', '')}".strip())
