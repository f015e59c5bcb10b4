"""A WeChat Pay merchant API (APIv2, XML) simulator on a real HTTP socket.

Endpoints, as in the public API v2 reference (pay.weixin.qq.com/wiki/doc/api):

=========================  ==========================================================
``/pay/unifiedorder``      ``trade_type=NATIVE`` -> ``code_url`` (``weixin://wxpay/bizpayurl?pr=...``)
``/pay/micropay``          ``auth_code`` -> ``result_code`` SUCCESS, or FAIL with ``err_code``
                           ``USERPAYING`` (the payer types the password) / ``AUTH_CODE_INVALID``
``/pay/orderquery``        ``trade_state`` SUCCESS / NOTPAY / USERPAYING / CLOSED / PAYERROR,
                           ``err_code=ORDERNOTEXIST`` for an unknown ``out_trade_no``
``/pay/closeorder``        closes an unpaid order (``err_code=ORDERPAID`` when paid)
``/secapi/pay/refund``     ``out_refund_no`` (one number refunds once), ``refund_fee``, ``total_fee``
=========================  ==========================================================

Every request is an ``<xml>`` document signed with the merchant's API key: the non-empty fields
but ``sign``, sorted by name, joined as ``k=v&...``, then ``&key=<API key>``; ``sign_type``
``MD5`` (the default) or ``HMAC-SHA256``, upper-case hex. Replies are signed the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import xml.etree.ElementTree as ET

from .qrpay_base import QrPaySim

__all__ = ["WechatPaySim"]

_OPS = {"/pay/unifiedorder": "precreate", "/pay/micropay": "micropay", "/pay/orderquery": "query",
        "/pay/closeorder": "close", "/secapi/pay/refund": "refund"}
_TRADE_STATE = {"pending": "NOTPAY", "confirming": "USERPAYING", "paid": "SUCCESS", "closed": "CLOSED",
                "failed": "PAYERROR"}


def _sign(fields: dict, key: str, sign_type: str) -> str:
    text = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if v != "" and k != "sign") + f"&key={key}"
    if sign_type == "HMAC-SHA256":
        return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    return hashlib.md5(text.encode()).hexdigest().upper()


class WechatPaySim(QrPaySim):
    def __init__(self, *, appid: str = "wx2421b1c4370ec43b", mch_id: str = "10000100",
                 key: str = "192006250b4c09247ec02edce69f6a2d"):
        self.appid, self.mch_id, self.key = appid, mch_id, key
        super().__init__("4200")

    def _reply(self, req: dict, fields: dict) -> bytes:
        out = {"return_code": "SUCCESS", "return_msg": "OK", "appid": self.appid, "mch_id": self.mch_id,
               "nonce_str": secrets.token_hex(8), **fields}
        sign_type = req.get("sign_type", "MD5")
        out["sign"] = _sign(out, self.key, sign_type)
        return ("<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in out.items()) + "</xml>").encode()

    def respond(self, method, path, headers, body):
        op = _OPS.get(path.split("?")[0], "unknown")
        try:
            req = {c.tag: (c.text or "") for c in ET.fromstring(body)}
        except ET.ParseError:
            return op, 200, "text/xml", b"<xml><return_code>FAIL</return_code><return_msg>XML error</return_msg></xml>"
        if op == "unknown" or req.get("sign") != _sign(req, self.key, req.get("sign_type", "MD5")) \
                or req.get("mch_id") != self.mch_id or req.get("appid") != self.appid:
            return op, 200, "text/xml", ("<xml><return_code>FAIL</return_code><return_msg>签名错误</return_msg>"
                                         "</xml>").encode()
        return op, 200, "text/xml", self._reply(req, getattr(self, f"_{op}")(req))

    def _fail(self, code: str, des: str) -> dict:
        return {"result_code": "FAIL", "err_code": code, "err_code_des": des}

    def _precreate(self, req):
        if req.get("trade_type") != "NATIVE" or not req.get("product_id"):
            return self._fail("PARAM_ERROR", "trade_type NATIVE needs product_id")
        o = self.book.precreate(req["out_trade_no"], int(req["total_fee"]), req.get("body", ""),
                                "weixin://wxpay/bizpayurl?pr=")
        return {"result_code": "SUCCESS", "trade_type": "NATIVE", "prepay_id": f"wx{o.order_no[:20]}",
                "code_url": o.qr_text}

    def _micropay(self, req):
        code = req.get("auth_code", "")
        if not (len(code) == 18 and code.isdigit() and 10 <= int(code[:2]) <= 15):
            return self._fail("AUTH_CODE_INVALID", "付款码无效")
        o = self.book.micropay(req["out_trade_no"], int(req["total_fee"]), req.get("body", ""), code)
        if o.state == "confirming":
            return self._fail("USERPAYING", "需要用户输入支付密码")
        if o.state == "failed":
            return self._fail(o.transaction_id or "NOTENOUGH", "余额不足")
        return {"result_code": "SUCCESS", "transaction_id": o.transaction_id, "out_trade_no": o.order_no,
                "total_fee": str(o.amount_fen), "fee_type": "CNY", "trade_type": "MICROPAY"}

    def _query(self, req):
        o = self.book.query(req.get("out_trade_no", ""))
        if o is None:
            return self._fail("ORDERNOTEXIST", "此交易订单号不存在")
        out = {"result_code": "SUCCESS", "out_trade_no": o.order_no, "trade_state": _TRADE_STATE[o.state],
               "total_fee": str(o.amount_fen)}
        if o.state == "paid":
            out["transaction_id"] = o.transaction_id
        return out

    def _close(self, req):
        o = self.book.close(req.get("out_trade_no", ""))
        if o is not None and o.state == "paid":
            return self._fail("ORDERPAID", "订单已支付")
        return {"result_code": "SUCCESS"}

    def _refund(self, req):
        o, verdict = self.book.refund(req.get("out_trade_no", ""), req.get("out_refund_no", ""),
                                      int(req.get("refund_fee") or 0))
        if verdict == "not_paid":
            return self._fail("TRADE_STATE_ERROR", "订单状态错误")
        if verdict == "too_much" or int(req.get("total_fee") or 0) != o.amount_fen:
            return self._fail("INVALID_REQUEST", "退款金额大于支付金额")
        return {"result_code": "SUCCESS", "out_trade_no": o.order_no, "out_refund_no": req["out_refund_no"],
                "refund_id": f"5030{req['out_refund_no'][:24]}", "refund_fee": req["refund_fee"]}
