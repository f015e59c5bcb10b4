"""HTTP adapters of the QR-payment providers for :class:`pos.payments.qr.QrPaymentService`:
:mod:`.wechat` (WeChat Pay API v2), :mod:`.alipay` (Alipay open API, RSA2), :mod:`.unionpay`.
:func:`gateways_from_config` builds the configured ones (``[qrpay]`` in the config)."""

from __future__ import annotations

__all__ = ["gateways_from_config"]


def gateways_from_config(config) -> dict:
    """provider -> gateway for every provider whose URL is set in ``[qrpay]``."""
    out = {}
    get = config.get
    if get("qrpay", "wechat_url"):
        from .wechat import WechatPay

        out["wechat"] = WechatPay(get("qrpay", "wechat_url"), appid=get("qrpay", "wechat_appid"),
                                  mch_id=get("qrpay", "wechat_mch_id"), key=_secret(get("qrpay", "wechat_key_file")))
    if get("qrpay", "alipay_url"):
        from .alipay import Alipay

        out["alipay"] = Alipay(get("qrpay", "alipay_url"), app_id=get("qrpay", "alipay_app_id"),
                               private_key_pem=_secret(get("qrpay", "alipay_private_key_file")).encode(),
                               alipay_public_key_pem=_secret(get("qrpay", "alipay_public_key_file")).encode())
    if get("qrpay", "unionpay_url"):
        from .unionpay import UnionPay

        out["unionpay"] = UnionPay(get("qrpay", "unionpay_url"), mer_id=get("qrpay", "unionpay_mer_id"),
                                   cert_id=get("qrpay", "unionpay_cert_id"),
                                   private_key_pem=_secret(get("qrpay", "unionpay_private_key_file")).encode(),
                                   unionpay_public_key_pem=_secret(get("qrpay", "unionpay_public_key_file")).encode())
    return out


def _secret(path: str) -> str:
    if not path:
        return ""
    with open(path, encoding="utf-8") as f:
        return f.read().strip()
