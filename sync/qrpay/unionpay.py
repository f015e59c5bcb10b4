"""UnionPay online payments (全渠道 acp 5.1.0) for QR codes: ``backTransReq.do`` with ``txnType=01``
and ``txnSubType=07`` (申请二维码: the ``qrCode`` to show) or ``06`` (被扫: the payer's ``qrNo``),
``queryTrans.do`` (``txnType=00``; ``origRespCode`` 00 = paid, 03/04/05 = still processing,
``respCode`` 34 = no such order), ``txnType=31`` (cancel an unpaid order) and ``txnType=04``
(refund by ``origQryId``). ``respCode=00`` on a transaction means *accepted*, not paid: the
outcome is always read with the query. Amounts are ``txnAmt`` in fen.

Signature (``signMethod=01``): SHA-256 over the fields but ``signature`` sorted as ``k=v&...``,
as lower-case hex, signed SHA256withRSA (PKCS#1 v1.5), base64; ``certId`` names the signing
certificate. Replies are checked with UnionPay's public key (a deployment loads it from the
verification certificate; the chain check of that certificate is not done here).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import urllib.parse

import httpx

from drivers.errors import PaymentInDoubt
from drivers.payment import NotSent
from pos.payments.qr import QrOrder

from ._http import post

__all__ = ["UnionPay"]

_BEIJING = dt.timezone(dt.timedelta(hours=8))


def _digest(fields: dict) -> bytes:
    text = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "signature")
    return hashlib.sha256(text.encode("utf-8")).hexdigest().encode()


class UnionPay:
    provider = "unionpay"

    def __init__(self, url: str, *, mer_id: str, cert_id: str, private_key_pem: bytes, unionpay_public_key_pem: bytes,
                 back_url: str = "https://localhost/unionpay/notify", timeout: float = 10.0,
                 client: httpx.Client | None = None):
        from cryptography.hazmat.primitives import serialization

        self.url = url.rstrip("/")
        self.mer_id, self.cert_id, self.back_url = mer_id, cert_id, back_url
        self._key = serialization.load_pem_private_key(private_key_pem, None)
        self._up = serialization.load_pem_public_key(unionpay_public_key_pem)
        self.client = client or httpx.Client(timeout=timeout)

    def call(self, path: str, op: str, fields: dict) -> dict:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        req = {"version": "5.1.0", "encoding": "UTF-8", "signMethod": "01", "certId": self.cert_id,
               "bizType": "000000", "channelType": "08", "accessType": "0", "merId": self.mer_id,
               "txnTime": dt.datetime.now(_BEIJING).strftime("%Y%m%d%H%M%S"), **{k: str(v) for k, v in fields.items()}}
        req["signature"] = base64.b64encode(self._key.sign(_digest(req), padding.PKCS1v15(), hashes.SHA256())).decode()
        r = post(self.client, self.url + path, op=op, data=req)
        out = {k: v[0] for k, v in urllib.parse.parse_qs(r.text, keep_blank_values=True).items()}
        try:
            self._up.verify(base64.b64decode(out.get("signature", "")), _digest(out), padding.PKCS1v15(), hashes.SHA256())
        except Exception as exc:  # noqa: BLE001 - any failure of the check means: not a trusted reply
            raise PaymentInDoubt(f"{op}: the reply's signature does not match") from exc
        if out.get("respCode") == "11":
            raise NotSent(f"{op}: refused: {out.get('respMsg', '')}")
        if out.get("respCode") in ("03", "04", "05"):
            raise PaymentInDoubt(f"{op}: processing ({out.get('respCode')})")
        return out

    def precreate(self, order_no: str, amount_fen: int, subject: str) -> str:
        out = self.call("/gateway/api/backTransReq.do", "precreate", {
            "txnType": "01", "txnSubType": "07", "orderId": order_no, "txnAmt": amount_fen, "currencyCode": "156",
            "backUrl": self.back_url})
        if out.get("respCode") != "00" or not out.get("qrCode"):
            raise NotSent(f"QR code refused: {out.get('respCode')} {out.get('respMsg', '')}")
        return out["qrCode"]

    def micropay(self, order_no: str, amount_fen: int, subject: str, auth_code: str) -> QrOrder:
        out = self.call("/gateway/api/backTransReq.do", "micropay", {
            "txnType": "01", "txnSubType": "06", "orderId": order_no, "txnAmt": amount_fen, "currencyCode": "156",
            "qrNo": auth_code, "backUrl": self.back_url})
        if out.get("respCode") == "00":
            return QrOrder("pending", reason="accepted")      # the query tells the outcome
        return QrOrder("failed", reason=f"{out.get('respCode')} {out.get('respMsg', '')}".strip())

    def query(self, order_no: str) -> QrOrder:
        out = self.call("/gateway/api/queryTrans.do", "query", {"txnType": "00", "txnSubType": "00", "orderId": order_no})
        if out.get("respCode") == "34":
            return QrOrder("unknown", reason="34")
        if out.get("respCode") != "00":
            raise PaymentInDoubt(f"query: {out.get('respCode')} {out.get('respMsg', '')}")
        orig = out.get("origRespCode", "")
        state = "paid" if orig == "00" else "pending" if orig in ("03", "04", "05") else \
            "closed" if orig == "01" else "failed"
        return QrOrder(state, out.get("queryId"), int(out["txnAmt"]) if out.get("txnAmt") else None, reason=orig)

    def close(self, order_no: str) -> None:
        out = self.call("/gateway/api/backTransReq.do", "close", {
            "txnType": "31", "txnSubType": "00", "orderId": f"C{order_no[:39]}", "origOrderId": order_no,
            "backUrl": self.back_url})
        if out.get("respCode") != "00":
            raise PaymentInDoubt(f"cancel: {out.get('respCode')}")

    def refund(self, order_no: str, refund_no: str, amount_fen: int, total_fen: int) -> QrOrder:
        paid = self.query(order_no)
        if paid.state != "paid" or not paid.transaction_id:
            return QrOrder("failed", reason=f"order {order_no} is {paid.state}")
        out = self.call("/gateway/api/backTransReq.do", "refund", {
            "txnType": "04", "txnSubType": "00", "orderId": refund_no, "origQryId": paid.transaction_id,
            "txnAmt": amount_fen, "backUrl": self.back_url})
        if out.get("respCode") == "00":
            return QrOrder("paid", out.get("queryId"), amount_fen)
        return QrOrder("failed", reason=f"{out.get('respCode')} {out.get('respMsg', '')}".strip())
