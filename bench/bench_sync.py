"""Bench: the central sync server on PostgreSQL.

One run, one machine, loopback only:

* **ingest**: commands/s through ``POST /v1/push`` (signed, JSON, 500 per batch, server in a
  subprocess) against a bare batched ``INSERT`` of every row the push stored, into copies of the
  server's tables (the goal's baseline), and against a stricter one: one row a command
  (psycopg ``executemany``, which
  pipelines the statements: the fastest plain INSERT we measured, ahead of one multi-row VALUES
  statement or ``INSERT ... SELECT FROM unnest``; 500 per transaction) into a plain table in the
  same database, run before and after the push, the faster of the two taken; also the in-process
  ingest (no HTTP) and, for reference, a bare ``COPY`` of the same rows (the server itself writes
  with COPY);
* **catch-up**: the time one kiosk takes to push ``--backlog`` (default 100,000) queued commands
  and pull the resulting events;
* **pull fan-in**: ``--kiosks`` (default 200) enrolled kiosks pulling one page at once, p50/p95/p99,
  from a client in its own process (``bench/pull_fanin.py``, its CPU reported), against a bare uvicorn
  app answering the same bytes from the same client in alternated rounds (the baseline), the page's
  query alone from as many threads, and the previous method (httpx threads in this process); and
  the server's CPU per pull in process (decoded, passed through, from the page cache).

Usage: ``.venv/bin/python bench/bench_sync.py [--commands N] [--backlog N] [--kiosks N] [--rounds N] [--no-write]``;
``--pull-only`` runs the fan-in alone on a log of 2,000 commands and prints its figures as JSON.
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


def start_server(db: str, env: dict, workers: int = 1) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "server", "--db", db, "--port", "0",
                             "--admin-token", ADMIN, "--rate", "0", "--workers", str(workers)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    return proc, line.split("listening on ", 1)[1].split()[0]


def bare_insert_rate(db: str, batches: list[list[dict]], copy: bool = False) -> float:
    """Rows/s of the same commands into a plain table (primary key on command_id), one transaction per
    batch: ``executemany`` INSERT (the baseline), or ``COPY`` (a reference)."""
    import psycopg
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE TABLE bare (command_id TEXT PRIMARY KEY, device_id TEXT, device_seq BIGINT, "
                     "created_at TEXT, kind TEXT, payload TEXT)")
        t0 = time.perf_counter()
        for b in batches:
            rows = [(c["command_id"], c["device_id"], c["device_seq"], c["created_at"], c["kind"],
                     json.dumps(c["payload"])) for c in b]
            with conn.transaction():
                if copy:
                    with conn.cursor().copy("COPY bare FROM STDIN") as cp:
                        for row in rows:
                            cp.write_row(row)
                else:
                    conn.cursor().executemany("INSERT INTO bare VALUES (%s, %s, %s, %s, %s, %s)", rows)
        dt = time.perf_counter() - t0
        conn.execute("DROP TABLE bare")
    return sum(len(b) for b in batches) / dt


#: the tables a push writes rows into (commands and the domain rows their handlers store)
PUSH_TABLES = ("commands", "events", "admissions", "ledger", "resource_claims", "claim_conflicts")


def bare_stored_rows_rate(db: str, n_batches: int, n_commands: int, copy: bool = False) -> tuple[float, int]:
    """Commands/s of a bare ``executemany`` INSERT of every row the push stored, read back from the
    server's tables, into copies made with ``LIKE ... INCLUDING ALL`` (the same columns, defaults,
    indexes, unique and exclusion constraints; no triggers or foreign keys, which only makes the
    baseline faster), one transaction per batch as the push had. Returns (rate, rows)."""
    import psycopg
    from psycopg.types.json import Jsonb

    def value(v):
        return Jsonb(v) if isinstance(v, (dict, list)) else v

    with psycopg.connect(db, autocommit=True) as conn:
        chunks, total = [[] for _ in range(n_batches)], 0
        for table in PUSH_TABLES:
            cur = conn.execute(f"SELECT * FROM {table} ORDER BY ctid")
            cols = [d.name for d in cur.description]
            rows = [tuple(value(v) for v in r) for r in cur.fetchall()]
            if not rows:
                continue
            total += len(rows)
            conn.execute(f"CREATE TABLE bare_{table} (LIKE {table} INCLUDING ALL)")
            sql = (f"COPY bare_{table} ({', '.join(cols)}) FROM STDIN" if copy else
                   f"INSERT INTO bare_{table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})")
            per = -(-len(rows) // n_batches)
            for i in range(n_batches):
                part = rows[i * per:(i + 1) * per]
                if part:
                    chunks[i].append((sql, part))
        t0 = time.perf_counter()
        for parts in chunks:
            with conn.transaction():
                for sql, part in parts:
                    if copy:            # the way the server itself writes them
                        with conn.cursor().copy(sql) as cp:
                            for row in part:
                                cp.write_row(row)
                    else:
                        conn.cursor().executemany(sql, part)
        dt = time.perf_counter() - t0
        for table in PUSH_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS bare_{table}")
    return n_commands / dt, total


def signed_post(http, secret, device, body: bytes):
    from sync import protocol as P
    ts, nonce = f"{time.time():.3f}", P.new_nonce()
    return http.post("/v1/push", content=body, headers={
        P.H_DEVICE: device, P.H_TS: ts, P.H_NONCE: nonce, "Content-Type": "application/json",
        P.H_SIG: P.sign(secret, "POST", "/v1/push", ts, nonce, body)})


def pull_cpu(db: str, pages: int = 300) -> tuple[float, float, float, int]:
    """CPU seconds per pull of one page of 100 events, in process (no HTTP, no client): the page
    decoded and encoded again (service.pull + json.dumps, as the server answered before), the stored
    payloads passed through (service.pull_json) with no page cache, and the same with the page
    cache when every kiosk asks for one window (what a fan-in is), alternated in rounds."""
    from sync.server.db import PageCache, open_backend
    from sync.server.service import enrol, issue_enrol_code, pull, pull_json, push

    backend = open_backend(db)
    try:
        enrol(backend, issue_enrol_code(backend), "KPULL")
        cmds = make_commands("KPULL", 2000)
        for i in range(0, len(cmds), 500):
            push(backend, "KPULL", {"commands": cmds[i:i + 500]})
        cache = backend.pages

        def old():
            for k in range(pages):
                json.dumps(pull(backend, "KPULL", (k * 37) % 1900, 100), ensure_ascii=False).encode()

        def new():
            backend.pages = PageCache(0)                  # keeps nothing
            for k in range(pages):
                pull_json(backend, "KPULL", (k * 37) % 1900, 100)

        def cached():
            backend.pages = cache
            for _k in range(pages):
                pull_json(backend, "KPULL", 0, 100)

        times = ([], [], [])
        for _ in range(3):
            for fn, out in zip((old, new, cached), times):
                t0 = time.process_time()
                fn()
                out.append((time.process_time() - t0) / pages)
        return min(times[0]), min(times[1]), min(times[2]), len(pull(backend, "KPULL", 0, 100)["events"])
    finally:
        backend.close()


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children (the forked server workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def pct(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def signed_requests(host: str, kiosks: list[tuple[str, str]], path: str) -> list[str]:
    """One raw signed ``GET`` per kiosk (fresh nonces: a nonce is spent by its request)."""
    from sync import protocol as P
    out = []
    for device, sec in kiosks:
        ts, nonce = f"{time.time():.3f}", P.new_nonce()
        out.append(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{P.H_DEVICE}: {device}\r\n{P.H_TS}: {ts}\r\n"
                   f"{P.H_NONCE}: {nonce}\r\n{P.H_SIG}: {P.sign(sec, 'GET', path, ts, nonce, b'')}\r\n"
                   f"Connection: close\r\n\r\n")
    return out


def fan_in(url: str, server_pid: int, kiosks: list[tuple[str, str]], tmp: Path,
           path: str = "/v1/events?after=0&limit=100") -> dict:
    """Every kiosk pulls one page at once; the client is another process (bench/pull_fanin.py)."""
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    req = tmp / "requests.json"
    req.write_text(json.dumps(signed_requests(f"{host}:{port}", kiosks, path)))
    c0 = proc_cpu(server_pid)
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "pull_fanin.py"), "client", host, port, str(req)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    got = json.loads(out.stdout)
    got["server_cpu"] = proc_cpu(server_pid) - c0
    lat = sorted(got["latency"])
    got.update(p50=pct(lat, 0.5) * 1000, p95=pct(lat, 0.95) * 1000, p99=pct(lat, 0.99) * 1000,
               errors=sum(1 for s in got["status"] if s != 200))
    return got


def start_static(body: bytes, workers: int, tmp: Path, env: dict) -> tuple[subprocess.Popen, str]:
    """The baseline: a bare uvicorn app answering the same bytes (bench/pull_fanin.py static)."""
    f = tmp / "static-body.json"
    f.write_bytes(body)
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "pull_fanin.py"), "static", str(f), str(workers)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    return proc, line.split("listening on ", 1)[1].split()[0]


def fan_in_rounds(url: str, server_pid: int, static_url: str, static_pid: int, kiosks, tmp: Path,
                  rounds: int = 3) -> tuple[dict, dict]:
    """Alternated rounds against the server and against the static baseline; the round of median p99
    of each is kept."""
    ours, bare = [], []
    for i in range(rounds):
        pair = [(ours, url, server_pid), (bare, static_url, static_pid)]
        for out, u, pid in (pair if i % 2 == 0 else pair[::-1]):
            out.append(fan_in(u, pid, kiosks, tmp))
    med = lambda runs: sorted(runs, key=lambda r: r["p99"])[len(runs) // 2]  # noqa: E731
    return med(ours), med(bare)


def bare_sql_pull(db: str, kiosks: int, pool: int = 8) -> dict:
    """The page's query alone (``EVENT_LOG``, the same 100 events) run by ``kiosks`` threads at once
    over ``pool`` connections (the server's pool size per worker), in this process: p50/p99 of
    each query's wait + run, and the database-side time per page."""
    import psycopg
    from concurrent.futures import ThreadPoolExecutor

    from sync.server.service import EVENT_LOG
    sql = EVENT_LOG.replace("?", "%s")
    conns = [psycopg.connect(db, autocommit=True) for _ in range(pool)]
    try:
        for c in conns:
            c.execute(sql, (0, 100, 0, 100, 100)).fetchall()
        free = __import__("queue").Queue()
        for c in conns:
            free.put(c)
        start = threading.Event()

        def one(_):
            start.wait()
            t = time.perf_counter()
            c = free.get()
            try:
                c.execute(sql, (0, 100, 0, 100, 100)).fetchall()
            finally:
                free.put(c)
            return time.perf_counter() - t
        with ThreadPoolExecutor(kiosks) as ex:
            futs = [ex.submit(one, i) for i in range(kiosks)]
            time.sleep(0.5)
            t0 = time.perf_counter()
            start.set()
            lat = sorted(f.result() for f in futs)
            wall = time.perf_counter() - t0
        return {"p50": pct(lat, 0.5) * 1000, "p99": pct(lat, 0.99) * 1000, "wall": wall}
    finally:
        for c in conns:
            c.close()


def pull_only(args) -> None:
    """Only the fan-in (``--pull-only``): a log of 2,000 commands, the kiosks, the server and its baseline."""
    from sync.server.db import open_backend
    from sync.server.service import enrol, issue_enrol_code, pull_json, push

    tmp = Path(tempfile.mkdtemp(prefix="onestop-bench-pull-"))
    env = dict(os.environ, ONESTOP_DATA_DIR=str(tmp / "data"), ONESTOP_LOG_DIR=str(tmp / "logs"))
    db = create_pg_db()
    procs = []
    try:
        backend = open_backend(db)
        enrol(backend, issue_enrol_code(backend), "KPULL")
        cmds = make_commands("KPULL", 2000)
        for i in range(0, len(cmds), 500):
            push(backend, "KPULL", {"commands": cmds[i:i + 500]})
        kiosks = [(f"KP{i:03d}", enrol(backend, issue_enrol_code(backend), f"KP{i:03d}")) for i in range(args.kiosks)]
        body = pull_json(backend, "KPULL", 0, 100)
        backend.close()
        proc, url = start_server(db, env, args.workers)
        procs.append(proc)
        sproc, surl = start_static(body, args.workers, tmp, env)
        procs.append(sproc)
        ours, bare = fan_in_rounds(url, proc.pid, surl, sproc.pid, kiosks, tmp, rounds=args.rounds)
        sql = bare_sql_pull(db, args.kiosks)
        print(json.dumps({"ours": {k: v for k, v in ours.items() if k not in ("latency", "status")},
                          "static": {k: v for k, v in bare.items() if k not in ("latency", "status")},
                          "sql": sql, "load": os.getloadavg()[0]}, indent=1))
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        drop_pg_db(db)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commands", type=int, default=20_000)
    ap.add_argument("--backlog", type=int, default=100_000)
    ap.add_argument("--kiosks", type=int, default=200)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server processes (default: cores)")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--pull-cpu", action="store_true", help="only the in-process pull CPU comparison; print it")
    ap.add_argument("--pull-only", action="store_true", help="only the pull fan-in and its baselines; print them")
    ap.add_argument("--rounds", type=int, default=3, help="alternated fan-in rounds (server, baseline)")
    args = ap.parse_args()
    if args.pull_only:
        pull_only(args)
        return
    if args.pull_cpu:
        db = create_pg_db()
        try:
            t_old, t_new, t_cached, n = pull_cpu(db)
        finally:
            drop_pg_db(db)
        print(f"decoded {t_old * 1000:.2f} ms, passed through {t_new * 1000:.2f} ms, cached {t_cached * 1000:.2f} ms "
              f"per pull of {n} events")
        return

    import httpx

    from pos.store import Store
    from sync import protocol as P
    from sync.client import SyncClient, set_state
    from sync.server.db import open_backend
    from sync.server.service import enrol, issue_enrol_code, push

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

        # 1. ingest through HTTP, against the bare INSERT (measured in the same run, same database, before
        # and after the push; the faster of the two is the baseline)
        bare_before = bare_insert_rate(db, batches)
        proc, url = start_server(db, env, args.workers)
        bodies = [json.dumps({"commands": b}, separators=(",", ":")).encode() for b in batches]
        with httpx.Client(base_url=url, timeout=60) as http:
            t0 = time.perf_counter()
            for body in bodies:
                r = signed_post(http, secret, "KBENCH", body)
                assert r.status_code == 200, r.text
            http_rate = len(cmds) / (time.perf_counter() - t0)
        bare_after = bare_insert_rate(db, batches)
        bare = max(bare_before, bare_after)
        # every row the push stored (only KBENCH has pushed so far), written again with bare INSERTs
        bare_stored, stored_rows = bare_stored_rows_rate(db, len(batches), len(cmds))
        bare_copy = bare_insert_rate(db, batches, copy=True)
        copy_stored, _ = bare_stored_rows_rate(db, len(batches), len(cmds), copy=True)
        # in-process ingest (no HTTP, no auth), another device so nothing is a duplicate
        secret2 = enrol(backend, issue_enrol_code(backend), "KCORE")
        core = make_commands("KCORE", args.commands)
        t0 = time.perf_counter()
        for i in range(0, len(core), P.MAX_BATCH):
            push(backend, "KCORE", {"commands": core[i:i + P.MAX_BATCH]})
        core_rate = len(core) / (time.perf_counter() - t0)
        _ = secret2
        load_after = os.getloadavg()[0]

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
        # keep_events past the backlog: the pull replays the whole log (no snapshot), the worst case
        client = SyncClient(store, batch=P.MAX_BATCH, timeout=120, keep_events=10 * args.backlog + 10 ** 6)
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
        # the same pulls from a client in its own process, against the server and against a bare
        # uvicorn answering the same bytes, in alternated rounds; then the page's query alone
        from sync.server.service import pull_json
        body = pull_json(backend, "KBENCH", 0, 100)
        sproc, surl = start_static(body, args.workers, tmp, env)
        try:
            fan, static = fan_in_rounds(url, proc.pid, surl, sproc.pid, secrets_, tmp, rounds=args.rounds)
        finally:
            sproc.terminate()
            sproc.wait(10)
        sql = bare_sql_pull(db, args.kiosks)
        load_end = os.getloadavg()[0]
        t_old, t_new, t_cached, n_page = pull_cpu(db)
    finally:
        if proc:
            proc.terminate()
            proc.wait(10)
        try:
            backend.close()
        except Exception:
            pass
        drop_pg_db(db)

    per_batch = {name: 1000 * P.MAX_BATCH / rate for name, rate in
                 (("push", http_rate), ("core", core_rate), ("bare", bare), ("copy", bare_copy))}
    stored_ms = 1000 * P.MAX_BATCH / bare_stored
    goal_note = (f"\nAgainst the rows it stores, the ingest goal (≥ 0.5) is "
                 f"{'met' if http_rate / bare_stored >= 0.5 else '**not met**'} in this run: a batch of "
                 f"{P.MAX_BATCH} takes {per_batch['push']:.1f} ms through HTTP against {stored_ms:.1f} ms to "
                 f"INSERT its rows bare. Against the stricter one-row baseline it is "
                 f"{'met' if http_rate / bare >= 0.5 else '**not met**'}: {per_batch['bare']:.1f} ms for 500 "
                 f"rows of one table with one index ({per_batch['core']:.1f} ms for the push in-process: "
                 f"validation, the handlers and the transaction; 0.5 means {2 * per_batch['bare']:.1f} ms).\n")
    cores = os.cpu_count() or 0
    md = f"""## Sync server (PostgreSQL)

`bench/bench_sync.py`: server on PostgreSQL 15 at 127.0.0.1, {args.workers} uvicorn worker process{'es' if args.workers > 1 else ''} (`onestop server --workers {args.workers}`: one per core), loopback.
Load average {load_before:.1f} when the run started and {load_after:.1f} after the ingest measures (the
bench's own server, client and database count in that one), on {cores} cores. Other work on the
machine slows every absolute time and both sides of each ratio, not alike: the bare INSERT needs two
busy processes, a push three.

| measure | result |
|---|---|
| ingest through `POST /v1/push` (signed, 500 per batch, {args.commands:,} commands) | **{http_rate:,.0f} commands/s** |
| bare batched one-row `INSERT` of the pushed commands (one table, primary key only; executemany, 500 per transaction; the faster of a run before and one after the push) | {bare:,.0f} rows/s ({bare_before:,.0f} before, {bare_after:,.0f} after) |
| ratio push / bare one-row INSERT (the stricter baseline) | **{http_rate / bare:.2f}** |
| bare batched `INSERT` of every row the push stored ({stored_rows:,} rows: the `commands` rows and the domain rows, into `LIKE ... INCLUDING ALL` copies of the server's tables, so the same indexes and constraints; 500 commands' rows per transaction) | {bare_stored:,.0f} commands/s |
| ratio push / bare INSERT of the same rows it stored (goal ≥ 0.5) | {http_rate / bare_stored:.2f} |
| bare `COPY` of every row the push stored (the same rows and tables; COPY is how the server itself writes them) | {copy_stored:,.0f} commands/s |
| **ratio push / bare COPY of the same rows it stored** (the honest baseline) | **{http_rate / copy_stored:.2f}** |
| in-process ingest (no HTTP, no auth) / bare INSERT | {core_rate:,.0f} commands/s = {core_rate / bare:.2f} |
| for reference: bare `COPY` of the pushed commands into the one-row table (push / COPY) | {bare_copy:,.0f} rows/s ({http_rate / bare_copy:.2f}) |
| one kiosk catching up on {args.backlog:,} queued commands (push) | {push_s:.1f} s ({args.backlog / push_s:,.0f} commands/s) |
| ... then pulling the {pulled:,} events it has not seen | {catch_s:.1f} s in total |
| **{args.kiosks} kiosks pulling one page (100 events) at once**: a client in its own process (asyncio, connections open before the clock; median of {args.rounds} rounds by p99) | p50 {fan['p50']:.0f} ms, p95 {fan['p95']:.0f} ms, p99 **{fan['p99']:.0f} ms** ({fan['errors']} errors; the client used {fan['client_cpu'] * 1000:.0f} ms of CPU for all {args.kiosks}, the server {fan['server_cpu'] * 1000 / args.kiosks:.2f} ms a pull) |
| ... baseline, same run, same client: a bare uvicorn app answering the same {len(body):,} bytes ({args.workers} worker{'s' if args.workers > 1 else ''}, the server's socket and options) | p50 {static['p50']:.0f} ms, p95 {static['p95']:.0f} ms, p99 {static['p99']:.0f} ms ({static['server_cpu'] * 1000 / args.kiosks:.2f} ms of CPU a request) |
| **ratio p99 server / bare uvicorn** | **{fan['p99'] / static['p99']:.1f}×** (p50 {fan['p50'] / static['p50']:.1f}×) |
| ... the page's query alone, {args.kiosks} at once from threads over 8 connections (the server's pool per worker) | p50 {sql['p50']:.0f} ms, p99 {sql['p99']:.0f} ms |
| ... the previous method: {args.kiosks} `httpx` threads in the bench's own process, each connecting inside the clock | p50 {p50:.0f} ms, p99 {p99:.0f} ms ({len(errors)} errors) |
| server CPU per pull of {n_page} events, in process (no HTTP): page decoded and encoded again (before issue 19) | {t_old * 1000:.2f} ms |
| ... stored payloads passed through, no page cache (`pull_json`, a kiosk alone at its window) | {t_new * 1000:.2f} ms ({t_new / t_old:.2f} of before) |
| ... the page from the cache (every kiosk at one window, as in a fan-in) | {t_cached * 1000:.2f} ms ({t_cached / t_old:.2f} of before) |

**The honest ingest baseline is COPY of the same rows**: the server writes its rows with COPY, so a
baseline that INSERTs them row by row flatters it. Against COPY the push is at
{http_rate / copy_stored:.2f}; the difference is the server's own Python (parse, validate, apply,
answer), which is broken down below.

**Pulls.** Goal p99 < 500 ms for 200 kiosks: {'met' if fan['p99'] < 500 else '**not met**'} in this run
(p99 {fan['p99']:.0f} ms at load {load_end:.1f} on {cores} cores, with other engineers' test runs on the
machine; the bare uvicorn baseline's p99 was {static['p99']:.0f} ms in the same rounds). What a pull is now:

* the stored payload JSON goes into the answer as it is (`service.pull_json`), never decoded;
* the page's text is kept per window (`backend.pages`, at most 32 M characters a worker, least recently
  used out): the first ``limit`` events after ``after`` never change once the head is past them (the
  log is append-only and numbered in commit order), so every kiosk asking for the same window
  after the first gets the same text without reading the log; a page short of its limit is keyed
  by the head too, so it is never stale;
* the head is read first, in one round trip with the nonce (psycopg pipeline); the page holds only
  events up to it;
* the pull's commit is relaxed (`synchronous_commit = off` for that transaction only): it writes
  the spent nonce and the device's last-seen row, whose loss in a database crash reopens the replay
  window of a read and nothing else. On this loaded disk that was most of a pull's wall time (in
  process: about 3 ms a pull against 11 ms with the flush);
* uvicorn runs on `httptools` and `uvloop` (now dependencies; uvicorn's `auto` picks them), and
  {args.workers} worker process{'es' if args.workers > 1 else ''} share the socket (`--workers`, one per core is the
  documented setting: the server holds no state between requests but the rate-limit buckets, which
  become per worker, and the page cache, which is per worker and needs no coherence).

**The baseline and the client.** The figure before issue 19's last pass (p99 1.61 s) came from 200
`httpx` threads in the bench's own Python process, connecting inside the clock, on the same 2 cores
as the server and PostgreSQL: the client's own CPU and its GIL were a large part of it (the
previous-method row above measures it again). The fan-in is now driven by a separate process
(`bench/pull_fanin.py`: one asyncio loop, raw signed requests prepared before the clock, connections
open and accepted before it), whose CPU for all 200 requests is in the table; and the same client, in
the same rounds, pulls from a bare uvicorn app that answers the same bytes, which is what 200
simultaneous HTTP answers cost on this machine at all. What separates the two is the server's
work per pull (its CPU a pull is in the row: the HTTP stack, the signature check, the pool, the
transaction) and PostgreSQL's (the signature's read, the nonce, the head, the last-seen row).

Two baselines of INSERT. The goal's "a bare batched INSERT of the same rows" is the second: exactly the rows
the push stored, into tables with the same indexes and constraints, so its ratio is what the server
itself (HTTP, signatures, validation, idempotency, the event sequence, bed adjudication) costs
over storing what it stores. The first is stricter, one row a command into a table with one
index, and it is the one the explanation below is about.

A batch is one transaction. The server checks the signature (one read), then sends the nonce,
the counter lock and four indexed lookups (which command IDs, admissions, ledger entries and bed
claims exist) in one psycopg pipeline and validates the commands in Python while PostgreSQL runs
them; it applies the commands in Python while their `commands` rows stream in with `COPY`, then
copies the domain rows. Each command costs one `commands` row (with its stored result and its
first event: number, kind, and payload when that is not the command's own), its domain row
(admission, ledger entry, or bed claim under the GiST exclusion constraint), and an `events` row
only for a second event (a discharge that frees a bed). The bare INSERT writes one row with one
index. The catch-up figure includes the kiosk's own SQLite acknowledgements (synchronous=FULL).
{goal_note}
Where a push of 500 goes, from instrumented runs on the quiet machine (load 1.1: 25.7 ms a request
against 7.0 ms for the bare INSERT in the same run):

* waiting for PostgreSQL, 9.8 ms: the domain rows' COPY 6.3 ms (bed claims 3.1, ledger 2.3,
  admissions 1.0), the end of the streamed `commands` COPY 1.5, the final updates and the commit
  1.2, the pipeline 0.8 (the lookups mostly run during validation);
* the server's Python, 14.1 ms on one core: validation 3.6, applying the commands and encoding
  their rows 5.8, parsing the request JSON 1.3, the response JSON 1.1, the signature read 0.5,
  Starlette and uvicorn 1.8;
* the client and loopback, 1.8 ms.

Why 0.5 against the stricter one-row baseline is out of reach for this design on this machine: the baseline's 500 rows take 7 to 8 ms
(the client's Python and PostgreSQL's work overlap on the two cores). The push writes two rows a
command with four to five index entries where the baseline writes one with one, and PostgreSQL's
wait alone, with the lookups and the `commands` rows already overlapped with Python, is more than
the baseline's whole time. The goal needs the whole request under 14 to 16 ms, which the wait and
the client use up before any of the server's Python (parse, validate, apply, answer: 14 ms, which
cannot overlap any further) has run. On a busy machine the ratio swings widely (0.26 to 0.60 in
runs at load 1.3 to 6 while this was built: the baseline itself measured 22,000 to 67,000 rows/s),
so only a run on a quiet machine says much.

What made the difference (profiled with cProfile, py-spy and `auto_explain`; from 0.20):

* The batch lookups used `col = ANY(array)`; while a table is small PostgreSQL picks a seq scan for
  that and compares every row with every key (8 ms for 125 keys on 1,900 rows), and psycopg dumps a
  Python list slowly. Now one JSON parameter and one index probe per key (`LATERAL ... OFFSET 0`).
* The bed exclusion constraint led with the text `bed_id`; btree_gist on text cost ~100 µs per
  claim. It now leads with `bed_key`, a 64-bit hash of the bed (`bed_id` stays in the constraint,
  so a collision cannot make two beds conflict): a third of that. (Since the site packs: the generic
  resource claims' `resource_key`, the same hash of `bed:<ward>/<bed>`.)
* The listening socket was made without `IPPROTO_TCP`, so asyncio never set `TCP_NODELAY` on
  accepted connections: every answer on a kept-alive connection waited 40 ms for a delayed ACK.
* A command carries its first event in its own row instead of an `events` row; the `commands` rows
  stream in with COPY while the batch is applied; validation runs while the database does the
  nonce, the lock and the lookups (pipeline); the nonce is spent in the batch's own transaction
  and the signature is checked with one autocommit read (one commit and three round trips fewer
  per request); one trip to the thread pool per request; no per-call regex compiling or JSON
  encoder building.
* The same changes took the catch-up of 100,000 commands from 252 s (the previous run, at load
  10.5) to the figure above, and 200 simultaneous pulls from a p50 of 1,695 ms.

### Scaling out

* The server keeps no state between requests: nonces, enrolment codes, devices and the event counter
  are in PostgreSQL, so any number of identical `onestop server` replicas can run behind a load
  balancer (TLS at the replica or at the balancer) on one PostgreSQL primary. The only per-process
  state is the rate-limit bucket, so the limit becomes per replica (set `--rate` to the site limit
  divided by the replica count, or pin a device to a replica with a hash on `X-Onestop-Device`).
* Pushes serialise on the single-row event counter (that is what keeps the global sequence
  gapless): a batch of {P.MAX_BATCH} holds it for about {per_batch['core']:.0f} ms here (less when batches
  queue for it: the validation then runs while the lock is awaited), so one primary takes roughly
  {core_rate:,.0f} commands/s whatever the number of replicas, far above a hospital's kiosk traffic.
  Replicas add HTTP, signature and JSON capacity, not write capacity.
* A pull writes only its nonce and the device's last-seen row; the page of events is one
  statement over two append-only tables (`commands`, which carry their first event, and `events`),
  so it can be read from a streaming read replica (hot standby) while the small write goes to the
  primary. A replica lags the primary, so a kiosk may see its own events a moment later; the cursor
  makes that harmless: batches commit in sequence order (the counter lock is held to commit), so a
  replica never shows a later number before an earlier one.
* Beyond one primary (several campuses writing at once) the event log would need a sequence per
  campus; not needed for one hospital.
"""
    if args.no_write:
        print(md)
    else:
        write_section("sync", md)


if __name__ == "__main__":
    main()
