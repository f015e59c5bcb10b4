"""ZVT device logic: :class:`ZvtTerminal` implements :class:`drivers.payment.PaymentTerminal`
over any link (:class:`~drivers.zvt.transport.TcpLink` or :class:`~drivers.zvt.transport.SerialLink`).

A transaction: we send the command; the terminal acknowledges (80 00) or refuses (84 xx, nothing
done: :class:`NotSent` / :class:`TerminalBusy`); then it sends intermediate status (04 FF), print
lines (06 D1 / 06 D3), status information (04 0F) and finally completion (06 0F) or abort
(06 1E). We acknowledge each with 80 00. The T4 timeout restarts with every message. Once the
command has gone out, any timeout, lost connection or garbage raises
:class:`~drivers.errors.PaymentInDoubt`: the caller must recover, never resend.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from ..base import Device
from ..errors import DeviceError, PaymentInDoubt, ProtocolError, TerminalBusy
from ..payment import EndOfDayResult, NotSent, PaymentResult, StatusCallback, StatusMessage
from ..pci import redact
from ..status import DeviceStatus
from ..url import DeviceURL
from . import messages as m
from .apdu import Apdu
from .bmp import parse_bmps

__all__ = ["ZvtTerminal", "decode_status_info", "print_lines"]

log = logging.getLogger(__name__)


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def print_lines(apdu: Apdu) -> list[str]:
    """Receipt text of a 06 D1 (attribute byte + text) or 06 D3 (TLV: tag 07 = a line), redacted."""
    if apdu.code == m.PRINT_LINE:
        return [redact(_text(apdu.data[1:]).rstrip("\x00"))] if apdu.data else []
    lines: list[str] = []
    fields = parse_bmps(apdu.data)

    def walk(items):
        for tag, value in items:
            if isinstance(value, list):
                walk(value)
            elif tag == 0x07:
                lines.append(redact(_text(value).rstrip("\x00")))

    walk(fields.get("tlv", []))
    return lines


def decode_status_info(data: bytes) -> dict:
    """04 0F fields we keep: amount, trace, receipt, TID, auth code, masked PAN, brand, result."""
    f = parse_bmps(data)
    out: dict = {}
    if "amount" in f:
        out["amount_fen"] = int(f["amount"])
    for key in ("trace_no", "receipt_no", "terminal_id"):
        if key in f:
            out[key] = f[key]
    if "auth_code" in f:
        code = f["auth_code"].rstrip(b"\x00 ").decode("ascii", "replace").strip()
        out["auth_code"] = code or None
    if "pan" in f:
        out["masked_pan"] = f["pan"]
    brand = None
    if "card_name" in f:
        brand = f["card_name"].rstrip(b"\x00").decode("ascii", "replace").strip() or None
    if brand is None and "card_type" in f:
        brand = m.CARD_TYPES.get(f["card_type"])
    if brand:
        out["brand"] = brand
    if "result_code" in f:
        out["result_code"] = f["result_code"]
    if "totals" in f:
        out["totals"] = f["totals"]
    return out


class ZvtTerminal(Device):
    """A ZVT payment terminal behind ``link_factory()`` (called to (re)open the link)."""

    def __init__(self, url: DeviceURL, link_factory: Callable[[], object], *, role: str | None = None,
                 password: str = "000000", timeout: float = 180.0, ack_timeout: float = 5.0,
                 register: bool = True, currency: int = m.CNY, busy_wait: float = 3.0):
        super().__init__(url, role)
        self.busy_wait = busy_wait      # a command refused as "busy" is asked again for this long
        self._factory = link_factory
        self._link = None
        self.password = password
        self.timeout = timeout          # T4: restarts with every terminal message
        self.ack_timeout = ack_timeout  # wait for 80 00 after our command
        self.register_on_open = register
        self.currency = currency

    # -- link ------------------------------------------------------------------------
    def _open(self):
        if self._link is None:
            try:
                self._link = self._factory()
            except DeviceError as exc:
                raise NotSent(f"{self.url.raw}: {exc}", ) from exc
            if self.register_on_open:
                try:
                    self._simple(m.registration(self.password, currency=self.currency))
                except PaymentInDoubt as exc:  # registration moves no money
                    self.close()
                    raise NotSent(f"{self.url.raw}: registration failed: {exc}") from exc
                except BaseException:
                    self.close()
                    raise
        return self._link

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    def _drop(self) -> None:
        self.close()

    # -- one exchange ------------------------------------------------------------------
    def _send_command(self, apdu: Apdu) -> None:
        """Send one command and take its acknowledgement. A terminal that answers "busy" (84 83 and
        kin) has refused the command, not started it, so asking again is safe: it is asked again
        for up to ``busy_wait`` seconds (a terminal stays busy for a moment after a transaction,
        while it prints or logs). Any other refusal is :class:`NotSent` at once."""
        deadline = time.monotonic() + self.busy_wait
        while True:
            try:
                return self._send_once(apdu)
            except TerminalBusy:
                if time.monotonic() >= deadline:
                    raise
                log.info("zvt %s: terminal busy, %02X %02X not taken; asking again", self.url.raw,
                         apdu.cls, apdu.instr)
                time.sleep(0.1)

    def _send_once(self, apdu: Apdu) -> None:
        link = self._open()
        self.count("commands")
        log.debug("zvt %s -> %02X %02X (%d bytes)", self.url.raw, apdu.cls, apdu.instr, len(apdu.data))
        try:
            link.send(apdu)
        except DeviceError as exc:
            self._drop()
            raise PaymentInDoubt(f"{self.url.raw}: sending {apdu.cls:02X} {apdu.instr:02X} failed: {exc}") from exc
        try:
            first = link.recv(self.ack_timeout)
        except DeviceError as exc:
            self._drop()
            raise PaymentInDoubt(f"{self.url.raw}: no acknowledgement for {apdu.cls:02X} {apdu.instr:02X}: {exc}") from exc
        if first.cls == m.NACK_CLASS:
            code = first.instr
            why = m.RESULT_TEXT.get(code, f"code {code:02X}")
            if code in m.BUSY_CODES:
                raise TerminalBusy(f"{self.url.raw}: terminal refused {apdu.cls:02X} {apdu.instr:02X}: {why}")
            raise NotSent(f"{self.url.raw}: terminal refused {apdu.cls:02X} {apdu.instr:02X}: {why}")
        if first.code != m.ACK:
            self._drop()
            raise PaymentInDoubt(f"{self.url.raw}: expected 80 00, got {first.cls:02X} {first.instr:02X}")

    def _ack(self) -> None:
        try:
            self._link.send(Apdu(*m.ACK))
        except DeviceError as exc:
            raise PaymentInDoubt(f"{self.url.raw}: acknowledging failed: {exc}") from exc

    def _dialogue(self, apdu: Apdu, on_status: StatusCallback | None) -> tuple[str, dict, list[str], int | None]:
        """Run one command to its end. Returns (end, status_info, receipt_lines, abort_code)."""
        self._send_command(apdu)
        info: dict = {}
        lines: list[str] = []
        try:
            while True:
                msg = self._link.recv(self.timeout)
                self._ack()
                if msg.code == m.INTERMEDIATE:
                    code = msg.data[0] if msg.data else 0xFF
                    self.count("intermediate")
                    if on_status is not None:
                        try:
                            on_status(StatusMessage(m.status_message_id(code), code))
                        except Exception:  # the screen's problem must not lose the payment
                            log.exception("status callback failed")
                elif msg.code in (m.PRINT_LINE, m.PRINT_BLOCK):
                    lines += print_lines(msg)
                elif msg.code == m.STATUS_INFO:
                    info.update(decode_status_info(msg.data))
                elif msg.code == m.COMPLETION:
                    return "completion", info, lines, None
                elif msg.code == m.ABORTED:
                    code = msg.data[0] if msg.data else None
                    return "abort", info, lines, code
                else:
                    raise ProtocolError(f"unexpected message {msg.cls:02X} {msg.instr:02X}")
        except (DeviceError, ProtocolError) as exc:
            self._drop()
            raise PaymentInDoubt(f"{self.url.raw}: {exc}") from exc

    def _simple(self, apdu: Apdu) -> tuple[str, dict, list[str], int | None]:
        return self._dialogue(apdu, None)

    def _financial(self, apdu: Apdu, kind: str, amount_fen: int | None, on_status) -> PaymentResult:
        with self._lock:
            end, info, lines, code = self._dialogue(apdu, on_status)
        rc = info.get("result_code")
        if end == "completion" and (rc is None or rc == 0):
            outcome = "approved"
        elif end == "abort" and code in m.ABORT_CODES and not rc:
            outcome = "aborted"
        else:
            outcome = "declined"
        if rc is None and code is not None:
            rc = code
        res = PaymentResult(
            outcome=outcome, kind=kind, amount_fen=info.get("amount_fen", amount_fen),
            trace_no=info.get("trace_no"), receipt_no=info.get("receipt_no"),
            terminal_id=info.get("terminal_id"), auth_code=info.get("auth_code"),
            masked_pan=info.get("masked_pan"), brand=info.get("brand"), result_code=rc,
            reason=m.RESULT_TEXT.get(rc, f"code {rc:02X}") if rc is not None else "", receipt_lines=lines,
        )
        self.count(outcome)
        log.info("zvt %s %s %s fen: %s trace=%s receipt=%s", self.url.raw, kind, res.amount_fen, outcome,
                 res.trace_no, res.receipt_no)
        return res

    # -- PaymentTerminal ---------------------------------------------------------------
    def authorise(self, amount_fen: int, *, on_status: StatusCallback | None = None) -> PaymentResult:
        _positive(amount_fen)
        return self._financial(m.authorisation(amount_fen, self.currency), "sale", amount_fen, on_status)

    def refund(self, amount_fen: int, *, on_status: StatusCallback | None = None) -> PaymentResult:
        _positive(amount_fen)
        return self._financial(m.refund(amount_fen, self.password, self.currency), "refund", amount_fen, on_status)

    def reverse(self, receipt_no: str, *, on_status: StatusCallback | None = None) -> PaymentResult:
        return self._financial(m.reversal(receipt_no, self.password), "reversal", None, on_status)

    def preauthorise(self, amount_fen: int, *, on_status: StatusCallback | None = None) -> PaymentResult:
        _positive(amount_fen)
        return self._financial(m.preauthorisation(amount_fen, self.currency), "preauth", amount_fen, on_status)

    def book(self, receipt_no: str, amount_fen: int, *, on_status: StatusCallback | None = None) -> PaymentResult:
        _positive(amount_fen)
        return self._financial(m.book_total(receipt_no, amount_fen), "booking", amount_fen, on_status)

    def last_receipt(self) -> PaymentResult | None:
        """Repeat receipt (06 20): the terminal's last financial transaction, or None."""
        with self._lock:
            end, info, lines, code = self._simple(m.repeat_receipt(self.password))
        if end != "completion" or "trace_no" not in info:
            return None
        rc = info.get("result_code", 0)
        return PaymentResult(
            outcome="approved" if rc == 0 else "declined", kind=info.get("kind", "unknown"),
            amount_fen=info.get("amount_fen"), trace_no=info.get("trace_no"),
            receipt_no=info.get("receipt_no"), terminal_id=info.get("terminal_id"),
            auth_code=info.get("auth_code"), masked_pan=info.get("masked_pan"), brand=info.get("brand"),
            result_code=rc, receipt_lines=lines,
        )

    def end_of_day(self) -> EndOfDayResult:
        with self._lock:
            end, info, lines, code = self._simple(m.end_of_day(self.password))
        if end != "completion":
            return EndOfDayResult(False, reason=m.RESULT_TEXT.get(code, f"code {code}"), receipt_lines=lines)
        count = 0
        totals = info.get("totals")
        if totals and len(totals) >= 4:
            body = totals[4:]
            count = sum(body[i] for i in range(0, len(body) - 6, 7))
        return EndOfDayResult(True, total_fen=info.get("amount_fen", 0), count=count,
                              trace_no=info.get("trace_no"), terminal_id=info.get("terminal_id"),
                              receipt_lines=lines)

    def enquire(self) -> dict:
        """Status enquiry (05 01): the status information fields (result_code 0 = ready)."""
        with self._lock:
            end, info, lines, code = self._simple(m.status_enquiry(self.password))
        return info

    def status(self) -> DeviceStatus:
        try:
            info = self.enquire()
        except TerminalBusy as exc:
            return DeviceStatus.busy(str(exc))
        except (NotSent, PaymentInDoubt) as exc:
            return DeviceStatus.disconnected(str(exc))
        finally:
            self.close()
        if info.get("result_code", 0) not in (0, None):
            return DeviceStatus.error(f"terminal status code {info['result_code']:02X}")
        return DeviceStatus.connected("ZVT terminal ready", terminal_id=info.get("terminal_id"))

    def abort(self) -> None:
        """Ask the terminal to abort the running transaction (06 B0); best effort."""
        link = self._link
        if link is not None:
            try:
                link.send(m.abort())
            except DeviceError as exc:
                log.warning("zvt %s: abort not sent: %s", self.url.raw, exc)


def _positive(amount_fen: int) -> None:
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise ValueError(f"amount must be a positive whole number of fen, got {amount_fen!r}")
