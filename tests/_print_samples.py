"""Sample documents for the printing tests (shared by several test files)."""

from __future__ import annotations

from pos.documents import (DailyFeeListData, DepositReceiptData, FeeDay, FeeItem, SettlementData, Site,
                           TestPageData, WhereToGoData, WristbandData)

SITE = Site("第一人民医院", counter_window="3")
SITE_HANT = Site("第一人民醫院", counter_window="3", lang="zh-Hant")

FULL_PAN = "6222021234567890123"

RECEIPT = DepositReceiptData(receipt_no="KTEST-000001", patient_name="张三", inpatient_no="ZY2026000123",
                             amount_fen=100000, method="card", operator_id="KTEST", paid_at="2026-11-28T02:15:00Z",
                             card_masked=FULL_PAN, terminal_ref="000123", ward="内科一病区")

WRISTBAND = WristbandData(name="张三", sex="M", age="45", inpatient_no="ZY2026000123", ward="内科一病区", bed="12",
                          admitted_on="2026-11-28", allergy="青霉素")

FEES = DailyFeeListData(
    patient_name="张三", inpatient_no="ZY2026000123", ward="内科一病区", bed="12", deposits_fen=300000,
    printed_at="2026-11-29T12:00:00Z",
    days=(
        FeeDay("2026-11-28", (FeeItem("床位费", "三人间", 5000, 1, "甲"),
                              FeeItem("头孢呋辛钠注射液", "0.75g*1支", 1250, 4, "乙"),
                              FeeItem("血常规", "五分类", 2500, 1, "甲"))),
        FeeDay("2026-11-29", (FeeItem("床位费", "三人间", 5000, 1, "甲"),
                              FeeItem("进口营养液", "500ml", 18800, 2, "丙"))),
    ),
)
# day 1: 5000 + 5000 + 2500 = 12500; day 2: 5000 + 37600 = 42600; total 55100; balance 244900

SETTLEMENT = SettlementData(settlement_no="KTEST-S00001", patient_name="张三", inpatient_no="ZY2026000123",
                            admitted_on="2026-11-28", discharged_on="2026-12-02",
                            totals_by_category={"甲": 120000, "乙": 80000, "丙": 30000}, pooled_fen=150000,
                            deposits_fen=100000, receipts_taken_back=("KTEST-000001",),
                            settled_at="2026-12-02T03:00:00Z", operator_id="C001")
# total 230000, self-pay 80000, refund 20000

TEST_PAGE = TestPageData(printer_url="escpos+tcp://127.0.0.1:9100", profile="cn80", model="sim",
                         code_page="GB18030", printed_at="2026-11-28T02:15:00Z")

WHERE = WhereToGoData(message="请到3号窗口领取收据", message_en="Please collect your receipt at window 3",
                      window="3", reference="KTEST-000001", printed_at="2026-11-28T02:15:00Z")
