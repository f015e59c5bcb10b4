"""A simulated e-invoice provider (Starlette), speaking the wire of :mod:`kiosk.club.einvoice`.

Orders are kept in memory by order number. A submitted order is ``20`` (issuing) for
``issue_after`` status queries, then ``2`` with a 20-digit number and a PDF link, or ``22`` when
the buyer's title is in ``fail_buyers``. An order number seen before answers ``E9106``. Faults for
tests: ``slow_next`` holds the next submit's reply for ``slow_seconds`` after storing it (the
client's timeout fires: a reply lost on the way).
"""

from __future__ import annotations

import threading
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["ProviderSim"]


class ProviderSim:
    def __init__(self, issue_after: int = 1, fail_buyers: tuple[str, ...] = ()):
        self.issue_after = issue_after
        self.fail_buyers = set(fail_buyers)
        self.orders: dict[str, dict] = {}
        self.submits = 0
        self.slow_next = False
        self.slow_seconds = 1.5
        self._lock = threading.Lock()
        self._numbers = 0
        self.app = Starlette(routes=[Route("/invoice/submit", self.submit, methods=["POST"]),
                                     Route("/invoice/query", self.query, methods=["POST"])])

    async def submit(self, request: Request):
        order = (await request.json()).get("order") or {}
        no = str(order.get("orderNo", ""))
        if not no or not order.get("buyerName") or order.get("invoiceLine") not in ("pc", "bs"):
            return JSONResponse({"code": "E9101", "describe": "参数错误"})
        if order["invoiceLine"] == "bs" and not order.get("buyerTaxNum"):
            return JSONResponse({"code": "E9102", "describe": "数电专票购方税号必填"})
        with self._lock:
            self.submits += 1
            if no in self.orders:
                return JSONResponse({"code": "E9106", "describe": "订单编号重复"})
            self.orders[no] = {"order": order, "polls": 0, "status": "20"}
            slow, self.slow_next = self.slow_next, False
        if slow:
            import asyncio
            await asyncio.sleep(self.slow_seconds)
        return JSONResponse({"code": "E0000", "describe": "开票提交成功", "result": {"invoiceSerialNum": no}})

    async def query(self, request: Request):
        out = []
        for no in (await request.json()).get("orderNos", []):
            with self._lock:
                o = self.orders.get(no)
                if o is None:
                    continue
                o["polls"] += 1
                if o["status"] == "20" and o["polls"] > self.issue_after:
                    if o["order"]["buyerName"] in self.fail_buyers:
                        o["status"], o["failCause"] = "22", "购方名称与税号不匹配"
                    else:
                        self._numbers += 1
                        o["status"] = "2"
                        o["invoiceNo"] = f"{time.strftime('%y')}{self._numbers:018d}"
                        o["pdfUrl"] = f"https://sim.invalid/pdf/{no}.pdf"
                out.append({"orderNo": no, "status": o["status"], "invoiceNo": o.get("invoiceNo", ""),
                            "pdfUrl": o.get("pdfUrl", ""), "failCause": o.get("failCause", ""),
                            "amount": o["order"]["invoiceDetail"][0]["taxIncludedAmount"]})
        return JSONResponse({"code": "E0000", "result": out})

    def issued(self) -> list[dict]:
        with self._lock:
            return [o for o in self.orders.values() if o["status"] == "2"]
