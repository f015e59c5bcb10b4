"""One transaction per terminal at a time, across threads and processes.

A per-terminal ``flock`` on a file next to the store (released by the kernel if the process
dies, so a SIGKILL never leaves a stale lock) plus a thread lock for the UI's worker threads.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from drivers.errors import TerminalBusy

__all__ = ["terminal_lock"]

_thread_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def _lock_path(store_path: str, terminal: str) -> Path:
    digest = hashlib.sha1(terminal.encode()).hexdigest()[:12]
    if store_path == ":memory:":
        return Path(tempfile.gettempdir()) / f"onestop-pay-{os.getpid()}-{digest}.lock"
    return Path(f"{store_path}.pay-{digest}.lock")


@contextmanager
def terminal_lock(store_path: str, terminal: str, wait: float = 2.0):
    with _guard:
        tlock = _thread_locks.setdefault(terminal, threading.Lock())
    if not tlock.acquire(timeout=wait):
        raise TerminalBusy(f"terminal {terminal} is busy with another transaction")
    try:
        path = _lock_path(store_path, terminal)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TerminalBusy(f"terminal {terminal} is busy in another onestop process") from None
                    time.sleep(0.02)
            yield
        finally:
            os.close(fd)   # closing releases the flock
    finally:
        tlock.release()
