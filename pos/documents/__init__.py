"""Documents as device-independent layouts: builders for every printed document.

Builders take the small input dataclasses of :mod:`pos.documents.inputs` and return a
:class:`~pos.documents.layout.Layout`; its ``to_dict()`` is what drivers render and what the print
journal stores.
"""

from .capitals import fen_to_capitals, format_yuan
from .fee_list import daily_fee_list
from .inputs import (DailyFeeListData, DepositReceiptData, FeeDay, FeeItem, SettlementData, Site, TestPageData,
                     WhereToGoData, WristbandData)
from .layout import Layout, mark_copy
from .receipt import deposit_receipt
from .service import printer_test_label, printer_test_page, where_to_go
from .settlement import settlement_list
from .wristband import wristband

__all__ = ["fen_to_capitals", "format_yuan", "Layout", "mark_copy", "deposit_receipt", "wristband",
           "daily_fee_list", "settlement_list", "printer_test_page", "printer_test_label", "where_to_go", "Site", "DepositReceiptData",
           "WristbandData", "FeeItem", "FeeDay", "DailyFeeListData", "SettlementData", "TestPageData",
           "WhereToGoData"]
