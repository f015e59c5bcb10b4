"""A UnionPay online (全渠道 "acp", version 5.1.0) QR-payment simulator on a real HTTP socket.

Form posts to ``/gateway/api/backTransReq.do`` (transactions) and ``/gateway/api/queryTrans.do``
(query), fields as in the UnionPay open platform's acp reference:

=================================  =============================================================
``txnType=01 txnSubType=07``        消费 (申请二维码): ``qrCode`` comes back, the payer scans it
``txnType=01 txnSubType=06``        消费 (被扫): ``qrNo`` is the payer's payment code
``txnType=00`` (queryTrans.do)      ``origRespCode`` 00 paid, 03/04/05 still processing;
                                    ``respCode=34`` no such order
``txnType=31``                      消费撤销 (closes an unpaid order here)
``txnType=04``                      退货 (refund) by ``origQryId``, one ``orderId`` refunds once
=================================  =============================================================

Common fields: ``version, encoding=UTF-8, signMethod=01, certId, bizType=000000, channelType=08,
accessType=0, merId, orderId`` (8-40 letters and digits), ``txnTime`` (YYYYMMDDhhmmss, Beijing),
``txnAmt`` (fen), ``currencyCode=156``. ``signature``: SHA-256 of the sorted ``k=v&...`` string
(hex, lower case), signed SHA256withRSA with the merchant's signing key, base64. Replies are
signed the same way with the simulator's key.
"""

from __future__ import annotations

import base64
import hashlib
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from .qrpay_alipay import new_key_pair
from .qrpay_base import QrPaySim

__all__ = ["UnionPaySim"]

_ORIG = {"pending": "05", "confirming": "05", "paid": "00", "closed": "01", "failed": "51"}


def _digest(fields: dict) -> bytes:
    text = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "signature")
    return hashlib.sha256(text.encode("utf-8")).hexdigest().encode()


class UnionPaySim(QrPaySim):
    def __init__(self, *, mer_id: str = "777290058110048", merchant_public_pem: bytes):
        self.mer_id = mer_id
        self.merchant_key = serialization.load_pem_public_key(merchant_public_pem)
        self.private_pem, self.public_pem = new_key_pair()
        self._key = serialization.load_pem_private_key(self.private_pem, None)
        self.qry_ids: dict[str, str] = {}       # queryId -> orderId
        super().__init__("6201")

    def respond(self, method, path, headers, body):
        req = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        op = self._op(path, req)
        try:
            self.merchant_key.verify(base64.b64decode(req.get("signature", "")), _digest(req), padding.PKCS1v15(),
                                     hashes.SHA256())
            ok = req.get("merId") == self.mer_id
        except Exception:
            ok = False
        out = getattr(self, f"_{op}")(req) if ok and op != "unknown" else {"respCode": "11", "respMsg": "验证签名失败"}
        out = {"version": req.get("version", "5.1.0"), "encoding": "UTF-8", "signMethod": "01",
               "merId": req.get("merId", ""), "orderId": req.get("orderId", ""), "txnType": req.get("txnType", ""),
               "txnSubType": req.get("txnSubType", ""), **out}
        out["signature"] = base64.b64encode(self._key.sign(_digest(out), padding.PKCS1v15(), hashes.SHA256())).decode()
        return op, 200, "application/x-www-form-urlencoded;charset=UTF-8", urllib.parse.urlencode(out).encode()

    @staticmethod
    def _op(path, req) -> str:
        if path.endswith("/queryTrans.do"):
            return "query"
        return {("01", "07"): "precreate", ("01", "06"): "micropay", ("31", "00"): "close",
                ("04", "00"): "refund"}.get((req.get("txnType"), req.get("txnSubType")), "unknown")

    def _qry(self, order_no: str, paid_id: str = "") -> str:
        """The queryId of an order: the ledger's transaction id once paid, else one made up."""
        q = paid_id or hashlib.sha256(order_no.encode()).hexdigest()[:21].upper()
        self.qry_ids[q] = order_no
        return q

    def _precreate(self, req):
        o = self.book.precreate(req["orderId"], int(req["txnAmt"]), "", "https://qr.95516.com/00010000/")
        return {"respCode": "00", "respMsg": "成功[0000000]", "qrCode": o.qr_text}

    def _micropay(self, req):
        code = req.get("qrNo", "")
        if not (len(code) == 19 and code.startswith("62") and code.isdigit()):
            return {"respCode": "01", "respMsg": "付款码无效"}
        o = self.book.micropay(req["orderId"], int(req["txnAmt"]), "", code)
        if o.state == "failed":
            return {"respCode": "51", "respMsg": "余额不足"}
        return {"respCode": "00", "respMsg": "成功[0000000]", "queryId": self._qry(o.order_no, o.transaction_id)}

    def _query(self, req):
        o = self.book.query(req.get("orderId", ""))
        if o is None:
            return {"respCode": "34", "respMsg": "查无此交易"}
        out = {"respCode": "00", "origRespCode": _ORIG[o.state], "txnAmt": str(o.amount_fen)}
        if o.state == "paid":
            out["queryId"] = self._qry(o.order_no, o.transaction_id)
        return out

    def _close(self, req):
        self.book.close(req.get("origOrderId", ""))
        return {"respCode": "00"}

    def _refund(self, req):
        orig = self.qry_ids.get(req.get("origQryId", ""), "")
        _o, verdict = self.book.refund(orig, req.get("orderId", ""), int(req.get("txnAmt") or 0))
        if verdict != "ok":
            return {"respCode": "12", "respMsg": f"退货失败 ({verdict})"}
        return {"respCode": "00", "queryId": self._qry(req["orderId"])}
