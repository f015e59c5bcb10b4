"""``onestop ward``: the station's green-channel items (H-A6) by touches: every open item of the
ward's patients, the overdue first, the unidentified patient under its temporary name in each
language, and a chase recorded with how and what was answered (a chase without a pick or an
answer refused). Three languages."""

from __future__ import annotations

import json

import pytest

from pos.hospital import demo
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.policy import load_policy
from pos.hospital.service import HospitalService
from pos.store import Store

from ._hospital import Clock
from .counter_support import LANGS, tap
from .kivy_harness import assert_no_tofu, start_app, stop_app
from .test_ward_board import arrived, login

pytestmark = pytest.mark.x11

TITLES = {"zh-Hans": "病区绿色通道", "zh-Hant": "病房綠色通道", "en": "Green channel at the ward"}
TEMP = {"zh-Hans": "无名氏", "zh-Hant": "無名氏", "en": "Unknown "}


@pytest.fixture
def station(tmp_path):
    import time

    store = Store(tmp_path / "ward.sqlite", device_id="WG")
    policy = load_policy()
    gateway = SimGateway(policy, "tertiary")
    week_ago = Clock(time.time() - 7 * 86400)
    svc = HospitalService(store, policy, gateway, level="tertiary", clock=week_ago)
    demo.seed(svc, gateway)
    no = arrived(svc, 0)                                    # cardiology
    svc.assign_bed(no, "01")
    svc.open_item(no, "insurance_card", "C01")              # due four days ago: overdue now
    svc.clock = time.time
    temp = svc.admit_unidentified(ward_code="CARD", sex="F", est_age=70, staff="C01")
    store.close()
    ui = start_app("ward", store_path=str(tmp_path / "ward.sqlite"), language="zh-Hans", size=(1280, 800))
    ui.settle()
    try:
        yield ui, no, temp
    finally:
        stop_app(ui)


def test_the_station_sees_its_green_items_and_records_a_chase(station, artifacts):
    ui, no, temp = station
    login(ui, "nurse", "N07", "1111")
    ui.wait(lambda: ui.app.sm.current == "ward_board", what="the bed board")
    ui.settle()
    tap(ui, ui.screen().ids.green)
    ui.wait(lambda: ui.app.sm.current == "ward_green", what="the green-channel items")
    ui.settle()
    s = ui.screen()
    keys = list(s.rows)
    assert keys[0] == (no, "insurance_card")                 # the overdue first
    assert {k for k in keys[1:]} == {(temp["inpatient_no"], k) for k in ("deposit", "id_document", "insurance_card")}
    assert "已逾期" in s.rows[keys[0]].text and "尚未催办" in s.rows[keys[0]].text
    assert "无名氏" + temp["temp_no"] in s.rows[keys[1]].text
    tap(ui, s.ids.record)
    assert "请先选择事项" in s.message
    tap(ui, s.rows[keys[0]])
    assert no in s.picked_text and "医保卡" in s.picked_text
    tap(ui, s.ids.method_sms)
    tap(ui, s.ids.record)                                     # no answer
    assert "答复" in s.message
    s.ids.answer.text = "家属回复明天送卡"
    tap(ui, s.ids.record)
    assert "已记录" in s.message and "家属回复明天送卡" in s.message
    assert "已催办 1 次" in s.rows[(no, "insurance_card")].text
    [(payload,)] = ui.app.store.conn.execute(
        "SELECT payload FROM outbox WHERE kind = 'hospital.green_item.chased'").fetchall()
    p = json.loads(payload)
    assert (p["inpatient_no"], p["kind"], p["staff"], p["method"], p["answer"]) == (
        no, "insurance_card", "N07", "sms", "家属回复明天送卡")
    for lang in LANGS:
        ui.app.set_language(lang)
        ui.frames(3)
        assert TITLES[lang] in s.ids.title.text
        assert TEMP[lang] + temp["temp_no"] in s.rows[(temp["inpatient_no"], "deposit")].text
        assert_no_tofu(ui.app.root)
        ui.screenshot(artifacts / "ward-green", lang)
