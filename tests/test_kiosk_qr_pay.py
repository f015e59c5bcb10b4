"""Deposits paid by QR on the patient kiosk, through the real Kivy UI driven by touches: a QR shown
on the screen (read back from the rendered screenshot by zxing-cpp, as a phone's camera would, and
paid on the simulated WeChat Pay / Alipay), a payment code read by the wedge scanner, and a lost
reply settled by the order query. The provider's ledger is the oracle: charged once."""

from __future__ import annotations

import os

import pytest
import zxingcpp
from PIL import Image

from drivers.sim.qrpay_alipay import AlipaySim, new_key_pair
from drivers.sim.qrpay_unionpay import UnionPaySim
from drivers.sim.qrpay_wechat import WechatPaySim
from kiosk.demo_env import DemoWorld
from kiosk.launch import demo_config_path
from pos.config import load_config

from .kivy_harness import assert_no_tofu, start_app, stop_app
from .test_kiosk_flows import go_to

WECHAT_CODE = "134567890123456789"
ALIPAY_CODE = "284567890123456789"


def _secret(path, data: bytes) -> str:
    path.write_bytes(data)
    os.chmod(path, 0o600)
    return str(path)


@pytest.fixture
def kiosk(tmp_path):
    world = DemoWorld(tmp_path / "world")
    wx = WechatPaySim()
    merchant_private, merchant_public = new_key_pair()
    ali = AlipaySim(merchant_public_pem=merchant_public)
    up = UnionPaySim(merchant_public_pem=merchant_public)
    uis = []

    def start(**kw):
        cfg = world.config(load_config(demo_config_path()))
        cfg.values["qrpay"] = {
            "wechat_url": wx.url, "wechat_appid": wx.appid, "wechat_mch_id": wx.mch_id,
            "wechat_key_file": _secret(tmp_path / "wechat.key", wx.key.encode()),
            "alipay_url": ali.url, "alipay_app_id": ali.app_id,
            "alipay_private_key_file": _secret(tmp_path / "alipay.pem", merchant_private),
            "alipay_public_key_file": _secret(tmp_path / "alipay-public.pem", ali.public_pem),
            "unionpay_url": up.url, "unionpay_mer_id": up.mer_id, "unionpay_cert_id": "69629715588",
            "unionpay_private_key_file": str(tmp_path / "alipay.pem"),
            "unionpay_public_key_file": _secret(tmp_path / "unionpay-public.pem", up.public_pem),
            "poll": 0.2, "wait": 60}
        ui = start_app("demo", config=cfg, store_path=str(tmp_path / "kiosk.sqlite"), demo_world=world, **kw)
        uis.append(ui)
        return ui

    yield start, world, {"wechat": wx, "alipay": ali, "unionpay": up}
    up.stop()
    for ui in uis:
        stop_app(ui)
    wx.stop()
    ali.stop()
    world.stop()


def to_pay_screen(ui, card: str):
    ui.tap(ui.screen().ids.svc_admission)
    ui.tap(getattr(go_to(ui, "identify").ids, card))
    ui.tap(go_to(ui, "checkin_confirm").ids.confirm)
    scr = go_to(ui, "amount")
    amount = scr.amount_fen
    ui.tap(scr.ids.pay)
    scr = go_to(ui, "pay")
    ui.wait(lambda: scr.choosing, timeout=10, what="the payment methods")
    return scr, amount


def sales(sim):
    return [e for e in sim.ledger() if e["kind"] == "sale"]


def deposit(ui):
    no = ui.app.flow.admission["inpatient_no"]
    return ui.app.site_services.hospital.account(no)["deposit_fen"]


def read_qr_from_screen(ui, artifacts, name) -> str:
    shot = ui.screenshot(artifacts, name)
    found = zxingcpp.read_barcodes(Image.open(shot).convert("L"))
    texts = [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(texts) == 1, f"expected one QR code on the screen, found {texts}"
    return texts[0]


@pytest.mark.parametrize("lang,provider", [("zh-Hans", "wechat"), ("zh-Hant", "alipay"), ("en", "unionpay")])
def test_deposit_by_shown_qr(kiosk, artifacts, lang, provider):
    start, world, sims = kiosk
    ui = start(language=lang)
    scr, amount = to_pay_screen(ui, "demo_card_1")
    assert scr.methods == ["card", "wechat", "alipay", "unionpay", "code"]
    assert_no_tofu(ui.app.root)
    ui.screenshot(artifacts, f"qr-1-methods-{lang}")
    ui.tap(getattr(scr.ids, f"method_{provider}"))
    ui.wait(lambda: scr.qr_texture is not None, timeout=20, what="the payment QR")
    ui.frames(3)
    assert scr.ids.status.text == {"zh-Hans": "请用手机扫描二维码付款", "zh-Hant": "請用手機掃描二維碼付款",
                                   "en": "Scan the code with your phone to pay"}[lang]
    text = read_qr_from_screen(ui, artifacts, f"qr-2-shown-{provider}-{lang}")
    assert sales(sims[provider]) == []
    sims[provider].phone_scans(text)                 # the patient's phone pays what the screen shows
    go_to(ui, "finish", timeout=40)
    assert [e["amount_fen"] for e in sales(sims[provider])] == [amount]
    assert deposit(ui) == amount
    assert ui.app.flow.receipt_no in str(world.receipt_printer.wait_docs(1)[0])
    assert world.terminal_sim.ledger.entries() == [] or all(e.get("kind") != "sale"
                                                            for e in world.terminal_sim.ledger.entries())


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
def test_deposit_by_scanned_payment_code(kiosk, artifacts, lang):
    start, world, sims = kiosk
    ui = start(language=lang)
    scr, amount = to_pay_screen(ui, "demo_card_2")
    ui.tap(scr.ids.method_code)
    ui.wait(lambda: scr.waiting_code, timeout=5, what="waiting for the payment code")
    ui.frames(3)
    ui.screenshot(artifacts, f"qr-3-show-code-{lang}")
    from kivy.core.window import Window

    for ch in "ZY20240012":                      # a wristband is no payment code: told, nothing charged
        Window.dispatch("on_textinput", ch)
    Window.dispatch("on_key_down", 13, 0, "\r", [])
    ui.wait(lambda: scr.problem, timeout=5, what="not a payment code")
    assert sales(sims["alipay"]) == [] and scr.waiting_code
    sims["alipay"].script.append({"confirm": 2})   # the payer confirms on the phone
    for ch in ALIPAY_CODE:
        Window.dispatch("on_textinput", ch)
    Window.dispatch("on_key_down", 13, 0, "\r", [])
    go_to(ui, "finish", timeout=40)
    assert [e["amount_fen"] for e in sales(sims["alipay"])] == [amount]
    assert deposit(ui) == amount


def test_lost_reply_recovered_as_paid_charged_once(kiosk, artifacts):
    start, world, sims = kiosk
    ui = start(language="en")
    scr, amount = to_pay_screen(ui, "demo_card_0")
    ui.tap(scr.ids.method_code)
    ui.wait(lambda: scr.waiting_code, timeout=5, what="waiting for the payment code")
    sims["wechat"].script.append({"drop": "micropay"})     # WeChat takes the money; the reply is lost
    from kivy.core.window import Window

    for ch in WECHAT_CODE:
        Window.dispatch("on_textinput", ch)
    Window.dispatch("on_key_down", 13, 0, "\r", [])
    go_to(ui, "finish", timeout=40)
    ui.screenshot(artifacts, "qr-4-recovered-en")
    assert [e["amount_fen"] for e in sales(sims["wechat"])] == [amount]       # no double charge
    assert [op for op, _ in sims["wechat"].requests].count("micropay") == 1
    assert deposit(ui) == amount
    aid = ui.app.flow.payment.attempt_id
    events = [t for (t,) in ui.app.store.conn.execute(
        "SELECT to_state FROM payment_events WHERE attempt_id = ? ORDER BY id", (aid,))]
    assert events == ["intent", "sent", "in_doubt", "approved", "posted"]


def test_cancel_closes_the_shown_qr(kiosk):
    start, world, sims = kiosk
    ui = start(language="zh-Hans")
    scr, _amount = to_pay_screen(ui, "demo_card_1")
    ui.tap(scr.ids.method_wechat)
    ui.wait(lambda: scr.qr_texture is not None, timeout=20, what="the payment QR")
    ui.frames(3)
    ui.tap(scr.ids.cancel_qr)
    ui.wait(lambda: scr.can_retry, timeout=20, what="cancelled")
    assert "付款已取消" in scr.ids.problem.text
    order = next(iter(sims["wechat"].book.orders.values()))
    assert order.state == "closed" and sales(sims["wechat"]) == []
    ui.tap(scr.ids.retry)
    ui.wait(lambda: scr.choosing, timeout=5, what="the methods again")
