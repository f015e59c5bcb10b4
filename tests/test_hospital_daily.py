"""Charges and the daily fee list (H-A5): items, reversals, subtotals, running totals, the deposit
balance and the low-balance top-up prompt."""

from __future__ import annotations

import pytest

from pos.hospital.daily import LOW_BALANCE_PROMPT, day_end_utc
from pos.hospital.errors import BadInput, HospitalNotFound, HospitalTransitionError
from pos.hospital.records import Payment
from tests._hospital import admitted, clock, gateway, kinds, policy, svc  # noqa: F401


def test_daily_list_for_each_day_of_the_stay(svc, store):
    no = admitted(svc, 1, deposit=100000)                      # 1,000.00 deposit
    svc.add_charge(no, "B001", 1000, unit_price_fen=4500, service_date="2026-03-01", department="SURG")
    svc.add_charge(no, "D205", 1500, unit_price_fen=3333, service_date="2026-03-01")   # 33.33 × 1.5 = 49.995 → 50.00
    svc.add_charge(no, "D901", 1000, unit_price_fen=18600, service_date="2026-03-01")
    svc.add_charge(no, "B001", 1000, unit_price_fen=4500, service_date="2026-03-02")
    wrong = svc.add_charge(no, "I001", 1000, unit_price_fen=28000, service_date="2026-03-02")
    svc.reverse_charge(no, wrong["id"])

    d1 = svc.daily_list(no, "2026-03-01")
    assert [(i.fee_code, i.amount_fen) for i in d1.items] == [("B001", 4500), ("D205", 5000), ("D901", 18600)]
    assert d1.items[1].name == "阿托伐他汀钙片" and d1.items[1].spec == "20mg×7片" and d1.items[1].qty_milli == 1500
    assert d1.subtotals == {"甲": 4500, "乙": 5000, "丙": 18600}
    assert d1.day_total_fen == d1.running_total_fen == 28100
    assert d1.deposits_fen == 100000 and d1.balance_fen == 71900 and not d1.low_balance and d1.prompt == ""

    d2 = svc.daily_list(no, "2026-03-02")
    assert [(i.fee_code, i.amount_fen, i.reverses_id) for i in d2.items] == [
        ("B001", 4500, None), ("I001", 28000, None), ("I001", -28000, wrong["id"])]
    assert d2.day_total_fen == 4500 and d2.running_total_fen == 32600
    assert d2.balance_fen == 100000 - 32600
    assert svc.daily_list(no, "2026-02-28").items == []        # before the stay: empty, no error
    assert kinds(store).count("hospital.charge.added") == 5 and "hospital.charge.reversed" in kinds(store)
    svc.print_daily_list(no, "2026-03-02")
    assert kinds(store)[-1] == "hospital.daily_list.printed"


def test_low_balance_warning_prompts_a_top_up(svc):
    no = admitted(svc, 1, deposit=60000)                       # 600.00; threshold 500.00
    svc.add_charge(no, "I001", 1000, unit_price_fen=28000, service_date="2026-03-02")
    dl = svc.daily_list(no, "2026-03-02")
    assert dl.balance_fen == 32000 and dl.low_balance and dl.prompt == LOW_BALANCE_PROMPT
    svc.record_deposit(no, Payment(50000))                     # top-up, today (03-01)
    dl = svc.daily_list(no, "2026-03-02")
    assert dl.balance_fen == 82000 and not dl.low_balance


def test_deposit_as_of_the_end_of_the_day(svc):
    assert day_end_utc("2026-03-02", "Asia/Shanghai") == "2026-03-02T16:00:00.000000Z"
    no = admitted(svc, 1, deposit=60000)
    dl = svc.daily_list(no, "2020-01-01")                     # long before the deposit was paid
    assert dl.deposits_fen == 0 and dl.balance_fen == 0 and dl.low_balance


def test_charge_validation_and_reversal_rules(svc):
    no = admitted(svc, 1)
    with pytest.raises(BadInput):
        svc.add_charge(no, "B001", 0, unit_price_fen=4500)
    with pytest.raises(BadInput):
        svc.add_charge(no, "B001", 1000, unit_price_fen=45.0)
    with pytest.raises(HospitalNotFound):
        svc.add_charge(no, "NOPE", 1000, unit_price_fen=1)
    with pytest.raises(ValueError):
        svc.add_charge(no, "B001", 1000, unit_price_fen=1, service_date="2026-13-01")
    c = svc.add_charge(no, "B001", 1000, unit_price_fen=4500)
    r = svc.reverse_charge(no, c["id"])
    with pytest.raises(HospitalTransitionError):
        svc.reverse_charge(no, c["id"])                        # once only
    with pytest.raises(HospitalNotFound):
        svc.reverse_charge(no, r["id"])                        # a reversal is not reversed


def test_no_charges_before_registration(svc):
    from tests._hospital import person

    a = svc.check_identity(svc.find_notice_for_identity(person(1))["notice_no"], person(1))
    svc.register(a["uid"])
    no = svc.admission(a["uid"])["inpatient_no"]
    svc.add_charge(no, "B001", 1000, unit_price_fen=4500)     # registered: the ward may charge
    with pytest.raises(HospitalNotFound):
        svc.add_charge("ZY-NOPE", "B001", 1000, unit_price_fen=4500)


def test_a_charge_from_the_his_brings_its_catalogue_entry(svc):
    no = admitted(svc, 1)
    svc.add_charge(no, "HIS-7788", 2500, unit_price_fen=1234, service_date="2026-03-02",
                   name="頭孢呋辛鈉注射劑", spec="0.75g", unit="支", category="乙", ref="HIS-ORDER-1")
    (line,) = svc.daily_list(no, "2026-03-02").items
    assert (line.name, line.spec, line.category, line.amount_fen) == ("頭孢呋辛鈉注射劑", "0.75g", "乙", 3085)


def test_daily_list_is_one_indexed_statement(svc, store):
    """The list runs one statement (the screen and the paper both come from build_daily_list), and
    SQLite's planner reaches every table of it through an index, also with a big store's statistics."""
    from pos.hospital.daily import DAILY_SQL, day_end_utc

    no = admitted(svc, 1, deposit=100000)
    svc.add_charge(no, "B001", 1000, unit_price_fen=4500, service_date="2026-03-01")
    sent = []
    store.conn.set_trace_callback(sent.append)
    try:
        svc.daily_list(no, "2026-03-01")
    finally:
        store.conn.set_trace_callback(None)
    assert [s for s in sent if s.lstrip().upper().startswith("SELECT")] and len(sent) == 1, sent
    # the statistics of a year of a 1,000-bed hospital (bench_domain's store): with them, a join
    # left to the planner started from the charges and skip-scanned every admission's lines
    store.conn.execute("ANALYZE")
    store.conn.execute("DELETE FROM sqlite_stat1 WHERE tbl LIKE 'hosp_%'")
    store.conn.executemany("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", [
        ("hosp_charges", "hosp_charges_day", "5000000 124 12 4 1"),
        ("hosp_admissions", "sqlite_autoindex_hosp_admissions_2", "40982 1"),
        ("hosp_patients", "sqlite_autoindex_hosp_patients_1", "40982 1"),
        ("hosp_fee_items", "sqlite_autoindex_hosp_fee_items_1", "400 1"),
        ("hosp_ledger", "hosp_ledger_adm", "41000 1 1"),
        ("hosp_charge_days", "hosp_charge_days", "400000 10 1")])
    store.conn.execute("ANALYZE sqlite_schema")              # reload the statistics
    steps = [r[3] for r in store.conn.execute("EXPLAIN QUERY PLAN " + DAILY_SQL,
                                              (no, "2026-03-01", day_end_utc("2026-03-01", svc.tz)))]
    tables = [s for s in steps if s.startswith(("SEARCH", "SCAN")) and "subquery" not in s]
    assert tables and all(s.startswith("SEARCH") and "ANY(" not in s for s in tables), steps     # ANY: skip-scan
    for index in ("hosp_charge_days", "hosp_ledger_adm", "hosp_charges_day", "hosp_green_items"):
        assert any(index in s for s in tables), (index, steps)


def test_the_day_totals_follow_every_charge_line(svc, store):
    """hosp_charge_days (the running total's source) is kept by a trigger: it equals the lines' sums
    after charges, a back-dated charge and a reversal."""
    no = admitted(svc, 1, deposit=100000)
    svc.add_charge(no, "B001", 1000, unit_price_fen=4500, service_date="2026-03-02")
    svc.add_charge(no, "D205", 1500, unit_price_fen=3333, service_date="2026-03-02")
    wrong = svc.add_charge(no, "I001", 1000, unit_price_fen=28000, service_date="2026-03-03")
    svc.add_charge(no, "B001", 1000, unit_price_fen=4500, service_date="2026-03-01")      # back-dated
    svc.reverse_charge(no, wrong["id"])
    q = "SELECT admission_id, service_date, {} FROM {} GROUP BY 1, 2 ORDER BY 1, 2"
    lines = store.conn.execute(q.format("SUM(amount_fen)", "hosp_charges")).fetchall()
    days = store.conn.execute(q.format("SUM(total_fen)", "hosp_charge_days")).fetchall()
    assert lines == days and len(days) == 3
    assert [svc.daily_list(no, d).running_total_fen for d in ("2026-03-01", "2026-03-02", "2026-03-03")] == [
        4500, 4500 + 4500 + 5000, 4500 + 4500 + 5000]
