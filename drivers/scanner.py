"""``scanner+serial://`` and the keyboard-wedge decoder - barcode/QR scanners.

URL format::

    scanner+serial:///dev/ttyACM0[?baud=9600&suffix=cr|lf|crlf]

**Serial scanners** send each code as one line; :class:`LineFramer` (bytes only, no I/O) cuts
the stream into codes.

**Keyboard-wedge scanners** type into whatever has focus. The kiosk passes every key event to
:class:`WedgeDecoder` (Kivy's ``on_textinput``/``on_key_down`` while the app has focus; pynput
only where system-wide capture is needed)::

    events = decoder.feed(text, timestamp)     # one typed character (or "\\r" for Enter)
    events += decoder.poll(now)                # from a timer: ends bursts that have no suffix

A scanner types a whole code in a burst (a few ms per key); people type slower than
``max_gap`` between keys. Bursts become :class:`Scan` events, human typing :class:`Typed`
events (to hand back to the focused field). A scanner programmed for a US keyboard under an
AZERTY/QWERTZ OS layout produces characters no code contains (``&é"'``, ``ß``, ``ö``), or fails
the configured prefixes/validators where a remap to US would pass: that is a :class:`ScanError`
with a :class:`~drivers.identity.LayoutMismatch`, never an identity.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from .base import Device
from .errors import BadDeviceURL, DeviceNotFound, DeviceTimeout, OnestopError, ProtocolError
from .identity import Identity, LayoutMismatch
from .keyboard_layouts import LAYOUTS, as_meant
from .qr import BadCode, payload_identity
from .serialline import SerialLine
from .status import DeviceStatus
from .url import DeviceURL

__all__ = ["GRAMMAR", "OPTIONS", "ROLES", "open", "probe", "WedgeDecoder", "Scan", "Typed", "ScanError",
           "LineFramer", "SerialScanner", "check_code"]

log = logging.getLogger(__name__)

GRAMMAR = "scanner+serial:///dev/ttyACM0[?baud=9600&suffix=cr|lf|crlf]"
OPTIONS = {"baud": (int, 9600), "suffix": (str, "cr")}
ROLES = ("scanner",)
_SUFFIXES = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n"}
MAX_CODE = 8192


def _plain(text: str) -> bool:
    return all(" " <= c <= "~" for c in text)


def check_code(text: str, validators: tuple[Callable[[str], bool], ...] = ()) -> str:
    """Return ``text`` if it is a plausible code as typed; raise LayoutMismatch/BadCode otherwise."""
    ok = lambda s: _plain(s) and (not validators or any(v(s) for v in validators))  # noqa: E731
    if ok(text):
        return text
    for layout in LAYOUTS:
        if ok(as_meant(text, layout)):
            raise LayoutMismatch(f"scanner types with a US layout but the system uses {layout.upper()}: "
                                 f"{len(text)} characters arrived remapped")
    if not _plain(text):
        raise LayoutMismatch(f"scanner input has characters no code contains ({sorted(set(c for c in text if not ' ' <= c <= '~'))[:5]})")
    raise BadCode(f"code {text[:8]!r}... does not match any configured code format")


@dataclass(frozen=True)
class Scan:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Typed:
    text: str


@dataclass(frozen=True)
class ScanError:
    error: OnestopError


@dataclass
class WedgeDecoder:
    """Separates scanner bursts from human typing by inter-key timing. Pure: no Kivy, no clock."""

    max_gap: float = 0.035          # seconds between keys inside a scanner burst
    min_length: int = 4             # shorter fast bursts are treated as typing
    validators: tuple = ()
    _buf: list = field(default_factory=list)      # (char, t)

    def feed(self, text: str, t: float) -> list:
        """One key event: ``text`` is the character(s) produced (``"\\r"``/``"\\n"`` for Enter)."""
        out = []
        if self._buf and t - self._buf[-1][1] > self.max_gap:
            out += self._end(suffix=False)
        if text in ("\r", "\n", "\r\n"):
            if self._buf:
                out += self._end(suffix=True, t=t)
            else:
                out.append(Typed("\n"))
            return out
        for ch in text:
            self._buf.append((ch, t))
        if len(self._buf) > MAX_CODE:
            self._buf.clear()
            out.append(ScanError(ProtocolError("scanner burst longer than any code; ignored")))
        return out

    def poll(self, now: float) -> list:
        """Call from a timer: ends a burst once no key came for ``max_gap``."""
        if self._buf and now - self._buf[-1][1] > self.max_gap:
            return self._end(suffix=False)
        return []

    def _is_burst(self, t_end: float | None) -> bool:
        times = [t for _c, t in self._buf] + ([t_end] if t_end is not None else [])
        gaps = [b - a for a, b in zip(times, times[1:])]
        return len(self._buf) >= self.min_length and all(g <= self.max_gap for g in gaps)

    def _end(self, suffix: bool, t: float | None = None) -> list:
        text = "".join(c for c, _t in self._buf)
        start, end = self._buf[0][1], self._buf[-1][1]
        burst = self._is_burst(t if suffix else None)
        self._buf.clear()
        if not burst:
            return [Typed(text + ("\n" if suffix else ""))]
        try:
            return [Scan(check_code(text, self.validators), start, end)]
        except OnestopError as exc:
            log.warning("wedge scan refused: %s", exc)
            return [ScanError(exc)]


class LineFramer:
    """Cuts a serial byte stream into codes at the suffix; bytes only, no I/O."""

    def __init__(self, suffix: bytes = b"\r"):
        self.suffix = suffix
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self.buf += data
        out = []
        while True:
            i = self.buf.find(self.suffix)
            if i < 0:
                if len(self.buf) > MAX_CODE:
                    self.buf.clear()
                    raise ProtocolError("serial scanner sent more than any code without a line end")
                return out
            line = bytes(self.buf[:i]).strip(b"\r\n")
            del self.buf[:i + len(self.suffix)]
            if line:
                out.append(line)


class SerialScanner(Device):
    def __init__(self, url: DeviceURL, role: str | None = "scanner", transport=None, validators=()):
        super().__init__(url, role)
        opts = url.options_for(OPTIONS, GRAMMAR)
        if opts["suffix"] not in _SUFFIXES:
            raise BadDeviceURL(f"{url.raw!r}: suffix must be cr, lf or crlf (format: {GRAMMAR})")
        self.baud = opts["baud"]
        self.framer = LineFramer(_SUFFIXES[opts["suffix"]])
        self.validators = tuple(validators)
        self.last_read: Identity | None = None
        self._pending: list[bytes] = []      # whole codes read but not yet handed out
        self.line = SerialLine(url.path or f"{url.netloc}://", url.raw, self.baud,
                               "The scanner is not connected. Please ask the staff for help.",
                               transport, on_open=self._settle)

    def _settle(self, port) -> None:
        """Drop a code that was already on its way when the port opened.

        Opening flushes what the kernel had buffered, so bytes that arrive before the line has been
        quiet once (one read timeout, 50 ms; a scanner sends a whole code in one burst) are the
        tail of a code whose start is gone: reported, it would look up the wrong thing. Whatever
        follows the first line end among them is whole, and is kept.
        """
        dropped = bytearray()
        give_up = time.monotonic() + 1.0
        try:
            while time.monotonic() < give_up:
                chunk = port.read(max(1, port.in_waiting))
                if not chunk:
                    break
                dropped += chunk
        except Exception:  # unplugged: the first real read reports it
            return
        self.framer.buf.clear()
        if not dropped:
            return
        cut = dropped.find(self.framer.suffix)
        kept = bytes(dropped[cut + len(self.framer.suffix):]) if cut >= 0 else b""
        log.info("%s: dropped %d byte(s) of a code already under way when the port opened",
                 self.url.raw, len(dropped) - len(kept))
        self._pending += self.framer.feed(kept)

    def read_code(self, timeout: float | None = None, cancel: threading.Event | None = None) -> str:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.line.use() as port:
            while True:
                if self.line.closed or (cancel is not None and cancel.is_set()):
                    raise DeviceTimeout("waiting for a scan was cancelled")
                if not self._pending:
                    try:
                        chunk = port.read(max(1, port.in_waiting))
                    except Exception as exc:  # unplugged
                        raise DeviceNotFound(f"{self.url.raw}: {exc}") from exc
                    if chunk:
                        self._pending += self.framer.feed(chunk)
                if self._pending:
                    line = self._pending.pop(0)
                    try:
                        text = line.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise BadCode(f"{self.url.raw}: scanned bytes are not UTF-8") from exc
                    if self.validators and not any(v(text) for v in self.validators):
                        raise BadCode(f"code {text[:8]!r}... does not match any configured code format")
                    return text          # no keyboard in between: no layout to go wrong
                if deadline is not None and time.monotonic() >= deadline:
                    raise DeviceTimeout(f"no scan on {self.url.raw} within {timeout:g} s",
                                        user_message="No code was scanned. Please try again.")

    def read_identity(self, timeout: float | None = None, cancel: threading.Event | None = None) -> Identity:
        with self._lock:
            ident = payload_identity(self.read_code(timeout, cancel))
            self.count("reads")
            self.last_read = ident
            return ident

    def status(self) -> DeviceStatus:
        try:
            self.line.check_open()
        except (DeviceNotFound, DeviceTimeout) as exc:
            return DeviceStatus.disconnected(str(exc))
        return DeviceStatus.connected("scanner ready", last_read=self.last_read.source if self.last_read else None)

    def close(self) -> None:
        self.line.close()


def open(url: DeviceURL, role: str | None = "scanner") -> SerialScanner:  # noqa: A001
    return SerialScanner(url, role)


def probe(url: DeviceURL, role: str | None = "scanner") -> DeviceStatus:
    dev = SerialScanner(url, role)
    try:
        return dev.status()
    finally:
        dev.close()
