"""What the QR-payment provider simulators share: a real HTTP server on 127.0.0.1, an order book
with a ledger of the money that moved, the payer's phone, and a fault script.

Each provider's wire is its own module (:mod:`.qrpay_wechat`, :mod:`.qrpay_alipay`,
:mod:`.qrpay_unionpay`): it parses and signs its own format and calls the book. The simulators
check every request's signature with the merchant's credentials, as the providers do.

Test controls:

* ``phone_scans(qr_text)`` -- the payer's phone scanned the QR on the screen and pays it;
* ``script.append({"drop": "precreate"})`` -- the next call of that operation is carried out,
  then the connection is closed without a reply (the lost reply); ``{"confirm": n}`` makes the
  next payment code wait for the payer's password for ``n`` queries; ``{"decline": reason}``;
* ``ledger()`` -- every charge and refund the provider made, the test's oracle.
"""

from __future__ import annotations

import http.server
import secrets
import threading
from dataclasses import dataclass, field

__all__ = ["Order", "OrderBook", "QrPaySim"]


@dataclass
class Order:
    order_no: str
    amount_fen: int
    subject: str
    state: str = "pending"                 # pending | confirming | paid | closed | failed
    qr_text: str = ""
    transaction_id: str = ""
    confirm_left: int = 0
    refunds: dict[str, int] = field(default_factory=dict)   # refund number -> fen


class OrderBook:
    def __init__(self, prefix: str):
        self.prefix = prefix
        self.orders: dict[str, Order] = {}
        self.entries: list[dict] = []
        self.lock = threading.RLock()
        self.script: list[dict] = []

    def _take(self, key: str):
        for i, step in enumerate(self.script):
            if key in step:
                return self.script.pop(i)[key]
        return None

    def precreate(self, no: str, fen: int, subject: str, qr_base: str) -> Order:
        with self.lock:
            if no in self.orders:
                return self.orders[no]
            o = Order(no, fen, subject, qr_text=f"{qr_base}{secrets.token_hex(8)}")
            self.orders[no] = o
            return o

    def micropay(self, no: str, fen: int, subject: str, code: str) -> Order:
        with self.lock:
            if no in self.orders:                  # the same order number pays once
                return self.orders[no]
            o = Order(no, fen, subject)
            self.orders[no] = o
            decline = self._take("decline")
            confirm = self._take("confirm")
            if decline:
                o.state, o.transaction_id = "failed", decline
            elif confirm:
                o.state, o.confirm_left = "confirming", int(confirm)
            else:
                self._charge(o)
            return o

    def query(self, no: str) -> Order | None:
        with self.lock:
            o = self.orders.get(no)
            if o is not None and o.state == "confirming":
                o.confirm_left -= 1
                if o.confirm_left <= 0:
                    self._charge(o)
            return o

    def close(self, no: str) -> Order | None:
        with self.lock:
            o = self.orders.get(no)
            if o is not None and o.state in ("pending", "confirming"):
                o.state = "closed"
            return o

    def refund(self, no: str, refund_no: str, fen: int) -> tuple[Order | None, str]:
        with self.lock:
            o = self.orders.get(no)
            if o is None or o.state != "paid":
                return o, "not_paid"
            if refund_no in o.refunds:            # one refund number refunds once
                return o, "ok"
            if sum(o.refunds.values()) + fen > o.amount_fen:
                return o, "too_much"
            o.refunds[refund_no] = fen
            self.entries.append({"kind": "refund", "order_no": no, "refund_no": refund_no, "amount_fen": fen})
            return o, "ok"

    def phone_scans(self, qr_text: str) -> Order:
        with self.lock:
            for o in self.orders.values():
                if o.qr_text and o.qr_text == qr_text:
                    if o.state != "pending":
                        raise ValueError(f"order {o.order_no} is {o.state}: the phone cannot pay it")
                    self._charge(o)
                    return o
        raise KeyError(f"no order shows the QR {qr_text!r}")

    def _charge(self, o: Order) -> None:
        o.state = "paid"
        o.transaction_id = f"{self.prefix}{len(self.entries) + 1:010d}{secrets.randbelow(10**6):06d}"
        self.entries.append({"kind": "sale", "order_no": o.order_no, "amount_fen": o.amount_fen,
                             "transaction_id": o.transaction_id})


class QrPaySim:
    """Base of the provider simulators: subclasses define ``respond(method, path, headers, body)``
    returning ``(operation, status, content_type, body_bytes)``."""

    def __init__(self, prefix: str):
        self.book = OrderBook(prefix)
        self.script = self.book.script
        self.requests: list[tuple[str, str]] = []
        sim = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_a):
                pass

            def _serve(self, method):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                op, status, ctype, out = sim.respond(method, self.path, self.headers, body)
                sim.requests.append((op, self.path))
                with sim.book.lock:
                    drop = [s for s in sim.script if s.get("drop") == op]
                    if drop:
                        sim.script.remove(drop[0])
                if drop:
                    self.close_connection = True       # carried out, reply lost
                    return
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def do_POST(self):
                self._serve("POST")

            def do_GET(self):
                self._serve("GET")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"qrsim-{prefix}", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def respond(self, method: str, path: str, headers, body: bytes):   # pragma: no cover - abstract
        raise NotImplementedError

    def phone_scans(self, qr_text: str) -> Order:
        return self.book.phone_scans(qr_text)

    def ledger(self) -> list[dict]:
        with self.book.lock:
            return list(self.book.entries)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
