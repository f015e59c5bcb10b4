"""The HIS interface: HL7 v2.5 over real MLLP sockets, sent by python-hl7's ``mllp_send``; ACK rules,
idempotency by MSH-10, held messages, refusals that apply nothing; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import socket
import time

import hl7
import pytest

from tests.his_support import a05, adt, check_in, code, dft, mllp_send, msh, text
from tests.sync_support import db_url  # noqa: F401  (fixture)


@pytest.fixture
def his(db_url):  # noqa: F811
    from sync.server import open_backend
    from sync.server.his import HisInterface
    backend = open_backend(db_url)
    iface = HisInterface(backend).start()
    yield iface
    iface.stop()
    backend.close()


def commands(backend, device="@his"):
    with backend.tx() as cur:
        return [(k, json.loads(p), s) for k, p, s in cur.execute(
            "SELECT kind, payload, status FROM commands WHERE device_id = ? ORDER BY received_at, command_id",
            (device,)).fetchall()]


def inbound(backend):
    with backend.tx() as cur:
        rows = cur.execute("SELECT control_id, status, ack_code, reason FROM his_inbound").fetchall()
    return {r[0]: r[1:] for r in rows}


def test_pre_admit_becomes_a_notice_and_a_repeat_gets_the_same_ack(his):
    ack1, ack2 = mllp_send(his.port, a05("M1", "ZY26001"), a05("M1", "ZY26001"))
    assert code(ack1) == "AA" and str(ack1.segment("MSA")[2]) == "M1"
    assert str(ack1) == str(ack2)                                   # the stored ACK, byte for byte
    cmds = commands(his.backend)
    assert [c[0] for c in cmds] == ["hospital.his.notice"]          # applied once
    p = cmds[0][1]
    assert (p["notice_no"], p["ward_code"], p["id_number"], p["patient_name"], p["suggested_deposit_fen"]) == (
        "ZY26001", "CARD", "11010119800505001X", "张三", 200000)
    assert p["issued_at"] == "2026-12-07T01:30:00.000000Z"          # 09:30 in Shanghai, stored in UTC


def test_duplicate_control_id_with_another_body_is_refused(his):
    assert code(mllp_send(his.port, a05("M1", "ZY26001"))[0]) == "AA"
    ack = mllp_send(his.port, a05("M1", "ZY26002"))[0]
    assert code(ack) == "AR" and "M1" in text(ack)
    assert [c[1]["notice_no"] for c in commands(his.backend)] == ["ZY26001"]


@pytest.mark.parametrize("bad, want, why", [
    (a05("B1", "ZY26009", ward="XX9"), "AE", "unknown ward"),
    (a05("B2", "ZY26009").replace("PID|1||", "P@D|1||"), "AR", "broken segment"),
    (msh("B3", "ADT^A99^ADT_A01") + "\nPID|1", "AR", "not taken"),
    (a05("B4", "ZY26009", idno="").replace("~^^^CHN^NI", ""), "AE", "NI"),
])
def test_bad_input_gets_ae_or_ar_with_the_reason_and_applies_nothing(his, bad, want, why):
    ack = mllp_send(his.port, bad)[0]
    assert code(ack) == want and str(ack.segment("MSA")[2]) == bad.split("|")[9]     # MSA-2: its MSH-10
    assert why in text(ack) or why in str(ack.segment("ERR")[8])
    assert commands(his.backend) == []


def test_stay_messages_charges_and_a_charge_for_a_discharged_stay(his):
    assert code(mllp_send(his.port, a05("S1", "ZY26001"))[0]) == "AA"
    no = check_in(his.backend, "ZY26001")
    acks = mllp_send(his.port, adt("S2", "A01", "ZY26001", bed="0501"),
                     dft("S3", "ZY26001", [("T1", "110900001", 1, "45.00"), ("T2", "XY0001", 2, "15.80")]),
                     adt("S4", "A02", "ZY26001", bed="0502", when="20261207140000"), adt("S5", "A03", "ZY26001"))
    assert [code(a) for a in acks] == ["AA"] * 4, [str(a) for a in acks]
    assert not any("held" in text(a) for a in acks)
    kinds = [c[0] for c in commands(his.backend)]
    assert kinds == ["hospital.his.notice", "hospital.his.admitted", "hospital.his.charge", "hospital.his.charge",
                     "hospital.his.transferred", "hospital.his.discharge_ordered"]
    charges = [c[1] for c in commands(his.backend) if c[0] == "hospital.his.charge"]
    assert [(c["fee_code"], c["category"], c["qty_milli"], c["amount_fen"]) for c in charges] == [
        ("B001", "甲", 1000, 4500), ("D101", "甲", 2000, 3160)]
    assert {c["inpatient_no"] for c in charges} == {no}                 # onestop's admission, linked
    with his.backend.tx() as cur:
        claims = cur.execute("SELECT resource, end_at IS NULL FROM resource_claims").fetchall()
        # transferred: the first bed's claim ended, the second's is open
        assert sorted((r, bool(live)) for r, live in claims) == [("bed:CARD/01", False), ("bed:CARD/02", True)]
        cur.execute("UPDATE his_visits SET state = 'discharged' WHERE visit = 'ZY26001'")
    ack = mllp_send(his.port, dft("S6", "ZY26001", [("T3", "110900001", 1, "45.00")]))[0]
    assert code(ack) == "AE" and "discharged" in text(ack)
    assert len([c for c in commands(his.backend) if c[0] == "hospital.his.charge"]) == 2


def test_a_charge_message_with_one_bad_line_applies_none_of_it(his):
    mllp_send(his.port, a05("S1", "ZY26001"))
    check_in(his.backend, "ZY26001")
    mllp_send(his.port, adt("S2", "A01", "ZY26001", bed="0501"))
    ack = mllp_send(his.port, dft("S3", "ZY26001", [("T1", "110900001", 1, "45.00"), ("T2", "NOPE", 1, "1.00")]))[0]
    assert code(ack) == "AE" and "NOPE" in text(ack)
    assert not [c for c in commands(his.backend) if c[0] == "hospital.his.charge"]
    ack = mllp_send(his.port, dft("S4", "ZY26001", [("T1", "110900001", 1, "45.005")]))[0]
    assert code(ack) == "AE" and "fen" in text(ack)


def test_out_of_order_is_held_then_applied_when_the_predecessor_arrives(his):
    a1, c1 = mllp_send(his.port, adt("O2", "A01", "ZY26005", bed="0501"),
                       dft("O3", "ZY26005", [("T9", "110900001", 1, "45.00")]))
    assert code(a1) == "AA" and "held" in text(a1) and "held" in text(c1)
    assert commands(his.backend) == []
    st = his.status()
    assert [(q["control_id"], q["status"], q["flagged"]) for q in st["inbound"]] == [
        ("O2", "held", False), ("O3", "held", False)]
    assert code(mllp_send(his.port, a05("O1", "ZY26005"))[0]) == "AA"
    assert [c[0] for c in commands(his.backend)] == ["hospital.his.notice"]     # the rest waits for the check-in
    assert {q["control_id"]: q["reason"] for q in his.status()["inbound"]}["O2"].endswith("check-in at onestop")
    check_in(his.backend, "ZY26005")
    his.pump()                              # the server's pump follows the log: the check-in releases them
    assert [c[0] for c in commands(his.backend)] == ["hospital.his.notice", "hospital.his.admitted",
                                                    "hospital.his.charge"]
    assert {k: v[0] for k, v in inbound(his.backend).items()} == {"O1": "applied", "O2": "applied", "O3": "applied"}


def test_held_past_the_timeout_is_flagged(his, monkeypatch):
    from dataclasses import replace
    mllp_send(his.port, adt("O2", "A01", "ZY26005"))
    his.m = replace(his.m, hold_timeout_s=0.0)
    time.sleep(0.01)
    assert [q["flagged"] for q in his.status()["inbound"]] == [True]


def test_a_ten_megabyte_message_is_refused_and_the_connection_still_serves(his):
    big = a05("BIG1", "ZY26007") + "\nNTE|1||" + "X" * (10 * 1024 * 1024)
    ack, after = mllp_send(his.port, big, a05("OK1", "ZY26008"))
    assert code(ack) == "AR" and "larger" in text(ack) and str(ack.segment("MSA")[2]) == "BIG1"
    assert code(after) == "AA"
    assert [c[1]["notice_no"] for c in commands(his.backend)] == ["ZY26008"]


def test_a_connection_dropped_mid_message_applies_nothing(his):
    whole = a05("D1", "ZY26010").replace("\n", "\r").encode()
    with socket.create_connection(("127.0.0.1", his.port)) as s:
        s.sendall(b"\x0b" + whole[: len(whole) // 2])
    deadline = time.monotonic() + 10
    while his.server.stats.dropped_partial == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert his.server.stats.dropped_partial == 1
    assert commands(his.backend) == [] and inbound(his.backend) == {}
    assert code(mllp_send(his.port, a05("D1", "ZY26010"))[0]) == "AA"      # the HIS resends: taken once


def test_cancel_admit_cancel_discharge_and_merge(his):
    mllp_send(his.port, a05("C1", "ZY26001"))
    check_in(his.backend, "ZY26001")
    acks = mllp_send(his.port, adt("C2", "A01", "ZY26001", bed="0501"),
                     adt("C3", "A11", "ZY26001", when="20261207110000"),
                     adt("C4", "A01", "ZY26001", bed="0502", when="20261207120000"),
                     adt("C5", "A03", "ZY26001"), adt("C6", "A13", "ZY26001"),
                     "\n".join([msh("C7", "ADT^A40^ADT_A39"), "EVN|A40|20261207120000", "PID|1||P0009^^^HIS^PI",
                                "MRG|P0001^^^HIS^PI"]),
                     adt("C8", "A13", "ZY26001"))
    assert [code(a) for a in acks] == ["AA"] * 6 + ["AE"]
    with his.backend.tx() as cur:
        assert cur.execute("SELECT state, bed, patient_id FROM his_visits").fetchall() == [("admitted", "02", "P0009")]
        live = cur.execute("SELECT resource FROM resource_claims WHERE end_at IS NULL").fetchall()
    assert live == [("bed:CARD/02",)]


def test_our_acks_validate_against_the_v25_structure(his):
    """AA, AE and AR as we send them, read by hl7apy (strict, v2.5): an independent parser."""
    from hl7apy.consts import VALIDATION_LEVEL
    from hl7apy.parser import parse_message
    acks = mllp_send(his.port, a05("V1", "ZY26001"), a05("V2", "ZY26002", ward="XX9"), msh("V3", "ORU^R01^ORU_R01"))
    assert [code(a) for a in acks] == ["AA", "AE", "AR"]
    for a in acks:
        m = parse_message(str(a), validation_level=VALIDATION_LEVEL.STRICT)
        assert m.name == "ACK" and m.validate()
        assert m.MSA.MSA_2.value == str(a.segment("MSA")[2])


def test_a_gb18030_message_says_so_in_msh18(his):
    """A HIS that sends GB 18030 (MSH-18): decoded by it, the name kept; sent from a plain socket."""
    body = a05("G1", "ZY26001", name="张^𠀀").replace("UNICODE UTF-8", "GB 18030-2000").replace("\n", "\r")
    with socket.create_connection(("127.0.0.1", his.port)) as s:
        s.sendall(b"\x0b" + body.encode("gb18030") + b"\x1c\x0d")
        reply = b""
        while not reply.endswith(b"\x1c\x0d"):
            reply += s.recv(65536)
    assert hl7.parse(reply.strip(b"\x0b\x1c\x0d").decode()).segment("MSA")[1][0] == "AA"
    assert commands(his.backend)[0][1]["patient_name"] == "张𠀀"


@pytest.mark.parametrize("text_, fen", [("45.00", 4500), ("0.01", 1), ("186", 18600), ("15.8^CNY", 1580)])
def test_yuan_to_fen_is_exact(text_, fen):
    from pos.hospital.his_inbound import _fen
    assert _fen(text_, "price") == fen


@pytest.mark.parametrize("text_", ["45.005", "-1.00", "abc"])
def test_an_amount_finer_than_a_fen_or_not_an_amount_is_refused(text_):
    from pos.hospital.his_inbound import Refused, _fen
    with pytest.raises(Refused):
        _fen(text_, "price")


@pytest.mark.parametrize("dtm, utc", [("20261207093000+0800", "2026-12-07T01:30:00.000000Z"),
                                      ("20261207093000", "2026-12-07T01:30:00.000000Z"),     # site time
                                      ("202612070930-0500", "2026-12-07T14:30:00.000000Z"),
                                      ("20261207", "2026-12-06T16:00:00.000000Z")])
def test_hl7_times_become_utc(dtm, utc):
    from pos.hospital.his_inbound import ts
    assert ts(dtm, "Asia/Shanghai") == utc


def test_a_crash_after_the_commands_and_before_the_log_is_taken_once_when_resent(his, monkeypatch):
    """The server dies between applying a message's commands and logging its ACK: the HIS had no
    ACK (here: an AE), sends it again, and the charges are booked once, the second ACK an AA."""
    mllp_send(his.port, a05("X1", "ZY26001"))
    check_in(his.backend, "ZY26001")
    mllp_send(his.port, adt("X2", "A01", "ZY26001", bed="0501"))
    real = his._record

    def crash_once(*a, **kw):
        monkeypatch.setattr(his, "_record", real)
        raise RuntimeError("power cut")
    monkeypatch.setattr(his, "_record", crash_once)
    msg = dft("X3", "ZY26001", [("T1", "110900001", 1, "45.00"), ("T2", "XY0001", 2, "15.80")])
    first = mllp_send(his.port, msg)[0]
    assert code(first) == "AE" and "resend" in text(first)
    assert len([c for c in commands(his.backend) if c[0] == "hospital.his.charge"]) == 2     # applied, not logged
    again = mllp_send(his.port, msg)[0]
    assert code(again) == "AA"
    assert len([c for c in commands(his.backend) if c[0] == "hospital.his.charge"]) == 2
    with his.backend.tx() as cur:
        assert cur.execute("SELECT count(*) FROM ledger WHERE entry_id IN ('HIS-T1', 'HIS-T2')").fetchone()[0] == 2
    assert inbound(his.backend)["X3"][0] == "applied"
