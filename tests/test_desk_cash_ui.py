"""Cash for a paid special service at the desk, driven by touches on real Kivy rendering in three
languages: from the console to the cash screen; the amount due shown; the cash given typed on the
digit keypad; too little refused before anything moves; with no shift open the screen asks for the
float and keeps the cash given; the shift opened with its float; the cash taken through
``DeskService.pay_cash`` and the platform's cash drawer (the drawer kicked and the receipt slip
printed on an ESC/POS printer over a real socket); the console's finance queue showing it paid;
the shift closed against the cash the drawer should hold. The drawer's rows and the finance row
are checked to the fen; every text fits its box and is in its own script (hanzidentifier's
character sets, not ours)."""

from __future__ import annotations

import pytest
from hanzidentifier import helpers

from drivers.sim.printer import VirtualPrinter
from pos.config import load_config
from pos.desk.service import DeskService
from pos.store import Store

from .kivy_harness import assert_no_tofu, start_app, stop_app
from .test_kiosk_overflow import overflowing

pytestmark = pytest.mark.x11

TITLES = {"zh-Hans": "前台现金收款", "zh-Hant": "前台現金收款", "en": "Cash at the desk"}
CLOSED = {"zh-Hans": "已交班", "zh-Hant": "已交班", "en": "Shift closed"}
WRONG = {"zh-Hans": helpers.TRADITIONAL_CHARACTERS - helpers.SIMPLIFIED_CHARACTERS,
         "zh-Hant": helpers.SIMPLIFIED_CHARACTERS - helpers.TRADITIONAL_CHARACTERS}


def _awaiting_payment(desk, unit, text, category, fen):
    no = desk.receive("hotline", unit=unit, description=text, by="d1")
    desk.classify(no, category, by="d1")
    desk.dispatch(no, by="d1", assignee="zhou")
    desk.start(no, by="zhou")
    desk.complete(no, by="zhou", note="已处理", photos=[f"{no}-1.jpg"])
    desk.qc(no, "主管王", True)
    desk.request_payment(no, "主管王", fen)
    return no


@pytest.fixture
def cash_ui(tmp_path, artifacts):
    from kiosk.launch import demo_config_path

    store_path = tmp_path / "cash.sqlite"
    store = Store(store_path)
    desk = DeskService(store)
    nos = {"cleaning": _awaiting_payment(desk, "1-0101", "预约家庭深度保洁", "paid.cleaning", 12050),
           "other": _awaiting_payment(desk, "2-0303", "预约家电清洗", "paid.cleaning", 8000)}
    store.close()
    with VirtualPrinter(out_dir=artifacts / "desk-cash-printed") as vp:
        config = load_config(demo_config_path())
        config.values["devices"] = {"receipt_printer": f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80"}
        ui = start_app("desk", config=config, store_path=str(store_path), language="zh-Hans")
        ui.settle()
        try:
            yield ui, vp, nos
        finally:
            stop_app(ui)


def _type(ui, s, digits: str) -> None:
    for k in digits:
        ui.tap(s.ids["kdot" if k == "." else f"k{k}"])


def test_cash_at_the_desk_by_touches(cash_ui, artifacts):
    ui, vp, nos = cash_ui
    console = ui.screen()
    ui.tap(console.ids.to_cash)
    ui.settle()
    s = ui.screen()
    assert s.name == "desk_cash"
    app, conn = ui.app, ui.app.site_services.store.conn
    desk = app.site_services.desk
    assert set(s.rows) == set(nos.values()) and "¥120.50" in s.rows[nos["cleaning"]].text
    assert "尚未开班" in s.shift_text

    no = nos["cleaning"]
    ui.tap(s.rows[no])
    assert "¥120.50" in s.due_text
    s.ids.me.text = "调度张"
    _type(ui, s, "50")
    assert "¥50.00" in s.entry_text and "还差 ¥70.50" in s.change_text
    ui.tap(s.ids.take)                                        # too little: refused, nothing moves
    assert s.message == "收到的现金 ¥50.00 少于应收的 ¥120.50，未收款。"
    assert desk.order(no)["state"] == "awaiting_payment"
    assert conn.execute("SELECT count(*) FROM cash_movements").fetchone()[0] == 0

    ui.tap(s.ids.kback)
    ui.tap(s.ids.kback)
    _type(ui, s, "200")
    assert "找零：¥79.50" in s.change_text
    ui.tap(s.ids.take)                                        # no shift yet: the screen asks for the float
    assert "请先开班" in s.message and "备用金" in s.entry_text
    assert conn.execute("SELECT count(*) FROM cash_shifts").fetchone()[0] == 0
    _type(ui, s, "100")
    ui.tap(s.ids.open_shift)
    assert s.message == "已开班，备用金 ¥100.00。"
    assert "¥100.00" in s.shift_text
    assert "¥200.00" in s.entry_text and "找零：¥79.50" in s.change_text      # the cash given was kept

    ui.tap(s.ids.take)
    ui.wait(lambda: not s.busy and s.message.startswith(no), timeout=30, what="the cash payment")
    assert "已现金付款 ¥120.50" in s.message and "请找零 ¥79.50" in s.message
    receipt = s.last_receipt
    assert receipt.receipt_no in s.message and receipt.drawer_opened      # the drawer was kicked
    assert no not in s.rows and nos["other"] in s.rows

    # the drawer and the finance row, to the fen
    (mv,) = conn.execute("SELECT kind, amount_fen, tendered_fen, change_fen, account, purpose, receipt_no "
                         "FROM cash_movements").fetchall()
    assert mv == ("payment", 12050, 20000, 7950, no, "desk_service", receipt.receipt_no)
    sh = app.site_services.cash.shift("desk")
    assert sh["float_fen"] == 10000 and app.site_services.cash.expected_fen(sh["shift_id"]) == 22050
    assert "¥220.50" in s.shift_text
    (fin,) = [f for f in desk.finance_queue("all") if f["order_no"] == no]
    assert (fin["state"], fin["paid_fen"], fin["pay_method"], fin["payment_ref"], fin["unpaid_fen"]) == \
        ("charged", 12050, "cash", receipt.receipt_no, 0)
    o = desk.order(no)
    assert o["state"] == "follow_up" and desk.amount_due(no) is None
    paid = [h for h in desk.history(no) if h["event"] == "paid"]
    assert len(paid) == 1 and paid[0]["by"] == "调度张"

    kick, doc = vp.wait_docs(2)                               # the printer's decoder, not our encoder
    assert [(op.kind, op.data) for op in kick.ops] == [("drawer", "pin2")]    # ESC p: the drawer kicked
    assert doc.qr_codes == [f"onestop:desk:{no}"]
    assert "120.50" in doc.text and "200.00" in doc.text and "79.50" in doc.text

    ui.tap(s.ids.back)                                        # the finance queue shows it paid
    ui.settle()
    assert ui.screen().name == "desk_console"
    rows = {r.text for r in console.ids.finance.children}
    assert any(no in t and "现金已付 ¥120.50" in t for t in rows), rows
    assert any(nos["other"] in t and "¥80.00" in t and "已付" not in t for t in rows), rows

    ui.tap(console.ids.to_cash)
    ui.settle()
    ui.tap(s.ids.close_shift)                                 # the count: expected shown
    assert "钱箱应有：¥220.50" in s.change_text
    s.ids.me.text = "调度张"
    _type(ui, s, "220.5")
    ui.tap(s.ids.close_shift)
    assert s.message == "已交班：应有 ¥220.50，实点 ¥220.50，差额 ¥0.00。"
    row = conn.execute("SELECT closed_at, expected_fen, counted_fen, difference_fen, counts FROM cash_shifts").fetchone()
    assert row[0] and row[1:4] == (22050, 22050, 0)
    assert row[4] == '{"50": 1, "2000": 1, "10000": 2}'
    assert "尚未开班" in s.shift_text

    for lang, button in (("zh-Hant", s.ids.lang_hant), ("en", s.ids.lang_en), ("zh-Hans", s.ids.lang_hans)):
        ui.tap(button)
        ui.frames(3)
        assert app.lang == lang and TITLES[lang] in s.ids.title.text and CLOSED[lang] in s.message
        assert_no_tofu(app.root)
        assert not overflowing(ui), (lang, overflowing(ui))
        if lang in WRONG:
            texts = [s.message, s.shift_text, s.due_text, s.entry_text, s.ids.title.text, s.ids.take.text,
                     s.ids.open_shift.text, s.ids.close_shift.text]
            assert not {ch for t in texts for ch in t if ch in WRONG[lang]}, (lang, texts)
        ui.screenshot(artifacts / "desk-cash", lang)


def test_the_count_split():
    from kiosk.desk.cash import split_count

    assert split_count(22050) == {10000: 2, 2000: 1, 50: 1}
    assert split_count(1880) == {1000: 1, 500: 1, 100: 3, 50: 1, 10: 3}
    assert split_count(0) == {}
    with pytest.raises(ValueError):
        split_count(22055)


def test_the_printer_down_says_so_and_the_cash_is_kept(tmp_path):
    """A printer that is not there: the cash and the payment are recorded all the same, and the
    screen says the receipt did not print (the print journal keeps the job for a reprint)."""
    from kiosk.launch import demo_config_path

    store_path = tmp_path / "down.sqlite"
    store = Store(store_path)
    no = _awaiting_payment(DeskService(store), "1-0101", "预约家庭深度保洁", "paid.cleaning", 12000)
    store.close()
    config = load_config(demo_config_path())
    config.values["devices"] = {"receipt_printer": "escpos+tcp://127.0.0.1:9?profile=cn80"}    # nobody listens
    ui = start_app("desk", config=config, store_path=str(store_path), language="en")
    try:
        ui.settle()
        ui.tap(ui.screen().ids.to_cash)
        ui.settle()
        s = ui.screen()
        s.ids.me.text = "Zhang"
        ui.tap(s.ids.open_shift)
        assert "opening float" in s.message
        _type(ui, s, "0")
        ui.tap(s.ids.open_shift)
        assert "¥0.00" in s.message
        ui.tap(s.rows[no])
        ui.tap(s.ids.take)                                    # nothing typed: said what to do
        assert s.message == "Type the cash given on the keypad."
        _type(ui, s, "120")
        ui.tap(s.ids.take)
        ui.wait(lambda: not s.busy and s.message.startswith("Paid"), timeout=60, what="the cash payment")
        assert "did not print" in s.message and "kept for a reprint" in s.message and "Give back ¥0.00" in s.message
        desk, cash = ui.app.site_services.desk, ui.app.site_services.cash
        assert desk.order(no)["state"] == "follow_up"
        assert cash.expected_fen(cash.shift("desk")["shift_id"]) == 12000
        assert not s.last_receipt.drawer_opened                # the drawer is opened by key
    finally:
        stop_app(ui)
