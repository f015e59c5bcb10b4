"""Storage backends for the central server, behind one small interface.

``open_backend(url)`` gives a :class:`SqliteBackend` (``sqlite:///path``, the zero-setup default)
or a :class:`PgBackend` (``postgresql://...``, psycopg 3). Both expose::

    with backend.tx() as cur:        # one transaction; commit on success, rollback on error
        cur.execute(sql, params)     # SQL written with ``?`` placeholders for both dialects
        cur.fetchone() / fetchall()
        cur.executemany(sql, rows)
        cur.lookup(table, columns, key, keys).fetchall()   # rows whose key is one of many, by the index
        with cur.pipeline():         # PostgreSQL runs what is sent (cur.send) while Python goes on
            pending = cur.send(sql, params)
        cur.copy_rows(table, columns, rows)     # bulk insert (COPY on PostgreSQL)
        with cur.copy_stream(table, columns) as write: write(row)   # the same, fed row by row
        cur.savepoint()              # context manager: a nested transaction

``backend.query(sql, params)`` (one read, outside any transaction) and
``backend.lock_counter(cur, name, n)`` which reserves ``n`` consecutive numbers of a
single-row counter inside the transaction, so sequences have no gaps.
Schema migrations per dialect live in :mod:`sync.server.schema`.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from pos.private import private_file

from ..errors import ServerUnavailable
from .schema import apply_schema

__all__ = ["open_backend", "SqliteBackend", "PgBackend", "PageCache", "IntegrityError", "OverlapError"]

log = logging.getLogger(__name__)


class IntegrityError(Exception):
    """A constraint said no (unique, exclusion, trigger)."""


class OverlapError(IntegrityError):
    """A resource claim overlaps another live claim of the same resource."""


class _Cursor:
    """What both backends' cursors read the same way (``self.cur``: the driver's cursor)."""

    cur: Any

    def fetchone(self):
        return self.cur.fetchone()

    def fetchall(self):
        return self.cur.fetchall()

    @property
    def rowcount(self) -> int:
        return self.cur.rowcount


class _SqliteCursor(_Cursor):
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.cur = conn.cursor()
        self._sp = 0
        self._cursors = [self.cur]

    def close(self) -> None:
        """End every statement (one read with ``fetchone`` may still be open: COMMIT would refuse)."""
        for cur in self._cursors:
            cur.close()

    def execute(self, sql: str, params: Any = ()):
        try:
            self.cur.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            if "claim_overlap" in str(exc):
                raise OverlapError(str(exc)) from exc
            raise IntegrityError(str(exc)) from exc
        return self

    def executemany(self, sql: str, rows):
        try:
            self.cur.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    def send(self, sql: str, params: Any = ()):
        """Run a statement on a cursor of its own and return it (``fetchone``, ``fetchall``, ``rowcount``).
        On PostgreSQL, inside :meth:`pipeline`, the statement runs while Python goes on."""
        cur = self.conn.cursor()
        self._cursors.append(cur)
        cur.execute(sql, params)
        return cur

    @contextmanager
    def pipeline(self):
        """Here statements run one after the other, at once."""
        yield

    def lookup(self, table: str, columns: str, key: str, keys, extra: str = "", params=(), order: str = ""):
        """Rows of ``table`` whose ``key`` is one of ``keys`` (one JSON parameter, any number of keys), each
        found through ``key``'s index; ``extra`` is more ``AND ...`` conditions with ``params``. Sent
        (:meth:`send`): read the rows with ``.fetchall()``."""
        return self.send(f"SELECT {columns} FROM {table} WHERE {key} IN (SELECT value FROM json_each(?)) {extra}"
                         + (f" ORDER BY {order}" if order else ""), [json.dumps(list(keys)), *params])

    def copy_rows(self, table: str, columns: tuple, rows: list) -> None:
        """Bulk insert (``executemany`` here; ``COPY`` on PostgreSQL)."""
        if rows:
            marks = ", ".join("?" for _ in columns)
            try:
                self.cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            except sqlite3.IntegrityError as exc:
                if "claim_overlap" in str(exc):
                    raise OverlapError(str(exc)) from exc
                raise IntegrityError(str(exc)) from exc

    @contextmanager
    def copy_stream(self, table: str, columns: tuple):
        """A bulk insert fed one row at a time: yields ``write(row)`` (here the rows go in at the end)."""
        rows: list = []
        yield rows.append
        self.copy_rows(table, columns, rows)

    @contextmanager
    def savepoint(self):
        self._sp += 1
        name = f"sp{self._sp}"
        self.cur.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.cur.execute(f"ROLLBACK TO {name}")
            self.cur.execute(f"RELEASE {name}")
            raise
        else:
            self.cur.execute(f"RELEASE {name}")

    def relaxed(self) -> None:
        """(PostgreSQL: this transaction's commit does not wait for the WAL flush.) SQLite: nothing;
        its connection stays synchronous=FULL."""


class PageCache:
    """Pages of the event log already put into JSON, shared by every kiosk that asks for the same
    window; least recently used first out, at most ``max_bytes`` characters of text. A page is
    keyed by what makes it: (after, limit) when it is full (the first ``limit`` events after ``after`` never
    change: the log is append-only and numbered in commit order), (after, limit, head) when it is not.
    It lives as long as its backend, which serves one database."""

    def __init__(self, max_bytes: int = 32 << 20):
        self.max_bytes, self.size = max_bytes, 0
        self._pages: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key):
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key, page: tuple[str, int]) -> None:
        n = len(page[0])
        if n > self.max_bytes:
            return
        with self._lock:
            if key in self._pages:
                return
            self._pages[key] = page
            self.size += n
            while self.size > self.max_bytes:
                _k, (text, _nxt) = self._pages.popitem(last=False)
                self.size -= len(text)


class SqliteBackend:
    dialect = "sqlite"

    def __init__(self, path: str):
        self.url = f"sqlite:///{path}"
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            private_file(path)                  # device secrets: 0600, and so its WAL and SHM
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.lock = threading.RLock()
        self.pages = PageCache()
        with self.tx() as cur:
            apply_schema(cur, "sqlite")

    @contextmanager
    def tx(self) -> Iterator[_SqliteCursor]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            cur = _SqliteCursor(self.conn)
            try:
                yield cur
            except BaseException:
                cur.close()
                self.conn.execute("ROLLBACK")
                raise
            else:
                cur.close()
                self.conn.execute("COMMIT")

    def query(self, sql: str, params: Any = ()) -> list:
        """One read on its own (no transaction of ours)."""
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def lock_counter(self, cur, name: str, n: int) -> int:
        """Reserve ``n`` numbers; returns the first. BEGIN IMMEDIATE already serialises writers."""
        row = cur.execute("UPDATE counters SET value = value + ? WHERE name = ? RETURNING value", (n, name)).fetchone()
        return row[0] - n + 1

    def close(self) -> None:
        with self.lock:              # never under a query another request thread is running
            self.conn.close()


class _PgCursor(_Cursor):
    def __init__(self, conn):
        self.conn = conn
        self.cur = conn.cursor()
        self._sp = 0

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    def execute(self, sql: str, params: Any = ()):
        import psycopg
        try:
            self.cur.execute(self._sql(sql), params)
        except psycopg.errors.ExclusionViolation as exc:
            raise OverlapError(str(exc)) from exc
        except psycopg.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        return self

    def executemany(self, sql: str, rows):
        import psycopg
        try:
            self.cur.executemany(self._sql(sql), rows)
        except psycopg.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    def send(self, sql: str, params: Any = ()):
        """Run a statement on a cursor of its own and return it. Inside :meth:`pipeline` it is only sent:
        PostgreSQL runs it while Python goes on, and reading its results waits for them."""
        cur = self.conn.cursor()
        cur.execute(self._sql(sql), params)
        return cur

    @contextmanager
    def pipeline(self):
        """psycopg pipeline mode: statements :meth:`send` within are sent without waiting for their
        results, which are all in when the block ends. No COPY inside."""
        with self.conn.pipeline():
            yield

    def lookup(self, table: str, columns: str, key: str, keys, extra: str = "", params=(), order: str = ""):
        """As :meth:`_SqliteCursor.lookup`. Each key is probed on its own (``LATERAL ... OFFSET 0`` keeps the
        planner from turning it into a join): with ``key = ANY(array)`` it picks a seq scan while a table is
        small, and then compares every row with every key (measured: 8 ms for 125 keys on 1,900 rows)."""
        keys = list(keys)
        cast = "::bigint" if keys and isinstance(keys[0], int) else ""
        return self.send(f"SELECT t.* FROM jsonb_array_elements_text(?::jsonb) AS k(key) CROSS JOIN LATERAL "
                         f"(SELECT {columns} FROM {table} WHERE {key} = k.key{cast} {extra} OFFSET 0) AS t"
                         + (f" ORDER BY {order}" if order else ""), [json.dumps(keys), *params])

    def copy_rows(self, table: str, columns: tuple, rows: list) -> None:
        """Bulk insert with ``COPY ... FROM STDIN`` (constraints and triggers still apply)."""
        import psycopg
        if not rows:
            return
        try:
            with self.cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
        except psycopg.errors.ExclusionViolation as exc:
            raise OverlapError(str(exc)) from exc
        except psycopg.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    @contextmanager
    def copy_stream(self, table: str, columns: tuple):
        """``COPY ... FROM STDIN`` kept open while the caller computes rows: psycopg sends them in 32 kB
        chunks, so PostgreSQL stores the first rows while Python is still making the next ones."""
        import psycopg
        try:
            with self.cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp:
                yield cp.write_row
        except psycopg.errors.ExclusionViolation as exc:
            raise OverlapError(str(exc)) from exc
        except psycopg.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    @contextmanager
    def savepoint(self):
        with self.conn.transaction():
            yield

    def relaxed(self) -> None:
        """This transaction's commit does not wait for its WAL record to reach the disk
        (``synchronous_commit = off``, this transaction only). For writes that may be lost in a
        database crash without harm: a pull's spent nonce and the device's last-seen row."""
        self.send("SET LOCAL synchronous_commit TO off")



class PgBackend:
    """PostgreSQL through psycopg 3, with a small pool that drops broken connections."""

    dialect = "postgres"

    def __init__(self, url: str, pool_size: int = 8):
        self.url = url
        self.pool: queue.LifoQueue = queue.LifoQueue()
        self.pool_size = pool_size
        self._made = 0
        self._mlock = threading.Lock()
        self.pages = PageCache()
        with self.tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(4242)")
            apply_schema(cur, "postgres")

    def _connect(self):
        import psycopg
        try:
            return psycopg.connect(self.url, connect_timeout=5, autocommit=True)
        except psycopg.OperationalError as exc:
            raise ServerUnavailable(f"database unavailable: {exc}".strip()) from exc

    def _get(self):
        try:
            return self.pool.get_nowait()
        except queue.Empty:
            pass
        with self._mlock:
            if self._made < self.pool_size:
                self._made += 1
                try:
                    return self._connect()
                except BaseException:
                    self._made -= 1
                    raise
        return self.pool.get(timeout=30)

    def _discard(self, conn) -> None:
        try:
            conn.close()
        except Exception:
            pass
        with self._mlock:
            self._made -= 1

    @contextmanager
    def tx(self) -> Iterator[_PgCursor]:
        import psycopg
        conn = self._get()
        ok = False
        try:
            with conn.transaction():
                cur = _PgCursor(conn)
                yield cur
            ok = True
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._discard(conn)
            conn = None
            raise ServerUnavailable(f"database unavailable: {exc}".strip()) from exc
        finally:
            if conn is not None:
                if conn.closed or conn.broken:
                    self._discard(conn)
                else:
                    self.pool.put(conn)
            _ = ok

    def query(self, sql: str, params: Any = ()) -> list:
        """One read on its own, in autocommit: one round trip, where a transaction takes three."""
        import psycopg
        conn = self._get()
        try:
            return conn.execute(_PgCursor._sql(sql), params).fetchall()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise ServerUnavailable(f"database unavailable: {exc}".strip()) from exc
        finally:
            if conn.closed or conn.broken:
                self._discard(conn)
            else:
                self.pool.put(conn)

    def lock_counter(self, cur, name: str, n: int) -> int:
        """Reserve ``n`` numbers; the row lock is held to commit, so numbers are gapless."""
        row = cur.execute("UPDATE counters SET value = value + ? WHERE name = ? RETURNING value", (n, name)).fetchone()
        return row[0] - n + 1

    def close(self) -> None:
        while True:
            try:
                self.pool.get_nowait().close()
            except queue.Empty:
                break


def open_backend(url: str | None):
    """``sqlite:///path`` (default ``sqlite:///onestop-server.sqlite``) or ``postgresql://...``."""
    url = url or "sqlite:///onestop-server.sqlite"
    if url.startswith("sqlite:///"):
        return SqliteBackend(url[len("sqlite:///"):])
    if url.startswith(("postgresql://", "postgres://")):
        return PgBackend(url)
    from ..errors import SyncError
    raise SyncError(f"unknown database URL {url!r}: use sqlite:///PATH or postgresql://...")
