"""The local store: migrations, pragmas, outbox written in the same transaction, crash safety."""

import json
import os
import signal
import subprocess
import sys
import uuid

import pytest

from pos.ids import uuid7
from pos.store import Store
from pos.store.migrations import all_migrations


def test_migrations_are_recorded_and_not_reapplied(tmp_path):
    s = Store(tmp_path / "a.sqlite")
    names = {r[0] for r in s.conn.execute("SELECT name FROM _migrations")}
    assert names == {n for n, _ in all_migrations()}
    assert s.applied
    s.close()
    s2 = Store(tmp_path / "a.sqlite")
    assert s2.applied == []
    s2.close()


def test_pragmas(store):
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_device_id_is_kept_across_opens(tmp_path):
    s = Store(tmp_path / "d.sqlite")
    dev = s.device_id
    s.close()
    assert Store(tmp_path / "d.sqlite").device_id == dev
    assert Store(tmp_path / "d.sqlite", device_id="OTHER").device_id == dev


def test_emit_writes_outbox_in_the_same_transaction(store):
    with store.transaction() as tx:
        cid = tx.emit("kiosk.help_requested", {"screen": "home", "名": "王𠀀"})
    rows = store.outbox_pending()
    assert [r["command_id"] for r in rows] == [cid]
    assert rows[0]["payload"] == {"screen": "home", "名": "王𠀀"}
    assert rows[0]["device_id"] == "KTEST" and rows[0]["device_seq"] == 1
    assert uuid.UUID(cid).version == 7
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.emit("x.y", {})
            raise RuntimeError("crash in the middle")
    assert store.outbox_depth() == 1  # the rolled-back command left nothing


def test_device_seq_and_numbers_are_monotonic_and_prefixed(store):
    with store.transaction() as tx:
        seqs = [tx.next_seq("receipt") for _ in range(3)]
        number = tx.next_number("receipt")
        cids = [tx.emit("k", {"i": i}) for i in range(3)]
    assert seqs == [1, 2, 3] and number == "KTEST-000004"
    assert [r["device_seq"] for r in store.outbox_pending()] == [1, 2, 3]
    assert cids == sorted(cids)  # uuid7 sorts by time


def test_ack_moves_commands_out_of_the_queue(store):
    with store.transaction() as tx:
        a, b = tx.emit("k", {}), tx.emit("k", {})
    store.outbox_ack({a: {"seq": 10}})
    assert [r["command_id"] for r in store.outbox_pending()] == [b]
    row = store.conn.execute("SELECT state, result FROM outbox WHERE command_id = ?", (a,)).fetchone()
    assert row[0] == "acked" and json.loads(row[1]) == {"seq": 10}


def test_uuid7_is_unique_and_ordered():
    ids = [uuid7() for _ in range(20000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids, key=lambda u: u.int)


_WRITER = r"""
import sys, time
from pos.store import Store
s = Store(sys.argv[1], device_id="KCRSH")
i = 0
while True:
    with s.transaction() as tx:
        tx.insert("meta", {"key": f"k{i}", "value": "v"})
        tx.emit("test.tick", {"i": i})
    i += 1
    print(i, flush=True)
"""


@pytest.mark.parametrize("seed", range(5))
def test_sigkill_at_any_instant_leaves_a_consistent_store(tmp_path, seed):
    """Each committed state change has exactly its outbox row; nothing half written."""
    path = tmp_path / "crash.sqlite"
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, env=env)
    target = 20 + seed * 37
    for _ in range(target):
        proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    s = Store(path)
    ticks = s.conn.execute("SELECT count(*) FROM meta WHERE key LIKE 'k%'").fetchone()[0]
    assert ticks >= target
    assert s.outbox_depth() == ticks
    seqs = [r[0] for r in s.conn.execute("SELECT device_seq FROM outbox ORDER BY device_seq")]
    assert seqs == list(range(1, ticks + 1))
    s.close()


CLOSE_RACE = r"""
import random, sys, threading, time
from pos.errors import StoreError
from pos.store import Store

path = sys.argv[1]
s = Store(path)
with s.transaction() as tx:
    for i in range(3000):
        tx.emit("deposit.cash", {"amount_fen": i, "note": "x" * 40})
clean = 0
for round_no in range(120):
    s = Store(path)
    outcome = []

    def reader():
        try:
            for _ in range(40):
                s.conn.execute("SELECT count(*), sum(length(payload)) FROM outbox WHERE device_seq % 7 = 3").fetchone()
                s.conn.execute("SELECT * FROM outbox WHERE device_seq < 800").fetchall()
            outcome.append("finished")
        except StoreError:
            outcome.append("refused")

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(random.random() * 0.01)
    s.close()
    t.join()
    clean += outcome in (["finished"], ["refused"])
print(clean)
"""


def test_closing_while_another_thread_queries_never_crashes(tmp_path):
    """The app stops (and closes its store) while a worker is still reading: the worker either
    finishes or gets a clear StoreError. With one shared connection this was a segfault."""
    proc = subprocess.run([sys.executable, "-c", CLOSE_RACE, str(tmp_path / "race.sqlite")],
                          capture_output=True, text=True, timeout=240, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["120"]


def test_a_thread_never_reads_another_threads_uncommitted_writes(tmp_path):
    import threading

    s = Store(tmp_path / "iso.sqlite")
    inside, go_on, seen = threading.Event(), threading.Event(), []

    def writer():
        with s.transaction() as tx:
            tx.emit("deposit.cash", {"amount_fen": 100})
            inside.set()
            go_on.wait(5)

    t = threading.Thread(target=writer)
    t.start()
    assert inside.wait(5)
    seen.append(s.outbox_depth())          # while the writer's transaction is open
    go_on.set()
    t.join()
    seen.append(s.outbox_depth())
    assert seen == [0, 1]
    s.close()


def test_a_closed_store_refuses_with_a_clear_error(tmp_path):
    from pos.errors import StoreError

    s = Store(tmp_path / "c.sqlite")
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.outbox_depth()


def test_a_transaction_open_when_the_store_closes_still_commits(tmp_path):
    """The app stops while a worker is inside the transaction that records a payment: the worker
    finishes it and it is committed (close() never takes a live thread's connection from it)."""
    import threading

    s = Store(tmp_path / "t.sqlite")
    inside, closed, errors = threading.Event(), threading.Event(), []

    def worker():
        try:
            with s.transaction() as tx:
                tx.emit("payment.approved", {"amount_fen": 500})
                inside.set()
                closed.wait(5)
        except Exception as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    t = threading.Thread(target=worker)
    t.start()
    assert inside.wait(5)
    s.close()
    closed.set()
    t.join(5)
    assert errors == []
    again = Store(tmp_path / "t.sqlite")
    assert [r["kind"] for r in again.outbox_pending()] == ["payment.approved"]
    again.close()


def test_a_store_from_before_the_site_packs_keeps_its_pulled_beds(tmp_path):
    """A store whose sync tables came from ``sync.store_schema`` (the bed cache ``sync_beds`` included)
    opens with the platform's sync migration doing nothing and the hospital pack's projection
    migration moving the pulled beds into ``hosp_pulled_beds``."""
    path = tmp_path / "old.sqlite"
    s = Store(path, device_id="KOLD")
    conn = s.conn
    conn.execute("DROP TABLE hosp_pulled_beds")
    for t in ("hosp_pulled_admissions", "hosp_pulled_notices", "hosp_pulled_charges", "hosp_pulled_settlements"):
        conn.execute(f"DROP TABLE {t}")
    conn.execute("DELETE FROM _migrations WHERE name IN ('pos.hospital.projections.m001_pulled', "
                 "'pos.store.schema_sync.m002_sync_tables')")
    conn.execute("INSERT INTO _migrations (name, applied_at) VALUES ('sync.store_schema.m001_sync_cache', 'x')")
    conn.execute("CREATE TABLE sync_beds (bed_id TEXT PRIMARY KEY, admission_id TEXT, state TEXT NOT NULL, at TEXT)")
    conn.execute("INSERT INTO sync_beds VALUES ('W3/12', 'ZYKA-000001', 'occupied', '2026-11-28T08:00:00Z')")
    conn.execute("INSERT INTO sync_state (key, value) VALUES ('cursor', '41')")
    s.close()
    s = Store(path)
    try:
        assert s.conn.execute("SELECT bed_id, inpatient_no, state FROM hosp_pulled_beds").fetchall() == [
            ("W3/12", "ZYKA-000001", "occupied")]
        assert not s.db["sync_beds"].exists()
        assert s.conn.execute("SELECT value FROM sync_state WHERE key = 'cursor'").fetchone()[0] == "41"
    finally:
        s.close()
