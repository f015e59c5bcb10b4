"""``onestop desk-staff``, the technicians' front end on a phone-sized screen, driven by touches in
three languages: my orders, start, defer with a reason, resume, and complete with a note and a
photo taken with the camera (a file camera: a real image read through the platform's camera
driver); the refusals a technician meets."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pos.config import load_config
from pos.desk.service import DeskService
from pos.store import Store

from .kivy_harness import assert_no_tofu, start_app, stop_app
from .test_kiosk_overflow import overflowing

pytestmark = pytest.mark.x11

def screen_overflows(ui) -> list[str]:
    """:func:`overflowing` on the technician's screen alone: on a phone the platform's device bar
    (kiosk/screens/shell.py, not the desk's) squeezes its role names (reported to the platform)."""
    root = ui.app.root
    try:
        ui.app.root = ui.screen()
        return overflowing(ui)
    finally:
        ui.app.root = root


TITLES = {"zh-Hans": "我的工单", "zh-Hant": "我的工單", "en": "My orders"}


@pytest.fixture
def tech_ui(tmp_path):
    from kiosk.launch import demo_config_path

    photo = tmp_path / "scene.png"
    Image.new("RGB", (320, 240), (120, 160, 200)).save(photo)
    store_path = tmp_path / "tech.sqlite"
    store = Store(store_path)
    desk = DeskService(store)
    nos = []
    for unit, text in (("3-1201", "厨房水管漏水"), ("3-1202", "卫生间漏水")):
        no = desk.receive("hotline", unit=unit, description=text, by="d1")
        desk.classify(no, "repair.plumbing", by="d1")
        desk.dispatch(no, by="d1", assignee="li")
        nos.append(no)
    back = desk.receive("hotline", unit="3-1203", description="马桶漏水", by="d1")     # failed QC: back to li
    desk.classify(back, "repair.plumbing", by="d1")
    desk.dispatch(back, by="d1", assignee="li")
    desk.start(back, by="li")
    desk.complete(back, by="li", note="已修", photos=["x.jpg"])
    desk.qc(back, "主管", False, ["not_fixed", "底座仍渗水"])
    nos.append(back)
    other = desk.receive("hotline", unit="1-0101", description="水龙头坏", by="d1")
    desk.classify(other, "repair.plumbing", by="d1")
    desk.dispatch(other, by="d1", assignee="wang")
    store.close()
    config = load_config(demo_config_path())
    config.values["devices"] = {"camera": f"camera+file://{photo}"}
    ui = start_app("desk-staff", config=config, store_path=str(store_path), language="zh-Hans", size=(480, 800))
    ui.settle()
    try:
        yield ui, nos, other
    finally:
        stop_app(ui)


def test_a_technician_starts_defers_and_completes_with_a_photo_by_touches(tech_ui, artifacts):
    ui, (a, b, back), other = tech_ui
    s = ui.screen()
    assert s.name == "desk_tech"
    s.ids.me.text = "li"
    ui.tap(s.ids.show)
    assert set(s.rows) == {a, b, back}                        # wang's order is not li's
    ui.tap(s.rows[back])
    assert "质检不合格：未修好、底座仍渗水" in s.detail         # what QC found, for the technician
    ui.tap(s.rows[a])
    ui.tap(s.ids.start)
    desk = ui.app.site_services.desk
    assert desk.order(a)["state"] == "in_progress"
    ui.tap(s.ids.complete)                                    # no note, no photo
    assert "照片" in s.message and desk.order(a)["state"] == "in_progress"
    ui.tap(s.ids.defer)                                       # no reason
    assert "原因" in s.message
    s.ids.text.text = "等配件"
    ui.tap(s.ids.defer)
    assert desk.order(a)["state"] == "deferred"
    ui.tap(s.rows[a])
    ui.tap(s.ids.resume)
    ui.tap(s.rows[a])
    ui.tap(s.ids.photo)
    ui.wait(lambda: "第 1 张" in s.message, what="the photo")      # the camera is read in a worker
    s.ids.text.text = "更换阀门"
    ui.tap(s.ids.complete)
    o = desk.order(a)
    assert o["state"] == "completed" and o["photos"] == [f"{a}-1.jpg"]
    saved = Path(ui.app.store_path).parent / "desk-photos" / f"{a}-1.jpg"
    assert Image.open(saved).size == (320, 240)
    assert [h["event"] for h in desk.history(a)] == ["received", "classified", "dispatched", "started", "deferred",
                                                     "resumed", "completed"]
    assert a not in s.rows                                    # completed: off the technician's list
    for lang in ("zh-Hant", "en", "zh-Hans"):
        ui.app.set_language(lang)
        ui.frames(3)
        assert TITLES[lang] in s.ids.title.text
        assert_no_tofu(ui.app.root)
        assert not screen_overflows(ui), (lang, screen_overflows(ui))
        ui.screenshot(artifacts / "desk-tech", lang)
