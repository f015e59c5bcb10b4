"""The green channel (H-A6) in the hospital domain: the unidentified emergency patient under a
temporary identity and its merge with the ID card, the refused merge of two identified patients,
every item's due date, overdue flag and chases, the discharge block with the supervisor's
override, and the reminders that go on after discharge."""

from __future__ import annotations

import json

import pytest

from pos.hospital.errors import BadInput, HospitalError, HospitalNotFound
from pos.hospital.green import temp_name
from pos.hospital.records import Payment
from tests._hospital import admitted, clock, gateway, kinds, person, policy, ready_to_settle, svc  # noqa: F401
from tests.test_hospital_discharge import charge_resident


def outbox(store, kind):
    return [json.loads(r[0]) for r in store.conn.execute("SELECT payload FROM outbox WHERE kind = ? ORDER BY device_seq",
                                                         (kind,))]


def test_an_unidentified_patient_is_admitted_then_merged_with_the_id_card(svc, store):
    a = svc.admit_unidentified(ward_code="SURG", sex="M", est_age=45, staff="C01", suggested_deposit_fen=300000)
    no, temp_no = a["inpatient_no"], a["temp_no"]
    assert temp_no == "KTEST-0001" and a["name"] == "无名氏KTEST-0001" and a["state"] == "green_channel"
    assert temp_name(temp_no, "zh-Hant") == "無名氏KTEST-0001" and temp_name(temp_no, "en") == "Unknown KTEST-0001"
    assert svc.temp_patient(no) == {"temp_no": temp_no, "est_age": 45, "sex": "M"}
    items = svc.green_items(no)
    assert [(i["kind"], i["state"], i["due_on"], i["overdue"]) for i in items] == [
        (k, "open", "2026-03-04", False) for k in ("deposit", "id_document", "insurance_card")]
    assert svc.owed_fen(no) == 300000
    svc.print_wristband(no)                           # admitted first, the papers later
    svc.assign_bed(no, "01")
    svc.confirm_identity(no, "N07")
    temp_uid = outbox(store, "hospital.patient.temp_admitted")[0]["patient_uid"]

    m = svc.merge_identity(no, person(1), staff="C02")
    assert m["name"] == "王喆" and m["inpatient_nos"] == [no] and m["staff"] == "C02"
    assert svc.temp_patient(no) is None and svc.id_facts(no)["id_masked"].endswith("0026")
    assert svc.admission(no)["scheme"] == "resident"
    assert {i["kind"]: (i["state"], i["closed_by"]) for i in svc.green_items(no)}["id_document"] == ("done", "C02")
    merged = outbox(store, "hospital.patient.merged")
    assert len(merged) == 1 and merged[0]["from_uid"] == temp_uid and merged[0]["to_uid"] == m["to_uid"]
    assert merged[0]["staff"] == "C02" and merged[0]["at"]
    rec = store.conn.execute("SELECT from_uid, to_uid, staff FROM hosp_patient_merges").fetchall()
    assert rec == [(temp_uid, m["to_uid"], "C02")]
    with pytest.raises(BadInput) as exc:               # the same card again
        svc.merge_identity(no, person(1), staff="C02")
    assert exc.value.code == "already_confirmed"


def test_a_merge_of_two_identified_patients_is_refused(svc, store):
    a1, a0 = admitted(svc, 1), admitted(svc, 0, bed="02")
    uid = {no: store.conn.execute("SELECT p.uid FROM hosp_patients p JOIN hosp_admissions a ON a.patient_id = p.id "
                                  "WHERE a.inpatient_no = ?", (no,)).fetchone()[0] for no in (a1, a0)}
    with pytest.raises(HospitalError) as exc:
        svc.merge_patients(uid[a1], uid[a0], staff="C02")
    assert exc.value.code == "merge_both_identified" and "Two identified patients" in exc.value.user_message
    with pytest.raises(HospitalError) as exc:          # a card naming another person on an identified stay
        svc.merge_identity(a1, person(0), staff="C02")
    assert exc.value.code == "merge_both_identified"
    assert svc.id_facts(a1)["name"] == "王喆" and svc.id_facts(a0)["name"] == "张三"   # nothing moved
    assert store.conn.execute("SELECT count(*) FROM hosp_patient_merges").fetchone()[0] == 0
    assert "hospital.patient.merged" not in kinds(store)
    with pytest.raises(HospitalNotFound):
        svc.merge_patients(uid[a1], "no-such-uid", staff="C02")


def test_every_item_has_a_due_date_an_overdue_flag_and_its_chases(svc, store, clock):
    no = admitted(svc, 1)
    assert svc.open_item(no, "insurance_card", "C01", due_on="2026-03-02")["due_on"] == "2026-03-02"
    svc.open_item(no, "outpatient_record", "C01")                 # default: three days
    for kind, due, code in (("insurance_card", None, "green_item_exists"), ("passport", None, "bad_input"),
                            ("id_document", "3月2日", "bad_date")):
        with pytest.raises(BadInput) as exc:
            svc.open_item(no, kind, "C01", due_on=due)
        assert exc.value.code == code
    assert not any(i["overdue"] for i in svc.green_items(no))
    clock.advance_days(2)                                         # 2026-03-03 in Shanghai
    board = svc.green_board("SURG")
    assert [(r["kind"], r["overdue"]) for r in board] == [("insurance_card", True), ("outpatient_record", False)]
    assert svc.green_board("CARD") == []
    c = svc.record_chase(no, "insurance_card", staff="C01", method="phone", answer="家属明天送来")
    assert c["method"] == "phone" and c["at"]
    svc.record_chase(no, "insurance_card", staff="N07", method="in_person", answer="病人说卡在家里")
    for method, answer, code in (("fax", "x", "bad_input"), ("sms", " ", "chase_incomplete")):
        with pytest.raises(BadInput) as exc:
            svc.record_chase(no, "insurance_card", staff="C01", method=method, answer=answer)
        assert exc.value.code == code
    item = svc.green_items(no)[0]
    assert [(h["staff"], h["method"], h["answer"]) for h in item["chases"]] == [
        ("C01", "phone", "家属明天送来"), ("N07", "in_person", "病人说卡在家里")]
    assert svc.green_board()[0]["chases"] == 2 and svc.green_board()[0]["last_answer"] == "病人说卡在家里"
    chased = outbox(store, "hospital.green_item.chased")
    assert [(p["staff"], p["method"]) for p in chased] == [("C01", "phone"), ("N07", "in_person")]
    svc.close_item(no, "insurance_card", "C03")
    done = svc.green_items(no)[0]
    assert (done["state"], done["closed_by"], done["overdue"]) == ("done", "C03", False)
    with pytest.raises(HospitalNotFound):
        svc.record_chase(no, "insurance_card", staff="C01", method="sms", answer="已送")
    assert kinds(store).count("hospital.green_item.opened") == 2


def test_discharge_waits_for_the_items_unless_a_supervisor_overrides_and_reminders_go_on(svc, store):
    no = admitted(svc, 1, deposit=None)                          # green channel: deposit owed 5,000.00
    svc.open_item(no, "insurance_card", "C01")
    charge_resident(svc, no)
    ready_to_settle(svc, no)
    s = svc.settle(no)
    svc.collect(no, Payment(s["collect_due_fen"]))
    svc.print_settlement_list(no)
    with pytest.raises(HospitalError) as exc:
        svc.discharge(no)
    assert exc.value.code == "green_items_open" and "supervisor" in exc.value.user_message
    assert svc.discharge_state(no) == "list_printed" and svc.admission(no)["state"] == "identity_confirmed"
    assert [i["kind"] for i in svc.green_items(no) if i["state"] == "open"] == ["deposit", "insurance_card"]
    for sup, reason, cashier in (("", "x", ""), ("S01", "  ", ""), ("C01", "病人转院", "C01")):
        with pytest.raises(BadInput) as exc:
            svc.override_block(no, sup, reason, cashier=cashier)
        assert exc.value.code == "approval_needed"
    o = svc.override_block(no, "S01", "病人转院，医保卡随后寄来", cashier="C01")
    assert o["items"] == ["deposit", "insurance_card"]
    assert svc.discharge(no)["state"] == "discharged"
    states = {i["kind"]: i["state"] for i in svc.green_items(no)}
    assert states == {"deposit": "done", "insurance_card": "open"}      # the balancing settled the money
    assert [(r["inpatient_no"], r["kind"]) for r in svc.reminders()] == [(no, "insurance_card")]
    assert svc.green_board()[0]["stay_state"] == "discharged"
    svc.record_chase(no, "insurance_card", staff="C01", method="sms", answer="已寄出")   # chased after discharge
    p = outbox(store, "hospital.green.overridden")[0]
    assert (p["supervisor"], p["reason"], p["items"]) == ("S01", "病人转院，医保卡随后寄来", ["deposit", "insurance_card"])


def test_bad_input_for_an_unidentified_admission(svc, store):
    for kw, code in (({"sex": "X"}, "bad_input"), ({"est_age": 200}, "bad_input"), ({"staff": ""}, "bad_input"),
                     ({"suggested_deposit_fen": 1.5}, "bad_amount")):
        args = {"ward_code": "SURG", "sex": "F", "est_age": 30, "staff": "C01", **kw}
        with pytest.raises(BadInput) as exc:
            svc.admit_unidentified(**args)
        assert exc.value.code == code
    assert store.conn.execute("SELECT count(*) FROM hosp_temp_patients").fetchone()[0] == 0
