"""An Alipay open-platform gateway (``/gateway.do``) simulator on a real HTTP socket.

Requests are form posts with the common parameters ``app_id``, ``method``, ``format=JSON``,
``charset=utf-8``, ``sign_type=RSA2``, ``timestamp`` (``yyyy-MM-dd HH:mm:ss``, Beijing time),
``version=1.0`` and ``biz_content`` (JSON); ``sign`` is the base64 SHA256withRSA signature of every
other non-empty parameter sorted by name as ``k=v&...``. The reply is
``{"<method with _ for .>_response": {...}, "sign": "..."}``, the sign covering the raw text of the
response object. Methods:

=========================  ================================================================
``alipay.trade.precreate``  ``out_trade_no``, ``total_amount`` (yuan, 2 decimals), ``subject``
                            -> ``qr_code``; the trade exists only once a phone scanned it
``alipay.trade.pay``        ``scene=bar_code``, ``auth_code`` -> ``code`` 10000 (paid), 10003
                            (the payer confirms), 40004 with ``sub_code`` (refused)
``alipay.trade.query``      ``trade_status`` WAIT_BUYER_PAY / TRADE_SUCCESS / TRADE_CLOSED;
                            40004 ``ACQ.TRADE_NOT_EXIST``
``alipay.trade.close``      closes an unpaid trade
``alipay.trade.refund``     ``refund_amount``, ``out_request_no`` (one number refunds once)
=========================  ================================================================
"""

from __future__ import annotations

import base64
import json
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .qrpay_base import QrPaySim

__all__ = ["AlipaySim", "new_key_pair"]

_OPS = {"alipay.trade.precreate": "precreate", "alipay.trade.pay": "micropay", "alipay.trade.query": "query",
        "alipay.trade.close": "close", "alipay.trade.refund": "refund"}
_STATUS = {"pending": "WAIT_BUYER_PAY", "confirming": "WAIT_BUYER_PAY", "paid": "TRADE_SUCCESS",
           "closed": "TRADE_CLOSED", "failed": "TRADE_CLOSED"}


def new_key_pair() -> tuple[bytes, bytes]:
    """(private PEM, public PEM) of a fresh 2048-bit RSA key."""
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()),
            k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _fen(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


class AlipaySim(QrPaySim):
    def __init__(self, *, app_id: str = "2014072300007148", merchant_public_pem: bytes):
        self.app_id = app_id
        self.merchant_key = serialization.load_pem_public_key(merchant_public_pem)
        self.private_pem, self.public_pem = new_key_pair()     # "the Alipay public key" of the merchant's console
        self._key = serialization.load_pem_private_key(self.private_pem, None)
        self.scanned: set[str] = set()
        super().__init__("2026")

    def _verify(self, params: dict) -> bool:
        text = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v != "")
        try:
            self.merchant_key.verify(base64.b64decode(params.get("sign", "")), text.encode(), padding.PKCS1v15(),
                                     hashes.SHA256())
            return True
        except Exception:
            return False

    def respond(self, method, path, headers, body):
        params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        name = params.get("method", "")
        op = _OPS.get(name, "unknown")
        if op == "unknown" or not self._verify(params) or params.get("app_id") != self.app_id:
            inner = {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature",
                     "sub_msg": "验签出错"}
        else:
            inner = getattr(self, f"_{op}")(json.loads(params.get("biz_content") or "{}"))
        raw = json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
        sig = base64.b64encode(self._key.sign(raw.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
        node = name.replace(".", "_") + "_response" if name else "error_response"
        out = f'{{"{node}":{raw},"sign":"{sig}"}}'
        return op, 200, "application/json; charset=utf-8", out.encode()

    @staticmethod
    def _fail(sub_code: str, sub_msg: str) -> dict:
        return {"code": "40004", "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg}

    def phone_scans(self, qr_text):
        o = super().phone_scans(qr_text)
        self.scanned.add(o.order_no)
        return o

    def _precreate(self, biz):
        o = self.book.precreate(biz["out_trade_no"], _fen(biz["total_amount"]), biz.get("subject", ""),
                                "https://qr.alipay.com/bax0")
        return {"code": "10000", "msg": "Success", "out_trade_no": o.order_no, "qr_code": o.qr_text}

    def _micropay(self, biz):
        code = biz.get("auth_code", "")
        if biz.get("scene") != "bar_code" or not (code.isdigit() and 16 <= len(code) <= 24 and 25 <= int(code[:2]) <= 30):
            return self._fail("ACQ.PAYMENT_AUTH_CODE_INVALID", "支付失败，获取顾客账户信息失败")
        o = self.book.micropay(biz["out_trade_no"], _fen(biz["total_amount"]), biz.get("subject", ""), code)
        self.scanned.add(o.order_no)
        if o.state == "confirming":
            return {"code": "10003", "msg": " order success pay inprocess", "out_trade_no": o.order_no}
        if o.state == "failed":
            return self._fail("ACQ.BUYER_BALANCE_NOT_ENOUGH", "买家余额不足")
        return {"code": "10000", "msg": "Success", "trade_no": o.transaction_id, "out_trade_no": o.order_no,
                "total_amount": _yuan(o.amount_fen), "buyer_logon_id": "159****5620"}

    def _order(self, biz):
        no = biz.get("out_trade_no", "")
        return self.book.query(no) if no in self.scanned else None

    def _query(self, biz):
        o = self._order(biz)
        if o is None:
            return self._fail("ACQ.TRADE_NOT_EXIST", "交易不存在")
        out = {"code": "10000", "msg": "Success", "out_trade_no": o.order_no, "trade_status": _STATUS[o.state],
               "total_amount": _yuan(o.amount_fen)}
        if o.state == "paid":
            out["trade_no"] = o.transaction_id
        return out

    def _close(self, biz):
        no = biz.get("out_trade_no", "")
        o = self.book.close(no)            # an unscanned pre-created QR can no longer be paid either
        if no not in self.scanned:
            return self._fail("ACQ.TRADE_NOT_EXIST", "交易不存在")
        if o is not None and o.state == "paid":
            return self._fail("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        return {"code": "10000", "msg": "Success", "out_trade_no": no}

    def _refund(self, biz):
        o, verdict = self.book.refund(biz.get("out_trade_no", ""), biz.get("out_request_no", ""),
                                      _fen(biz.get("refund_amount", "0")))
        if verdict == "not_paid":
            return self._fail("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        if verdict == "too_much":
            return self._fail("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
        return {"code": "10000", "msg": "Success", "trade_no": o.transaction_id, "out_trade_no": o.order_no,
                "fund_change": "Y", "refund_fee": _yuan(sum(o.refunds.values()))}
