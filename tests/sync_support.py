"""Helpers for the sync tests: a real server (in a thread or a subprocess), a fresh PostgreSQL
database per test run, enrolled kiosk stores, and domain commands written through the outbox."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("ONESTOP_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN_TOKEN = "test-admin-token"


def pg_available() -> bool:
    try:
        import psycopg
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except Exception:
        return False


def skip_or_fail_pg():
    if os.environ.get("CI") == "true":
        pytest.fail("PostgreSQL at 127.0.0.1:5432 is not reachable (CI=true: PG tests must run)")
    pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")


def create_pg_db(admin_url: str = PG_ADMIN) -> str:
    import psycopg
    name = f"onestop_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_pg_db(url: str, admin_url: str = PG_ADMIN) -> None:
    import psycopg
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class ThreadServer:
    """The ASGI app on uvicorn in a thread, on an ephemeral loopback port."""

    def __init__(self, db_url: str, **settings):
        import uvicorn

        from sync.server import Settings, create_app, open_backend
        from sync.server.run import bind
        self.backend = open_backend(db_url)
        self.app = create_app(self.backend, Settings(admin_token=ADMIN_TOKEN, **settings))
        self.sock = bind("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="off",
                                                    access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        wait_up(self.url)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(10)
        if getattr(self.app.state, "tasks", None) is not None:
            self.app.state.tasks.stop()           # the packs' server tasks (sync.server.tasks)
        self.backend.close()


def wait_up(url: str, timeout: float = 20, verify=True) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url + "/v1/health", timeout=2, verify=verify).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server at {url} did not come up")
        time.sleep(0.05)


class ProcServer:
    """``onestop server`` in a subprocess (so tests can kill -9 it)."""

    def __init__(self, db_url: str, env: dict, *extra: str):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "server", "--db", db_url, "--port", "0", "--admin-token",
             ADMIN_TOKEN, *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r} {self.proc.stderr.read()[-2000:]}")
        self.url = line.split("listening on ", 1)[1].split()[0]
        wait_up(self.url, verify=False)

    def kill9(self):
        self.proc.kill()
        self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def admin_code(url: str, **kw) -> str:
    r = httpx.post(url + "/v1/admin/enrol-codes", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, **kw)
    r.raise_for_status()
    return r.json()["code"]


def new_kiosk(tmp_path: Path, device_id: str, server_url: str, enrol_url: str | None = None):
    """A fresh kiosk store, enrolled with the server (through ``enrol_url`` if given)."""
    from pos.store import Store
    from sync.client import enrol, set_state
    store = Store(tmp_path / f"{device_id}.sqlite", device_id=device_id)
    enrol(store, enrol_url or server_url, admin_code(server_url))
    set_state(store, "server_url", server_url)
    return store


def emit_workload(store, n: int, beds: list[str] | None = None, start: int = 0) -> list[str]:
    """Write ``n`` domain commands through the outbox: admissions, deposits, charges, bed claims."""
    from pos.ids import utcnow_iso
    ids = []
    dev = store.device_id
    with store.transaction() as tx:          # one transaction: tests need many rows fast
        for i in range(start, start + n):
            no = f"{dev}-{i:06d}"
            r = i % 4
            if r == 0:
                ids.append(tx.emit("hospital.admission.registered",
                                   {"inpatient_no": no, "patient_uid": str(uuid.uuid4()), "ward_code": "W3",
                                    "at": utcnow_iso()}))
            elif r == 1:
                ids.append(tx.emit("hospital.deposit.recorded",
                                   {"inpatient_no": f"{dev}-{i - 1:06d}", "entry_no": f"{dev}-E{i}",
                                    "receipt_no": f"{dev}-R{i}", "amount_fen": 100_000 + i, "method": "cash",
                                    "at": utcnow_iso()}))
            elif r == 2:
                ids.append(tx.emit("hospital.charge.added",
                                   {"inpatient_no": f"{dev}-{i - 2:06d}", "charge_ref": f"{dev}-C{i}",
                                    "fee_code": "BED01", "amount_fen": 4500, "qty_milli": 1000,
                                    "unit_price_fen": 4500}))
            else:
                bed = (beds or ["B1"])[(i // 4) % len(beds or ["B1"])]
                ids.append(tx.emit("hospital.bed.assigned",
                                   {"inpatient_no": f"{dev}-{i - 3:06d}", "ward_code": "W3", "bed_no": bed,
                                    "at": utcnow_iso()}))
    return ids


def server_commands(backend) -> dict:
    with backend.tx() as cur:
        return {r[0]: r[1] for r in cur.execute("SELECT command_id, status FROM commands").fetchall()}


def server_events(backend) -> list[tuple]:
    """The server's whole event log: each command's first event in its row (``commands.seq``), the
    others in ``events`` (payload NULL = the command's own)."""
    import json
    with backend.tx() as cur:
        rows = cur.execute("SELECT e.seq, e.kind, coalesce(e.payload, c.payload) FROM events e LEFT JOIN commands c "
                           "ON c.command_id = e.command_id").fetchall()
        rows += cur.execute("SELECT seq, event_kind, coalesce(event_payload, payload) FROM commands "
                            "WHERE seq IS NOT NULL").fetchall()
    return sorted((s, k, json.loads(p)) for s, k, p in rows)


def kiosk_events(store) -> list[tuple]:
    import json
    return [(s, k, json.loads(p)) for s, k, p in
            store.conn.execute("SELECT seq, kind, payload FROM sync_events ORDER BY seq").fetchall()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A fresh, empty server database: SQLite in tmp, or a new PostgreSQL database (dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'server.sqlite'}"
        return
    if not pg_available():
        skip_or_fail_pg()
    url = create_pg_db()
    try:
        yield url
    finally:
        drop_pg_db(url)
