"""The cashier counter's use cases, without Kivy: patient search, the desk operations that
combine payments, cash, the hospital ledger and printing, and the shift report.

``CounterDesk(site, cashier)`` is what the counter screens call (always from a worker thread).
"""

from .desk import CounterDesk, DepositResult
from pos.hospital.search import search

__all__ = ["CounterDesk", "DepositResult", "search"]
