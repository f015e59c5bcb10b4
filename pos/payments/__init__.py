"""Payments: the crash-safe card-payment journal (:mod:`.service`, :mod:`.journal`) and cash at
the counter (:mod:`.cash`). See docs/payments.md."""

from .cash import CashDrawer, CashReceipt, InsufficientTender, ShiftCount
from .journal import Journal
from .service import InvalidAmount, PaymentOutcome, PaymentService, terminal_key

__all__ = ["PaymentService", "PaymentOutcome", "InvalidAmount", "Journal", "terminal_key", "CashDrawer",
           "CashReceipt", "ShiftCount", "InsufficientTender"]
