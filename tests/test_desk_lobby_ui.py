"""The lobby kiosk's new steps, driven by touches on real Kivy rendering in three languages: the
household identified by phone and code (a wrong code refused), by its QR card on a keyboard-wedge
scanner, and by its resident card's UID read over the real PC/SC stack (pcscd + vpcd, the card
answering the PC/SC part 3 GET DATA); a request sent with a camera photo (a file camera read
through the platform's camera driver) and its slip printed; the status looked up; a completed
order rated by the household (satisfied closes it, a dissatisfied complaint needs the resident's
words and reopens it; another household's order cannot be rated); the answers to common
enquiries. Every text fits its box and is in its own script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hanzidentifier import helpers
from PIL import Image

from drivers.sim.printer import VirtualPrinter
from pos.config import load_config
from pos.desk.service import DeskService, load_faq
from pos.store import Store
from tests.pcsc_stack import READER, VPCD_PORT, CardProcess, running_stack, use_private_socket

use_private_socket()       # before any PC/SC call in this process

from .conftest import ROOT  # noqa: E402
from .counter_support import scan  # noqa: E402
from .kivy_harness import assert_no_tofu, start_app, stop_app  # noqa: E402
from .test_kiosk_overflow import overflowing  # noqa: E402

pytestmark = pytest.mark.x11

WRONG = {"zh-Hans": helpers.TRADITIONAL_CHARACTERS - helpers.SIMPLIFIED_CHARACTERS,
         "zh-Hant": helpers.SIMPLIFIED_CHARACTERS - helpers.TRADITIONAL_CHARACTERS}
DATA = ("吴秀兰", "示范社区", "厨房水管漏水")      # names and the residents' own words: one text for all


def _walk(desk, unit, text, category, upto):
    no = desk.receive("hotline", unit=unit, description=text, by="d1")
    desk.classify(no, category, by="d1")
    desk.dispatch(no, by="d1")
    w = desk.order(no)["assignee"]
    desk.start(no, by=w)
    if upto == "in_progress":
        return no
    desk.complete(no, by=w, note="已处理", photos=[f"{no}.jpg"])
    desk.qc(no, "主管", True)
    if upto == "follow_up":
        desk.open_follow_up(no, "desk")
    return no


@pytest.fixture
def lobby(tmp_path, artifacts):
    from kiosk.launch import demo_config_path

    photo = tmp_path / "leak.png"
    Image.new("RGB", (320, 240), (90, 140, 200)).save(photo)
    store_path = tmp_path / "lobby.sqlite"
    store = Store(store_path)
    desk = DeskService(store)
    nos = {"done": _walk(desk, "3-1201", "阳台水龙头关不上", "repair.plumbing", "qc_passed"),
           "complaint": _walk(desk, "3-1201", "楼道垃圾没人清理", "complaint.hygiene", "follow_up"),
           "working": _walk(desk, "3-1201", "卫生间插座没电", "repair.electric", "in_progress"),
           "neighbour": _walk(desk, "2-0303", "门口路灯不亮", "repair.electric", "follow_up")}
    store.close()
    with VirtualPrinter(out_dir=artifacts / "desk-lobby-ui-printed") as vp:
        config = load_config(demo_config_path())
        config.values["devices"] = {"receipt_printer": f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80",
                                    "camera": f"camera+file://{photo}"}
        ui = start_app("desk-kiosk", config=config, store_path=str(store_path), language="zh-Hans")
        ui.settle()
        try:
            yield ui, vp, nos
        finally:
            stop_app(ui)


def _check_screen(ui, lang, texts):
    assert_no_tofu(ui.app.root)
    assert not overflowing(ui), (lang, overflowing(ui))
    if lang in WRONG:
        joined = "".join(texts)
        for d in DATA:
            joined = joined.replace(d, "")
        assert not {ch for ch in joined if ch in WRONG[lang]}, (lang, texts)


def test_a_household_identifies_sends_a_photo_rates_and_reads_answers(lobby, artifacts):
    ui, vp, nos = lobby
    s = ui.screen()
    desk = ui.app.site_services.desk
    assert "手机号" in s.who                                  # how to identify, said on the screen
    s.ids.phone.text, s.ids.code.text = "13800001201", "0000"
    ui.tap(s.ids.identify_button)                            # a wrong code: refused, nothing told
    assert not s.identified and "没有找到" in s.message and s.ids.code.text == ""
    s.ids.phone.text, s.ids.code.text = "138 0000 1201", "5302"
    ui.tap(s.ids.identify_button)
    assert s.identified and "3-1201" in s.who and "吴秀兰" in s.who
    assert s.ids.unit.text == "3-1201" and s.ids.unit.disabled

    ui.tap(s.ids.photo)                                      # the camera, read in a worker
    ui.wait(lambda: "第 1 张" in s.message, what="the photo")
    s.ids.description.text = "厨房水管漏水"
    ui.tap(s.ids.submit)
    new = [o for o in desk.queue() if o["description"] == "厨房水管漏水"][0]
    assert (new["channel"], new["unit"], new["party"], new["party_role"]) == ("lobby_kiosk", "3-1201", "吴秀兰", "owner")
    (shot,) = desk.order(new["order_no"])["photos"]
    assert Image.open(Path(ui.app.store_path).parent / "desk-photos" / shot).size == (320, 240)
    doc = vp.wait_docs(1)[0]
    assert doc.qr_codes == [f"onestop:desk:{new['order_no']}"] and new["order_no"] in s.message

    s.ids.lookup.text = nos["working"]
    ui.tap(s.ids.lookup_button)
    assert "处理中" in s.message and not s.rating_open       # not done yet: status only
    s.ids.lookup.text = nos["neighbour"]
    ui.tap(s.ids.lookup_button)
    assert not s.rating_open                                 # another household's order
    scan(ui, f"onestop:desk:{nos['done']}")                  # the slip's QR on the scanner
    assert s.rating_open and "评价" in s.message
    ui.tap(s.ids.rate_satisfied)
    o = desk.order(nos["done"])
    assert o["state"] == "closed" and "谢谢" in s.message and not s.rating_open
    fu = [h for h in desk.history(nos["done"]) if h["event"] == "followed_up"][0]
    assert fu["by"] == "resident 3-1201" and fu["data"]["method"] is None and fu["data"]["rating"] == "satisfied"

    s.ids.lookup.text = nos["complaint"]
    ui.tap(s.ids.lookup_button)
    ui.tap(s.ids.rate_dissatisfied)                          # a complaint: the resident's words are kept
    assert "不满意" in s.message and desk.order(nos["complaint"])["state"] == "follow_up"
    s.ids.rate_comment.text = "还是没人打扫"
    ui.tap(s.ids.rate_dissatisfied)
    o = desk.order(nos["complaint"])
    assert o["state"] == "dispatched" and o["reopen_count"] == 1 and "重新打开" in s.message

    ui.tap(s.ids.sign_out)
    assert not s.identified and s.ids.unit.text == "" and "手机号" in s.who
    s.ids.lookup.text = nos["neighbour"]
    ui.tap(s.ids.lookup_button)
    assert "确认住户身份" in s.message and not s.rating_open
    scan(ui, "onestop:desk:household:3-1201:5302")           # the household's QR card
    assert s.identified and "3-1201" in s.who
    scan(ui, "onestop:desk:household:3-1201:1111")           # a QR card with a wrong code
    assert "没有找到" in s.message

    for lang in ("zh-Hant", "en", "zh-Hans"):
        ui.tap(s.ids[{"zh-Hant": "lang_hant", "en": "lang_en", "zh-Hans": "lang_hans"}[lang]])
        ui.frames(3)
        assert ui.app.lang == lang
        _check_screen(ui, lang, [s.message, s.who, s.ids.title.text, s.ids.submit.text, s.ids.faq.text])
        ui.screenshot(artifacts / "desk-lobby-ui", lang)

    faq = load_faq()
    ui.tap(s.ids.faq)
    ui.settle()
    f = ui.screen()
    assert f.name == "desk_faq" and len(f.buttons) == len(faq) >= 5
    for lang in ("zh-Hans", "zh-Hant", "en"):
        ui.app.set_language(lang)
        ui.frames(3)
        ui.tap(f.buttons[2])
        assert faq[2]["a"][lang] in f.answer and faq[2]["q"][lang] in f.buttons[2].text
        _check_screen(ui, lang, [f.answer, f.ids.title.text, f.ids.ask.text] + [b.text for b in f.buttons])
        ui.screenshot(artifacts / "desk-faq", lang)
    ui.app.set_language("zh-Hans")
    ui.tap(f.ids.ask)                                        # not answered: ask the desk
    ui.settle()
    assert ui.screen().name == "desk_lobby" and s.ids.enquiry.state == "down"


def test_the_camera_failing_says_so_and_the_request_still_goes(lobby):
    ui, vp, _nos = lobby
    s = ui.screen()
    ui.app.site_services.config.values["devices"]["camera"] = "camera+file:///nonexistent/none.png"
    ui.tap(s.ids.photo)
    ui.wait(lambda: "摄像头" in s.message, what="the camera's fault on screen")
    s.ids.unit.text, s.ids.description.text = "6-1502", "门禁坏了"
    ui.tap(s.ids.submit)
    (o,) = [x for x in ui.app.site_services.desk.queue() if x["description"] == "门禁坏了"]
    assert o["unit"] == "6-1502" and o["party"] == "" and vp.wait_docs(1)


stack = pytest.fixture(scope="module", name="stack")(running_stack)


def _insert_uid_card(stack, uid: str) -> CardProcess:
    """Our GET DATA card (tests/desk_uid_card.py) into vpcd's first slot, in pcscd's namespace."""
    proc = subprocess.Popen(["nsenter", "-t", str(stack.pcscd.pid), "-n", "--", sys.executable, "-m",
                             "tests.desk_uid_card", uid, "--port", str(VPCD_PORT)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"inserted", proc.stderr.read()
    card = CardProcess(proc)
    stack.cards.append(card)
    assert stack._wait_state(0, present=True, timeout=5.0)
    return card


@pytest.mark.pcsc
def test_a_resident_card_identifies_the_household(stack, tmp_path, artifacts):
    from kiosk.launch import demo_config_path

    config = load_config(demo_config_path())
    config.values["devices"] = {"card_reader": f"pcsc://{READER}"}
    ui = start_app("desk-kiosk", config=config, store_path=str(tmp_path / "card.sqlite"), language="en")
    try:
        ui.settle()
        s = ui.screen()
        assert not s.identified
        card = _insert_uid_card(stack, "04A1B2C3D40303")          # 2-0303's resident card
        ui.wait(lambda: s.identified, timeout=20, what="the card to identify the household")
        assert "2-0303" in s.who and "孙立平" in s.who and s.ids.unit.text == "2-0303"
        ui.screenshot(artifacts / "desk-lobby-ui", "card-en")
        ui.tap(s.ids.sign_out)
        card.remove()
        stack.cards.remove(card)
        stack.wait_empty()
        _insert_uid_card(stack, "04FFFFFFFF0000")                 # a card the desk does not know
        ui.wait(lambda: "No household matches" in s.message, timeout=20, what="the unknown card refused")
        assert not s.identified
    finally:
        stop_app(ui)
        stack.remove_all()


def test_a_household_pays_a_fee_by_card_on_the_terminal(tmp_path, artifacts):
    """The ZVT terminal simulator over a real socket, through the platform's payment journal."""
    from kiosk.launch import demo_config_path

    from .zvt_sim_helpers import charges, sim_terminal

    store_path = tmp_path / "pay.sqlite"
    store = Store(store_path)
    desk = DeskService(store)
    no = _walk(desk, "3-1201", "预约家庭深度保洁", "paid.cleaning", "qc_passed")
    desk.request_payment(no, by="finance", amount_fen=15000)
    store.close()
    with VirtualPrinter(out_dir=artifacts / "desk-pay-printed") as vp, \
            sim_terminal(tmp_path / "zvt", "tcp") as (sim, url):
        config = load_config(demo_config_path())
        config.values["devices"] = {"receipt_printer": f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80",
                                    "payment_terminal": url}
        ui = start_app("desk-kiosk", config=config, store_path=str(store_path), language="zh-Hans")
        try:
            ui.settle()
            lobby = ui.screen()
            ui.tap(lobby.ids.pay)                              # not identified: said so, nothing offered
            ui.settle()
            p = ui.screen()
            assert p.name == "desk_pay" and not p.rows and "确认住户身份" in p.who
            ui.tap(p.ids.back)
            ui.settle()
            lobby.ids.phone.text, lobby.ids.code.text = "13800001201", "5302"
            ui.tap(lobby.ids.identify_button)
            ui.tap(lobby.ids.pay)
            ui.settle()
            assert list(p.rows) == [no] and "¥150.00" in p.rows[no].text
            sim.script.push("decline")
            ui.tap(p.rows[no])
            ui.wait(lambda: not p.busy, timeout=60, what="the declined payment")
            assert "被拒" in p.message and ui.app.site_services.desk.order(no)["state"] == "awaiting_payment"
            ui.tap(p.rows[no])
            ui.wait(lambda: not p.busy, timeout=60, what="the approved payment")
            assert "付款成功" in p.message
            desk = ui.app.site_services.desk
            assert desk.order(no)["state"] == "follow_up" and desk.amount_due(no) is None
            assert [e["amount_fen"] for e in charges(sim)] == [15000]       # charged once
            doc = vp.wait_docs(1)[0]
            assert doc.qr_codes == [f"onestop:desk:{no}"] and "150.00" in doc.text
            assert not p.rows and "没有待缴" not in p.message              # the result stays on screen
            for lang in ("zh-Hant", "en", "zh-Hans"):
                ui.app.set_language(lang)
                ui.frames(3)
                _check_screen(ui, lang, [p.message, p.who, p.ids.title.text])
                ui.screenshot(artifacts / "desk-pay", lang)
        finally:
            stop_app(ui)


def test_the_answers_and_the_households_files():
    """The FAQ catalogue answers in the three languages, each in its own script; the households file
    keeps no code, only each one's SHA-256 (a code never matches another unit's digest)."""
    import tomllib

    from pos.desk.service import DeskError, HOUSEHOLDS_PATH, code_digest, identify_household, load_households

    faq = load_faq()
    assert len(faq) >= 5
    for f in faq:
        for part in ("q", "a"):
            assert set(f[part]) == {"zh-Hans", "zh-Hant", "en"} and all(v.strip() for v in f[part].values())
            for lang in WRONG:
                assert not {ch for ch in f[part][lang] if ch in WRONG[lang]}, (lang, f[part][lang])
    raw = tomllib.loads(HOUSEHOLDS_PATH.read_text(encoding="utf-8"))["household"]
    assert raw and all(set(h) <= {"unit", "party", "role", "phone", "code_sha256", "card_uid"} for h in raw)
    homes = load_households()
    assert all(len(h.code_sha256) == 64 for h in homes.values())
    assert homes["3-1201"].code_sha256 == code_digest("3-1201", "5302")
    assert identify_household(homes, phone="13800001201", code=" 5302 ").unit == "3-1201"
    for wrong in ({"phone": "13800001201", "code": "4468"},           # another household's code
                  {"phone": "", "code": "5302"}, {"qr": "onestop:desk:household:3-1201:"},
                  {"qr": "onestop:desk:3-1201"}, {"card_uid": "00"}):
        with pytest.raises(DeskError) as e:
            identify_household(homes, **wrong)
        assert e.value.code == "unknown_household"
