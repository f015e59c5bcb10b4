"""The pseudo-terminal every simulated serial device sits on."""

from __future__ import annotations

import os
import tty

__all__ = ["raw_pty"]


def raw_pty() -> tuple[int, int, str]:
    """A new pty in raw mode (no echo, no line editing, all 8 bits), so bytes pass as a serial line
    carries them: ``(master, slave, path of the slave)``; the register opens the path."""
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)
