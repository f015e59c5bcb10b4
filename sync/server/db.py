"""Storage backends for the central server, behind one small interface.

``open_backend(url)`` gives a :class:`SqliteBackend` (``sqlite:///path``, the zero-setup default)
or a :class:`PgBackend` (``postgresql://...``, psycopg 3). Both expose::

    with backend.tx() as cur:        # one transaction; commit on success, rollback on error
        cur.execute(sql, params)     # SQL written with ``?`` placeholders for both dialects
        cur.fetchone() / fetchall()
        cur.executemany(sql, rows)
        cur.savepoint()              # context manager: a nested transaction

and ``backend.lock_counter(cur, name, n)`` which reserves ``n`` consecutive numbers of a
single-row counter inside the transaction, so sequences have no gaps.
Schema migrations per dialect live in :mod:`sync.server.schema`.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..errors import ServerUnavailable
from .schema import apply_schema

__all__ = ["open_backend", "SqliteBackend", "PgBackend", "IntegrityError", "OverlapError"]

log = logging.getLogger(__name__)


class IntegrityError(Exception):
    """A constraint said no (unique, exclusion, trigger)."""


class OverlapError(IntegrityError):
    """A bed claim overlaps another on the same bed."""


class _SqliteCursor:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.cur = conn.cursor()
        self._sp = 0

    def execute(self, sql: str, params: Any = ()):
        try:
            self.cur.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            if "bed_overlap" in str(exc):
                raise OverlapError(str(exc)) from exc
            raise IntegrityError(str(exc)) from exc
        return self

    def executemany(self, sql: str, rows):
        try:
            self.cur.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    def fetchone(self):
        return self.cur.fetchone()

    def fetchall(self):
        return self.cur.fetchall()

    @staticmethod
    def where_in(column: str, values: list) -> tuple[str, list]:
        """``column IN (?, ...)`` here; ``column = ANY(?)`` with one array on PostgreSQL."""
        return f"{column} IN ({','.join('?' for _ in values)})", list(values)

    def copy_rows(self, table: str, columns: tuple, rows: list) -> None:
        """Bulk insert (``executemany`` here; ``COPY`` on PostgreSQL)."""
        if rows:
            marks = ", ".join("?" for _ in columns)
            try:
                self.cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            except sqlite3.IntegrityError as exc:
                if "bed_overlap" in str(exc):
                    raise OverlapError(str(exc)) from exc
                raise IntegrityError(str(exc)) from exc

    @property
    def rowcount(self) -> int:
        return self.cur.rowcount

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


class SqliteBackend:
    dialect = "sqlite"

    def __init__(self, path: str):
        self.url = f"sqlite:///{path}"
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.lock = threading.RLock()
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
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    def lock_counter(self, cur, name: str, n: int) -> int:
        """Reserve ``n`` numbers; returns the first. BEGIN IMMEDIATE already serialises writers."""
        row = cur.execute("UPDATE counters SET value = value + ? WHERE name = ? RETURNING value", (n, name)).fetchone()
        return row[0] - n + 1

    def close(self) -> None:
        self.conn.close()


class _PgCursor:
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

    def fetchone(self):
        return self.cur.fetchone()

    def fetchall(self):
        return self.cur.fetchall()

    @staticmethod
    def where_in(column: str, values: list) -> tuple[str, list]:
        return f"{column} = ANY(?)", [list(values)]

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

    @property
    def rowcount(self) -> int:
        return self.cur.rowcount

    @contextmanager
    def savepoint(self):
        with self.conn.transaction():
            yield


class PgBackend:
    """PostgreSQL through psycopg 3, with a small pool that drops broken connections."""

    dialect = "postgres"

    def __init__(self, url: str, pool_size: int = 8):
        self.url = url
        self.pool: queue.LifoQueue = queue.LifoQueue()
        self.pool_size = pool_size
        self._made = 0
        self._mlock = threading.Lock()
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
