"""Card insert/remove events from PC/SC, delivered to subscribers as they happen.

A small watcher thread asks pcscd for status changes (``SCardGetStatusChange``, which returns as
soon as a reader's state changes) with a short timeout so :meth:`CardWatcher.stop` is prompt
(pyscard's ``CardMonitor`` waits up to 60 s before it notices a stop). Callbacks run on the
watcher thread: a UI must hop to its own thread (Kivy: ``Clock.schedule_once``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable

__all__ = ["CardEvent", "CardWatcher"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardEvent:
    kind: str          # "inserted" | "removed" | "reader_added" | "reader_removed"
    reader: str
    atr: bytes = b""


class CardWatcher:
    """Watches the PC/SC readers whose name contains ``reader_filter`` (all when empty)."""

    def __init__(self, reader_filter: str = "", poll_ms: int = 250):
        self.reader_filter = reader_filter
        self.poll_ms = poll_ms
        self._subs: list[Callable[[CardEvent], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.present: dict[str, bytes | None] = {}

    def subscribe(self, callback: Callable[[CardEvent], None]) -> Callable[[], None]:
        self._subs.append(callback)
        return lambda: self._subs.remove(callback) if callback in self._subs else None

    def _emit(self, event: CardEvent) -> None:
        log.info("card event %s on %s", event.kind, event.reader)
        for cb in list(self._subs):
            try:
                cb(event)
            except Exception:  # a subscriber's bug must not stop the watcher
                log.exception("card event subscriber failed")

    def start(self) -> "CardWatcher":
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="pcsc-watch", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _run(self) -> None:
        from smartcard import scard

        ctx = None
        states: dict[str, int] = {}
        while not self._stop.is_set():
            if ctx is None:
                rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
                if rc != scard.SCARD_S_SUCCESS:
                    ctx = None
                    self._stop.wait(1.0)
                    continue
            rc, names = scard.SCardListReaders(ctx, [])
            if rc != scard.SCARD_S_SUCCESS:
                names = []
            names = [n for n in names if self.reader_filter in n]
            for gone in set(states) - set(names):
                del states[gone]
                if self.present.pop(gone, None) is not None:
                    self._emit(CardEvent("removed", gone))
                self._emit(CardEvent("reader_removed", gone))
            for new in set(names) - set(states):
                states[new] = scard.SCARD_STATE_UNAWARE
                self.present.setdefault(new, None)
                self._emit(CardEvent("reader_added", new))
            if not names:
                self._stop.wait(self.poll_ms / 1000)
                continue
            rc, result = scard.SCardGetStatusChange(ctx, self.poll_ms, [(n, states[n]) for n in names])
            if rc == scard.SCARD_E_TIMEOUT:
                continue
            if rc != scard.SCARD_S_SUCCESS:
                log.info("SCardGetStatusChange: %s", scard.SCardGetErrorMessage(rc))
                scard.SCardReleaseContext(ctx)
                ctx = None
                states.clear()
                self._stop.wait(0.5)
                continue
            for name, event_state, atr in result:
                states[name] = event_state & ~scard.SCARD_STATE_CHANGED
                has_card = bool(event_state & scard.SCARD_STATE_PRESENT)
                before = self.present.get(name)
                if has_card and before is None:
                    self.present[name] = bytes(atr)
                    self._emit(CardEvent("inserted", name, bytes(atr)))
                elif not has_card and before is not None:
                    self.present[name] = None
                    self._emit(CardEvent("removed", name))
        if ctx is not None:
            scard.SCardReleaseContext(ctx)
