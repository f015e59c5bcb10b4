"""Bench: what the crash-safe payment journal costs, and how fast the ZVT framing layer is.

Measured in the same run, on the same disk:

* **journal per payment**: the writes of one approved card payment (intent, sent, waiting_card,
  approved with the terminal's numbers, posted; each a transaction with its state-change and
  outbox rows), two of them flushed (sent; posted), against the same journal flushing all five
  (how it was) and against **one bare SQLite commit** (one INSERT, WAL, ``synchronous=FULL``);
* **end-to-end payment** through the simulated terminal over TCP (for information);
* **framing**: serial frames per second through encode + decode + ACK/NAK session for a typical
  status-information APDU, against what a 9600-baud line (8N2, 11 bits a byte) can carry.

Usage: ``.venv/bin/python bench/bench_payments.py [--payments N] [--no-write]``
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import timeit, write_section  # noqa: E402
from drivers.zvt import messages as m  # noqa: E402
from drivers.zvt.apdu import Apdu, encode_apdu  # noqa: E402
from drivers.zvt.bmp import encode_bmps  # noqa: E402
from drivers.zvt.framing import FrameDecoder, SerialSession, encode_frame  # noqa: E402
from pos.payments import PaymentService  # noqa: E402
from pos.payments.journal import SPEC, Journal  # noqa: E402
from pos.store import Store  # noqa: E402


def bare_commit(folder: Path, n: int) -> float:
    conn = sqlite3.connect(folder / "bare.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    t0 = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (v) VALUES (?)", (f"row {i}",))
        conn.execute("COMMIT")
    dt = (time.perf_counter() - t0) / n
    conn.close()
    return dt


def journal_payment(folder: Path, n: int, spec=SPEC, name: str = "journal") -> tuple[float, float]:
    """Seconds per payment, and flushed commits per payment."""
    store = Store(folder / f"{name}.sqlite", device_id="KBNCH")
    j = Journal(store, spec)
    flushed = store.commits[True]
    t0 = time.perf_counter()
    for i in range(n):
        row = j.create_intent(kind="sale", amount_fen=50000 + i, purpose="deposit", account=f"ZY-{i % 50}",
                              terminal="zvt+tcp://bench", terminal_url="zvt+tcp://bench")
        aid = row["attempt_id"]
        j.transition(aid, "sent")
        j.transition(aid, "waiting_card")
        trace = f"{i + 1:06d}"
        j.transition(aid, "approved", {"trace_no": trace, "receipt_no": f"{i % 9999 + 1:04d}", "terminal_id": "52500001",
                                       "auth_code": "A00001", "masked_pan": "621234******1232", "brand": "UnionPay"},
                     also=lambda tx, r, trace=trace: Journal.note_terminal(tx, r["terminal"], r["terminal_url"], trace))
        j.transition(aid, "posted")
    dt = (time.perf_counter() - t0) / n
    per = (store.commits[True] - flushed) / n
    store.close()
    return dt, per


def end_to_end(folder: Path, n: int) -> float:
    from drivers.sim.zvt_terminal import SimTerminal, TcpFrontEnd

    front = TcpFrontEnd(SimTerminal(folder / "sim")).start()
    store = Store(folder / "e2e.sqlite", device_id="KBNCH")
    svc = PaymentService(store)
    svc.pay(1, terminal_url=front.url, account="warm-up")
    t0 = time.perf_counter()
    for i in range(n):
        svc.pay(100 + i, terminal_url=front.url, account="ZY-1")
    dt = (time.perf_counter() - t0) / n
    store.close()
    front.stop()
    return dt


def framing_rate() -> tuple[float, int]:
    apdu = encode_apdu(Apdu(*m.STATUS_INFO, encode_bmps([
        ("result_code", 0), ("amount", 1234510), ("currency", 156), ("trace_no", "000010"), ("receipt_no", "0010"),
        ("terminal_id", "52500001"), ("auth_code", b"A00010\x00\x00"), ("pan", bytes.fromhex("621234EEEEEE1232")),
        ("card_type", 0xE0), ("card_name", b"UnionPay\x00")])))
    wire = encode_frame(apdu)
    batch = 2000

    def run():
        sender, receiver = SerialSession(), SerialSession()
        for _ in range(batch):
            sender.send(apdu)
            receiver.receive(sender.data_to_send())
            sender.receive(receiver.data_to_send())     # the ACK

    per_batch = timeit(run, repeat=5)
    # sanity: frames really went through
    dec = FrameDecoder()
    assert len(dec.feed(wire * 3)) == 3
    return batch / per_batch, len(wire)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--payments", type=int, default=200)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-pay-", dir=Path(__file__).resolve().parent.parent) as d:
        folder = Path(d)
        n = args.payments
        bare = bare_commit(folder, n * 2)
        two_t, five_t = [], []
        for r in range(8):          # alternated rounds: the shared disk's fsync time drifts a lot
            jt, flushes = journal_payment(folder, n // 8, name=f"two{r}")
            ft, flushes5 = journal_payment(folder, n // 8, dataclasses.replace(SPEC, lazy=frozenset()), f"five{r}")
            two_t.append(jt)
            five_t.append(ft)
        journal, five = statistics.median(two_t), statistics.median(five_t)
        ratios = sorted(a / b for a, b in zip(two_t, five_t))
        e2e = end_to_end(folder, max(20, n // 4))
    load = os.getloadavg()[0]
    fps, frame_len = framing_rate()
    line_fps = 9600 / 11 / frame_len
    md = f"""## Card payments (`bench/bench_payments.py`)

| measure | value | baseline (same run) | ratio |
|---|---|---|---|
| journal writes per approved payment ({flushes:.0f} flushed commits of 5, + outbox) | {journal * 1000:.2f} ms | every commit flushed ({flushes5:.0f} of 5, as before) {five * 1000:.2f} ms | **{journal / five:.2f}×** |
| ... ratio per round (8 alternated rounds), lowest to highest | {", ".join(f"{r:.2f}" for r in ratios)} | | |
| the same, against bare commits | {journal * 1000:.2f} ms | bare SQLite commit {bare * 1000:.2f} ms | {journal / bare:.1f}× |
| end-to-end payment via the simulated terminal over TCP (journal + ZVT dialogue) | {e2e * 1000:.2f} ms | journal alone {journal * 1000:.2f} ms | {e2e / journal:.2f}× |
| serial frames through encode + decode + ACK ({frame_len}-byte status-information frame) | {fps:,.0f} frames/s | a 9600-baud line carries {line_fps:.1f} frames/s | {fps / line_fps:,.0f}× |

The journal makes five transactions a payment (intent, sent, waiting for the card, approved,
posted), each with its state-change row and its outbox row, and flushes two of them
(`pos/journal.py`): *sent*, with the terminal's last trace, before the first byte goes to the
terminal, and *posted*, which flushes the approval before it. A power cut loses only unflushed
commits at the end of the WAL, and recovery handles each loss (a lost intent was never sent, a lost
waiting-for-card is recovered as sent, a lost approval is found again on the terminal;
`tests/test_payment_durability.py` cuts the power at every step). An unflushed commit costs
about 20 µs here; a flush on this shared virtual disk costs {bare * 1000:.2f} ms in the bare loop
but varies by an order of magnitude (0.3 to 5 ms seen this evening) with the other engineers' disk traffic,
and a flush that carries the pages of the unflushed commits before it costs more than one that
does not, so on this machine the saving is smaller than three flushes' worth and the rounds
scatter. Where a flush has a high fixed cost (an SD card's barrier) the saving is three of five. Load average {load:.1f} when the run ended (2 cores shared by 7 engineers). The framing layer is
far from being the bottleneck of a serial terminal."""
    if args.no_write:
        print(md)
    else:
        write_section("payments", md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
