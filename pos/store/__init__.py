"""The local store: SQLite through sqlite-utils, with migrations and the outbox.

* WAL journal, ``synchronous=FULL`` (the setting is per connection, and the money tables live in
  this store, so the whole connection uses it), foreign keys on, a busy timeout.
* :meth:`Store.transaction` opens ``BEGIN IMMEDIATE`` and yields a :class:`Tx`. Every state change
  writes its outbox row through :meth:`Tx.emit` inside that same transaction, so a crash at any
  instant leaves either both or neither.
* Inside a transaction write with :meth:`Tx.insert` / :meth:`Tx.execute`, not with sqlite-utils'
  table helpers: those wrap themselves in ``with conn:`` and would commit half a transaction.
* One connection per thread (:attr:`Store.conn` gives the calling thread's own). The kiosk reads
  and writes from several threads (UI workers, the sync worker, payment flows). A shared
  connection let one thread's reads run inside another thread's open transaction, and let
  :meth:`Store.close` free the connection while another thread was still stepping a statement
  on it, which crashes CPython's sqlite3 module (a segfault, reproduced). Now each thread sees
  only committed data (WAL), writers still take one process-wide lock, and :meth:`Store.close`
  never closes a connection that a live thread may be using: that thread's connection is closed
  at its next use of the closed store, or when the thread ends.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..errors import StoreError
from ..ids import new_device_id, utcnow_iso, uuid7
from ..packs import check_payload
from ..private import private_file
from .migrations import apply_migrations

__all__ = ["Store", "Tx", "open_store"]

log = logging.getLogger(__name__)


class Tx:
    """One open write transaction."""

    def __init__(self, store: "Store", conn: sqlite3.Connection):
        self.store = store
        self.conn = conn            # the connection the transaction began on
        self.emitted: list[str] = []

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def insert(self, table: str, row: dict) -> int:
        cols = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        cur = self.conn.execute(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', list(row.values()))
        return cur.lastrowid

    def next_seq(self, series: str) -> int:
        """The next number of a per-device series (1, 2, 3 ...), inside this transaction."""
        row = self.conn.execute(
            "INSERT INTO sequences (series, value) VALUES (?, 1) "
            "ON CONFLICT(series) DO UPDATE SET value = value + 1 RETURNING value",
            (series,),
        ).fetchone()
        return row[0]

    def next_number(self, series: str, width: int = 6) -> str:
        """A human-facing number unique across devices: ``<device_id>-<seq>``, e.g. ``K7QX4-000123``."""
        return f"{self.store.device_id}-{self.next_seq(series):0{width}d}"

    def emit(self, kind: str, payload: dict) -> str:
        """Append an outbox command in this transaction. Returns its command_id. A kind a site pack
        declares must fit its payload schema (``pos.packs.check_payload``; the server checks the same)."""
        check_payload(kind, payload)
        command_id = str(uuid7())
        self.insert(
            "outbox",
            {
                "command_id": command_id,
                "device_id": self.store.device_id,
                "device_seq": self.next_seq("outbox"),
                "created_at": utcnow_iso(),
                "kind": kind,
                "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
                "state": "pending",
            },
        )
        self.emitted.append(command_id)
        return command_id


class Store:
    def __init__(self, path: str | os.PathLike, device_id: str | None = None, device_prefix: str = "K"):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._opened: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._opened_lock = threading.Lock()
        self._shared: sqlite3.Connection | None = None
        self.closed = False
        self.commits = {True: 0, False: 0}     # transactions committed, by durable (fsync'd) or not
        conn = self._connect()
        if self.path == ":memory:":       # one private database: every thread must share it
            self._shared = conn
        conn.execute("PRAGMA journal_mode=WAL")
        self.applied = apply_migrations(self)
        self.device_id = self._ensure_device_id(device_id, device_prefix)

    def _connect(self) -> sqlite3.Connection:
        """Open this thread's connection (the per-connection pragmas are set on each)."""
        try:
            if self.path != ":memory:":
                private_file(self.path)         # 0600 before SQLite creates it, its WAL and its SHM
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10)
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=10000")
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the store at {self.path}: {exc}") from exc
        self._local.conn = conn
        with self._opened_lock:
            self._opened = [(t, c) for t, c in self._opened if t.is_alive()]
            self._opened.append((threading.current_thread(), conn))
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """The calling thread's connection to the store (opened on its first use)."""
        if self._shared is not None:
            return self._shared
        conn = getattr(self._local, "conn", None)
        if self.closed:
            if conn is not None:              # this thread's own: safe to close here
                self._local.conn = None
                conn.close()
            raise StoreError(f"the store at {self.path} is closed")
        return conn if conn is not None else self._connect()

    @property
    def db(self):
        """A ``sqlite_utils.Database`` on the calling thread's connection (imported on first use:
        it pulls in numpy, which a kiosk does not need before its first frame)."""
        conn = self.conn
        db = getattr(self._local, "db", None)
        if db is None or db.conn is not conn:
            import sqlite_utils

            db = self._local.db = sqlite_utils.Database(conn)
        return db

    def _ensure_device_id(self, wanted: str | None, prefix: str) -> str:
        current = self.meta("device_id")
        if current:
            if wanted and wanted != current:
                log.warning("store %s belongs to device %s; config asks for %s, keeping %s",
                            self.path, current, wanted, current)
            return current
        value = wanted or new_device_id(prefix)
        with self._write_lock:
            self.conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('device_id', ?)", (value,))
        return self.meta("device_id")

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @contextmanager
    def transaction(self, durable: bool = True) -> Iterator[Tx]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``. With ``durable=False`` the commit is not flushed to
        the disk (``synchronous=NORMAL`` for it): a power cut may lose it, but only together with
        every commit after it (the WAL is replayed as a prefix), and the next durable commit
        flushes it. A process that dies loses nothing the commit wrote. Use it only for a state
        that recovery can do without (pos.journal)."""
        with self._write_lock:
            conn = self.conn            # this thread's, kept to the end: a close() meanwhile must not
            if not durable:             # turn the COMMIT into a refusal (and a rollback)
                conn.execute("PRAGMA synchronous=NORMAL")
            try:
                conn.execute("BEGIN IMMEDIATE")
                tx = Tx(self, conn)
                try:
                    yield tx
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                else:
                    conn.execute("COMMIT")
                    self.commits[durable] += 1
            finally:
                if not durable:
                    conn.execute("PRAGMA synchronous=FULL")

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as tx:
            tx.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       (key, value))

    # -- outbox -------------------------------------------------------------------------
    def outbox_pending(self, limit: int = 100) -> list[dict]:
        rows = self.conn.execute(
            "SELECT command_id, device_id, device_seq, created_at, kind, payload, attempts "
            "FROM outbox WHERE state = 'pending' ORDER BY device_seq LIMIT ?",
            (limit,),
        ).fetchall()
        keys = ("command_id", "device_id", "device_seq", "created_at", "kind", "payload", "attempts")
        out = []
        for r in rows:
            d = dict(zip(keys, r))
            d["payload"] = json.loads(d["payload"])
            out.append(d)
        return out

    def outbox_depth(self) -> int:
        return self.conn.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]

    def outbox_ack(self, results: dict[str, dict], state: str = "acked") -> None:
        with self.transaction() as tx:
            now = utcnow_iso()
            for command_id, result in results.items():
                tx.execute(
                    "UPDATE outbox SET state = ?, acked_at = ?, result = ? WHERE command_id = ? AND state = 'pending'",
                    (state, now, json.dumps(result, ensure_ascii=False), command_id),
                )

    def close(self) -> None:
        """Close the store. The connections of this thread and of threads that have ended are
        closed now; a live thread's is closed by that thread (at its next use, or when it ends),
        never under a statement it may be running."""
        if self.closed:
            return
        self.closed = True
        me = threading.current_thread()
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for thread, conn in opened:
            if thread is me or not thread.is_alive() or conn is self._shared:
                conn.close()
        self._local.conn = None


def open_store(path: str | os.PathLike, device_id: str | None = None) -> Store:
    return Store(path, device_id=device_id)
