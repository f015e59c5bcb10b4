"""``onestop desk``, the dispatcher's console, driven by touches on real Kivy rendering in three
languages: a hotline call is received, the suggested category confirmed, the order dispatched to
the next in the team and its slip printed on the virtual printer over a real socket; the queue's
SLA timer, the search, the finance queue and the refusals a dispatcher meets."""

from __future__ import annotations

import pytest

from drivers.sim.printer import VirtualPrinter
from pos.config import load_config

from .kivy_harness import assert_no_tofu, start_app, stop_app

pytestmark = pytest.mark.x11


@pytest.fixture
def desk_ui(tmp_path, artifacts):
    from kiosk.launch import demo_config_path

    with VirtualPrinter(out_dir=artifacts / "desk-console-printed") as vp:
        config = load_config(demo_config_path())
        config.values["devices"] = {"receipt_printer": f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80"}
        ui = start_app("desk", config=config, store_path=str(tmp_path / "desk.sqlite"), language="zh-Hans")
        ui.settle()
        try:
            yield ui, vp
        finally:
            stop_app(ui)


TITLES = {"zh-Hans": "客户服务调度中心", "zh-Hant": "客戶服務調度中心", "en": "Service desk"}


def test_a_hotline_call_from_intake_to_the_printed_slip_by_touches(desk_ui, artifacts):
    ui, vp = desk_ui
    s = ui.screen()
    assert s.name == "desk_console"
    ui.tap(s.ids.receive)                                     # nothing typed: refused with a message
    assert s.message and "需求" in s.message
    s.ids.unit.text = "3-1201"
    s.ids.description.text = "厨房水管漏水，楼下滴水"
    ui.tap(s.ids.receive)
    desk = ui.app.site_services.desk
    (o,) = desk.queue()
    no = o["order_no"]
    assert o["channel"] == "hotline" and no in s.message
    assert "水管漏水" in s.suggestion_text                   # the suggestion, not yet applied
    assert desk.order(no)["state"] == "received"
    ui.tap(s.ids.dispatch)                                    # not before a confirmed category
    assert "确认类别" in s.message
    ui.tap(s.ids.confirm)
    assert desk.order(no)["category"] == "repair.plumbing"
    row = s.rows[no]
    assert "剩余" in row.text and "已分类" in row.text        # the SLA timer runs
    ui.tap(s.ids.slip)
    assert "派工" in s.message and not vp.docs
    ui.tap(s.ids.dispatch)
    assert desk.order(no)["assignee"] == "li" and "li" in s.message
    ui.tap(s.ids.slip)
    doc = vp.wait_docs(1)[0]
    assert doc.qr_codes == [f"onestop:desk:{no}"] and "派工单" in doc.text
    assert "示范社区" in doc.text and ui.app.site_name == "示范社区 Demo Community"   # [desk] site_name
    ui.screenshot(artifacts / "desk-console", "zh-Hans")

    s.ids.ch_walkin.state, s.ids.ch_hotline.state = "down", "normal"
    s.ids.unit.text = "1-0101"
    s.ids.description.text = "物业费账单有误"
    ui.tap(s.ids.fee)
    ui.tap(s.ids.receive)
    assert len(s.ids.finance.children) == 1                   # fee-related: a finance hand-off at once
    assert "金额待定" in s.ids.finance.children[0].text
    ui.tap(s.ids.confirm)
    assert desk.order(desk.finance_queue()[0]["order_no"])["category"] == "complaint.fee"
    s.ids.search.text = "1-0101"
    ui.tap(s.ids.search_button)
    assert list(s.rows) == [desk.queue(search="1-0101")[0]["order_no"]]
    assert desk.order(list(s.rows)[0])["channel"] == "service_desk"

    for lang, button in (("zh-Hant", s.ids.lang_hant), ("en", s.ids.lang_en), ("zh-Hans", s.ids.lang_hans)):
        ui.tap(button)
        ui.frames(3)
        assert ui.app.lang == lang
        assert TITLES[lang] in s.ids.title.text
        assert {"zh-Hans": "类别已确认", "zh-Hant": "類別已確認", "en": "Category confirmed"}[lang] in s.message
        assert_no_tofu(ui.app.root)
        ui.screenshot(artifacts / "desk-console", lang)
    ui.tap(s.ids.lang_en)
    s.ids.search.text = ""
    ui.tap(s.ids.search_button)
    assert all(("Due in" in b.text or "Overdue" in b.text) for b in s.rows.values())
    assert "Plumbing" in "".join(b.text for b in s.rows.values())
