"""A virtual ZVT card terminal that speaks the real wire format, on TCP and on a pty.

Run it::

    python -m drivers.sim.zvt_terminal --state DIR [--tcp 127.0.0.1:20007] [--pty]

It prints one line per front end (``tcp HOST:PORT`` / ``pty /dev/pts/N``) and serves until
killed. Point onestop at ``zvt+tcp://HOST:PORT`` or ``zvt+serial:///dev/pts/N``.

On the pty it frames with :mod:`drivers.zvt.framing`, i.e. the reflected CRC-16 (KERMIT) that
real terminals check; ``tests/test_zvt_serial_peer.py`` checks both against the ``crc`` library,
so the simulator cannot share a wrong CRC with the driver unnoticed.

**Ledger.** Everything the terminal charged, refunded, reversed, held or booked is appended to
``DIR/ledger.jsonl`` (fsync'd) *before* the terminal reports it, so tests can compare it with
onestop's journal after any crash. Trace and receipt numbers are recomputed from the ledger on
start. Full PANs exist only in :data:`TEST_CARDS`; the ledger keeps the last 4 digits.

**Script.** Each financial transaction takes the next entry of ``DIR/script.json`` (a JSON list;
default ``"approve"``). An entry is a string (``"approve"``, ``"decline"``, ``"abort"``,
``"host_error"``: the host refused, a trace number is used and only ``06 1E FF`` is sent) or an
object with ``action`` and any of: ``card_delay`` (seconds before the card is presented),
``pin_delay`` (seconds the customer spends on the PIN), ``bare`` (a decline sent as ``06 1E 05``
with no status information, so no trace number reaches the register), ``host_delay`` (seconds the host takes),
``slow_status`` ([count, interval]), ``lose_completion`` (charge, then never report),
``drop_after_approval`` (charge, then close the connection), ``garbage`` (charge, then send
bytes that are not ZVT), ``nak_first`` (serial: refuse our command's first frame once),
``bad_crc`` (serial: corrupt the CRC of the first reply frame once), ``card`` (index into
:data:`TEST_CARDS`). :class:`ScriptFile` writes entries from tests.

Intermediate status (04 FF: insert card, enter PIN, please wait) goes only to a register that
asked for it at registration (config byte bit 08), as the ZVT specification has it.

A second command while a transaction runs gets ``84 83`` (busy). If the register goes away
before the card is charged, the transaction is aborted and nothing is charged.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import json
import os
import select
import socket
import sys
import threading
import time
from pathlib import Path

from ..zvt import messages as m
from ..zvt.apdu import Apdu, apdu_length, decode_apdu, encode_apdu
from ..zvt.bmp import bcd_encode, encode_bmps, parse_bmps
from ..zvt.framing import Received, SendFailed, Sent, SerialSession
from .ptys import raw_pty

__all__ = ["TEST_CARDS", "SimTerminal", "ScriptFile", "Ledger", "TcpFrontEnd", "PtyFrontEnd", "main"]

#: test cards (the only place full PANs exist); the simulator sends the full PAN in BMP 22 and in
#: one print line on purpose, so onestop's masking and redaction are exercised
TEST_CARDS = [
    {"pan": "6212345678901232", "brand": "UnionPay", "card_type": 0xE0, "expiry": "2912"},
    {"pan": "4761739001010119", "brand": "VISA", "card_type": 0x0A, "expiry": "2812"},
    {"pan": "5413330089020011", "brand": "Mastercard", "card_type": 0x06, "expiry": "2711"},
    {"pan": "6222988812340000018", "brand": "UnionPay", "card_type": 0xE0, "expiry": "3001"},
]

BUSY = 0x83
CHARGE_KINDS = ("sale", "booking")


class Gone(Exception):
    """The register went away."""


def _locked(path: Path):
    fh = open(path, "a+")
    fcntl.flock(fh, fcntl.LOCK_EX)
    return fh


class ScriptFile:
    """The per-transaction script in ``DIR/script.json`` (safe across processes)."""

    def __init__(self, state_dir: str | os.PathLike):
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / "script.json"
        self.lock = self.dir / "script.lock"

    def _read(self) -> list:
        try:
            return json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return []

    def _write(self, items: list) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(items))
        os.replace(tmp, self.path)

    def push(self, *entries) -> None:
        with _locked(self.lock):
            self._write(self._read() + list(entries))

    def set(self, entries: list) -> None:
        with _locked(self.lock):
            self._write(list(entries))

    def pop(self) -> dict:
        with _locked(self.lock):
            items = self._read()
            entry = items.pop(0) if items else "approve"
            if items or self.path.exists():
                self._write(items)
        return {"action": entry} if isinstance(entry, str) else dict(entry)


class Ledger:
    """Append-only, fsync'd record of what the terminal did (one JSON object per line)."""

    def __init__(self, state_dir: str | os.PathLike):
        self.path = Path(state_dir) / "ledger.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:  # a torn last line cannot happen (we fsync whole lines) but be safe
                continue
        return out

    def append(self, entry: dict) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (json.dumps(entry, sort_keys=True) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)


class SimTerminal:
    """The terminal's logic; front ends hand it a connection per command."""

    def __init__(self, state_dir: str | os.PathLike, terminal_id: str = "52500001"):
        self.dir = Path(state_dir)
        self.terminal_id = terminal_id
        self.ledger = Ledger(self.dir)
        self.script = ScriptFile(self.dir)
        self.busy = threading.Lock()
        self.intermediate = False   # registration config byte bit 3 (08): the ECR wants 04 FF
        entries = self.ledger.entries()
        self.trace = max([int(e.get("trace_no") or 0) for e in entries] or [0])
        self.batch = 1 + sum(1 for e in entries if e["kind"] == "eod")
        in_batch = [e for e in entries if e.get("batch") == self.batch and e.get("receipt_no")]
        self.receipt = max([int(e["receipt_no"]) for e in in_batch] or [0])

    # -- helpers -------------------------------------------------------------------------
    def _next(self) -> tuple[str, str]:
        self.trace = self.trace % 999999 + 1
        self.receipt = self.receipt % 9999 + 1
        return f"{self.trace:06d}", f"{self.receipt:04d}"

    def _last_financial(self) -> dict | None:
        for e in reversed(self.ledger.entries()):
            if e["kind"] != "eod":
                return e
        return None

    def _status_info(self, entry: dict, card: dict | None, full_pan: bool) -> Apdu:
        items: list = [("result_code", entry.get("result_code", 0))]
        if entry.get("amount_fen"):
            items.append(("amount", entry["amount_fen"]))
        items += [("currency", m.CNY), ("trace_no", entry["trace_no"]), ("receipt_no", entry["receipt_no"]),
                  ("terminal_id", self.terminal_id)]
        if entry.get("auth_code"):
            items.append(("auth_code", entry["auth_code"].encode().ljust(8, b"\x00")))
        if card is not None:
            pan = card["pan"] if full_pan else card["pan"][:6] + "E" * (len(card["pan"]) - 10) + card["pan"][-4:]
            nibbles = pan + ("F" if len(pan) % 2 else "")
            items += [("pan", bytes.fromhex(nibbles)), ("expiry", card["expiry"]),
                      ("card_type", card["card_type"]), ("card_name", card["brand"].encode() + b"\x00")]
        return Apdu(*m.STATUS_INFO, encode_bmps(items))

    @staticmethod
    def _line(text: str) -> Apdu:
        return Apdu(*m.PRINT_LINE, b"\x00" + text.encode("utf-8"))

    # -- dispatch ------------------------------------------------------------------------
    def handle(self, conn, cmd: Apdu) -> None:
        if not self.busy.acquire(blocking=False):
            conn.send_raw(Apdu(m.NACK_CLASS, BUSY))
            return
        try:
            self._handle(conn, cmd)
        finally:
            self.busy.release()

    def _handle(self, conn, cmd: Apdu) -> None:
        code = cmd.code
        if code == m.REGISTRATION or code == m.LOG_OFF:
            # a terminal sends intermediate status only to an ECR that registered asking for it
            self.intermediate = code == m.REGISTRATION and len(cmd.data) > 3 and bool(cmd.data[3] & m.CFG_INTERMEDIATE)
            conn.send_raw(Apdu(*m.ACK))
            conn.send(Apdu(*m.COMPLETION, encode_bmps([("terminal_id", self.terminal_id)])))
        elif code == m.STATUS_ENQUIRY:
            conn.send_raw(Apdu(*m.ACK))
            conn.send(Apdu(*m.STATUS_INFO, encode_bmps([("result_code", 0), ("terminal_id", self.terminal_id)])))
            conn.send(Apdu(*m.COMPLETION))
        elif code == m.REPEAT_RECEIPT:
            conn.send_raw(Apdu(*m.ACK))
            last = self._last_financial()
            if last is None:
                conn.send(Apdu(*m.ABORTED, bytes([0xFF])))
                return
            card = TEST_CARDS[last["card"]] if last.get("card") is not None else None
            conn.send(self._status_info(last, card, full_pan=False))
            conn.send(self._line("** COPY / 重印 **"))
            conn.send(Apdu(*m.COMPLETION))
        elif code == m.END_OF_DAY:
            conn.send_raw(Apdu(*m.ACK))
            self._end_of_day(conn)
        elif code == m.ABORT:
            conn.send_raw(Apdu(*m.ACK))
        elif code in m.KIND_BY_COMMAND:
            self._financial(conn, cmd, m.KIND_BY_COMMAND[code])
        else:
            conn.send_raw(Apdu(m.NACK_CLASS, 0x83))

    def _end_of_day(self, conn) -> None:
        entries = [e for e in self.ledger.entries() if e.get("batch") == self.batch and e.get("result") == "approved"]
        reversed_receipts = {e["reverses"] for e in entries if e["kind"] == "reversal"}
        total, count = 0, 0
        for e in entries:
            if e["kind"] in CHARGE_KINDS and e["receipt_no"] not in reversed_receipts:
                total += e["amount_fen"]
                count += 1
            elif e["kind"] == "refund":
                total -= e["amount_fen"]
                count += 1
        receipts = [int(e["receipt_no"]) for e in entries] or [0]
        totals = bcd_encode(min(receipts), 2) + bcd_encode(max(receipts), 2) + bytes([min(count, 255)]) \
            + bcd_encode(max(total, 0), 6)
        self.ledger.append({"kind": "eod", "batch": self.batch, "total_fen": total, "count": count,
                            "at": time.time()})
        self.batch += 1
        self.receipt = 0
        conn.send(Apdu(*m.STATUS_INFO, encode_bmps([("result_code", 0), ("amount", max(total, 0)),
                                                    ("terminal_id", self.terminal_id), ("totals", totals)])))
        conn.send(self._line(f"日结 END OF DAY  {count} x  {total / 100:.2f}"))
        conn.send(Apdu(*m.COMPLETION))

    def _financial(self, conn, cmd: Apdu, kind: str) -> None:
        try:
            data = cmd.data[3:] if kind in ("refund", "reversal") else cmd.data
            fields = parse_bmps(data)
        except Exception:
            conn.send_raw(Apdu(m.NACK_CLASS, 0xFF))
            return
        sc = self.script.pop()
        conn.fault = sc
        conn.send_raw(Apdu(*m.ACK))
        card_ix = int(sc.get("card", self.trace % len(TEST_CARDS)))
        card = TEST_CARDS[card_ix % len(TEST_CARDS)]
        self._intermediate(conn, 0x0A)          # insert card
        if sc.get("card_delay") and conn.wait(float(sc["card_delay"])) is not None:
            return self._abort(conn)
        count, interval = sc.get("slow_status", [0, 0])
        for _ in range(int(count)):
            self._intermediate(conn, 0x0E)      # please wait
            if conn.wait(float(interval)) is not None:
                return self._abort(conn)
        if sc.get("pin_delay"):
            self._intermediate(conn, 0x01)      # enter PIN
            if conn.wait(float(sc["pin_delay"])) is not None:          # ECR abort (06 B0)
                return self._abort(conn)
        action = sc.get("action", "approve")
        if action == "abort":
            return self._abort(conn)
        self._intermediate(conn, 0x04)          # waiting for the host
        if sc.get("host_delay") and conn.wait(float(sc["host_delay"])) is not None:
            return self._abort(conn)
        amount = int(fields["amount"]) if "amount" in fields else None
        entry = {"kind": kind, "batch": self.batch, "card": card_ix % len(TEST_CARDS),
                 "pan_last4": card["pan"][-4:], "at": time.time()}
        refusal = None
        if kind == "reversal":
            orig = self._find(fields.get("receipt_no"), CHARGE_KINDS)
            if orig is None:
                refusal = 0xB5
            else:
                amount, entry["reverses"] = orig["amount_fen"], orig["receipt_no"]
        elif kind == "booking":
            hold = self._find(fields.get("receipt_no"), ("preauth",))
            if hold is None or amount is None or amount > hold["amount_fen"]:
                refusal = 0xB5
            else:
                entry["books"] = hold["receipt_no"]
        if refusal is not None:
            conn.send(Apdu(*m.STATUS_INFO, encode_bmps([("result_code", refusal), ("terminal_id", self.terminal_id)])))
            conn.send(Apdu(*m.ABORTED, bytes([refusal])))
            return
        trace, receipt = self._next()
        entry.update({"amount_fen": amount, "trace_no": trace, "receipt_no": receipt})
        if action in ("decline", "host_error"):
            code = 0x05 if action == "decline" else 0xFF
            entry.update({"result": "declined", "result_code": code})
            self.ledger.append(entry)                                  # the trace number is used up
            if not sc.get("bare") and action == "decline":
                conn.send(self._status_info(entry, card, full_pan=False))
            conn.send(Apdu(*m.ABORTED, bytes([code])))                 # "bare": 06 1E alone, no trace
            return
        entry.update({"result": "approved", "result_code": 0, "auth_code": f"A{int(trace) % 100000:05d}"})
        self.ledger.append(entry)                                      # charged: now it is real
        if sc.get("lose_completion"):
            return
        if sc.get("drop_after_approval"):
            conn.close()
            return
        if sc.get("garbage"):
            conn.send_garbage()
            return
        conn.send(self._status_info(entry, card, full_pan=True))
        conn.send(self._line("银联 UnionPay / 消费 SALE" if kind == "sale" else kind.upper()))
        conn.send(self._line(f"CARD {card['pan']}"))                   # a careless terminal
        conn.send(Apdu(*m.PRINT_BLOCK, encode_bmps([("tlv", [(0x25, [(0x07, f"AMOUNT {amount / 100:.2f}".encode())])])])))
        conn.send(Apdu(*m.COMPLETION))

    def _find(self, receipt_no: str | None, kinds) -> dict | None:
        entries = self.ledger.entries()
        done = {e.get("reverses") for e in entries} | {e.get("books") for e in entries}
        for e in reversed(entries):
            if (e.get("batch") == self.batch and e["kind"] in kinds and e.get("result") == "approved"
                    and e["receipt_no"] == receipt_no and receipt_no not in done):
                return e
        return None

    def _intermediate(self, conn, code: int) -> None:
        if self.intermediate:
            conn.send(Apdu(*m.INTERMEDIATE, bytes([code, 0x00])))

    def _abort(self, conn) -> None:
        conn.send(Apdu(*m.ABORTED, bytes([0x6C])))


# -- front ends --------------------------------------------------------------------------------
class _Conn:
    fault: dict = {}

    def wait(self, seconds: float):
        """Sleep up to ``seconds``; returns an APDU if the register sent one (abort), raises Gone."""
        end = time.monotonic() + seconds
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            apdu = self._poll(min(left, 0.05))
            if apdu is not None:
                return apdu


class _TcpConn(_Conn):
    def __init__(self, sock: socket.socket):
        self.sock = sock
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.fault = {}

    def _fill(self, timeout: float) -> bool:
        if self.sock.fileno() < 0:
            raise Gone()
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return False
        try:
            chunk = self.sock.recv(4096)
        except OSError:
            chunk = b""
        if not chunk:
            raise Gone()
        self.buf += chunk
        return True

    def recv(self, timeout: float | None) -> Apdu | None:
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            n = apdu_length(self.buf)
            if n is not None and len(self.buf) >= n:
                raw, self.buf = bytes(self.buf[:n]), self.buf[n:]
                return decode_apdu(raw)
            left = 1.0 if end is None else end - time.monotonic()
            if left <= 0:
                return None
            self._fill(left)

    def _poll(self, timeout: float):
        return self.recv(timeout)

    def send_raw(self, apdu: Apdu) -> None:
        try:
            self.sock.sendall(encode_apdu(apdu))
        except OSError as exc:
            raise Gone() from exc

    def send(self, apdu: Apdu) -> None:
        self.send_raw(apdu)
        reply = self.recv(5.0)
        if reply is None or reply.code != m.ACK:
            raise Gone()

    def send_garbage(self) -> None:
        try:
            self.sock.sendall(b"\xff\xfe\x03\xde\xad\xbe")
        except OSError:
            pass

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class TcpFrontEnd:
    """Serves :class:`SimTerminal` on a TCP port (0 = any free port)."""

    def __init__(self, sim: SimTerminal, host: str = "127.0.0.1", port: int = 0,
                 sock: socket.socket | None = None):
        """``sock``: a listening socket bound beforehand (the demo reserves its ports early)."""
        self.sim = sim
        self.server = sock if sock is not None else socket.create_server((host, port))
        self.server.settimeout(0.2)
        self.host, self.port = self.server.getsockname()[:2]
        self.url = f"zvt+tcp://{self.host}:{self.port}"
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True, name="zvt-sim-tcp")

    def start(self) -> "TcpFrontEnd":
        self.thread.start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._session, args=(sock,), daemon=True).start()

    def _session(self, sock: socket.socket) -> None:
        conn = _TcpConn(sock)
        try:
            while not self._stop.is_set():
                cmd = conn.recv(None)
                if cmd is not None:
                    self.sim.handle(conn, cmd)
        except Gone:
            pass
        except Exception:  # pragma: no cover - keep serving the next register
            import traceback
            traceback.print_exc()
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def stop(self) -> None:
        self._stop.set()
        self.server.close()


class _PtyConn(_Conn):
    def __init__(self, fd: int, stop: threading.Event):
        self.fd = fd
        self.stop = stop
        self.session = SerialSession()
        self.inbox: list[bytes] = []
        self.fault = {}
        self.nak_next = False
        self.corrupt_next = False

    def _read(self, timeout: float) -> bytes:
        if self.stop.is_set():       # every wait of a dialogue passes here: a stopped sim ends it
            raise Gone()
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return b""
        try:
            return os.read(self.fd, 4096)
        except OSError as exc:
            if exc.errno == errno.EIO:   # no register has the port open
                time.sleep(min(timeout, 0.02))
                raise Gone() from exc
            raise

    def _pump(self, data: bytes) -> list:
        if self.nak_next and data:
            # refuse the next frame once: read it to its end, NAK it and forget it
            self.nak_next = False
            while True:
                more = self._read(0.03)
                if not more:
                    break
                data += more
            self.session.decoder = type(self.session.decoder)()
            os.write(self.fd, bytes([0x15]))
            return []
        events = self.session.receive(data)
        for ev in events:
            if isinstance(ev, Received):
                self.inbox.append(ev.apdu)
        out = self.session.data_to_send()
        if out:
            os.write(self.fd, out)
        return events

    def recv(self, timeout: float | None) -> Apdu | None:
        end = None if timeout is None else time.monotonic() + timeout
        while not self.inbox:
            left = 0.2 if end is None else end - time.monotonic()
            if left <= 0:
                return None
            self._pump(self._read(min(left, 0.2)))
        return decode_apdu(self.inbox.pop(0))

    def _poll(self, timeout: float):
        return self.recv(timeout)

    def send_raw(self, apdu: Apdu) -> None:
        self.session.send(encode_apdu(apdu))
        out = self.session.data_to_send()
        if self.corrupt_next:
            self.corrupt_next = False
            out = out[:-1] + bytes([out[-1] ^ 0xFF])
        os.write(self.fd, out)
        end = time.monotonic() + 1.0
        while self.session.awaiting_ack:
            events = self._pump(self._read(0.05))
            if any(isinstance(e, Sent) for e in events):
                return
            if any(isinstance(e, SendFailed) for e in events):
                raise Gone()
            if time.monotonic() > end:
                if any(isinstance(e, SendFailed) for e in self.session.on_ack_timeout()):
                    raise Gone()
                os.write(self.fd, self.session.data_to_send())
                end = time.monotonic() + 1.0

    def send(self, apdu: Apdu) -> None:
        self.send_raw(apdu)
        reply = self.recv(5.0)
        if reply is None or reply.code != m.ACK:
            raise Gone()

    def send_garbage(self) -> None:
        os.write(self.fd, b"\x42\x10\x99garbage\x10")

    def close(self) -> None:  # a serial line cannot be "closed" by the terminal: go silent
        pass


class PtyFrontEnd:
    """Serves :class:`SimTerminal` on a pseudo-terminal; ``port`` is the path the register opens.

    The serving thread owns the master descriptor and is the only one to close it. Closing it from
    :meth:`stop` while the thread was still inside a slow dialogue let the kernel hand the same
    descriptor number to the next pty opened in the process, and the old thread then read (and
    answered) the first frame meant for the new terminal.
    """

    def __init__(self, sim: SimTerminal):
        self.sim = sim
        self.master, slave, self.port = raw_pty()
        os.close(slave)
        self.url = f"zvt+serial://{self.port}"
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True, name="zvt-sim-pty")

    def start(self) -> "PtyFrontEnd":
        self.thread.start()
        return self

    def _serve(self) -> None:
        try:
            self._loop()
        finally:
            os.close(self.master)

    def _loop(self) -> None:
        conn = _PtyConn(self.master, self._stop)
        while not self._stop.is_set():
            try:
                peek = self.sim.script._read()
                nxt = peek[0] if peek else "approve"
                if isinstance(nxt, dict):
                    conn.nak_next = bool(nxt.get("nak_first")) or conn.nak_next
                    conn.corrupt_next = bool(nxt.get("bad_crc")) or conn.corrupt_next
                cmd = conn.recv(0.2)
                if cmd is not None:
                    self.sim.handle(conn, cmd)
            except Gone:
                conn = _PtyConn(self.master, self._stop)
            except OSError:
                if self._stop.is_set():
                    return
                time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        if self.thread.is_alive():
            self.thread.join(timeout=30)
        elif self.thread.ident is None:       # never started: nobody else will close it
            os.close(self.master)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m drivers.sim.zvt_terminal", description=__doc__.split("\n\n")[0])
    ap.add_argument("--state", required=True, help="folder for the ledger and the script")
    ap.add_argument("--tcp", metavar="HOST:PORT", help="serve on TCP (port 0 = any free port)")
    ap.add_argument("--pty", action="store_true", help="serve on a new pseudo-terminal")
    ap.add_argument("--terminal-id", default="52500001")
    args = ap.parse_args(argv)
    sim = SimTerminal(args.state, args.terminal_id)
    fronts = []
    if args.tcp or not args.pty:
        host, _, port = (args.tcp or "127.0.0.1:20007").rpartition(":")
        fronts.append(TcpFrontEnd(sim, host or "127.0.0.1", int(port)).start())
        print(f"tcp {fronts[-1].host}:{fronts[-1].port}", flush=True)
    if args.pty:
        fronts.append(PtyFrontEnd(sim).start())
        print(f"pty {fronts[-1].port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
