"""``onestop ward``: 人證合一 (H-A4) by touches and wristband scans, in three languages: the ID
card's facts beside the scanned wristband, a wrong wristband and a refusal without a reason
refused, a refusal recorded with the nurse and the time that stops charges and the discharge
order, the confirmation that resolves it, and a second confirmation refused clearly."""

from __future__ import annotations

import pytest

from pos.hospital import demo
from pos.hospital.errors import HospitalError, IdentityRefused
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.policy import load_policy
from pos.hospital.service import HospitalService
from pos.store import Store

from .counter_support import LANGS, scan
from .kivy_harness import assert_no_tofu, start_app, stop_app
from .test_ward_board import arrived, login

pytestmark = pytest.mark.x11

TITLES = {"zh-Hans": "人证合一", "zh-Hant": "人證合一", "en": "Person matches ID"}


@pytest.fixture
def ward_ui(tmp_path):
    store = Store(tmp_path / "ward.sqlite")
    policy = load_policy()
    gateway = SimGateway(policy, "tertiary")
    svc = HospitalService(store, policy, gateway, level="tertiary", low_balance_fen=50000)
    demo.seed(svc, gateway)
    p0, p2 = arrived(svc, 0), arrived(svc, 2)
    svc.assign_bed(p0, "01")
    svc.assign_bed(p2, "02")
    store.close()
    ui = start_app("ward", store_path=str(tmp_path / "ward.sqlite"), language="zh-Hans", size=(1280, 800))
    ui.settle()
    try:
        yield ui, p0, p2
    finally:
        stop_app(ui)


def test_the_nurse_refuses_then_confirms_the_person_and_a_second_confirmation_is_refused(ward_ui, artifacts):
    ui, p0, p2 = ward_ui
    login(ui, "nurse", "N07", "1111")
    ui.wait(lambda: ui.app.sm.current == "ward_board", what="the bed board")
    ui.settle()
    b = ui.screen()
    assert b.ids.id_check.disabled                                # nobody picked
    assert "尚未核对人证" in b.cells["01"].text
    ui.tap(b.cells["01"])
    ui.tap(b.ids.id_check)
    ui.wait(lambda: ui.app.sm.current == "ward_identity", what="the identity check")
    ui.settle()
    s = ui.screen()
    assert "张三" in s.id_text and "男" in s.id_text and "1980-05-05" in s.id_text
    assert "**************001X" in s.id_text and "11010119800505001X" not in s.id_text
    ui.tap(s.ids.confirm)
    assert "请先扫描腕带" in s.message
    scan(ui, p2)                                                  # the wrong patient's wristband
    assert "李堃" in s.band_text and p2 in s.band_text and "请勿确认" in s.band_text
    ui.tap(s.ids.confirm)
    hosp = ui.app.site_services.hospital
    assert "请勿确认" in s.message and hosp.identity_check(p0) == {}
    ui.tap(s.ids.refuse)                                          # no reason
    assert "原因" in s.message and hosp.identity_check(p0) == {}
    s.ids.reason.text = "照片与本人不符"
    ui.tap(s.ids.refuse)
    check = hosp.identity_check(p0)
    assert check["outcome"] == "refused" and check["staff"] == "N07" and check["reason"] == "照片与本人不符"
    assert check["at"].endswith("Z") and "N07" in s.message and "照片与本人不符" in s.message
    with pytest.raises(IdentityRefused):                          # later steps wait
        hosp.add_charge(p0, "B001", 1000, unit_price_fen=4500)
    with pytest.raises(IdentityRefused):
        hosp.order_discharge(p0, summary="好转", ebill_no="EB-1")
    kinds = [r[0] for r in ui.app.store.conn.execute("SELECT kind FROM outbox ORDER BY device_seq")]
    assert kinds[-1] == "hospital.identity.refused"

    ui.tap(s.ids.back)
    ui.wait(lambda: ui.app.sm.current == "ward_board", what="the bed board")
    ui.settle()
    assert "人证核对未通过" in b.cells["01"].text
    ui.tap(b.cells["01"])
    ui.tap(b.ids.id_check)
    ui.wait(lambda: ui.app.sm.current == "ward_identity", what="the identity check")
    ui.settle()
    assert "照片与本人不符" in s.message                            # the standing refusal is shown
    scan(ui, p0)                                                  # the right wristband now
    assert "腕带与证件一致" in s.band_text
    ui.tap(s.ids.confirm)
    assert hosp.admission(p0)["state"] == "identity_confirmed"
    assert hosp.identity_check(p0)["outcome"] == "confirmed" and "N07" in s.message
    hosp.add_charge(p0, "B001", 1000, unit_price_fen=4500)        # resolved: charges go on
    ui.tap(s.ids.confirm)                                         # a second confirmation
    assert "无需再次确认" in s.message
    ui.tap(s.ids.refuse)                                          # nor a refusal after it
    assert "无需再次确认" in s.message
    with pytest.raises(HospitalError) as refused:                 # the service refuses it too
        hosp.confirm_identity(p0, "N08")
    assert refused.value.code == "already_confirmed"
    assert [r[0] for r in ui.app.store.conn.execute("SELECT outcome FROM hosp_identity_checks ORDER BY id")] == \
        ["refused", "confirmed"]
    for lang in LANGS:
        ui.app.set_language(lang)
        ui.frames(3)
        assert TITLES[lang] in s.ids.title.text
        assert_no_tofu(ui.app.root)
        ui.screenshot(artifacts / "ward-identity", lang)


LOGIN_TITLES = {"zh-Hans": "护士站：登录", "zh-Hant": "護理站：登入", "en": "Nurse station: log in"}


def test_the_ward_login_locks_after_five_wrong_pins_and_a_doctor_cannot_confirm(ward_ui, artifacts):
    ui, p0, _p2 = ward_ui
    s = ui.screen()
    for lang in LANGS:
        ui.app.set_language(lang)
        ui.frames(3)
        assert LOGIN_TITLES[lang] in s.ids.title.text
        assert_no_tofu(ui.app.root)
        ui.screenshot(artifacts / "ward-login", lang)
    ui.app.set_language("zh-Hans")
    login(ui, "doctor", "D01", "1111")                            # the nurses' PIN is not the doctor's
    assert s.message == "密码错误。"
    for _ in range(4):
        login(ui, "doctor", "D01", "0000")
    assert "一分钟" in s.message
    login(ui, "doctor", "D01", "3333")                            # right PIN, but locked out
    assert ui.app.sm.current == "ward_login" and "一分钟" in s.message
    s.locked_until = 0                                            # the minute has passed
    login(ui, "doctor", "D01", "3333")
    ui.wait(lambda: ui.app.sm.current == "ward_board", what="the bed board")
    ui.settle()
    b = ui.screen()
    assert "医生 D01" in b.ids.who.text
    ui.tap(b.cells["01"])
    ui.tap(b.ids.id_check)
    ui.wait(lambda: ui.app.sm.current == "ward_identity", what="the identity check")
    ui.settle()
    scan(ui, p0)
    ui.tap(ui.screen().ids.confirm)
    assert "只有护士" in ui.screen().message and ui.app.site_services.hospital.identity_check(p0) == {}
