"""Virtual barcode scanners: a serial scanner on a pty, and key-event bursts of a wedge scanner.

``SerialScannerSim(suffix).scan("CODE")`` writes one code line to the pty at ``port_name``.
:func:`wedge_events` gives the (text, timestamp) key events a keyboard-wedge scanner would
produce, optionally under a wrong OS keyboard layout, for :class:`drivers.scanner.WedgeDecoder`.
:func:`typing_events` gives the same for a person typing.
"""

from __future__ import annotations

import os

from ..keyboard_layouts import as_typed
from .ptys import raw_pty

__all__ = ["SerialScannerSim", "wedge_events", "typing_events"]


class SerialScannerSim:
    def __init__(self, suffix: bytes = b"\r"):
        self.suffix = suffix
        self.master, self.slave, self.port_name = raw_pty()

    def scan(self, code: str | bytes, suffix: bool = True) -> None:
        data = code.encode("utf-8") if isinstance(code, str) else code
        os.write(self.master, data + (self.suffix if suffix else b""))

    def close(self) -> None:
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def wedge_events(code: str, start: float = 0.0, gap: float = 0.004, layout: str | None = None,
                 enter: bool = True) -> list[tuple[str, float]]:
    text = as_typed(code, layout) if layout else code
    events = [(ch, start + i * gap) for i, ch in enumerate(text)]
    if enter:
        events.append(("\r", start + len(text) * gap))
    return events


def typing_events(text: str, start: float = 0.0, gap: float = 0.18) -> list[tuple[str, float]]:
    return [(ch, start + i * gap) for i, ch in enumerate(text)]
