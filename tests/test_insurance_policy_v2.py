"""The platform-model policy engine in detail: rounding at every half fen, the per-line split, the
deductible rules, the figures' sources and validity dates, and the v2 table checks."""

from __future__ import annotations

import pytest

from pos.errors import ConfigError
from pos.hospital.policy import (CITY_POLICIES, SETL_FIELDS, Insured, Line, fmt_price_uyuan, fmt_qty_e4,
                                 line_amount_fen, load_policy, parse_policy, settle_lines)

Y, Q = 1_000_000, 10_000
BJ = load_policy("beijing")
SH = load_policy("shanghai")


def test_line_amounts_round_half_away_from_zero_at_every_half_fen():
    # 1 fen = 10,000 µ¥: 0.015 yuan × 1 = 1.5 fen → 2; 0.005 × 1 = 0.5 → 1; 0.025 × 1 = 2.5 → 3 (not 2)
    assert [line_amount_fen(p, Q) for p in (15_000, 5_000, 25_000, 35_000)] == [2, 1, 3, 4]
    assert [line_amount_fen(p, -Q) for p in (15_000, 5_000, 25_000)] == [-2, -1, -3]   # a reversal mirrors it
    assert line_amount_fen(14_999, Q) == 1 and line_amount_fen(45 * Y, Q // 2) == 2250   # 45.00 × 0.5
    assert line_amount_fen(333_333, 3 * Q) == 100                                        # 0.999999 yuan
    assert line_amount_fen(3_333_333, Q // 2) == 167                                     # 1.6666665 yuan


def test_each_step_rounds_half_away_from_zero():
    rule = BJ.rule("resident", "tertiary")       # 75 %, 乙 10 % first, annual deductible 1,300.00
    # 乙 15 fen: 10 % = 1.5 → 2 first; 25 fen: 2.5 → 3 (half-to-even would give 2)
    s = settle_lines(rule, [Line("a", "乙", 150_000, Q), Line("b", "乙", 250_000, Q)], Insured("resident"))
    assert [sp.preselfpay_amt for sp in s.lines] == [2, 3]
    # band: 1,300.02 in policy, 0.02 above the deductible × 75 % = 1.5 fen → 2
    s = settle_lines(rule, [Line("a", "甲", 1_300_020_000, Q)], Insured("resident"))
    assert s.inscp_scp_amt == 130002 and s.hifp_pay == 2
    # the halved deductible of a later stay: an odd fen halves to .5 and rounds up
    odd = parse_policy(CITY_POLICIES["beijing"].read_text(encoding="utf-8").replace("fen = 130000", "fen = 130001"))
    s = settle_lines(odd.rule("employee", "tertiary"), [Line("a", "甲", 1000 * Y, Q)],
                     Insured("employee", admissions_before=1))
    assert s.dedc_std == 65001                                 # 1,300.01 × 50 % = 650.005 → 650.01


def test_setl_names_the_platforms_fields():
    s = BJ.settle("tertiary", [Line("a", "甲", 10000 * Y, Q)], Insured("employee"))
    assert tuple(s.setlinfo()) == SETL_FIELDS
    assert {"medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
            "act_pay_dedc", "hifp_pay", "pool_prop_selfpay", "cvlserv_pay", "hifmi_pay", "acct_pay",
            "psn_cash_pay", "fund_pay_sumamt"} <= set(SETL_FIELDS)


def test_annual_and_per_admission_deductibles():
    bj = BJ.rule("employee", "tertiary")
    first = settle_lines(bj, [Line("a", "甲", 10000 * Y, Q)], Insured("employee", deductible_paid_fen=130000))
    assert first.act_pay_dedc == 130000          # per admission: what the year paid does not count
    sh = SH.rule("employee", "tertiary")
    later = settle_lines(sh, [Line("a", "甲", 10000 * Y, Q)], Insured("employee", admissions_before=3,
                                                                      deductible_paid_fen=150000))
    assert later.act_pay_dedc == 0               # annual: paid once a year


def test_every_figure_has_a_source_and_a_start_date():
    for pol in (BJ, SH):
        for rule in pol.rules.values():
            for figs in (rule.deductible, rule.cap, *(b.ratio for b in rule.bands)):
                for f in figs.entries:
                    assert f.source and f.valid_from and ("《" in f.source or "局" in f.source)
    assert "第三十二條" in BJ.rule("employee", "tertiary").bands[0].ratio.source("2026-01-01")


def test_a_figure_outside_its_dates_is_refused():
    text = CITY_POLICIES["shanghai"].read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match="no value valid on 2020-01-01"):
        SH.settle("tertiary", [Line("a", "甲", 10000 * Y, Q)], Insured("employee"), day="2020-01-01")
    # a new figure from a date on, the old one until it: the settlement day picks
    text2 = text.replace('deductible = { fen = 150000, source = "SH-EMP 在職職工住院起付標準1500元", from = 2023-04-01 }',
                         'deductible = [{ fen = 150000, source = "SH-EMP 在職", from = 2023-04-01, until = 2027-01-01 },'
                         ' { fen = 160000, source = "SH-EMP 在職 (新)", from = 2027-01-01 }]')
    assert text2 != text
    pol = parse_policy(text2)
    ln = [Line("a", "甲", 10000 * Y, Q)]
    assert pol.settle("tertiary", ln, Insured("employee"), day="2026-12-31").act_pay_dedc == 150000
    assert pol.settle("tertiary", ln, Insured("employee"), day="2027-01-01").act_pay_dedc == 160000


@pytest.mark.parametrize("old,new,needle", [
    ('source = "BJ-IN 一個年度內首次住院起付標準1300元", ', "", "needs its public source"),
    ('source = "BJ-IN 一個年度內首次住院起付標準1300元"', 'source = "XX-NOPE 1300"', "not listed in [sources]"),
    (', from = 2001-04-01 }\n  [[schemes.employee.tertiary.bands]]', ' }\n  [[schemes.employee.tertiary.bands]]',
     "valid from"),
    ('deductible_rule = "per_admission"', 'deductible_rule = "weekly"', "annual or per_admission"),
    ('account_pays = ["inscp", "preselfpay"]', 'account_pays = ["everything"]', "account_pays"),
    ("\n[sources]\n", "\n[sourcez]\n", "[sources] is missing"),
])
def test_v2_validation_names_the_place(old, new, needle):
    text = CITY_POLICIES["beijing"].read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(ConfigError) as exc:
        parse_policy(text.replace(old, new, 1), "bj.toml")
    assert needle in str(exc.value) and "bj.toml" in str(exc.value)


def test_exact_price_and_quantity_texts():
    assert [fmt_qty_e4(q) for q in (5000, 25000, 10000, 3333, -5000)] == ["0.5", "2.5", "1", "0.3333", "-0.5"]
    assert [fmt_price_uyuan(p) for p in (333_333, 45 * Y, 1_500_000, 15_000)] == \
        ["0.333333", "45.00", "1.50", "0.015"]
