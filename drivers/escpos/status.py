"""DLE EOT real-time status: the command bytes and the decoding of the answers (no I/O here).

We ask three questions: ``DLE EOT 1`` (printer status: bit 3 = offline), ``DLE EOT 2`` (offline
cause: bit 2 = cover open, bit 5 = stopped at paper end, bit 6 = error) and ``DLE EOT 4``
(roll paper sensor: bits 2-3 = near end, bits 5-6 = paper end). Every answer byte has bits 1 and
4 set and bits 0 and 7 clear; anything else is not a status byte.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["QUERIES", "PrinterState", "decode_status", "is_status_byte", "encode_status", "CLEAR_BUFFERS"]

DLE, EOT = 0x10, 0x04
QUERIES = (bytes([DLE, EOT, 1]), bytes([DLE, EOT, 2]), bytes([DLE, EOT, 4]))
#: DLE DC4 fn=8: clear the receive and print buffers (so a job that stopped at paper end does not
#: resume by itself when paper returns - the journal decides what prints again)
CLEAR_BUFFERS = bytes([0x10, 0x14, 0x08, 0x01, 0x03, 0x14, 0x01, 0x06, 0x02, 0x08])


def is_status_byte(b: int) -> bool:
    return (b & 0x93) == 0x12


@dataclass(frozen=True)
class PrinterState:
    online: bool = True
    cover_open: bool = False
    paper_out: bool = False
    near_end: bool = False
    error: bool = False

    @property
    def ready(self) -> bool:
        return self.online and not (self.cover_open or self.paper_out or self.error)

    def reason(self) -> str:
        if self.paper_out:
            return "paper out"
        if self.cover_open:
            return "cover open"
        if self.error:
            return "printer error"
        if not self.online:
            return "offline"
        return "paper near end" if self.near_end else "ready"


def decode_status(printer: int, offline: int, paper: int) -> PrinterState:
    """Decode the three answer bytes; raises ValueError for a byte that is not a status byte."""
    for name, b in (("printer", printer), ("offline", offline), ("paper", paper)):
        if not is_status_byte(b):
            raise ValueError(f"not a DLE EOT {name} status byte: 0x{b:02x}")
    return PrinterState(online=not printer & 0x08, cover_open=bool(offline & 0x04),
                        paper_out=bool(offline & 0x20) or bool(paper & 0x60),
                        near_end=bool(paper & 0x0C), error=bool(offline & 0x40))


def encode_status(state: PrinterState) -> tuple[int, int, int]:
    """The three bytes a printer in ``state`` answers (used by the virtual printer)."""
    printer = 0x12 | (0x08 if not state.ready else 0)
    offline = 0x12 | (0x04 if state.cover_open else 0) | (0x20 if state.paper_out else 0) | \
        (0x40 if state.error else 0)
    paper = 0x12 | (0x0C if state.near_end or state.paper_out else 0) | (0x60 if state.paper_out else 0)
    return printer, offline, paper
