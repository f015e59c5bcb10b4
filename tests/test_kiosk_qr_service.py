"""QR payments (WeChat Pay v2, Alipay open API) through pos.payments.qr and the sync.qrpay adapters,
against the provider simulators over real HTTP sockets. The provider's ledger is the oracle: every
test checks that the money moved exactly once, whatever reply was lost."""

from __future__ import annotations

import hashlib
import threading

import pytest

from drivers.sim.qrpay_alipay import AlipaySim, new_key_pair
from drivers.sim.qrpay_unionpay import UnionPaySim
from drivers.sim.qrpay_wechat import WechatPaySim
from pos.payments.qr import InvalidPaymentCode, QrPaymentService, provider_of_code
from sync.qrpay._http import fen, yuan
from sync.qrpay.alipay import Alipay, response_object
from sync.qrpay.unionpay import UnionPay
from sync.qrpay.wechat import WechatPay, sign

WECHAT_CODE = "134567890123456789"      # 18 digits, 10-15 first: a WeChat payment code
ALIPAY_CODE = "284567890123456789"      # 16-24 digits, 25-30 first: an Alipay payment code
UNIONPAY_CODE = "6212345678901234567"   # 19 digits, 62 first: a UnionPay (云闪付) payment code


@pytest.fixture
def providers():
    wx = WechatPaySim()
    merchant_private, merchant_public = new_key_pair()
    ali = AlipaySim(merchant_public_pem=merchant_public)
    up = UnionPaySim(merchant_public_pem=merchant_public)
    gws = {"unionpay": UnionPay(up.url, mer_id=up.mer_id, cert_id="69629715588", private_key_pem=merchant_private,
                                unionpay_public_key_pem=up.public_pem),
           "wechat": WechatPay(wx.url, appid=wx.appid, mch_id=wx.mch_id, key=wx.key),
           "alipay": Alipay(ali.url, app_id=ali.app_id, private_key_pem=merchant_private,
                            alipay_public_key_pem=ali.public_pem)}
    yield {"wechat": wx, "alipay": ali, "unionpay": up}, gws
    up.stop()
    wx.stop()
    ali.stop()


def service(store, gws, posted):
    return QrPaymentService(store, gws, posters={"deposit": lambda tx, row: posted.append(row["attempt_id"])},
                            device=store.device_id, poll=0.02, wait=5)


def sales(sim):
    return [e for e in sim.ledger() if e["kind"] == "sale"]


def states(store, aid):
    return [t for _f, t in store.conn.execute(
        "SELECT from_state, to_state FROM payment_events WHERE attempt_id = ? ORDER BY id", (aid,))]


def test_wechat_signature_matches_the_published_example():
    # the example of the WeChat Pay v2 security rules ("安全规范", 签名算法): these fields and this
    # key give sign 9A0A8659F005D6984697E2CA0A9CF3B7
    fields = {"appid": "wxd930ea5d5a258f4f", "mch_id": "10000100", "device_info": "1000", "body": "test",
              "nonce_str": "ibuaiVcKdpRxkhJA", "sign": "ignored", "empty": ""}
    assert sign(fields, "192006250b4c09247ec02edce69f6a2d") == "9A0A8659F005D6984697E2CA0A9CF3B7"
    # and the same algorithm against the standard library's HMAC-SHA256, computed independently
    text = ("appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA"
            "&key=192006250b4c09247ec02edce69f6a2d")
    import hmac
    assert sign(fields, "192006250b4c09247ec02edce69f6a2d", "HMAC-SHA256") == \
        hmac.new(b"192006250b4c09247ec02edce69f6a2d", text.encode(), hashlib.sha256).hexdigest().upper()


def test_alipay_reply_signature_covers_the_raw_response_object():
    text = '{"alipay_trade_query_response": {"code":"10000","total_amount":"88.88"},"sign":"c2ln"}'
    raw, sig = response_object(text, "alipay_trade_query_response")
    assert raw == '{"code":"10000","total_amount":"88.88"}' and sig == "c2ln"


def test_amounts_are_exact_yuan_strings():
    assert [yuan(f) for f in (1, 10, 100, 8888, 1234567)] == ["0.01", "0.10", "1.00", "88.88", "12345.67"]
    assert all(fen(yuan(f)) == f for f in range(0, 100000, 7))
    with pytest.raises(ValueError):
        fen("1.005")


def test_payment_code_tells_the_provider():
    assert provider_of_code(WECHAT_CODE) == "wechat"
    assert provider_of_code(ALIPAY_CODE) == "alipay"
    assert provider_of_code("6212345678901234567") == "unionpay"
    with pytest.raises(InvalidPaymentCode):
        provider_of_code("ZY-2024-0012")


@pytest.mark.parametrize("provider", ["wechat", "alipay", "unionpay"])
def test_shown_qr_paid_by_the_phone(store, providers, provider):
    sims, gws = providers
    posted = []
    svc = service(store, gws, posted)
    shown = []

    def on_qr(text):
        shown.append(text)
        threading.Timer(0.1, sims[provider].phone_scans, (text,)).start()

    out = svc.pay_shown(50000, provider=provider, account="ZY1", on_qr=on_qr)
    assert out.public_status == "approved" and out.brand == provider
    assert shown[0].startswith({"wechat": "weixin://wxpay/bizpayurl?pr=", "alipay": "https://qr.alipay.com/",
                                "unionpay": "https://qr.95516.com/"}[provider])
    assert [e["amount_fen"] for e in sales(sims[provider])] == [50000]
    assert out.trace_no == sales(sims[provider])[0]["transaction_id"]
    assert posted == [out.attempt_id]
    assert states(store, out.attempt_id) == ["intent", "sent", "waiting_card", "approved", "posted"]
    kinds = [k for (k,) in store.conn.execute("SELECT kind FROM outbox ORDER BY rowid")]
    assert "payment.posted" in kinds


@pytest.mark.parametrize("provider,code", [("wechat", WECHAT_CODE), ("alipay", ALIPAY_CODE),
                                                ("unionpay", UNIONPAY_CODE)])
def test_scanned_code_with_password_confirmation(store, providers, provider, code):
    sims, gws = providers
    posted = []
    svc = service(store, gws, posted)
    sims[provider].script.append({"confirm": 3})      # the payer types the password on the phone
    out = svc.pay_scanned(12345, auth_code=code, account="ZY2")
    assert out.public_status == "approved"
    assert [e["amount_fen"] for e in sales(sims[provider])] == [12345]
    assert states(store, out.attempt_id) == ["intent", "sent", "waiting_card", "approved", "posted"]
    # the payment code is a bearer credential: never stored
    dump = "\n".join(store.conn.iterdump())
    assert code not in dump


@pytest.mark.parametrize("provider,code", [("wechat", WECHAT_CODE), ("alipay", ALIPAY_CODE),
                                                ("unionpay", UNIONPAY_CODE)])
def test_lost_micropay_reply_is_settled_by_the_query_never_resent(store, providers, provider, code):
    sims, gws = providers
    posted = []
    svc = service(store, gws, posted)
    sims[provider].script.append({"drop": "micropay"})
    out = svc.pay_scanned(30000, auth_code=code, account="ZY3")
    assert out.public_status == "approved"
    assert [e["amount_fen"] for e in sales(sims[provider])] == [30000]     # charged once
    assert [op for op, _ in sims[provider].requests].count("micropay") == 1  # never sent again
    assert states(store, out.attempt_id) == ["intent", "sent", "in_doubt", "approved", "posted"]
    assert posted == [out.attempt_id]


@pytest.mark.parametrize("provider", ["wechat", "alipay", "unionpay"])
def test_lost_precreate_reply_closes_the_order(store, providers, provider):
    sims, gws = providers
    svc = service(store, gws, [])
    sims[provider].script.append({"drop": "precreate"})
    out = svc.pay_shown(20000, provider=provider, account="ZY4")
    assert out.public_status == "aborted"
    assert sales(sims[provider]) == []
    no = out.attempt_id.replace("-", "")
    assert sims[provider].book.orders[no].state == "closed"     # no phone can pay it any more


def test_unpaid_qr_is_closed_when_the_patient_cancels(store, providers):
    sims, gws = providers
    svc = service(store, gws, [])
    cancel = threading.Event()
    out = svc.pay_shown(20000, provider="wechat", account="ZY5", on_qr=lambda _t: cancel.set(), cancel=cancel)
    assert out.public_status == "aborted"
    with pytest.raises(ValueError):
        sims["wechat"].phone_scans(next(iter(sims["wechat"].book.orders.values())).qr_text)
    assert sales(sims["wechat"]) == []


def test_crash_after_sent_recovers_on_restart(store, providers):
    """The kiosk died while the QR was on the screen and the phone paid meanwhile: recovery at the
    next start finds the order paid and books it, once."""
    sims, gws = providers
    posted = []
    svc = service(store, gws, posted)

    def die(text):
        sims["wechat"].phone_scans(text)
        raise KeyboardInterrupt      # the process stops here (no outcome recorded)

    with pytest.raises(KeyboardInterrupt):
        svc.pay_shown(40000, provider="wechat", account="ZY6", on_qr=die)
    (aid, state), = store.conn.execute("SELECT attempt_id, state FROM payment_attempts").fetchall()
    assert state == "waiting_card"
    report = service(store, gws, posted).recover()
    assert [r["state"] for r in report] == ["posted"] and posted == [aid]
    assert [e["amount_fen"] for e in sales(sims["wechat"])] == [40000]


@pytest.mark.parametrize("provider,code", [("wechat", WECHAT_CODE), ("alipay", ALIPAY_CODE),
                                                ("unionpay", UNIONPAY_CODE)])
def test_refund_with_lost_reply_refunds_once(store, providers, provider, code):
    sims, gws = providers
    svc = service(store, gws, [])
    sale = svc.pay_scanned(50000, auth_code=code, account="ZY7")
    sims[provider].script.append({"drop": "refund"})
    out = svc.refund(sale.attempt_id, 20000)
    assert out.public_status == "approved"
    refunds = [e for e in sims[provider].ledger() if e["kind"] == "refund"]
    assert [e["amount_fen"] for e in refunds] == [20000]
    assert svc.journal.refundable(sale.attempt_id) == 30000
    with pytest.raises(Exception, match="more than"):
        svc.refund(sale.attempt_id, 30001)


def test_declined_code_and_bad_signature(store, providers):
    sims, gws = providers
    svc = service(store, gws, [])
    sims["wechat"].script.append({"decline": "NOTENOUGH"})
    out = svc.pay_scanned(10000, auth_code=WECHAT_CODE, account="ZY8")
    assert out.public_status == "declined" and sales(sims["wechat"]) == []
    from drivers.payment import NotSent
    bad = WechatPay(sims["wechat"].url, appid=sims["wechat"].appid, mch_id=sims["wechat"].mch_id, key="0" * 32)
    with pytest.raises(NotSent):
        QrPaymentService(store, {"wechat": bad}, device="K2").pay_scanned(10000, auth_code=WECHAT_CODE, account="ZY9")
    assert sales(sims["wechat"]) == []


def test_a_qr_deposit_is_never_refunded_on_the_card_terminal(store, providers):
    """The counter refunds card deposits through the ZVT terminal: a QR deposit is not one of them
    (it goes back through its wallet, QrPaymentService.refund)."""
    from pos.hospital.card_refunds import card_deposits
    from pos.payments import PaymentService

    _sims, gws = providers
    svc = service(store, gws, [])
    sale = svc.pay_scanned(50000, auth_code=WECHAT_CODE, account="ZY10", purpose="deposit")
    assert sale.public_status == "approved"
    assert card_deposits(PaymentService(store), "ZY10") == []
    assert svc.journal.refundable(sale.attempt_id) == 50000
