"""Insurance policy tables and the settlement split: worked examples checked by hand, integer
rounding, config validation, and properties of the split."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos.config import parse_config
from pos.errors import ConfigError
from pos.money import amount_fen, fmt_fen, mul_div_round, parse_qty, parse_yuan
from pos.hospital.policy import DEFAULT_POLICY_PATH, LEVELS, SCHEMES, load_policy, parse_policy


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def test_resident_example_from_the_brief(policy):
    # resident scheme, tertiary hospital: deductible 800.00, 70 % (first band), 乙 10 % self-pay first.
    # 甲 5,000.00 + 乙 3,000.00 + 丙 200.00 = 8,200.00
    # 乙 first: 3,000.00 × 10 % = 300.00 (patient); eligible = 5,000.00 + 2,700.00 = 7,700.00
    # deductible 800.00 (patient); above it 6,900.00, inside the first band (≤ 10,000.00)
    # pooled = 6,900.00 × 70 % = 4,830.00; co-pay = 2,070.00
    # self-pay = 200.00 + 300.00 + 800.00 + 2,070.00 = 3,370.00 = 8,200.00 − 4,830.00
    s = policy.split("resident", "tertiary", {"甲": 500000, "乙": 300000, "丙": 20000})
    assert s.b_first_fen == 30000
    assert s.eligible_fen == 770000
    assert s.deductible_fen == 80000
    assert s.pooled_fen == 483000
    assert s.copay_fen == 207000
    assert s.selfpay_fen == 337000
    assert s.c_fen + s.b_first_fen + s.deductible_fen + s.copay_fen + s.over_cap_fen == s.selfpay_fen


def test_resident_bands_are_cut_at_their_limits(policy):
    # 甲 20,000.00: deductible 800.00, 19,200.00 above it.
    # band 1: 10,000.00 × 70 % = 7,000.00; band 2: 9,200.00 × 75 % = 6,900.00 → pooled 13,900.00
    # self-pay = 20,000.00 − 13,900.00 = 6,100.00 (= 800.00 + 3,000.00 + 2,300.00)
    s = policy.split("resident", "tertiary", {"甲": 2000000})
    assert (s.pooled_fen, s.selfpay_fen, s.copay_fen) == (1390000, 610000, 530000)
    # 甲 60,800.00: above the deductible 60,000.00 = 10,000 @70 % + 40,000 @75 % + 10,000 @80 %
    # = 7,000 + 30,000 + 8,000 = 45,000.00
    s = policy.split("resident", "tertiary", {"甲": 6080000})
    assert s.pooled_fen == 4500000


def test_annual_cap_limits_the_pooled_part(policy):
    # rural, tertiary: deductible 1,000.00, 60 % up to 20,000.00, cap 150,000.00.
    # the year already used 149,000.00 of the pool. 甲 10,000.00:
    # eligible 10,000.00; deductible 1,000.00; 9,000.00 × 60 % = 5,400.00 raw pooled;
    # only 1,000.00 of the cap is left → pooled 1,000.00, over cap 4,400.00,
    # self-pay = 10,000.00 − 1,000.00 = 9,000.00
    s = policy.split("rural", "tertiary", {"甲": 1000000}, pooled_used_fen=14900000)
    assert (s.pooled_fen, s.over_cap_fen, s.selfpay_fen) == (100000, 440000, 900000)
    # cap already reached: nothing pooled
    s = policy.split("rural", "tertiary", {"甲": 1000000}, pooled_used_fen=15000000)
    assert s.pooled_fen == 0 and s.selfpay_fen == 1000000


def test_deductible_already_used_this_year_and_rounding(policy):
    # resident tertiary, deductible 800.00 already met this year. 甲 800.01:
    # pooled = 80,001 fen × 700 / 1000 = 56,000.7 fen → rounded half up to 56,001 fen
    s = policy.split("resident", "tertiary", {"甲": 80001}, deductible_used_fen=80000)
    assert s.deductible_fen == 0 and s.pooled_fen == 56001 and s.selfpay_fen == 24000
    # 乙 0.15 (15 fen): 10 % = 1.5 fen → 2 fen paid first (half up); 13 fen eligible, all deductible
    s = policy.split("resident", "tertiary", {"乙": 15})
    assert (s.b_first_fen, s.eligible_fen, s.deductible_fen, s.pooled_fen) == (2, 13, 13, 0)


def test_employee_and_self_pay(policy):
    # employee, secondary: deductible 600.00, 88 %, 乙 10 %. 甲 1,000.00 + 乙 1,000.00 + 丙 100.00
    # 乙 first 100.00; eligible 1,900.00; deductible 600.00; 1,300.00 × 88 % = 1,144.00 pooled
    # self-pay = 2,100.00 − 1,144.00 = 956.00 (= 100 + 100 + 600 + 156)
    s = policy.split("employee", "secondary", {"甲": 100000, "乙": 100000, "丙": 10000})
    assert (s.pooled_fen, s.selfpay_fen) == (114400, 95600)
    s = policy.split("self_pay", "tertiary", {"甲": 123456, "乙": 7, "丙": 1})
    assert s.pooled_fen == 0 and s.selfpay_fen == 123464


def test_money_helpers():
    assert mul_div_round(15, 100, 1000) == 2            # 1.5 → 2
    assert mul_div_round(-15, 100, 1000) == -2          # symmetric: away from zero
    assert mul_div_round(14, 100, 1000) == 1
    assert amount_fen(333, 1500) == 500                 # 3.33 × 1.5 = 4.995 → 5.00
    assert amount_fen(333, -1500) == -500
    assert parse_yuan("800.00") == 80000 and parse_yuan("0.5") == 50 and parse_yuan("-1.01") == -101
    assert parse_qty("1.5") == 1500
    assert fmt_fen(123456) == "1,234.56" and fmt_fen(-5) == "-0.05"
    for bad in ("1.234", "abc", "", "1.2.3"):
        with pytest.raises(ValueError):
            parse_yuan(bad)
    with pytest.raises(TypeError):
        mul_div_round(1.5, 1, 1)


BASE = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")


@pytest.mark.parametrize("old,new,needle", [
    ("[schemes.rural]", "[schemes.farmer]", "unknown scheme"),
    ("  [schemes.self_pay.tertiary]\n  deductible_fen = 0", "  [schemes.self_pay.quaternary]\n  deductible_fen = 0",
     "unknown hospital level"),
    ("deductible_fen = 80000", "deductible_fen = 800.0", "expected an integer"),
    ("deductible_fen = 80000", "deductible_fen = -1", "out of range"),
    ("{ ratio_permille = 800 }]", "{ upto_fen = 9000000, ratio_permille = 800 }]", "last band"),
    ("{ upto_fen = 5000000, ratio_permille = 750 }", "{ upto_fen = 900000, ratio_permille = 750 }", "out of range"),
    ("ratio_permille = 700 }", "ratio_permille = 1700 }", "out of range"),
    ("version = 1", "version = 2", "version"),
    ("cap_fen = 20000000\n  b_selfpay_first_permille = 100\n  bands = [{ ratio_permille = 800 }]",
     "cap_fen = 20000000\n  b_selfpay_first_permille = 100\n  ratio = 1\n  bands = [{ ratio_permille = 800 }]",
     "unknown key"),
])
def test_policy_validation_names_the_place(old, new, needle):
    assert old in BASE
    with pytest.raises(ConfigError) as exc:
        parse_policy(BASE.replace(old, new, 1), "site-policy.toml")
    assert needle in str(exc.value) and "site-policy.toml" in str(exc.value)


def test_policy_file_covers_every_scheme_and_level(policy, tmp_path):
    assert set(policy.rules) == {(s, lv) for s in SCHEMES for lv in LEVELS}
    missing = BASE[:BASE.index("[schemes.self_pay]")]
    with pytest.raises(ConfigError, match="self_pay.primary: missing"):
        parse_policy(missing)
    with pytest.raises(ConfigError, match="cannot read"):
        load_policy(tmp_path / "nope.toml")


def test_site_config_points_at_the_policy(tmp_path, store):
    from pos.hospital.service import HospitalService

    p = tmp_path / "ins.toml"
    p.write_text(BASE.replace("deductible_fen = 80000", "deductible_fen = 70000"), encoding="utf-8")
    cfg = parse_config(f'[hospital]\ninsurance_policy = "{p}"\nhospital_level = "tertiary"\nlow_balance_fen = 1000\n')
    svc = HospitalService.from_config(store, cfg)
    assert svc.policy.rule("resident", "tertiary").deductible_fen == 70000 and svc.low_balance_fen == 1000
    with pytest.raises(ConfigError, match="hospital.hospital_level"):
        parse_config('[hospital]\nhospital_level = "quaternary"\n')


totals = st.fixed_dictionaries({k: st.integers(0, 50_000_000) for k in ("甲", "乙", "丙")})


@settings(max_examples=300, deadline=None)
@given(totals, st.sampled_from(SCHEMES), st.sampled_from(LEVELS), st.integers(0, 200_000), st.integers(0, 50_000_000))
def test_split_properties(policy, t, scheme, level, ded_used, pooled_used):
    rule = policy.rule(scheme, level)
    s = policy.split(scheme, level, t, deductible_used_fen=ded_used, pooled_used_fen=pooled_used)
    assert s.pooled_fen + s.selfpay_fen == s.total_fen == sum(t.values())
    assert 0 <= s.pooled_fen <= max(0, rule.cap_fen - pooled_used)          # never above the cap
    assert s.pooled_fen <= s.eligible_fen - s.deductible_fen
    assert s.selfpay_fen >= t["丙"] + s.b_first_fen
    assert s.c_fen + s.b_first_fen + s.deductible_fen + s.copay_fen + s.over_cap_fen == s.selfpay_fen
    assert min(s.copay_fen, s.over_cap_fen, s.deductible_fen) >= 0
