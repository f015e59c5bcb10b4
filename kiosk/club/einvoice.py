"""The e-invoice provider adapter: submits the club's fapiao requests and polls their status over
HTTP (httpx), moving each request on in the store (:class:`pos.club.einvoice.FapiaoRequests`).

The wire is modelled on Nuonuo's ``requestBillingNew`` / ``queryInvoiceResult`` (as the research
notes describe them): an order with ``orderNo`` (unique: our ULID), ``buyerName``,
``buyerTaxNum``, ``invoiceLine`` (``pc`` 数电普票, ``bs`` 数电专票) and its lines with
tax-included amounts as yuan strings; code ``E0000`` = taken, ``E9106`` = duplicate order number
(it did arrive: poll it); status ``20`` = issuing, ``2`` = issued (number, PDF), ``22`` = failed
(with the cause). A real provider's signing and token are its own adapter's business; this one
speaks to :mod:`kiosk.club.einvoice_sim` in tests and the demo.

Anything without an answer (timeout, connection reset, a 5xx) leaves the request *in doubt*: it
is submitted again with the same order number, never given up as failed.
"""

from __future__ import annotations

import logging

import httpx

from pos.club.einvoice import FapiaoRequests

__all__ = ["ProviderClient", "run_once", "yuan", "CATERING_VAT"]

log = logging.getLogger(__name__)

CATERING_VAT = "0.06"            # catering services, general taxpayer


def yuan(fen: int) -> str:
    """Integer fen as the provider's yuan string: ``38800`` -> ``'388.00'`` (no float)."""
    if type(fen) is not int or fen < 0:
        raise ValueError(f"fen must be a non-negative integer: {fen!r}")
    return f"{fen // 100}.{fen % 100:02d}"


class ProviderClient:
    def __init__(self, base_url: str, *, timeout: float = 5.0, client: httpx.Client | None = None):
        self.base = base_url.rstrip("/")
        self.http = client or httpx.Client(timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def _post(self, path: str, body: dict) -> dict | None:
        try:
            r = self.http.post(f"{self.base}{path}", json=body)
        except httpx.HTTPError as exc:
            log.warning("e-invoice %s: no answer (%s: %s)", path, type(exc).__name__, exc)
            return None
        if r.status_code >= 500:
            log.warning("e-invoice %s: HTTP %s", path, r.status_code)
            return None
        try:
            return r.json()
        except ValueError:
            log.warning("e-invoice %s: HTTP %s with a body that is not JSON", path, r.status_code)
            return None

    def submit(self, req: dict) -> tuple[str, str]:
        """(event, reason) for :meth:`FapiaoRequests.record`."""
        body = {"order": {
            "orderNo": req["order_no"], "buyerName": req["buyer_name"], "buyerTaxNum": req["buyer_tax_no"],
            "invoiceLine": req["kind"],
            "invoiceDetail": [{"goodsName": "餐饮服务" if req["purpose"] == "bill" else "预付卡销售",
                               "taxIncludedAmount": yuan(req["amount_fen"]),
                               "taxRate": CATERING_VAT if req["purpose"] == "bill" else "0"}],
        }}
        answer = self._post("/invoice/submit", body)
        if answer is None:
            return "no_answer", ""
        code = answer.get("code", "")
        if code == "E0000":
            return "accepted", ""
        if code == "E9106":
            return "duplicate", ""
        return "rejected", f"{code}: {answer.get('describe', '')}"

    def query(self, order_no: str) -> tuple[str, dict] | None:
        """(event, details) after a status query, or None when the provider did not answer."""
        answer = self._post("/invoice/query", {"orderNos": [order_no]})
        if answer is None or answer.get("code") != "E0000":
            return None
        found = [r for r in answer.get("result", []) if r.get("orderNo") == order_no]
        if not found:
            return "unknown", {}
        r = found[0]
        status = str(r.get("status"))
        if status == "2":
            return "issued", {"invoice_no": r.get("invoiceNo", ""), "pdf_url": r.get("pdfUrl", "")}
        if status == "22":
            return "failed", {"reason": r.get("failCause", "") or "22"}
        return "issuing", {}


def run_once(requests: FapiaoRequests, client: ProviderClient) -> list[dict]:
    """One pass over the open requests: submit the new and the in-doubt ones, poll the submitted."""
    changed = []
    for row in requests.open():
        if row["state"] in ("intent", "in_doubt"):
            event, reason = client.submit(row)
            changed.append(requests.record(row["order_no"], event, reason=reason))
        else:
            answer = client.query(row["order_no"])
            if answer is None:
                continue
            event, details = answer
            if event != "issuing":
                changed.append(requests.record(row["order_no"], event, **details))
    return changed
