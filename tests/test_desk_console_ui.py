"""The dispatcher's console by keyboard and by touch, in three languages: a call typed in with Tab
from field to field and Enter to receive it, the search by Enter, Up and Down through the queue;
the queue's SLA timers (time left, or the overdue mark in red) and the finance queue with its
amounts; every text fits its box and is in its own script (hanzidentifier's sets, not ours)."""

from __future__ import annotations

import time

import pytest
from hanzidentifier import helpers
from kivy.core.window import Window

from pos.config import load_config
from pos.desk.service import DeskService
from pos.ids import utcnow_iso
from pos.store import Store

from .kivy_harness import assert_no_tofu, start_app, stop_app
from .test_kiosk_overflow import overflowing

pytestmark = pytest.mark.x11

WRONG = {"zh-Hans": helpers.TRADITIONAL_CHARACTERS - helpers.SIMPLIFIED_CHARACTERS,
         "zh-Hant": helpers.SIMPLIFIED_CHARACTERS - helpers.TRADITIONAL_CHARACTERS}
RED = (0.75, 0.05, 0.05, 1)


@pytest.fixture
def console(tmp_path):
    from kiosk.launch import demo_config_path

    store_path = tmp_path / "c.sqlite"
    store = Store(store_path)
    desk = DeskService(store)
    late = desk.receive("hotline", unit="2-0303", description="阳台水管漏水", by="d1", at=utcnow_iso(time.time() - 30 * 3600))
    desk.classify(late, "repair.plumbing", by="d1")              # 24 h to fix: six hours overdue
    fresh = desk.receive("hotline", unit="5-0802", description="楼道灯不亮", by="d1")
    desk.classify(fresh, "repair.electric", by="d1")
    fee = desk.receive("service_desk", unit="1-0101", description="车位管理费多收了一个月", by="d1", fee_related=True,
                       amount_fen=12000)
    store.close()
    ui = start_app("desk", config=load_config(demo_config_path()), store_path=str(store_path), language="zh-Hans")
    ui.settle()
    try:
        yield ui, {"late": late, "fresh": fresh, "fee": fee}
    finally:
        stop_app(ui)


def key(code: int, char: str = "") -> None:
    Window.dispatch("on_key_down", code, 0, char or None, [])
    Window.dispatch("on_key_up", code, 0)


def typed(ui, text: str) -> None:
    for ch in text:
        Window.dispatch("on_textinput", ch)
    ui.frames(1)


def test_keyboard_intake_sla_marks_and_the_finance_queue(console, artifacts):
    ui, nos = console
    s = ui.screen()
    desk = ui.app.site_services.desk
    late, fresh = s.rows[nos["late"]], s.rows[nos["fresh"]]
    assert "超时" in late.text and tuple(late.color) == RED             # the overdue mark
    assert "剩余" in fresh.text and tuple(fresh.color) != RED           # a countdown
    assert list(s.rows)[0] == nos["late"]                               # most urgent first
    (f,) = s.ids.finance.children
    assert nos["fee"] in f.text and "¥120.00" in f.text                 # the finance hand-off, in yuan

    ui.tap(s.ids.unit)                                                  # the keyboard from here on
    assert s.ids.unit.focus
    typed(ui, "3-0601")
    key(9, "\t")                                                        # Tab: the next field
    ui.frames(2)
    assert s.ids.description.focus and s.ids.unit.text == "3-0601"
    typed(ui, "卫生间插座没电")
    key(13, "\r")                                                       # Enter receives the call
    ui.frames(3)
    new = [o for o in desk.queue() if o["unit"] == "3-0601"]
    assert len(new) == 1 and new[0]["description"] == "卫生间插座没电" and new[0]["channel"] == "hotline"
    assert new[0]["order_no"] in s.message and s.ids.description.text == ""
    assert s.ids.unit.focus                                             # ready for the next call
    key(9, "\t")
    key(9, "\t")
    ui.frames(2)
    assert s.ids.search.focus
    typed(ui, "2-0303")
    key(13, "\r")                                                       # Enter searches
    ui.frames(3)
    assert list(s.rows) == [nos["late"]]
    s.ids.search.text = ""
    ui.tap(s.ids.search_button)
    assert len(s.rows) == 4
    s.ids.search.focus = False
    order = list(s.rows)
    ui.tap(s.rows[order[0]])
    key(274)                                                            # Down: the next order in the queue
    assert s.selected == order[1] and order[1] in s.selected_text
    key(274)
    key(273)                                                            # Up: back one
    assert s.selected == order[1]
    s.ids.search.focus = True
    ui.frames(2)
    key(274)                                                            # in a field the arrows are the field's
    assert s.selected == order[1]
    s.ids.search.focus = False

    for lang, button in (("zh-Hant", s.ids.lang_hant), ("en", s.ids.lang_en), ("zh-Hans", s.ids.lang_hans)):
        ui.tap(button)
        ui.frames(3)
        late = s.rows[nos["late"]]
        assert {"zh-Hans": "超时", "zh-Hant": "超時", "en": "Overdue"}[lang] in late.text and tuple(late.color) == RED
        assert_no_tofu(ui.app.root)
        assert not overflowing(ui), (lang, overflowing(ui))
        if lang in WRONG:
            texts = [s.message, s.ids.title.text, s.ids.to_qc.text, s.ids.receive.text] + [
                b.text.replace(b.order["description"], "") for b in s.rows.values()]
            assert not {ch for t in texts for ch in t if ch in WRONG[lang]}, (lang, texts)
        ui.screenshot(artifacts / "desk-console-ui", lang)
