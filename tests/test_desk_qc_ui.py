"""The supervisor's QC and follow-up screen of ``onestop desk``, driven by touches on real Kivy
rendering in three languages: reached from the console; a follow-up before QC refused on screen;
a failed QC with its reason and note sends the order back to the worker; a complaint's follow-up
keeps the resident's words and a dissatisfied rating reopens it; a paid special service is
followed up only once paid; a satisfied follow-up closes the order. Every text fits its box and
is in its own script (hanzidentifier's character sets, not ours)."""

from __future__ import annotations

import pytest
from hanzidentifier import helpers

from pos.config import load_config
from pos.desk.service import DeskService
from pos.store import Store

from .kivy_harness import assert_no_tofu, start_app, stop_app
from .test_kiosk_overflow import overflowing
from .zvt_sim_helpers import sim_terminal

pytestmark = pytest.mark.x11

TITLES = {"zh-Hans": "质检与回访", "zh-Hant": "質檢與回訪", "en": "QC and follow-up"}
WRONG = {"zh-Hans": helpers.TRADITIONAL_CHARACTERS - helpers.SIMPLIFIED_CHARACTERS,
         "zh-Hant": helpers.SIMPLIFIED_CHARACTERS - helpers.TRADITIONAL_CHARACTERS}


def _completed(desk, unit, text, category, worker):
    no = desk.receive("hotline", unit=unit, description=text, by="d1")
    desk.classify(no, category, by="d1")
    desk.dispatch(no, by="d1", assignee=worker)
    desk.start(no, by=worker)
    desk.complete(no, by=worker, note="已处理", photos=[f"{no}-1.jpg"])
    return no


@pytest.fixture
def qc_ui(tmp_path):
    from kiosk.launch import demo_config_path

    store_path = tmp_path / "qc.sqlite"
    store = Store(store_path)
    desk = DeskService(store)
    nos = {"repair": _completed(desk, "3-1201", "厨房水管漏水", "repair.plumbing", "li"),
           "complaint": _completed(desk, "2-0303", "楼道垃圾没人清理", "complaint.hygiene", "zhou"),
           "paid": _completed(desk, "1-0101", "预约家庭深度保洁", "paid.cleaning", "zhou"),
           "light": _completed(desk, "5-0802", "楼道灯不亮", "repair.electric", "wang")}
    store.close()
    ui = start_app("desk", config=load_config(demo_config_path()), store_path=str(store_path), language="zh-Hans")
    ui.settle()
    try:
        yield ui, nos
    finally:
        stop_app(ui)


def test_qc_and_follow_up_by_touches(qc_ui, artifacts, tmp_path):
    ui, nos = qc_ui
    console = ui.screen()
    ui.tap(console.ids.to_qc)
    ui.settle()
    s = ui.screen()
    assert s.name == "desk_qc"
    desk = ui.app.site_services.desk
    assert set(s.rows) == set(nos.values())                   # every completed order waits for QC

    a = nos["repair"]
    ui.tap(s.rows[a])
    assert "已处理" in s.detail and "li" in s.detail          # the worker's note, for the supervisor
    ui.tap(s.ids.record)
    assert "评价" in s.message                                # no rating tapped
    ui.tap(s.ids.satisfied)
    ui.tap(s.ids.record)                                      # a follow-up before QC: refused, clearly
    assert s.message == "回访须在质检合格之后。" and desk.order(a)["state"] == "completed"
    s.ids.me.text = "主管王"
    ui.tap(s.ids.qc_fail)                                     # a fail without a reason
    assert "不合格原因" in s.message and desk.order(a)["state"] == "completed"
    ui.tap(s.ids.qc_not_fixed)
    s.ids.qc_note.text = "阀门仍滴水"
    ui.tap(s.ids.qc_fail)
    assert desk.order(a)["state"] == "in_progress"            # back to the worker
    qc = [h for h in desk.history(a) if h["event"] == "qc_failed"][0]
    assert qc["by"] == "主管王" and qc["data"]["reasons"] == ["not_fixed", "阀门仍滴水"]
    assert a not in s.rows and a in s.message

    b = nos["complaint"]                                      # a complaint: its own procedure
    ui.tap(s.rows[b])
    assert "客户投诉处理程序" in s.procedure
    assert s.ids.fu_r0.text and "问题未解决" in s.ids.fu_r0.text
    s.ids.me.text = ""
    ui.tap(s.ids.qc_pass)
    assert "姓名" in s.message and desk.order(b)["state"] == "completed"
    s.ids.me.text = "主管王"
    s.ids.qc_note.text = "现场已清理"
    ui.tap(s.ids.qc_pass)
    assert desk.order(b)["state"] == "qc_passed"
    ui.tap(s.rows[b])
    ui.tap(s.ids.by_visit)
    ui.tap(s.ids.dissatisfied)
    ui.tap(s.ids.fu_r0)
    ui.tap(s.ids.record)                                      # the complaint procedure keeps the resident's words
    assert "原话" in s.message and desk.order(b)["state"] == "qc_passed"
    s.ids.comment.text = "第二天又堆满了"
    ui.tap(s.ids.record)
    o = desk.order(b)
    assert o["state"] == "dispatched" and o["reopen_count"] == 1       # dissatisfied reopens
    fu = [h for h in desk.history(b) if h["event"] == "followed_up"][0]
    assert fu["data"] == {"rating": "dissatisfied", "reasons": ["not_resolved"], "comment": "第二天又堆满了",
                          "method": "visit"}
    assert "重新打开" in s.message

    c = nos["paid"]                                           # a paid special service
    ui.tap(s.rows[c])
    assert "特约服务处理程序" in s.procedure
    ui.tap(s.ids.qc_pass)
    assert "¥120.00" in s.message and "付款" in s.message
    ui.tap(s.rows[c])
    ui.tap(s.ids.satisfied)
    ui.tap(s.ids.record)
    assert "付款后" in s.message and desk.order(c)["state"] == "awaiting_payment"
    assert desk.amount_due(c) == 12000                      # passed QC asked for the category's price
    with sim_terminal(tmp_path / "zvt", "tcp") as (_sim, url):         # paid by card, the platform's journal
        assert desk.pay_by_card(ui.app.site_services.payments, c, terminal_url=url, by="finance"
                                ).public_status == "approved"
    s.refresh()
    ui.tap(s.rows[c])
    ui.tap(s.ids.satisfied)
    ui.tap(s.ids.record)
    assert desk.order(c)["state"] == "closed"

    d = nos["light"]
    ui.tap(s.rows[d])
    ui.tap(s.ids.qc_pass)
    ui.tap(s.rows[d])
    ui.tap(s.ids.acceptable)
    ui.tap(s.ids.record)
    assert desk.order(d)["state"] == "closed" and "已结单" in s.message
    assert [h["event"] for h in desk.history(d)][-3:] == ["qc_passed", "follow_up_opened", "followed_up"]

    for lang, button in (("zh-Hant", s.ids.lang_hant), ("en", s.ids.lang_en), ("zh-Hans", s.ids.lang_hans)):
        ui.tap(button)
        ui.frames(3)
        assert ui.app.lang == lang and TITLES[lang] in s.ids.title.text
        assert {"zh-Hans": "已结单", "zh-Hant": "已結單", "en": "is closed"}[lang] in s.message
        assert_no_tofu(ui.app.root)
        assert not overflowing(ui), (lang, overflowing(ui))
        if lang in WRONG:
            texts = [s.message, s.procedure, s.ids.title.text, s.ids.qc_fail.text, s.ids.record.text]
            assert not {ch for t in texts for ch in t if ch in WRONG[lang]}, (lang, texts)
        ui.screenshot(artifacts / "desk-qc", lang)
    ui.tap(s.ids.back)
    ui.settle()
    assert ui.screen().name == "desk_console"
