"""Bench: the central sync server on PostgreSQL.

One run, one machine, loopback only:

* **ingest**: commands/s through ``POST /v1/push`` (signed, JSON, 500 per batch, server in a
  subprocess) against a bare batched ``INSERT`` of the same rows (``executemany``, 500 per
  transaction) into a plain table in the same database; also the in-process ingest (no HTTP);
* **catch-up**: the time one kiosk takes to push ``--backlog`` (default 100,000) queued commands
  and pull the resulting events;
* **pull fan-in**: ``--kiosks`` (default 200) enrolled kiosks pulling one page at once, p50/p99.

Usage: ``.venv/bin/python bench/bench_sync.py [--commands N] [--backlog N] [--kiosks N] [--no-write]``
Needs PostgreSQL at 127.0.0.1:5432 (``ONESTOP_TEST_PG``); creates and drops its own database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write_section  # noqa: E402
from tests.sync_support import create_pg_db, drop_pg_db  # noqa: E402

ADMIN = "bench-admin"


def make_commands(device: str, n: int, start: int = 0) -> list[dict]:
    out = []
    now = "2026-11-28T08:00:00.000000Z"
    for i in range(start, start + n):
        r = i % 4
        if r == 0:
            kind, payload = "hospital.admission.registered", {"inpatient_no": f"{device}-{i:07d}",
                                                             "patient_uid": str(uuid.uuid4()), "ward_code": "W3",
                                                             "at": now}
        elif r == 1:
            kind, payload = "hospital.deposit.recorded", {"inpatient_no": f"{device}-{i - 1:07d}",
                                                         "entry_no": f"{device}-E{i}", "receipt_no": f"{device}-R{i}",
                                                         "amount_fen": 100_000, "method": "cash", "at": now}
        elif r == 2:
            kind, payload = "hospital.charge.added", {"inpatient_no": f"{device}-{i - 2:07d}",
                                                     "charge_ref": f"{device}-C{i}", "fee_code": "BED01",
                                                     "amount_fen": 4500, "qty_milli": 1000, "unit_price_fen": 4500}
        else:
            kind, payload = "hospital.bed.assigned", {"inpatient_no": f"{device}-{i - 3:07d}", "ward_code": "W3",
                                                     "bed_no": f"{device}-{i}", "at": now}
        out.append({"command_id": str(uuid.uuid4()), "device_id": device, "device_seq": i + 1, "created_at": now,
                    "kind": kind, "payload": payload})
    return out


def start_server(db: str, env: dict) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "server", "--db", db, "--port", "0",
                             "--admin-token", ADMIN, "--rate", "0"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            text=True)
    line = proc.stdout.readline()
    return proc, line.split("listening on ", 1)[1].split()[0]


def bare_insert_rate(db: str, batches: list[list[dict]]) -> float:
    import psycopg
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE bare (command_id TEXT PRIMARY KEY, device_id TEXT, device_seq BIGINT, "
                     "created_at TEXT, kind TEXT, payload TEXT)")
        t0 = time.perf_counter()
        for b in batches:
            with conn.transaction():
                conn.cursor().executemany("INSERT INTO bare VALUES (%s, %s, %s, %s, %s, %s)",
                                          [(c["command_id"], c["device_id"], c["device_seq"], c["created_at"],
                                            c["kind"], json.dumps(c["payload"])) for c in b])
        dt = time.perf_counter() - t0
        conn.execute("DROP TABLE bare")
    return sum(len(b) for b in batches) / dt


def signed_post(http, secret, device, body: bytes):
    from sync import protocol as P
    ts, nonce = f"{time.time():.3f}", P.new_nonce()
    return http.post("/v1/push", content=body, headers={
        P.H_DEVICE: device, P.H_TS: ts, P.H_NONCE: nonce, "Content-Type": "application/json",
        P.H_SIG: P.sign(secret, "POST", "/v1/push", ts, nonce, body)})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commands", type=int, default=20_000)
    ap.add_argument("--backlog", type=int, default=100_000)
    ap.add_argument("--kiosks", type=int, default=200)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    import httpx

    from pos.store import Store
    from sync import protocol as P
    from sync.client import SyncClient, set_state
    from sync.server.db import open_backend
    from sync.server.service import enrol, ingest, issue_enrol_code, validate_batch

    load_before = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="onestop-bench-sync-"))
    env = dict(os.environ, ONESTOP_DATA_DIR=str(tmp / "data"), ONESTOP_LOG_DIR=str(tmp / "logs"))
    db = create_pg_db()
    proc = None
    try:
        backend = open_backend(db)
        secret = enrol(backend, issue_enrol_code(backend), "KBENCH")
        cmds = make_commands("KBENCH", args.commands)
        batches = [cmds[i:i + P.MAX_BATCH] for i in range(0, len(cmds), P.MAX_BATCH)]

        # 1. ingest through HTTP, against the bare INSERT (measured in the same run, same database)
        proc, url = start_server(db, env)
        bodies = [json.dumps({"commands": b}, separators=(",", ":")).encode() for b in batches]
        with httpx.Client(base_url=url, timeout=60) as http:
            t0 = time.perf_counter()
            for body in bodies:
                r = signed_post(http, secret, "KBENCH", body)
                assert r.status_code == 200, r.text
            http_rate = len(cmds) / (time.perf_counter() - t0)
        bare = bare_insert_rate(db, batches)
        # in-process ingest (no HTTP, no auth), another device so nothing is a duplicate
        secret2 = enrol(backend, issue_enrol_code(backend), "KCORE")
        core = make_commands("KCORE", args.commands)
        t0 = time.perf_counter()
        for i in range(0, len(core), P.MAX_BATCH):
            valid, meta = validate_batch({"commands": core[i:i + P.MAX_BATCH]}, "KCORE")
            ingest(backend, "KCORE", valid, meta)
        core_rate = len(core) / (time.perf_counter() - t0)
        _ = secret2

        # 2. one kiosk catching up on a backlog
        store = Store(tmp / "kiosk.sqlite", device_id="KCATCH")
        set_state(store, "secret", enrol(backend, issue_enrol_code(backend), "KCATCH"))
        set_state(store, "server_url", url)
        backlog = make_commands("KCATCH", args.backlog)
        with store.transaction() as tx:
            for c in backlog:
                tx.insert("outbox", {"command_id": c["command_id"], "device_id": "KCATCH",
                                     "device_seq": c["device_seq"], "created_at": c["created_at"], "kind": c["kind"],
                                     "payload": json.dumps(c["payload"]), "state": "pending"})
        client = SyncClient(store, batch=P.MAX_BATCH, timeout=120)
        t0 = time.perf_counter()
        client.push_all()
        push_s = time.perf_counter() - t0
        client.pull_all()
        catch_s = time.perf_counter() - t0
        assert store.outbox_depth() == 0
        pulled = store.conn.execute("SELECT count(*) FROM sync_events").fetchone()[0]

        # 3. many kiosks pulling at once
        secrets_ = [(f"KP{i:03d}", enrol(backend, issue_enrol_code(backend), f"KP{i:03d}"))
                    for i in range(args.kiosks)]
        barrier = threading.Barrier(args.kiosks)
        lat: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def kiosk(device, sec):
            path = "/v1/events?after=0&limit=100"
            with httpx.Client(base_url=url, timeout=60) as http:
                barrier.wait()
                ts, nonce = f"{time.time():.3f}", P.new_nonce()
                t = time.perf_counter()
                r = http.get(path, headers={P.H_DEVICE: device, P.H_TS: ts, P.H_NONCE: nonce,
                                            P.H_SIG: P.sign(sec, "GET", path, ts, nonce, b"")})
                d = time.perf_counter() - t
                with lock:
                    (lat if r.status_code == 200 else errors).append(d if r.status_code == 200 else r.status_code)
        threads = [threading.Thread(target=kiosk, args=s) for s in secrets_]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        lat.sort()
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
    finally:
        if proc:
            proc.terminate()
            proc.wait(10)
        try:
            backend.close()
        except Exception:
            pass
        drop_pg_db(db)

    goal_note = "" if http_rate / bare >= 0.5 else (
        "\n**The ingest goal (≥ 0.5) is not met.** Most of the server's time goes to PostgreSQL writing three to "
        "four rows per command (domain row, command, event; GiST exclusion index for beds) against one for the "
        "baseline; the rest to validation and JSON in Python.\n")
    md = f"""## Sync server (PostgreSQL)

`bench/bench_sync.py`: server on PostgreSQL 15 at 127.0.0.1, one uvicorn process, loopback.
Load average when the run started: {load_before:.1f} (other work on the machine slows both sides
of each ratio alike, but not the absolute times).

| measure | result |
|---|---|
| ingest through `POST /v1/push` (signed, 500 per batch, {args.commands:,} commands) | **{http_rate:,.0f} commands/s** |
| bare batched `INSERT` of the same rows (executemany, 500 per transaction) | {bare:,.0f} rows/s |
| **ratio push / bare INSERT** (goal ≥ 0.5) | **{http_rate / bare:.2f}** |
| in-process ingest (no HTTP, no auth) / bare INSERT | {core_rate:,.0f} commands/s = {core_rate / bare:.2f} |
| one kiosk catching up on {args.backlog:,} queued commands (push) | {push_s:.1f} s ({args.backlog / push_s:,.0f} commands/s) |
| ... then pulling the {pulled:,} events it has not seen | {catch_s:.1f} s in total |
| {args.kiosks} kiosks pulling one page (100 events) at once | p50 **{p50:.0f} ms**, p99 **{p99:.0f} ms** ({len(errors)} errors) |

Each pushed command costs the server one dedupe lookup (batched), its domain row (admission,
ledger entry or bed claim under the exclusion constraint), one event row and its stored result,
all in one transaction per batch; the bare INSERT writes one row. The catch-up figure includes the
kiosk's own SQLite acknowledgements (synchronous=FULL).
{goal_note}
### Scaling out

* The server keeps no state between requests: nonces, enrolment codes, devices and the event counter
  are in PostgreSQL, so any number of identical `onestop server` replicas can run behind a load
  balancer (TLS at the replica or at the balancer) on one PostgreSQL primary. The only per-process
  state is the rate-limit bucket, so the limit becomes per replica (set `--rate` to the site limit
  divided by the replica count, or pin a device to a replica with a hash on `X-Onestop-Device`).
* Pushes serialise on the single-row event counter (that is what keeps the global sequence
  gapless), so write throughput is one PostgreSQL primary's commit rate for batches, which the
  figures above put far above a hospital's kiosk traffic. Bigger batches amortise it further.
* Pulls are read-only apart from the device's last-seen row: they can be served from streaming
  read replicas (hot standby). A replica lags the primary, so a kiosk may see its own events a
  moment later; the cursor makes that harmless (it never skips: events are only ever appended in
  sequence order). Last-seen updates can then be batched or sent to the primary asynchronously.
* Beyond one primary (several campuses writing at once) the event log would need a sequence per
  campus; not needed for one hospital.
"""
    if args.no_write:
        print(md)
    else:
        write_section("sync", md)


if __name__ == "__main__":
    main()
