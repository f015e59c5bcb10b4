"""Bench: the HIS interface's inbound throughput over MLLP.

One run, one machine, loopback only. ``--stays`` stays (default 300), each an ADT^A05 and an
ADT^A01 and one DFT^P03 of ``--lines`` charges (default 5), go to the running interface over one
MLLP connection, one message at a time, each answered by its ACK (as a HIS sends). The baseline,
in the same run and the same database: a bare parse of the same messages with python-hl7 and a
store of each (the message row and one row per charge line), one transaction per message, no
mapping, no checks, no socket. Ratio = interface time / baseline time, per message kind.

**Burst** (``--burst``, default 10,000 charges; 0 = skip): a night of HIS downtime sent at once,
as DFT^P03 of ``--lines`` charges each, to the interface inside a running server (HTTP API and
interface in one process, as ``onestop server --his-listen`` runs them) while ``--kiosks``
(default 4) enrolled kiosks pull in a loop; their pull latency p50/p99 during the burst against
the same kiosks pulling before it (same run), on PostgreSQL when it is reachable.

Usage: ``.venv/bin/python bench/bench_hl7.py [--stays N] [--lines N] [--db sqlite|postgres|both] [--burst N]
[--kiosks N] [--no-write]``
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
    out = {"A05": [], "A01": [], "DFT": []}
    for i in range(stays):
        visit = f"ZYB{i:06d}"
        out["A05"].append(a05(f"B{i}-1", visit, idno=f"1101011980{i:06d}X"[:18]))
        out["A01"].append(adt(f"B{i}-2", "A01", visit))
        out["DFT"].append(dft(f"B{i}-3", visit, [(f"B{i}-T{j}", "110900001", 1, "45.00") for j in range(lines)]))
    return {k: [m.replace("\n", "\r") for m in v] for k, v in out.items()}


def check_in_all(backend, prefix: str, n: int) -> None:
    """The kiosks' check-ins between the A05 and the A01 (not timed; the push path is bench_sync's)."""
    from tests.his_support import check_in
    for i in range(n):
        check_in(backend, f"{prefix}{i:06d}" if prefix == "ZYB" else f"{prefix}{i:04d}", i + 1)


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


def all_applied(backend) -> None:
    """An AA may mean *held*: the bench counts only messages that applied."""
    with backend.tx() as cur:
        bad = cur.execute("SELECT count(*) FROM his_inbound WHERE status != 'applied'").fetchone()[0]
    if bad:
        raise RuntimeError(f"{bad} messages did not apply (held or refused)")


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
        took = send_all(iface.port, msgs["A05"])
        check_in_all(backend, "ZYB", stays)
        took += send_all(iface.port, msgs["A01"])
        adts = msgs["A05"] + msgs["A01"]
        out = {"ADT": (len(adts), took, baseline(backend, adts))}
        out["DFT"] = (len(msgs["DFT"]), send_all(iface.port, msgs["DFT"]), baseline(backend, msgs["DFT"]))
        all_applied(backend)
        return out
    finally:
        iface.stop()
        backend.close()


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000 if xs else float("nan")


def burst(db_url: str, charges: int, lines: int, kiosks: int, idle_s: float = 5.0) -> dict:
    import threading
    from sync.client import SyncClient
    from sync.server.his import HisInterface
    from tests.sync_support import ThreadServer, new_kiosk
    srv = ThreadServer(db_url)
    iface = HisInterface(srv.backend).start()
    tmp = tempfile.TemporaryDirectory()
    try:
        visits = 20
        send_all(iface.port, [a05(f"N{v}-1", f"ZYN{v:04d}", idno=f"1101011980{v:06d}X"[:18]).replace("\n", "\r")
                              for v in range(visits)])
        check_in_all(srv.backend, "ZYN", visits)
        send_all(iface.port, [adt(f"N{v}-2", "A01", f"ZYN{v:04d}").replace("\n", "\r") for v in range(visits)])
        n_msgs = charges // lines
        msgs = [dft(f"N-D{i}", f"ZYN{i % visits:04d}", [(f"N{i}-T{j}", "110900001", 1, "45.00") for j in range(lines)])
                .replace("\n", "\r") for i in range(n_msgs)]
        clients = [SyncClient(new_kiosk(Path(tmp.name), f"KB{i}", srv.url)) for i in range(kiosks)]
        for c in clients:
            c.pull_all()
        lat: dict[str, list[float]] = {"idle": [], "burst": []}
        phase = ["idle"]
        stop = threading.Event()

        def puller(c):
            while not stop.is_set():
                t0 = time.perf_counter()
                c.pull_once(100)
                lat[phase[0]].append(time.perf_counter() - t0)
                time.sleep(0.05)                 # a kiosk pulls every 50 ms at most here (it pulls every few s)
        threads = [threading.Thread(target=puller, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        time.sleep(idle_s)
        phase[0] = "burst"
        took = send_all(iface.port, msgs)
        stop.set()
        for t in threads:
            t.join(30)
        for c in clients:
            c.close()
        all_applied(srv.backend)
        return {"charges": n_msgs * lines, "messages": n_msgs, "took": took,
                "idle": (_pct(lat["idle"], 0.5), _pct(lat["idle"], 0.99), len(lat["idle"])),
                "burst": (_pct(lat["burst"], 0.5), _pct(lat["burst"], 0.99), len(lat["burst"]))}
    finally:
        iface.stop()
        srv.stop()
        tmp.cleanup()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stays", type=int, default=300)
    ap.add_argument("--lines", type=int, default=5)
    ap.add_argument("--db", default="both", choices=("sqlite", "postgres", "both"))
    ap.add_argument("--burst", type=int, default=10_000)
    ap.add_argument("--kiosks", type=int, default=4)
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
    burst_md = ""
    if a.burst:
        from tests.sync_support import create_pg_db, drop_pg_db, pg_available
        if pg_available():
            url, name = create_pg_db(), "PostgreSQL"
        else:
            d = tempfile.mkdtemp()
            url, name = f"sqlite:///{Path(d) / 'burst.sqlite'}", "SQLite"
        try:
            b = burst(url, a.burst, a.lines, a.kiosks)
        finally:
            if name == "PostgreSQL":
                drop_pg_db(url)
        (i50, i99, ni), (b50, b99, nb) = b["idle"], b["burst"]
        burst_md = f"""

**Burst after downtime** ({name}): {b['charges']:,} charges as {b['messages']:,} DFT^P03 taken in
{b['took']:.1f} s (**{b['charges'] / b['took']:,.0f} charges/s**), while {a.kiosks} kiosks pulled in a
loop inside the same server process:

| kiosk pull (page of 100) | p50 | p99 | pulls |
|---|---|---|---|
| before the burst (same run) | {i50:.1f} ms | {i99:.1f} ms | {ni} |
| during the burst | {b50:.1f} ms | {b99:.1f} ms | {nb} |
| ratio | {b50 / i50:.2f}× | **{b99 / i99:.2f}×** | |

Pulls during the burst carry the charge events it makes (pages of up to 100), the ones before it
are nearly empty: part of the ratio is that work, not waiting for the interface.
"""
        print(burst_md)
    rows = []
    for db, res in results.items():
        for kind, (n, took, base) in res.items():
            what = "ADT (A05 + A01)" if kind == "ADT" else f"DFT^P03 ({a.lines} charges each)"
            rows.append(f"| {db} | {what} | {n} | {n / took:,.0f} msg/s ({took / n * 1e3:.2f} ms) | "
                        f"{n / base:,.0f} msg/s ({base / n * 1e3:.2f} ms) | **{took / base:.2f}×** |")
            print(rows[-1])
    md = f"""## HIS interface: inbound HL7 over MLLP (`bench/bench_hl7.py`)

{a.stays} stays, each an ADT^A05, an ADT^A01 and a DFT^P03 of {a.lines} charges, sent over one MLLP
connection one message at a time, each waiting for its ACK (the kiosks' check-ins, between the
A05s and the A01s, are not timed). Interface = the whole path: framing,
parse, MSH-10 look-up, mapping and checks, the commands through the server's ingest (one
transaction, kiosks pull them), the stored ACK. Baseline, same run, same database: python-hl7
parse and a store of the message and its charge lines, one transaction per message, no socket.
Machine: {machine()}.

| database | messages | n | interface | bare parse + store | ratio |
|---|---|---|---|---|---|
""" + "\n".join(rows) + burst_md + """

The interface opens five short transactions per message (the MSH-10 look-up, the follower of
the command log, the plan's visit read, the ingest, then the message log with the visit), the
baseline one: most of the ratio is those commits.
"""
    if not a.no_write:
        write_section("hl7", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
