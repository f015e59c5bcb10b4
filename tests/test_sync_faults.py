"""Sync survives every network fault, on SQLite and on PostgreSQL (seeded, bounded).

Through :class:`tests.faultproxy.FaultProxy`: dropped requests, responses dropped after the server
committed, duplicated, reordered, delayed and reset messages; kill -9 of the server in the middle
of a batch; kill -9 of the kiosk in the middle of a push; a PostgreSQL restart. After healing:
every outbox is fully acknowledged, the server holds each command exactly once, and what each
kiosk pulled equals the server's event log.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from sync.client import Backoff, SyncClient, set_state
from sync.errors import SyncError
from tests.faultproxy import ACTIONS, FaultProxy
from tests.sync_support import (ROOT, ProcServer, ThreadServer, db_url, emit_workload, free_port,  # noqa: F401
                                kiosk_events, new_kiosk, server_commands, server_events)

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def sync_until_done(clients, rounds=300, backoff=None, before_round=None, min_rounds=0):
    """Drive sync rounds until every outbox is empty and every cursor reached the head."""
    backoff = backoff or Backoff(base=0.01, cap=0.2, rng=random.Random(1))
    for n in range(rounds):
        if before_round:
            before_round(n)
        done = True
        for c in clients:
            try:
                if c.sync_once()["pushed"]:
                    done = False            # others must pull after this push
                backoff.reset()
            except SyncError:
                done = False
                time.sleep(backoff.next())
        if done and n >= min_rounds and all(c.store.outbox_depth() == 0 for c in clients):
            return n
    raise AssertionError("sync did not converge")


def check_healed(backend, stores):
    """The three promises: all acked, each command exactly once, pulled state equals the server's."""
    cmds = server_commands(backend)
    total = 0
    for s in stores:
        rows = s.conn.execute("SELECT command_id, state, result FROM outbox").fetchall()
        total += len(rows)
        assert all(state != "pending" for _, state, _ in rows)
        for cid, state, result in rows:
            assert cid in cmds
            assert cmds[cid] == json.loads(result)["status"]
            assert (state == "acked") == (cmds[cid] == "applied")
    assert len(cmds) == total
    with backend.tx() as cur:
        assert cur.execute("SELECT count(DISTINCT command_id) FROM commands").fetchone()[0] == total
    events = server_events(backend)
    assert [e[0] for e in events] == list(range(1, len(events) + 1))
    for s in stores:
        assert kiosk_events(s) == events


@pytest.mark.parametrize("seed", [29])
def test_network_faults_heal(db_url, tmp_path, seed):
    server = ThreadServer(db_url)
    proxy = FaultProxy(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), seed=seed,
                       weights={"pass": 3, "drop_request": 1, "drop_response": 1.5, "duplicate": 1, "delay": 1,
                                "reset": 1, "reorder": 1}).start()
    try:
        stores = [new_kiosk(tmp_path, d, server.url) for d in ("KA", "KB", "KC")]
        for s in stores:
            set_state(s, "server_url", proxy.url)
        clients = [SyncClient(s, batch=6, timeout=3) for s in stores]
        rng = random.Random(seed)

        def more_work(n):
            if n < 12:
                for s in stores:
                    emit_workload(s, rng.randint(2, 6), beds=["1", "2", "3"], start=n * 10)
        sync_until_done(clients, before_round=more_work, min_rounds=14)
        assert all(proxy.counts[a] > 0 for a in ACTIONS), proxy.counts
        proxy.heal()
        for c in clients:
            c.sync_once()
        check_healed(server.backend, stores)
        with server.backend.tx() as cur:
            assert cur.execute("SELECT count(*) FROM bed_conflicts").fetchone()[0] > 0
    finally:
        proxy.stop()
        server.stop()


def test_kill9_server_mid_batch(db_url, tmp_path, onestop_env):
    server = ProcServer(db_url, onestop_env)
    proxy = FaultProxy(("127.0.0.1", int(server.url.rsplit(":", 1)[1]))).start()
    store = new_kiosk(tmp_path, "KA", server.url)
    set_state(store, "server_url", proxy.url)
    emit_workload(store, 1500, beds=[str(b) for b in range(40)])
    client = SyncClient(store, batch=500, timeout=5)
    try:
        killer_done = threading.Event()

        def killer():               # kill -9 while a batch is in flight, after the first one landed
            deadline = time.monotonic() + 30
            while store.outbox_depth() == 1500 and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(0.05)
            server.kill9()
            killer_done.set()
        threading.Thread(target=killer, daemon=True).start()
        with pytest.raises(SyncError):
            for _ in range(100):
                client.push_once()
                if store.outbox_depth() == 0:
                    break
            client.push_once()
            raise SyncError("server never went away")        # pragma: no cover - the kill missed
        assert killer_done.wait(30)
        left = store.outbox_depth()
        assert 0 < left < 1500
        restarted = ProcServer(db_url, onestop_env)
        proxy.upstream = ("127.0.0.1", int(restarted.url.rsplit(":", 1)[1]))
        sync_until_done([client])
        from sync.server import open_backend
        backend = open_backend(db_url)
        check_healed(backend, [store])
        backend.close()
        restarted.stop()
    finally:
        proxy.stop()
        server.stop()


def test_kill9_kiosk_mid_push(db_url, tmp_path, onestop_env):
    server = ThreadServer(db_url)
    proxy = FaultProxy(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), weights={"delay": 1},
                       delay=(0.02, 0.04)).start()
    try:
        store_path = Path(onestop_env["ONESTOP_STORE"])
        store_path.parent.mkdir(parents=True, exist_ok=True)
        store = new_kiosk(store_path.parent, "KK", server.url)
        store.close()
        os.replace(store_path.parent / "KK.sqlite", store_path)
        from pos.store import Store
        store = Store(store_path)
        set_state(store, "server_url", proxy.url)
        emit_workload(store, 300, beds=[str(b) for b in range(50)])
        store.close()
        cfg = tmp_path / "kiosk.toml"
        cfg.write_text("[sync]\nbatch = 20\ninterval = 0.2\n")
        cmd = [sys.executable, "-m", "kiosk.cli", "--config", str(cfg), "sync"]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=onestop_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while len(server_commands(server.backend)) < 60 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.kill()
        proc.wait(10)
        got = len(server_commands(server.backend))
        assert 60 <= got < 300
        out = subprocess.run(cmd[:-1] + ["sync", "--once"], cwd=ROOT, env=onestop_env, capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        store = Store(store_path)
        check_healed(server.backend, [store])
    finally:
        proxy.stop()
        server.stop()


# -- PostgreSQL restart, on a private instance (never the machine's shared cluster) -------------------
@pytest.fixture
def private_pg():
    if not (PG_BIN / "initdb").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL 15 binaries missing")
        pytest.skip("PostgreSQL 15 binaries missing")
    root = Path(tempfile.mkdtemp(prefix="onestop-pg-"))
    data = root / "data"
    port = free_port()
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    subprocess.run(as_pg + [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                            "--no-sync"], check=True, capture_output=True)

    def ctl(*args):
        return subprocess.run(as_pg + [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "log"),
                                       "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
                                       "-w", "-t", "30", *args], check=True, capture_output=True)
    ctl("start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", ctl
    finally:
        subprocess.run(as_pg + [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_postgres_restart_heals(private_pg, tmp_path):
    url, ctl = private_pg
    server = ThreadServer(url)
    try:
        stores = [new_kiosk(tmp_path, d, server.url) for d in ("KA", "KB")]
        clients = [SyncClient(s, batch=25, timeout=5) for s in stores]
        for s in stores:
            emit_workload(s, 100, beds=["1", "2", "3", "4"])
        clients[0].push_once()
        ctl("-m", "immediate", "stop")
        with pytest.raises(SyncError):
            clients[1].push_once()
        assert stores[1].outbox_depth() == 100
        ctl("start")
        sync_until_done(clients)
        check_healed(server.backend, stores)
    finally:
        server.stop()
