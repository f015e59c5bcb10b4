"""Admission workflow (H-A1..H-A4, H-A6): notices, identity, registration, deposits, green channel,
wristband, bed, 人證合一; invalid transitions; the append-only ledger; offline-safe commands."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from drivers.identity import Identity, Insurance
from pos.hospital import demo
from pos.hospital.errors import (REASONS, BadInput, BedOccupied, HospitalError, HospitalNotFound,
                                 HospitalTransitionError, NeedsServer)
from pos.hospital.events import KINDS, NEEDS_SERVER, OFFLINE_SAFE, is_offline_safe
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.messages import all_msgids
from pos.hospital.records import IdentityRecord, Payment
from pos.hospital.service import HospitalService
from pos.hospital.workflows import ADMISSION, DISCHARGE
from pos.store import Store
from tests._hospital import admitted, clock, gateway, kinds, person, policy, svc  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def test_full_admission_walks_every_state(svc, store):
    rec = person(1)
    notice = svc.find_notice_for_identity(rec)
    assert notice["patient_name"] == "王喆" and notice["state"] == "open"
    a = svc.check_identity(notice["notice_no"], rec)
    assert a["state"] == "identity_checked" and a["inpatient_no"] is None
    a = svc.register(a["uid"])
    no = a["inpatient_no"]
    assert a["state"] == "registered" and no.startswith("ZYKTEST-")
    assert svc.notice(notice["notice_no"])["state"] == "used"
    r = svc.record_deposit(no, Payment(500000, "card", reference="TRACE42", masked_pan="****1234"))
    assert r["receipt_no"].startswith("KTEST-") and svc.admission(no)["state"] == "deposit_paid"
    band = svc.print_wristband(no)
    assert (band["ward_name"], band["floor"], band["name"]) == ("普外科病区", 7, "王喆")
    svc.assign_bed(no, "03")
    assert svc.confirm_identity(no, "護士長")["state"] == "identity_confirmed"
    assert kinds(store)[-7:] == [
        "hospital.patient.identified", "hospital.admission.identity_checked", "hospital.admission.registered",
        "hospital.deposit.recorded", "hospital.wristband.printed", "hospital.bed.assigned",
        "hospital.identity.confirmed"]
    steps = [r[0] for r in store.conn.execute(
        "SELECT to_state FROM hosp_transitions WHERE entity = 'admission' ORDER BY id")]
    assert steps == ["registered", "deposit_paid", "wristband_printed", "bed_assigned", "identity_confirmed"]
    assert "03" not in svc.free_beds("SURG")


def test_rare_character_name_and_driver_identity_record(svc, gateway):
    # the card layer's Identity (and its JSON) is accepted as it is
    ident = Identity("ssc", "张𠀀", "M", "1949-12-31", "11010519491231002X", "A01234567",
                     insurance=Insurance("resident", "R1101001"))
    notice = svc.find_notice_for_identity(ident.as_json())
    adm = svc.register_admission(notice["notice_no"], ident)
    p = svc.conn.execute("SELECT name FROM hosp_patients WHERE id = ?", (adm["patient_id"],)).fetchone()[0]
    assert p == "张𠀀" and adm["scheme"] == "resident"


def test_evoucher_token_is_resolved_by_the_platform(svc, gateway):
    rec = IdentityRecord("evoucher", "", "", token="EV-LIKUN-0001")
    resolved = svc.resolve_identity(rec)
    assert (resolved.id_number, resolved.scheme, resolved.name) == ("330106196208180037", "rural", "李堃")
    notice = svc.find_notice_for_identity(rec)
    assert notice["patient_name"] == "李堃"
    with pytest.raises(HospitalError):
        svc.resolve_identity(IdentityRecord("evoucher", "", "", token="EV-UNKNOWN"))


def test_uninsured_person_is_self_pay(svc):
    n = svc.record_notice(patient_name="赵六", id_number="110101200001010011", ward_code="CARD",
                          suggested_deposit_fen=100000)
    adm = svc.register_admission(n["notice_no"], IdentityRecord("cn_id", "赵六", "110101200001010011"))
    assert adm["scheme"] == "self_pay"


def test_identity_must_match_the_notice_and_a_notice_is_used_once(svc):
    notice = svc.find_notice_for_identity(person(0))
    with pytest.raises(HospitalError) as exc:
        svc.check_identity(notice["notice_no"], person(1))
    assert exc.value.code == "notice_identity_mismatch"
    assert exc.value.user_message == REASONS["notice_identity_mismatch"]
    svc.register_admission(notice["notice_no"], person(0))
    assert svc.find_notice_for_identity(person(0)) is None
    other = svc.record_notice(patient_name="张三", id_number=person(0).id_number, ward_code="CARD",
                              suggested_deposit_fen=0)
    svc.cancel_notice(other["notice_no"])
    with pytest.raises(HospitalTransitionError) as exc:
        svc.check_identity(other["notice_no"], person(0))
    assert exc.value.code == "notice_not_open"
    with pytest.raises(HospitalNotFound):
        svc.check_identity("NOPE", person(0))


def test_invalid_admission_transitions(svc):
    rec = person(1)
    notice = svc.find_notice_for_identity(rec)
    no = svc.register_admission(notice["notice_no"], rec)["inpatient_no"]
    with pytest.raises(HospitalTransitionError) as exc:
        svc.print_wristband(no)                      # no deposit and no green channel yet
    assert exc.value.code == "invalid_transition" and "registered" in str(exc.value)
    with pytest.raises(HospitalTransitionError):
        svc.assign_bed(no, "01")
    with pytest.raises(HospitalTransitionError):
        svc.confirm_identity(no, "護士")
    with pytest.raises(HospitalTransitionError):
        svc.order_discharge(no, summary="x", ebill_no="y")
    svc.record_deposit(no, Payment(1000))
    with pytest.raises(HospitalTransitionError):
        svc.open_green_channel(no)                   # already paid
    svc.print_wristband(no)
    with pytest.raises(HospitalTransitionError):
        svc.confirm_identity(no, "護士")             # no bed yet
    with pytest.raises(BadInput):
        svc.confirm_identity(no, "")


def test_bed_conflicts_and_transfer(svc):
    a = admitted(svc, 0, bed="01")                  # 张三, ward CARD
    b_rec = person(2)                               # 李堃, ward CARD
    no = svc.register_admission(svc.find_notice_for_identity(b_rec)["notice_no"], b_rec)["inpatient_no"]
    svc.record_deposit(no, Payment(1000))
    svc.print_wristband(no)
    with pytest.raises(BedOccupied) as exc:
        svc.assign_bed(no, "01")
    assert exc.value.code == "bed_taken"
    with pytest.raises(HospitalNotFound):
        svc.assign_bed(no, "99")
    svc.assign_bed(no, "02")
    svc.assign_bed(a, "05")                         # a transfer frees 01
    svc.assign_bed(no, "01")
    free = svc.free_beds("CARD")
    assert "01" not in free and "05" not in free and "02" in free


def test_offline_commands(store, policy, gateway):
    online = {"up": False}
    svc = HospitalService(store, policy, gateway, online=lambda: online["up"])
    demo.seed(svc, gateway)
    rec = person(1)
    no = svc.register_admission(svc.find_notice_for_identity(rec)["notice_no"], rec)["inpatient_no"]
    svc.record_deposit(no, Payment(200000, "cash"))         # safe offline
    svc.print_wristband(no)
    with pytest.raises(NeedsServer) as exc:
        svc.assign_bed(no, "01")
    assert exc.value.user_message == REASONS["needs_server"]
    online["up"] = True
    svc.assign_bed(no, "01")
    pending = [c["kind"] for c in store.outbox_pending()]
    assert all(k in OFFLINE_SAFE for k in pending[:-1]) and pending[-1] in NEEDS_SERVER


def test_inpatient_numbers_do_not_collide_across_offline_devices(tmp_path, policy):
    numbers = []
    for dev in ("KAAAA", "KBBBB"):
        st = Store(tmp_path / f"{dev}.sqlite", device_id=dev)
        gw = SimGateway(policy)
        s = HospitalService(st, policy, gw)
        demo.seed(s, gw)
        for i in range(4):
            rec = person(i)
            numbers.append(s.register_admission(s.find_notice_for_identity(rec)["notice_no"], rec)["inpatient_no"])
        st.close()
    assert len(set(numbers)) == 8


def test_green_channel_tracks_open_items_and_arrears(svc, store):
    rec = person(0)                                  # suggested deposit 3,000.00
    no = svc.register_admission(svc.find_notice_for_identity(rec)["notice_no"], rec)["inpatient_no"]
    items = svc.open_green_channel(no, ["id_document", "insurance_card"])
    assert items == ["deposit", "id_document", "insurance_card"]
    assert svc.admission(no)["state"] == "green_channel"
    svc.print_wristband(no)                          # admitted first
    svc.assign_bed(no, "01")
    svc.confirm_identity(no, "護士")
    rem = svc.reminders()
    assert [(r["inpatient_no"], r["kind"]) for r in rem] == [(no, "deposit"), (no, "id_document"),
                                                             (no, "insurance_card")]
    assert rem[0]["arrears_fen"] == 300000 and rem[0]["name"] == "张三"
    assert svc.daily_list(no, "2026-03-02").reminders == ["deposit", "id_document", "insurance_card"]
    with pytest.raises(HospitalError) as exc:
        svc.close_green_item(no, "deposit")           # still owed
    assert exc.value.code == "balance_open"
    svc.record_deposit(no, Payment(100000))
    assert svc.reminders()[0]["arrears_fen"] == 200000
    svc.record_deposit(no, Payment(200000))          # reaches the suggested deposit: item closes itself
    svc.close_green_item(no, "id_document")
    with pytest.raises(HospitalTransitionError):
        svc.close_green_item(no, "id_document")
    with pytest.raises(HospitalNotFound):
        svc.close_green_item(no, "outpatient_record")
    assert [r["kind"] for r in svc.reminders()] == ["insurance_card"]
    svc.close_green_item(no, "insurance_card")
    assert svc.reminders() == []
    assert kinds(store).count("hospital.green_item.closed") == 3
    with pytest.raises(BadInput):
        svc.open_green_channel(no, ["passport"])


def test_payment_never_keeps_a_full_card_number(svc):
    no = admitted(svc, 1)
    with pytest.raises(HospitalError) as exc:
        svc.record_deposit(no, Payment(100, "card", masked_pan="6222021234567890123"))
    assert exc.value.code == "full_pan"
    with pytest.raises(BadInput):
        svc.record_deposit(no, {"amount_fen": 0})
    with pytest.raises(BadInput):
        svc.record_deposit(no, {"amount_fen": 1.5})


def test_ledger_and_charges_are_append_only(svc, store):
    no = admitted(svc, 1)
    svc.add_charge(no, "B001", 1000, unit_price_fen=4500, service_date="2026-03-02")
    for table in ("hosp_ledger", "hosp_charges"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store.conn.execute(f"UPDATE {table} SET amount_fen = 1")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store.conn.execute(f"DELETE FROM {table}")
    assert store.conn.execute("SELECT count(*) FROM hosp_ledger").fetchone()[0] == 1


def test_state_machines_are_consistent():
    assert ADMISSION.allowed("registered") == ["open_green_channel", "pay_deposit"]
    assert DISCHARGE.final == {"discharged"}
    for m in (ADMISSION, DISCHARGE):
        assert m.initial in m.states
        for st in m.states - m.final:
            assert m.allowed(st), f"{m.name}: {st} is a dead end"


def test_every_emitted_kind_is_declared_and_documented():
    src = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "pos" / "hospital").glob("*.py"))
    emitted = set(re.findall(r'emit\("([a-z_.]+)"', src))
    from pos.hospital.settlement_journal import SPEC       # the journal emits <prefix>.<state>
    emitted |= {f"{SPEC.prefix}.{state}" for state in SPEC.transitions}
    assert emitted == KINDS
    assert not (OFFLINE_SAFE & NEEDS_SERVER)
    doc = (ROOT / "docs" / "domain.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"\| `(hospital\.[a-z_.]+)` \|", doc))
    assert documented == KINDS
    for kind in KINDS:
        line = next(l for l in doc.splitlines() if l.startswith(f"| `{kind}` |"))
        assert ("**server**" in line) == (not is_offline_safe(kind)), kind
    with pytest.raises(KeyError):
        is_offline_safe("hospital.nope")


def test_every_hospital_message_is_in_every_catalogue():
    from kiosk.i18n import LANGUAGES, parse_po, po_path

    for lang in LANGUAGES:
        cat = parse_po(po_path(lang).read_text(encoding="utf-8"))
        missing = all_msgids() - {k for k, v in cat.items() if v.strip()}
        assert not missing, (lang, missing)


def test_wristband_reprint_is_not_a_transition(svc, store):
    no = admitted(svc, 1)
    before = kinds(store)
    band = svc.print_wristband(no)                   # the patient lost it: reprint in the ward
    assert band["inpatient_no"] == no and kinds(store) == before
    assert svc.admission(no)["state"] == "identity_confirmed"
