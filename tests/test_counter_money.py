"""Counter money on real devices (ZVT terminal and receipt printer on sockets): cash movements
commit with the domain change they pay for, card refunds go back to the original cards with cash
as the cashier's fallback, deposit reversal (沖銷) needs a supervisor and voids the receipt on
paper, and the daily fee list prints exact quantities."""

from __future__ import annotations

import pytest

from pos.errors import DomainError
from pos.hospital.errors import HospitalError, RefundTooLarge
from pos.hospital.gateway import PersonInfo

from ._settlement import SUPERVISOR_PIN as PIN
from ._settlement import World

Y, Q = 1_000_000, 10_000


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path, "beijing")
    yield w
    w.close()


def admit(w: World, n: int = 1) -> str:
    d = w.desk
    idno = f"1101051980010100{n:02d}"
    w.sim.add_member(PersonInfo(f"P{n}", f"病人{n}", idno, "employee"))
    notice = d.record_notice(f"病人{n}", idno, "W1", 100000)
    return d.register(notice["notice_no"], idno)["inpatient_no"]


def drawer(w: World) -> int:
    sh = w.site.cash.shift(w.desk.cashier)
    return w.site.cash.expected_fen(sh["shift_id"])


def test_a_refused_refund_leaves_the_drawer_alone(world):
    d, h = world.desk, world.site.hospital
    no = admit(world)
    d.deposit_cash(no, 100000, 100000)
    before = drawer(world)
    h.add_charge(no, "B01", price_uyuan=800 * Y, qty_e4=Q, name="床位", category="甲")
    with pytest.raises(RefundTooLarge):               # only 200.00 is not used by the charges
        d.refund_cash(no, 30000)
    assert drawer(world) == before and h.account(no)["refund_fen"] == 0
    d.refund_cash(no, 20000)
    assert drawer(world) == before - 20000 and h.account(no)["refund_fen"] == 20000


def test_a_short_drawer_refunds_nothing(world):
    d, h = world.desk, world.site.hospital
    no = admit(world)
    d.deposit_card(no, 300000)
    world.site.cash.count(d.cashier, {})               # close the shift; a new one with no float
    world.site.cash.open_shift(d.cashier, 0)
    with pytest.raises(DomainError, match="not that much cash"):
        d.refund_cash(no, 100000)
    assert h.account(no)["refund_fen"] == 0            # the ledger did not move either


def test_cash_deposit_and_its_drawer_movement_are_one_transaction(world):
    d, h = world.desk, world.site.hospital
    no = admit(world)
    before = drawer(world)
    r = d.deposit_cash(no, 50000, 60000)
    assert r.ok and r.change_fen == 10000 and drawer(world) == before + 50000
    mv = h.conn.execute("SELECT receipt_no FROM cash_movements ORDER BY rowid DESC LIMIT 1").fetchone()[0]
    led = h.conn.execute("SELECT reference FROM hosp_ledger WHERE kind = 'deposit'").fetchone()[0]
    assert led == mv
    # a deposit the hospital refuses (a discharged or unknown stay) never reaches the drawer
    with pytest.raises(Exception):
        d.deposit_cash("ZY-NOPE", 50000, 50000)
    assert drawer(world) == before + 50000


def test_in_stay_card_refund_goes_to_the_card_and_voids_a_whole_deposit(world):
    d, h = world.desk, world.site.hospital
    no = admit(world)
    first, second = d.deposit_card(no, 100000), d.deposit_card(no, 200000)
    res = d.refund_card(no, 250000)                    # newest first: 2,000.00 reversed, 500.00 refunded
    assert res.status == "posted" and res.refunded_fen == 250000
    assert [(p[1], p[2]) for p in res.parts] == [(200000, "reversal"), (50000, "refund")]
    states = dict(h.conn.execute("SELECT receipt_no, state FROM hosp_receipts").fetchall())
    assert states[second.receipt_no] == "voided" and states[first.receipt_no] == "issued"
    assert h.account(no)["refund_fen"] == 250000
    approved = [e for e in world.terminal.ledger.entries() if e.get("result") == "approved"]
    assert [e["kind"] for e in approved][-2:] == ["reversal", "refund"]


def test_a_declined_card_refund_leaves_the_rest_for_cash(world):
    d, h = world.desk, world.site.hospital
    no = admit(world)
    d.deposit_card(no, 100000)
    world.terminal.script.push({"action": "decline"}, {"action": "decline"})
    res = d.refund_card(no, 60000)
    assert res.status == "declined" and res.left_fen == 60000 and h.account(no)["refund_fen"] == 0
    d.refund_cash(no, res.left_fen)                    # the cashier's choice
    assert h.account(no)["refund_fen"] == 60000


def test_reversal_needs_a_supervisor_and_prints_void(world):
    d, h = world.desk, world.site.hospital
    no = admit(world)
    r = d.deposit_cash(no, 300000, 300000)
    with pytest.raises(DomainError, match="wrong supervisor PIN"):
        d.reverse_deposit(r.receipt_no, supervisor="主管李", reason="錯收", supervisor_pin="000000")
    with pytest.raises(HospitalError, match="supervisor"):
        d.reverse_deposit(r.receipt_no, supervisor=d.operator, reason="錯收", supervisor_pin=PIN)
    with pytest.raises(HospitalError, match="reason"):
        d.reverse_deposit(r.receipt_no, supervisor="主管李", reason="", supervisor_pin=PIN)
    before = drawer(world)
    out = d.reverse_deposit(r.receipt_no, supervisor="主管李", reason="錯收", supervisor_pin=PIN)
    assert out["status"] == "posted" and drawer(world) == before - 300000
    assert h.conn.execute("SELECT state FROM hosp_receipts WHERE receipt_no = ?", (r.receipt_no,)).fetchone()[0] \
        == "voided"
    printed = world.printer.docs[-1].text
    assert "已作废" in printed and r.receipt_no in printed and "主管李 / 錯收" in printed
    with pytest.raises(HospitalError):
        d.reverse_deposit(r.receipt_no, supervisor="主管李", reason="again", supervisor_pin=PIN)
    kinds = [k for (k,) in h.conn.execute("SELECT kind FROM outbox ORDER BY device_seq")]
    assert "hospital.deposit.reversal_approved" in kinds and "hospital.deposit.reversed" in kinds


def test_daily_fee_list_prints_exact_quantities(world):
    d, h = world.desk, world.site.hospital
    no = admit(world)
    d.deposit_cash(no, 100000, 100000)
    day = h.today()
    h.add_charge(no, "J1", price_uyuan=45 * Y, qty_e4=Q // 2, name="半日床位", category="甲", service_date=day)
    h.add_charge(no, "J2", price_uyuan=45 * Y, qty_e4=5 * Q // 2, name="護理", category="甲", service_date=day)
    h.add_charge(no, "J3", price_uyuan=333_333, qty_e4=3 * Q, name="棉籤", category="甲", service_date=day)
    data = world.site.documents().daily_list_data(no, day)
    got = [(i.price_text, i.qty_text, i.amount_fen) for i in data.days[0].items]
    # 45.00 × 0.5 = 22.50; 45.00 × 2.5 = 112.50 (not 1 and 2 as float half-to-even printed);
    # 0.333333 × 3 = 0.999999 → 1.00
    assert got == [("45.00", "0.5", 2250), ("45.00", "2.5", 11250), ("0.333333", "3", 100)]
    out = world.site.documents().daily_list(no, day)
    assert out.ok
    text = world.printer.docs[-1].text
    assert "0.5" in text and "2.5" in text and "0.333333" in text
