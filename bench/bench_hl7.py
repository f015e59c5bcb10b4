"""Bench: the HIS interface's inbound throughput over MLLP.

One run, one machine, loopback only. ``--stays`` stays (default 300), each an ADT^A05 and an
ADT^A01 and one DFT^P03 of ``--lines`` charges (default 5), go to the running interface over one
MLLP connection, one message at a time, each answered by its ACK (as a HIS sends). The baseline,
in the same run and the same database: a bare parse of the same messages with python-hl7 and a
store of each (the message row and one row per charge line), one transaction per message, no
mapping, no checks, no socket. Ratio = interface time / baseline time, per message kind.

Usage: ``.venv/bin/python bench/bench_hl7.py [--stays N] [--lines N] [--db sqlite|postgres|both] [--no-write]``
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import hl7  # noqa: E402

from bench.common import machine, write_section  # noqa: E402
from tests.his_support import a05, adt, dft  # noqa: E402


def messages(stays: int, lines: int) -> dict[str, list[str]]:
    out = {"ADT": [], "DFT": []}
    for i in range(stays):
        visit = f"ZYB{i:06d}"
        out["ADT"].append(a05(f"B{i}-1", visit, idno=f"1101011980{i:06d}X"[:18]))
        out["ADT"].append(adt(f"B{i}-2", "A01", visit))
        out["DFT"].append(dft(f"B{i}-3", visit, [(f"B{i}-T{j}", "110900001", 1, "45.00") for j in range(lines)]))
    return {k: [m.replace("\n", "\r") for m in v] for k, v in out.items()}


def send_all(port: int, msgs: list[str]) -> float:
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t0 = time.perf_counter()
    for m in msgs:
        s.sendall(b"\x0b" + m.encode() + b"\x1c\x0d")
        buf = b""
        while not buf.endswith(b"\x1c\x0d"):
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("interface closed the connection")
            buf += chunk
        if b"MSA|AA" not in buf:
            raise RuntimeError(f"not accepted: {buf[:300]!r}")
    took = time.perf_counter() - t0
    s.close()
    return took


def baseline(backend, msgs: list[str]) -> float:
    with backend.tx() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_msg (control_id TEXT PRIMARY KEY, body TEXT NOT NULL)")
        cur.execute("CREATE TABLE IF NOT EXISTS bench_line (ref TEXT PRIMARY KEY, control_id TEXT NOT NULL, "
                    "code TEXT NOT NULL, amount TEXT NOT NULL)")
    t0 = time.perf_counter()
    for m in msgs:
        msg = hl7.parse(m)
        control = str(msg.segment("MSH")[10])
        with backend.tx() as cur:
            cur.execute("INSERT INTO bench_msg (control_id, body) VALUES (?, ?)", (control, m))
            for s in msg:
                if str(s[0]) == "FT1":
                    cur.execute("INSERT INTO bench_line (ref, control_id, code, amount) VALUES (?, ?, ?, ?)",
                                (str(s[2]), control, str(s[7]), str(s[12])))
    return time.perf_counter() - t0


def run(db_url: str, stays: int, lines: int) -> dict:
    from sync.server import open_backend
    from sync.server.his import HisInterface
    backend = open_backend(db_url)
    iface = HisInterface(backend).start()
    try:
        msgs = messages(stays, lines)
        out = {}
        for kind in ("ADT", "DFT"):
            took = send_all(iface.port, msgs[kind])
            base = baseline(backend, msgs[kind])
            out[kind] = (len(msgs[kind]), took, base)
        return out
    finally:
        iface.stop()
        backend.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stays", type=int, default=300)
    ap.add_argument("--lines", type=int, default=5)
    ap.add_argument("--db", default="both", choices=("sqlite", "postgres", "both"))
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    results = {}
    if a.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as d:
            results["SQLite"] = run(f"sqlite:///{Path(d) / 'his.sqlite'}", a.stays, a.lines)
    if a.db in ("postgres", "both"):
        from tests.sync_support import create_pg_db, drop_pg_db, pg_available
        if pg_available():
            url = create_pg_db()
            try:
                results["PostgreSQL"] = run(url, a.stays, a.lines)
            finally:
                drop_pg_db(url)
    rows = []
    for db, res in results.items():
        for kind, (n, took, base) in res.items():
            what = "ADT (A05 + A01)" if kind == "ADT" else f"DFT^P03 ({a.lines} charges each)"
            rows.append(f"| {db} | {what} | {n} | {n / took:,.0f} msg/s ({took / n * 1e3:.2f} ms) | "
                        f"{n / base:,.0f} msg/s ({base / n * 1e3:.2f} ms) | **{took / base:.2f}×** |")
            print(rows[-1])
    md = f"""## HIS interface: inbound HL7 over MLLP (`bench/bench_hl7.py`)

{a.stays} stays, each an ADT^A05, an ADT^A01 and a DFT^P03 of {a.lines} charges, sent over one MLLP
connection one message at a time, each waiting for its ACK. Interface = the whole path: framing,
parse, MSH-10 look-up, mapping and checks, the commands through the server's ingest (one
transaction, kiosks pull them), the stored ACK. Baseline, same run, same database: python-hl7
parse and a store of the message and its charge lines, one transaction per message, no socket.
Machine: {machine()}.

| database | messages | n | interface | bare parse + store | ratio |
|---|---|---|---|---|---|
""" + "\n".join(rows) + """

The interface opens five short transactions per message (the MSH-10 look-up, the follower of
the command log, the plan's visit read, the ingest, then the message log with the visit), the
baseline one: most of the ratio is those commits. Not measured here: the kiosks' pull
p99 during a 10,000-charge burst (issue 16's last goal).
"""
    if not a.no_write:
        write_section("hl7", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
