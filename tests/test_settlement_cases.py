"""Settlement cases worked by hand from the public policy tables shipped in
assets/config/insurance-{beijing,shanghai}.toml, each taken through the counter's own path
(register, deposit, charges, pre-settle, settle, refund or collect, settlement list, discharge),
against the simulated platform in process and behind its HTTP interface on a socket.

Units: prices in micro-yuan (Y = one yuan), quantities in ten-thousandths (Q = one unit), money in
fen. Rounding: half away from zero to the fen, per line (2301) and per band.

Beijing employee, tertiary (BJ-E3): deductible 1,300.00 per admission, 650.00 from the 2nd stay of
the year; bands on the in-policy amount: up to 30,000 85 % (retiree 91 %), 30,000-40,000 90 %
(94 %), above 95 % (97 %); the pooled fund pays at most 100,000.00 a year, above that the 大額 fund
pays 85 % (retiree 90 %); the account pays the in-policy personal share and 乙 self-pay-first.
Beijing resident, tertiary (BJ-R3): annual deductible 1,300.00, 75 %, cap 250,000.00, 大病 60 %.
Shanghai employee (SH-E): annual deductible 1,500.00 (retiree 1,200.00), 85 % (retiree 92 %) above
it, cap 590,000.00; the account may pay every personal part. Shanghai resident, tertiary (SH-R3):
annual deductible 1,500.00, 60 %, cap 100,000.00, 大病 60 %. 乙 pays 10 % first everywhere.
"""

from __future__ import annotations

import pytest

from pos.hospital.policy import SETL_FIELDS

from ._settlement import Case, World, run

Y, Q = 1_000_000, 10_000


def bed(amount_yuan: int, code="B01"):
    return (code, "甲", amount_yuan * Y, Q, None, None)


CASES = [
    # 1. BJ-E3 first stay. 甲 10,000.00: in policy 10,000.00; deductible 1,300.00;
    #    8,700.00 × 85 % = 7,395.00 pooled; patient 2,605.00; deposit 5,000.00 → refund 2,395.00
    Case("bj_employee_first_stay", "beijing", "employee", [bed(10000)],
         {"medfee_sumamt": 1000000, "inscp_scp_amt": 1000000, "act_pay_dedc": 130000, "hifp_pay": 739500,
          "fund_pay_sumamt": 739500, "psn_part_amt": 260500, "acct_pay": 0, "psn_cash_pay": 260500},
         refund=239500, deposits=[("cash", 500000)]),
    # 2. BJ-E3 second stay of the year: deductible 1,300.00 × 50 % = 650.00;
    #    9,350.00 × 85 % = 7,947.50; patient 2,052.50; deposit 3,000.00 → refund 947.50
    Case("bj_employee_second_admission", "beijing", "employee", [bed(10000)],
         {"dedc_std": 65000, "act_pay_dedc": 65000, "hifp_pay": 794750, "psn_cash_pay": 205250},
         refund=94750, deposits=[("cash", 300000)], person={"admissions_this_year": 1}),
    # 3. BJ-E3 retiree: 8,700.00 × 91 % = 7,917.00; patient 2,083.00; card 3,000.00 → 917.00 to the card
    Case("bj_retiree", "beijing", "employee", [bed(10000)],
         {"hifp_pay": 791700, "pool_prop_selfpay": 910, "psn_cash_pay": 208300},
         refund=91700, deposits=[("card", 300000)], person={"retiree": True}),
    # 4. BJ-E3 three bands: 甲 50,000.00: 28,700 × 85 % = 24,395.00; 10,000 × 90 % = 9,000.00;
    #    10,000 × 95 % = 9,500.00 → 42,895.00; patient 7,105.00; deposit 10,000.00 → refund 2,895.00
    Case("bj_employee_three_bands", "beijing", "employee", [bed(50000)],
         {"hifp_pay": 4289500, "pool_prop_selfpay": 950, "psn_cash_pay": 710500},
         refund=289500, deposits=[("cash", 1000000)]),
    # 5. BJ-E3 cap crossed mid-stay: 95,000.00 paid this year → 5,000.00 of room. The band would pay
    #    7,395.00: pooled 5,000.00, which covers 5,000.00 / 85 % = 5,882.35 of the amount; the other
    #    8,700.00 − 5,882.35 = 2,817.65 goes to the 大額 fund at 85 % = 2,395.0025 → 2,395.00;
    #    funds 7,395.00; patient 2,605.00; deposit 3,000.00 → refund 395.00
    Case("bj_cap_crossed_mid_stay", "beijing", "employee", [bed(10000)],
         {"hifp_pay": 500000, "hifob_pay": 239500, "fund_pay_sumamt": 739500, "psn_cash_pay": 260500},
         refund=39500, deposits=[("cash", 300000)], person={"pooled_used_fen": 9500000}),
    # 6. BJ-R3 cap already used up (250,000.00 paid, deductible paid): 甲 10,000.00 in policy,
    #    no deductible; pooled 0; 大病 10,000.00 × 60 % = 6,000.00; patient 4,000.00; 5,000.00 → 1,000.00
    Case("bj_resident_cap_used_up", "beijing", "resident", [bed(10000)],
         {"act_pay_dedc": 0, "hifp_pay": 0, "hifmi_pay": 600000, "psn_cash_pay": 400000},
         refund=100000, deposits=[("cash", 500000)],
         person={"pooled_used_fen": 25000000, "deductible_used_fen": 130000}),
    # 7. price cap on 甲: 120.00 × 3 capped at 100.00 → amount 360.00, over the cap 60.00, in
    #    policy 300.00; with 甲 9,700.00: in policy 10,000.00 → pooled 7,395.00; total 10,060.00;
    #    patient 2,665.00; deposit 3,000.00 → refund 335.00
    Case("price_cap_on_jia", "beijing", "employee", [bed(9700), ("J01", "甲", 120 * Y, 3 * Q, 100 * Y, None)],
         {"medfee_sumamt": 1006000, "overlmt_selfpay": 6000, "inscp_scp_amt": 1000000, "hifp_pay": 739500,
          "psn_cash_pay": 266500}, refund=33500, deposits=[("cash", 300000)]),
    # 8. price cap on 乙: 50.00 × 10 capped at 40.00 → 500.00, over 100.00, rest 400.00, 10 % first
    #    40.00, in policy 360.00; with 甲 9,640.00 in policy 10,000.00 → 7,395.00; total 10,140.00;
    #    patient 2,745.00 (100 + 40 + 1,300 + 1,305); deposit 3,000.00 → refund 255.00
    Case("price_cap_on_yi", "beijing", "employee", [bed(9640), ("Y01", "乙", 50 * Y, 10 * Q, 40 * Y, None)],
         {"overlmt_selfpay": 10000, "preselfpay_amt": 4000, "inscp_scp_amt": 1000000, "psn_cash_pay": 274500},
         refund=25500, deposits=[("cash", 300000)]),
    # 9. account smaller than the in-policy self-pay: balance 500.00 against 2,605.00 → account
    #    500.00, cash 2,105.00, balance left 0; deposit 3,000.00 → refund 895.00
    Case("account_smaller_than_selfpay", "beijing", "employee", [bed(10000)],
         {"psn_part_amt": 260500, "acct_pay": 50000, "psn_cash_pay": 210500, "balc": 0},
         refund=89500, deposits=[("cash", 300000)], person={"acct_balance_fen": 50000}),
    # 10. BJ account pays the in-policy share (2,605.00), not 丙 1,000.00: balance 5,000.00 →
    #    account 2,605.00, cash 1,000.00 = the deposit: nothing to refund or collect
    Case("account_not_for_bing_in_beijing", "beijing", "employee", [bed(10000), ("C01", "丙", 1000 * Y, Q, None, None)],
         {"fulamt_ownpay_amt": 100000, "acct_pay": 260500, "psn_cash_pay": 100000, "balc": 239500},
         deposits=[("cash", 100000)], person={"acct_balance_fen": 500000}),
    # 11. SH-E account pays every personal part: 甲 10,000.00 + 丙 1,000.00; deductible 1,500.00;
    #    8,500.00 × 85 % = 7,225.00; patient 3,775.00 all from the account (balance 10,000.00);
    #    cash 0; the whole deposit 2,000.00 back
    Case("sh_account_pays_everything", "shanghai", "employee", [bed(10000), ("C01", "丙", 1000 * Y, Q, None, None)],
         {"act_pay_dedc": 150000, "hifp_pay": 722500, "acct_pay": 377500, "psn_cash_pay": 0, "balc": 622500},
         refund=200000, deposits=[("cash", 200000)], person={"acct_balance_fen": 1000000}),
    # 12. SH-E annual deductible, 1,000.00 already paid this year: 500.00 left; 9,500.00 × 85 % =
    #    8,075.00; patient 1,925.00; card 2,000.00 → 75.00 back to the card
    Case("sh_annual_deductible_partly_paid", "shanghai", "employee", [bed(10000)],
         {"act_pay_dedc": 50000, "hifp_pay": 807500, "psn_cash_pay": 192500},
         refund=7500, deposits=[("card", 200000)], person={"deductible_used_fen": 100000}),
    # 13. SH-E retiree: deductible 1,200.00; 8,800.00 × 92 % = 8,096.00; patient 1,904.00;
    #    card 2,000.00 → 96.00 back
    Case("sh_retiree", "shanghai", "employee", [bed(10000)],
         {"dedc_std": 120000, "hifp_pay": 809600, "psn_cash_pay": 190400},
         refund=9600, deposits=[("card", 200000)], person={"retiree": True}),
    # 14. uninsured: 甲 1,000.00 + 乙 500.00 + 丙 200.00 all out of policy (fulamt 1,700.00), no
    #    deductible, no fund; deposit 1,000.00 → collect 700.00
    Case("uninsured", "beijing", "self_pay",
         [bed(1000), ("Y02", "乙", 500 * Y, Q, None, None), ("C02", "丙", 200 * Y, Q, None, None)],
         {"fulamt_ownpay_amt": 170000, "preselfpay_amt": 0, "inscp_scp_amt": 0, "act_pay_dedc": 0,
          "fund_pay_sumamt": 0, "psn_cash_pay": 170000}, collect=70000, deposits=[("cash", 100000)]),
    # 15. green channel, no deposit, BJ-R3: 甲 5,000.00; 3,700.00 × 75 % = 2,775.00; patient
    #    2,225.00 collected at discharge
    Case("green_channel_no_deposit", "beijing", "resident", [bed(5000)],
         {"hifp_pay": 277500, "psn_cash_pay": 222500}, collect=222500, deposits=None),
    # 16. a cash deposit of 3,000.00 reversed (沖銷, supervisor) and paid again; case 1's stay:
    #    patient 2,605.00; 3,000.00 → refund 395.00
    Case("reversed_cash_deposit_paid_again", "beijing", "employee", [bed(10000)],
         {"psn_cash_pay": 260500}, refund=39500, deposits=[("cash", 300000)], reverse_first=True),
    # 17. the same with a card deposit: reversed on the terminal, paid again by card; 395.00 back to it
    Case("reversed_card_deposit_paid_again", "beijing", "employee", [bed(10000)],
         {"psn_cash_pay": 260500}, refund=39500, deposits=[("card", 300000)], reverse_first=True),
    # 18. 1/3-yuan prices and half quantities, BJ-R3: 乙 3.333333 × 0.5 = 1.6666665 → 1.67, 10 % first
    #    0.167 → 0.17, in policy 1.50; 甲 0.333333 × 3 = 0.999999 → 1.00; 甲 2,000.00. Total 2,002.67;
    #    in policy 2,002.50; deductible 1,300.00; 702.50 × 75 % = 526.875 → 526.88; patient 1,475.79;
    #    deposit 1,500.00 → refund 24.21
    Case("third_yuan_prices_half_quantities", "beijing", "resident",
         [("Y03", "乙", 3_333_333, Q // 2, None, None), ("J03", "甲", 333_333, 3 * Q, None, None), bed(2000)],
         {"medfee_sumamt": 200267, "preselfpay_amt": 17, "inscp_scp_amt": 200250, "hifp_pay": 52688,
          "psn_cash_pay": 147579}, refund=2421, deposits=[("cash", 150000)]),
    # 19. half quantities, BJ-E3: 45.00 × 0.5 = 22.50; 45.00 × 2.5 = 112.50; 甲 10,000.00; in policy
    #    10,135.00; 8,835.00 × 85 % = 7,509.75; patient 2,625.25; deposit 3,000.00 → refund 374.75
    Case("half_quantities", "beijing", "employee",
         [("B02", "甲", 45 * Y, Q // 2, None, None), ("B03", "甲", 45 * Y, 5 * Q // 2, None, None), bed(10000)],
         {"medfee_sumamt": 1013500, "hifp_pay": 750975, "psn_cash_pay": 262525},
         refund=37475, deposits=[("cash", 300000)]),
    # 20. half a fen on each rounding, BJ-R3: 甲 0.015 × 1 = 1.5 fen → 2; 乙 0.15: 10 % = 1.5 fen → 2
    #    first, 13 in policy; 甲 2,000.00. Total 2,000.17; in policy 2,000.15; 700.15 × 75 % = 525.1125
    #    → 525.11; patient 1,475.06; deposit 1,500.00 → refund 24.94
    Case("half_fen_everywhere", "beijing", "resident",
         [("J04", "甲", 15_000, Q, None, None), ("Y04", "乙", 150_000, Q, None, None), bed(2000)],
         {"medfee_sumamt": 200017, "preselfpay_amt": 2, "inscp_scp_amt": 200015, "hifp_pay": 52511,
          "psn_cash_pay": 147506}, refund=2494, deposits=[("cash", 150000)]),
    # 21. SH-R3 above the cap, part: deductible paid, 99,000.00 used → 1,000.00 room; 甲 10,000.00
    #    would pay 6,000.00: pooled 1,000.00 covering 1,000 / 60 % = 1,666.67; the other 8,333.33
    #    × 60 % = 4,999.998 → 5,000.00 from 大病; patient 4,000.00; deposit 5,000.00 → refund 1,000.00
    Case("sh_resident_cap_crossed", "shanghai", "resident", [bed(10000)],
         {"hifp_pay": 100000, "hifmi_pay": 500000, "psn_cash_pay": 400000}, refund=100000,
         deposits=[("cash", 500000)], person={"pooled_used_fen": 9900000, "deductible_used_fen": 150000}),
    # 22. BJ-E3 third stay, 乙 in it: 甲 3,000.00 + 乙 2,000.00 (200.00 first); in policy 4,800.00;
    #    deductible 650.00; 4,150.00 × 85 % = 3,527.50; patient 1,472.50; card 1,000.00 → collect 472.50
    Case("bj_third_stay_collect", "beijing", "employee", [bed(3000), ("Y05", "乙", 2000 * Y, Q, None, None)],
         {"preselfpay_amt": 20000, "act_pay_dedc": 65000, "hifp_pay": 352750, "psn_cash_pay": 147250},
         collect=47250, deposits=[("card", 100000)], person={"admissions_this_year": 2}),
    # 23. refund during the stay: deposit 5,000.00, 1,000.00 back in cash before the charges; case 1's
    #    patient share 2,605.00 against the net 4,000.00 → refund 1,395.00
    Case("refund_during_the_stay", "beijing", "employee", [bed(10000)],
         {"psn_cash_pay": 260500}, refund=139500, deposits=[("cash", 500000)], in_stay_refund=100000),
    # 24. refund over two cards: card 2,000.00 + card 2,000.00; 甲 2,000.00: 700.00 × 85 % = 595.00;
    #    patient 1,405.00; 2,595.00 back: 2,000.00 to the newer card (reversal), 595.00 to the older
    Case("refund_over_two_cards", "beijing", "employee", [bed(2000)],
         {"hifp_pay": 59500, "psn_cash_pay": 140500}, refund=259500, deposits=[("card", 200000), ("card", 200000)]),
]


@pytest.fixture(params=["in_process", "http"])
def transport(request):
    return request.param


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_through_the_counter(tmp_path, case, transport):
    w = World(tmp_path, case.city, case.level, http=transport == "http")
    try:
        got = run(w, case)
    finally:
        w.close()
    pre, st = got["pre"], got["st"]
    info = st["setlinfo"]
    for k, v in case.expect.items():
        assert info[k] == v, (k, info[k], v)
    # the platform's own pre-settlement (2303), figure for figure what 2304 then settles
    if case.scheme != "self_pay":
        assert pre["source"] == "platform:2303" and pre["setlinfo"] == {k: info[k] for k in SETL_FIELDS}
    else:
        assert pre["source"] == "local" and "uninsured" in pre["reason"]
    # funds + account + cash = total, to the fen; refund and collection never both
    assert info["fund_pay_sumamt"] + info["acct_pay"] + info["psn_cash_pay"] == info["medfee_sumamt"]
    assert (st["refund_fen"], st["collect_fen"]) == (case.refund, case.collect)
    assert (pre["refund_fen"], pre["collect_fen"]) == (case.refund, case.collect)
    assert got["refunded"]["card"] + got["refunded"]["cash"] == case.refund
    if case.refund and all(m == "card" for m, _ in case.deposits or []) and not case.reverse_first:
        assert got["refunded"]["card"] == case.refund          # back to the cards, no cash needed
    # the settlement list says what the ledger says; the stay is discharged with a zero balance
    L = got["listing"]
    assert L.pooled_fen == st["pooled_fen"] and L.acct_fen == info["acct_pay"] and L.cash_fen == info["psn_cash_pay"]
    assert L.balance_fen == case.refund - case.collect
    assert got["balance"] == 0 and got["state"] == "discharged"
    assert got["print"].ok, got["print"]
    if case.in_stay_refund:
        assert L.refunded_fen == case.in_stay_refund and L.net_deposits_fen == 500000 - case.in_stay_refund
    if case.reverse_first:
        assert len(L.receipts_voided) == 1 and len(L.receipts_taken_back) == 1
        assert got["prints"][0].ok
