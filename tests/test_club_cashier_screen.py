"""The cashier's screen driven by touches, against the real boundaries: the shared Mosquitto and a
real club box (the butler's "coming to pay" call), the ZVT simulator on TCP, the member card on
pcscd + vpcd, the scanner on a pty, WeChat and the e-invoice provider simulated on real HTTP
servers, the receipt on a virtual ESC/POS printer."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from tests.pcsc_stack import READER, running_stack, use_private_socket

use_private_socket()       # before any PC/SC call in this process

from tests.club_support import SHARED, require_shared_broker, site_name, wait_for  # noqa: E402
from tests.conftest import ROOT  # noqa: E402
from tests.test_club_cashier import MENU, TOTAL, WX_DOC_SAMPLE  # noqa: E402
from tests.test_club_einvoice import Served  # noqa: E402
from tests.zvt_sim_helpers import charges, sim_terminal  # noqa: E402

pytestmark = pytest.mark.pcsc
CARD = ROOT / "assets" / "cards" / "club_member_wang.toml"
UID = "E3B0C442"

stack = pytest.fixture(scope="module", name="stack")(running_stack)


def _iso_in(minutes: float) -> str:
    ts = datetime.now(timezone.utc).timestamp() + minutes * 60
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


@pytest.fixture
def desk(tmp_path, stack):
    """Everything a cashier's desk talks to; yields a namespace."""
    from types import SimpleNamespace

    from drivers.sim.printer import VirtualPrinter
    from drivers.sim.scanner import SerialScannerSim
    from kiosk.club.box import ClubBox
    from kiosk.club.cashier_card import MemberCardReader
    from kiosk.club.cashier_wechat import WeChatSim, WeChatTitles
    from kiosk.club.device import ClubDevice
    from kiosk.club.einvoice_sim import ProviderSim
    from pos.club.bill import add_item
    from pos.club.cashier import Cashier
    from pos.club.store import open_club_store
    from pos.printing import PrintJournal

    require_shared_broker()
    site = site_name()
    store = open_club_store(tmp_path / "box" / "club.sqlite")
    provider = ProviderSim(issue_after=1)
    einvoice = Served(provider.app)
    wx = WeChatSim({"abcd": {"title_type": 0, "title": "上海红逸餐饮管理有限公司", "tax_no": "91310000MA1FL8XX2B"}})
    wx_served = Served(wx.app)
    box = ClubBox(store, site, SHARED, ack_timeout=60, tick=0.1, venue="red.逸香", einvoice_url=einvoice.url,
                  einvoice_interval=0.2).start()
    devices = []

    def device(name, role, staff, rooms=None):
        d = ClubDevice(site, SHARED, f"{site}-{name}", role, staff, rooms, resend=0.5).start()
        devices.append(d)
        wait_for(lambda: staff in box.book.on_shift(role), what=f"{staff}'s shift")
        return d

    def room(n, menu=MENU):
        rid = box.reservations.book_room(n, _iso_in(-5), 4, title="王總", regular=True)
        box.arrive(rid, "security")
        for name, qty, unit, course in menu:
            add_item(store, rid, name, qty, unit, course)
        return rid

    with sim_terminal(tmp_path / "zvt", "tcp") as (zvt, url), VirtualPrinter().start() as printer, \
            SerialScannerSim(b"\r") as scanner:
        cashier = Cashier(store, terminal_url=url, cashier="收银01")
        cashier.cash.open_shift("收银01", 50000)
        cashier.cards.issue(UID, "王总", "246810")
        cashier.cards.top_up(UID, 300000, 60000)
        reader = MemberCardReader(READER)
        titles = WeChatTitles(wx_served.url, token=lambda: "sim-token", timeout=3.0)
        ns = SimpleNamespace(store=store, box=box, device=device, room=room, zvt=zvt, printer=printer,
                             scanner=scanner, cashier=cashier, reader=reader, wechat=titles, wx=wx, provider=provider,
                             printing=PrintJournal(store), printer_url=f"escpos+tcp://127.0.0.1:{printer.port}?profile=cn80",
                             scanner_url=f"scanner+serial://{scanner.port_name}", stack=stack)
        try:
            yield ns
        finally:
            for d in devices:
                d.stop()
            box.stop()
            reader.close()
            titles.close()
            stack.remove_all()
    einvoice.stop()
    wx_served.stop()
    store.close()


def start_cashier(device, cashier, lang="zh-Hans", size=(1280, 800), **devices):
    """The cashier's app on the test window (a tablet on its side); ``devices`` go to CashierApp."""
    from kivy.app import App
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kiosk.club.cashier import CashierApp
    from tests.kivy_harness import UI

    if tuple(Window.size) != tuple(size):
        Window.size = size
        for _ in range(3):
            EventLoop.idle()
    app = CashierApp(device, cashier, language=lang, venue="red.逸香", card_timeout=15, **devices)
    App._running_app = app
    app.root = app.build()
    Window.add_widget(app.root)
    app.dispatch("on_start")
    ui = UI(app)
    ui.frames(3)
    return ui


def stop_cashier(ui) -> None:
    from kivy.app import App
    from kivy.core.window import Window

    ui.app.dispatch("on_stop")
    Window.remove_widget(ui.app.root)
    App._running_app = None
    ui.frames(2)


@pytest.fixture
def screen():
    started = []

    def start(desk, device, lang="zh-Hans"):
        ui = start_cashier(device, desk.cashier, lang, card_reader=desk.reader, scanner_url=desk.scanner_url,
                           wechat=desk.wechat, printing=desk.printing, printer_url=desk.printer_url)
        started.append(ui)
        return ui

    yield start
    for ui in started:
        stop_cashier(ui)


def keys(ui, keypad, text: str) -> None:
    for k in text:
        ui.tap(next(b for b in keypad.children if b.text == k))


def clear(ui, keypad, n: int = 12) -> None:
    back = next(b for b in keypad.children if b.text == "←")
    for _ in range(n):
        ui.tap(back)


def draw(ui, widget, points) -> None:
    from kivy.tests.common import UnitTestTouch

    x0, y0 = widget.to_window(widget.x, widget.y)
    pts = [(x0 + fx * widget.width, y0 + fy * widget.height) for fx, fy in points]
    touch = UnitTestTouch(*pts[0])
    touch.touch_down()
    ui.frames(1)
    for x, y in pts[1:]:
        touch.touch_move(x, y)
        ui.frames(1)
    touch.touch_up()
    ui.frames(2)


def test_from_the_pay_call_to_the_receipt_by_touches(desk, screen, artifacts):
    from tests.kivy_harness import assert_no_tofu

    butler = desk.device("b8", "butler", "小王", rooms=["8"])
    cashier_dev = desk.device("cash", "cashier", "收银01")
    desk.room("8")
    ui = screen(desk, cashier_dev, "zh-Hans")
    calls = ui.app.role_screen
    butler.call("pay", "8")
    ui.wait(lambda: "8号包厢" in calls.calls_text and "买单" in calls.calls_text, what="the pay call on the cashier's screen")
    assert calls.ringing
    ui.wait(lambda: "账单 8,384.00 元" in calls.calls_text, what="the bill with the pay call")
    ui.tap(calls.ids.ack)                                    # take the call: the bill opens
    ui.wait(lambda: ui.app.sm.current == "bill", what="the bill")
    bill = ui.app.bill_screen
    assert "清蒸东星斑" in bill.lines_text and "1,288.00" in bill.lines_text and "8,384.00" in bill.summary
    wait_for(lambda: desk.box.book.calls("kind = 'pay'")[0]["state"] == "acked", what="the pay call acknowledged")
    ui.screenshot(artifacts, "club-cashier-bill")
    assert_no_tofu(ui.app.root)
    # no payment before the guest confirms: the payment panel is disabled
    assert bill.state == "open" and bill.ids.cash.disabled and bill.ids.card.disabled
    ui.tap(bill.ids.sign)
    sign = ui.app.sign_screen
    ui.tap(sign.ids.done)                                    # nothing drawn yet
    assert "请先在框内签名" in sign.message
    draw(ui, sign.ids.pad, [(0.1, 0.4), (0.25, 0.7), (0.4, 0.35), (0.55, 0.75), (0.8, 0.45)])
    ui.screenshot(artifacts, "club-cashier-signature")
    assert_no_tofu(ui.app.root)
    ui.tap(sign.ids.done)
    ui.wait(lambda: ui.app.sm.current == "bill" and bill.state == "confirmed", what="the signed bill")
    no = bill.bill_no
    sig = desk.cashier.signature_path(no)
    assert sig.exists() and sig.read_bytes().startswith(b"\x89PNG") and sig.parent.name == "signatures"
    from PIL import Image
    with Image.open(sig) as img:                              # the strokes are in it
        assert img.convert("L").getextrema()[0] < 80
    # split: member card 3,000.00 — one wrong PIN first — then bank card 2,000.00, then cash
    clear(ui, bill.ids.keypad, len(bill.amount_text))
    keys(ui, bill.ids.keypad, "3000")
    ui.tap(bill.ids.member)
    pin = ui.app.pin_screen
    assert ui.app.sm.current == "pin" and "读卡器" in pin.prompt, (bill.message, bill.amount_text)
    desk.stack.insert(CARD)
    ui.wait(lambda: pin.card_no == UID, timeout=20, what="the member card read through PC/SC")
    assert "3,600.00" in pin.prompt and "C442" in pin.prompt
    keys(ui, pin.ids.keypad, "1111")
    ui.tap(pin.ids.ok)
    ui.wait(lambda: "密码错误" in pin.message, what="the wrong PIN message")
    assert "2" in pin.message and pin.pin == ""
    keys(ui, pin.ids.keypad, "246810")
    ui.tap(pin.ids.ok)
    ui.wait(lambda: ui.app.sm.current == "bill" and "会员卡已付" in bill.message, what="the member payment")
    assert "本金 3,000.00" in bill.message and "余额 600.00" in bill.message
    assert desk.cashier.cards.balance(UID).principal_fen == 0 and desk.cashier.cards.balance(UID).bonus_fen == 60000
    clear(ui, bill.ids.keypad, len(bill.amount_text))
    keys(ui, bill.ids.keypad, "2000")
    ui.tap(bill.ids.card)
    ui.wait(lambda: "银行卡已付" in bill.message, timeout=20, what="the card payment")
    due = TOTAL - 500000
    assert bill.amount_text == ""                            # after a part, the next amount is asked for
    ui.tap(bill.ids.card)                                    # an impatient second tap pays nothing
    ui.wait(lambda: not bill.busy and bill.error, what="the stray tap refused")
    assert [e["amount_fen"] for e in charges(desk.zvt)] == [200000] and desk.cashier.bill(bill.bill_no)["due_fen"] == due
    ui.tap(bill.ids.rest)
    assert bill.amount_text == f"{due // 100}.{due % 100:02d}"
    ui.tap(bill.ids.f_tendered)
    keys(ui, bill.ids.keypad, "4000")
    ui.tap(bill.ids.cash)
    ui.wait(lambda: bill.state == "paid", what="the bill paid")
    assert "找零 616.00" in bill.message
    assert [e["amount_fen"] for e in charges(desk.zvt)] == [200000]
    # the fapiao: the title scanned from WeChat; the member-card part left out
    ui.tap(bill.ids.fapiao)
    fp = ui.app.fapiao_screen
    assert "会员卡支付部分不开发票" in fp.message
    ui.tap(fp.ids.scan)
    time.sleep(0.3)                                          # the worker is reading the pty
    desk.scanner.scan(WX_DOC_SAMPLE)
    ui.wait(lambda: fp.ids.title.text == "上海红逸餐饮管理有限公司", what="the title from WeChat")
    assert fp.ids.tax_no.text == "91310000MA1FL8XX2B" and desk.wx.calls == [WX_DOC_SAMPLE]
    ui.tap(fp.ids.special)                                   # the company wants a 专票 (it has a tax number)
    ui.tap(fp.ids.request)
    ui.wait(lambda: "已申请发票" in fp.message, what="the fapiao request")
    assert "5,384.00" in fp.message and "3,000.00" in fp.message
    ui.tap(fp.ids.back)
    wait_for(lambda: desk.cashier.bill(no)["fapiao"][0]["state"] == "issued", what="the box's e-invoice poller")
    ui.wait(lambda: "已开具" in bill.lines_text, what="the fapiao issued on the bill")
    order = desk.provider.orders[desk.cashier.bill(no)["fapiao"][0]["order_no"]]["order"]
    assert order["invoiceDetail"][0]["taxIncludedAmount"] == "5384.00" and order["invoiceLine"] == "bs"
    assert order["buyerTaxNum"] == "91310000MA1FL8XX2B"
    ui.tap(bill.ids.receipt)
    ui.wait(lambda: "收据已打印" in bill.message, what="the receipt printed")
    doc = desk.printer.wait_docs(1)[0]
    for want in ("red.逸香", no, "会员卡", "3000.00", "银行卡", "1232", "现金", "找零", "616.00", "余额", "600.00",
                 "上海红逸餐饮管理有限公司"):
        assert want in doc.text, want
    assert "6212345678901232" not in doc.text and doc.qr_codes == [no]
    ui.screenshot(artifacts, "club-cashier-paid")
    assert_no_tofu(ui.app.root)
    # the day's close, printed
    ui.tap(bill.ids.back)
    ui.tap(ui.find("日结", calls.ids.sends))
    close = ui.app.close_screen
    ui.wait(lambda: "8,384.00" in close.totals_text, what="the day's totals")
    ui.tap(close.ids.close)
    ui.wait(lambda: "日结完成" in close.message, what="the close printed")
    texts = desk.printer.wait_docs(2)[1].text
    assert "日结" in texts and "8384.00" in texts and "5384.00" in texts
    ui.screenshot(artifacts, "club-cashier-close")
    assert_no_tofu(ui.app.root)


def test_printed_bill_member_only_fapiao_refused_and_three_wrong_pins_lock_on_screen(desk, screen, artifacts):
    cashier_dev = desk.device("cash2", "cashier", "收银01")
    desk.room("5", MENU[:1])                                  # 672.00
    ui = screen(desk, cashier_dev, "en")
    ui.app.open_bill("5")
    ui.wait(lambda: ui.app.sm.current == "bill", what="the bill")
    bill = ui.app.bill_screen
    ui.tap(bill.ids.printed)                                  # signed on the printed bill
    ui.wait(lambda: bill.state == "confirmed", what="the bill confirmed on paper")
    first = desk.printer.wait_docs(1)[0].text
    assert "Bill" in first and "672.00" in first and "signature" in first
    assert desk.cashier.bill(bill.bill_no)["confirm"] == "printed"
    ui.tap(bill.ids.member)
    pin = ui.app.pin_screen
    desk.stack.insert(CARD)
    ui.wait(lambda: pin.card_no == UID, timeout=20, what="the member card")
    for n in range(3):
        keys(ui, pin.ids.keypad, "0000")
        ui.tap(pin.ids.ok)
        want = "locked after 3 wrong PINs" if n == 2 else f"{2 - n} attempts left"
        ui.wait(lambda want=want: want in pin.message, what=want)
    ui.screenshot(artifacts, "club-cashier-card-locked")
    from tests.kivy_harness import assert_no_tofu
    assert_no_tofu(ui.app.root)
    keys(ui, pin.ids.keypad, "246810")                        # the right PIN: still locked
    ui.tap(pin.ids.ok)
    ui.wait(lambda: not pin.busy, what="the refusal")
    assert "locked" in pin.message and desk.cashier.bill(bill.bill_no)["due_fen"] == 67200
    desk.cashier.cards.unlock(UID, "经理")
    ui.tap(pin.ids.back)
    ui.tap(bill.ids.member)
    ui.wait(lambda: pin.card_no == UID, timeout=20, what="the member card again")
    keys(ui, pin.ids.keypad, "246810")
    ui.tap(pin.ids.ok)
    ui.wait(lambda: bill.state == "paid", what="paid by member card")
    ui.tap(bill.ids.fapiao)
    fp = ui.app.fapiao_screen
    fp.ids.title.text = "王先生"                              # typed on the keyboard
    ui.tap(fp.ids.request)
    ui.wait(lambda: fp.error, what="the refusal")
    assert "No fapiao for spending a member card" in fp.message
    assert desk.store.conn.execute("SELECT count(*) FROM club_fapiao_requests").fetchone()[0] == 0
    ui.tap(fp.ids.scan)                                       # a payment code is not a title
    time.sleep(0.3)
    desk.scanner.scan("134567890123456789")
    ui.wait(lambda: "not a WeChat invoice-title QR code" in fp.message, what="the scan refused")
    assert desk.wx.calls == []
    fp.ids.title.text = WX_DOC_SAMPLE                         # a keyboard-wedge scanner types the code
    ui.tap(fp.ids.request)
    ui.wait(lambda: fp.ids.title.text == "上海红逸餐饮管理有限公司", what="the wedge-scanned title looked up")
    assert desk.wx.calls == [WX_DOC_SAMPLE] and fp.ids.tax_no.text == "91310000MA1FL8XX2B"
    ui.screenshot(artifacts, "club-cashier-fapiao-refused")
    assert_no_tofu(ui.app.root)
