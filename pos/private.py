"""Files only this device's user may read: the store (it holds the sync HMAC secret), its WAL and
shared-memory files, the logs and the diagnostics bundle are created 0600, and an existing one
with a looser mode is tightened. SQLite gives a database's ``-wal`` and ``-shm`` files the mode of
the database file itself, so making that one 0600 before SQLite opens it covers all three."""

from __future__ import annotations

import logging.handlers
import os
import stat
from pathlib import Path

__all__ = ["PRIVATE", "private_file", "PrivateRotatingFileHandler"]

PRIVATE = 0o600


def private_file(path: str | os.PathLike) -> Path:
    """Make sure ``path`` exists with mode 0600 (created empty if missing), and so do the
    ``-wal``/``-shm``/``-journal`` files beside it if they exist. Returns the path."""
    p = Path(path)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), PRIVATE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != PRIVATE:
            os.fchmod(fd, PRIVATE)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):
        side = p.with_name(p.name + suffix)
        try:
            if stat.S_IMODE(side.stat().st_mode) != PRIVATE:
                side.chmod(PRIVATE)
        except FileNotFoundError:
            pass
    return p


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file (the current one and each new one after a rollover) is 0600."""

    def _open(self):
        private_file(self.baseFilename)
        return super()._open()
