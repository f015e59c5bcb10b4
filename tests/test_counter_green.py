"""The counter's green channel (H-A6) by touches: an emergency patient admitted without an ID
(无名氏 + number), an item of every kind opened with a due date and closed, a chase recorded, the
temporary identity merged with the ID card, the refused merge of a stay whose patient has an ID,
the supervisor's override (a wrong PIN refused); the discharge refused while an item is open,
then let through by that override; and the bedside discharges the ward opened,
joined from the counter, the ward tablet learning it only through the real sync server. Three
languages."""

from __future__ import annotations

import json

import pytest

from kiosk.counter.base import desk
from pos.hospital import demo
from pos.hospital.errors import HospitalError
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.policy import load_policy
from pos.hospital.service import HospitalService
from sync.client import SyncClient

from .counter_support import counter_bench, prepare_discharge, press, scan, shots, tap, texts, type_into  # noqa: F401
from .sync_support import ThreadServer, new_kiosk
from .test_ward_bedside_sync import sync

pytestmark = pytest.mark.x11


def row_button(s, key, label: str):
    return next(b for b in s.row_of[key].children if getattr(b, "text", "") and label in b.text)


def outbox(ui, kind):
    return [json.loads(r[0]) for r in ui.app.store.conn.execute(
        "SELECT payload FROM outbox WHERE kind = ? ORDER BY device_seq", (kind,))]


def test_the_counter_admits_without_an_id_works_every_item_and_merges_the_identity(counter_bench, artifacts):
    ui = counter_bench.start()
    press(ui, "绿色通道")
    ui.wait(lambda: ui.app.sm.current == "counter_green" and ui.screen().items is not None, what="the green channel")
    s = ui.screen()
    ui.wait(lambda: not s.busy, what="the list loaded")
    ui.settle()
    tap(ui, s.ids.admit)
    ui.wait(lambda: "请输入估计年龄" in texts(s), what="the refusal of no age")      # no age: refused
    tap(ui, s.ids.sex)
    tap(ui, s.ids.sex)
    assert s.sex == "F"
    type_into(ui, s.ids.age, "60")
    tap(ui, s.ids.admit)
    ui.wait(lambda: not s.busy and "已收治为" in texts(s), what="the admission without ID")
    no = s.picked["inpatient_no"]
    assert "无名氏" in texts(s) and no in texts(s)
    ui.wait(lambda: (no, "id_document") in s.row_of, what="the new stay's items")
    assert {k for k in s.row_of if k[0] == no} == {(no, k) for k in ("deposit", "id_document", "insurance_card")}
    [temp] = outbox(ui, "hospital.patient.temp_admitted")
    assert (temp["sex"], temp["est_age"]) == ("F", 60)

    tap(ui, s.ids.open_item)                                        # the insurance card item exists
    ui.wait(lambda: not s.busy and s.error, what="the refusal")
    assert "已登记该绿色通道事项" in texts(s)
    tap(ui, s.ids.kind)
    assert s.kind == "outpatient_record"
    type_into(ui, s.ids.due, "2026-13-01")
    tap(ui, s.ids.open_item)
    ui.wait(lambda: not s.busy and s.error and "2026-03-05" in texts(s), what="the bad date refused")
    type_into(ui, s.ids.due, "2030-01-31")
    tap(ui, s.ids.open_item)
    ui.wait(lambda: (no, "outpatient_record") in s.row_of, what="the opened item")
    assert "2030-01-31" in texts(s)

    tap(ui, row_button(s, (no, "insurance_card"), "选择"))
    tap(ui, s.ids.chase)                                            # no answer
    ui.wait(lambda: not s.busy and s.error, what="the refused chase")
    assert "请记录催办人和对方的答复" in texts(s)
    tap(ui, s.ids.method)
    type_into(ui, s.ids.answer, "家属说下午送医保卡")
    tap(ui, s.ids.chase)
    ui.wait(lambda: not s.busy and "已记录" in texts(s), what="the chase")
    ui.wait(lambda: "家属说下午送医保卡" in texts(s), what="the chase in the list")
    [c] = outbox(ui, "hospital.green_item.chased")
    assert (c["inpatient_no"], c["kind"], c["method"], c["staff"]) == (no, "insurance_card", "in_person", "cashier")

    tap(ui, row_button(s, (no, "outpatient_record"), "已交"))
    ui.wait(lambda: not s.busy and (no, "outpatient_record") not in s.row_of, what="the item closed")

    tap(ui, row_button(s, (no, "deposit"), "选择"))
    type_into(ui, s.ids.id_name, "王喆")
    type_into(ui, s.ids.id_number, "440305199001010026")
    tap(ui, s.ids.merge)
    ui.wait(lambda: not s.busy and "合并已记录" in texts(s), what="the merge")
    ui.wait(lambda: (no, "id_document") not in s.row_of, what="the ID item closed by the merge")
    assert "王喆" in texts(s) and "无名氏" not in texts(s)
    [m] = outbox(ui, "hospital.patient.merged")
    assert m["staff"] == "cashier" and m["inpatient_nos"] == [no]

    tap(ui, row_button(s, (no, "deposit"), "选择"))
    type_into(ui, s.ids.id_name, "张三")
    type_into(ui, s.ids.id_number, "11010119800505001X")
    tap(ui, s.ids.merge)                                            # the stay's patient has an ID now
    ui.wait(lambda: not s.busy and s.error, what="the refused merge")
    assert "两位病人都已登记身份证件" in texts(s)
    assert len(outbox(ui, "hospital.patient.merged")) == 1

    type_into(ui, s.ids.supervisor, "1111")
    type_into(ui, s.ids.reason, "病人转院，证件随后补交")
    tap(ui, s.ids.override)
    ui.wait(lambda: not s.busy and "主管密码错误" in texts(s), what="the wrong PIN")
    type_into(ui, s.ids.supervisor, "5678")
    tap(ui, s.ids.override)
    ui.wait(lambda: not s.busy and "已记录放行" in texts(s), what="the override")
    [o] = outbox(ui, "hospital.green.overridden")
    assert (o["inpatient_no"], o["supervisor"], o["reason"]) == (no, "supervisor", "病人转院，证件随后补交")
    assert set(o["items"]) == {"deposit", "insurance_card"}
    shots(ui, artifacts, "counter-green-items")
    for lang, title in (("zh-Hant", "綠色通道"), ("en", "Green channel")):
        ui.app.set_language(lang)
        ui.frames(3)
        assert title in texts(s)


def test_the_counter_joins_a_bedside_discharge_the_ward_opened(counter_bench, tmp_path, artifacts):
    from tests._hospital import admitted
    from tests.test_hospital_discharge import charge_resident

    server = ThreadServer(f"sqlite:///{tmp_path / 'server.sqlite'}")
    try:
        counter = new_kiosk(tmp_path, "KC", server.url)
        counter_bench.store_path = str(counter.path)
        counter.close()
        ward_store = new_kiosk(tmp_path, "WB", server.url)
        policy = load_policy()
        gateway = SimGateway(policy, "tertiary")
        ward = HospitalService(ward_store, policy, gateway, level="tertiary")
        demo.seed(ward, gateway)
        no = admitted(ward, 1, deposit=100000)
        charge_resident(ward, no)
        ward.order_discharge(no, summary="好转出院", ebill_no="EB-B2", doctor="D01")
        ward.lock_charges(no, "N07")
        ward.schedule_discharge(no, ward.today())
        ward.flag_immobile(no, "N07", reason="截瘫")
        sid = ward.open_bedside(no, "N07")["session_id"]
        sync(ward)

        ui = counter_bench.start(seed=False)
        SyncClient(ui.app.store).sync_once()                        # the counter pulls the ward's session
        press(ui, "绿色通道")
        ui.wait(lambda: ui.app.sm.current == "counter_green" and ui.screen().items is not None, what="green")
        ui.settle()
        tap(ui, ui.screen().ids.bedside)
        ui.wait(lambda: ui.app.sm.current == "counter_bedside" and ui.screen().sessions, what="the bedside list")
        ui.settle()
        s = ui.screen()
        assert no in texts(s) and "等待收费员" in texts(s) and "N07" in texts(s)
        tap(ui, row_button(s, sid, "加入"))
        ui.wait(lambda: not s.busy and "已加入" in texts(s), what="the join")
        ui.wait(lambda: "收费员 cashier 已加入" in texts(s), what="the joined row")
        [j] = outbox(ui, "hospital.bedside.joined")
        assert (j["session_id"], j["cashier"]) == (sid, "cashier")
        with pytest.raises(HospitalError) as exc:
            ward.settle_bedside(no)                                 # not pulled yet
        assert exc.value.code == "bedside_not_joined"
        SyncClient(ui.app.store).sync_once()
        sync(ward)
        st = ward.settle_bedside(no)
        assert (st["bedside"], st["session_id"], st["cashier"]) == (1, sid, "cashier")
        sync(ward)
        SyncClient(ui.app.store).sync_once()
        s.load()
        ui.wait(lambda: not s.busy and st["settlement_no"] in texts(s), what="the settled session")
        shots(ui, artifacts, "counter-bedside")
        ward_store.close()
    finally:
        server.stop()


def test_the_discharge_waits_for_the_open_items_until_a_supervisor_overrides(counter_bench, artifacts):
    from .test_counter_discharge import open_discharge

    ui = counter_bench.start()
    d = desk()
    no = prepare_discharge(d, 1)                                    # 王喆, ¥5,000 deposit: a refund
    d.hospital.open_item(no, "insurance_card", "C01")
    d.site.cash.open_shift(d.cashier, 800000)
    dis = open_discharge(ui, no)
    for r in d.receipts(no):
        scan(ui, r["receipt_no"])
    ui.wait(lambda: all(r["scanned"] for r in dis.receipts), what="receipts scanned")
    ui.tap(dis.ids.settle)
    ui.wait(lambda: dis.stage == "settled", timeout=15, what="settlement")
    ui.tap(dis.ids.refund)
    ui.wait(lambda: dis.stage == "balanced", timeout=15, what="refund")
    ui.tap(dis.ids.finish)
    ui.wait(lambda: not dis.busy and dis.error, timeout=15, what="the refusal")
    assert "绿色通道仍有未办结事项" in texts(dis)
    assert d.hospital.admission(no)["state"] != "discharged"

    ui.app.go("counter_green")
    ui.settle()
    s = ui.screen()
    ui.wait(lambda: not s.busy and (no, "insurance_card") in s.row_of, what="the open item")
    ui.settle()
    tap(ui, row_button(s, (no, "insurance_card"), "选择"))
    tap(ui, s.ids.override)                                         # no PIN, no reason
    ui.wait(lambda: not s.busy and s.error, what="the refused override")
    type_into(ui, s.ids.supervisor, "5678")
    tap(ui, s.ids.override)
    ui.wait(lambda: not s.busy, what="the override without a reason")
    assert s.error and "已记录放行" not in texts(s)
    assert "hospital.green.overridden" not in [r[0] for r in ui.app.store.conn.execute("SELECT kind FROM outbox")]
    type_into(ui, s.ids.supervisor, "5678")
    type_into(ui, s.ids.reason, "病人出院后三日内补交医保卡")
    tap(ui, s.ids.override)
    ui.wait(lambda: not s.busy and "已记录放行" in texts(s), what="the override")

    ui.app.go("counter_patient", inpatient_no=no)
    ui.settle()
    pat = ui.screen()
    ui.wait(lambda: pat.info, what="patient")
    press(ui, "出院结算", root=pat)
    ui.settle()
    dis = ui.screen()
    ui.wait(lambda: dis.stage == "balanced", what="balanced")
    ui.tap(dis.ids.finish)
    ui.wait(lambda: dis.stage == "done", timeout=15, what="discharge")
    assert d.hospital.admission(no)["state"] == "discharged"
    assert [(r["inpatient_no"], r["kind"]) for r in d.hospital.green_board()] == [(no, "insurance_card")]
