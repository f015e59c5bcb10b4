"""Card insert/remove events from PC/SC, delivered to subscribers as they happen.

A watcher thread waits in ``SCardGetStatusChange`` (which returns as soon as a reader's state
changes) with no timeout; :meth:`CardWatcher.stop` cancels the wait (``SCardCancel``), so stopping
is prompt (pyscard's ``CardMonitor`` waits up to 60 s before it notices a stop). Callbacks run on the
watcher thread: a UI must hop to its own thread (Kivy: ``Clock.schedule_once``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

__all__ = ["CardEvent", "CardWatcher", "PNP"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardEvent:
    kind: str          # "inserted" | "removed" | "reader_added" | "reader_removed"
    reader: str
    atr: bytes = b""


PNP = "\\\\?PnP?\\Notification"     # pcsc-lite's pseudo reader: its state changes when a reader comes or goes


class CardWatcher:
    """Watches the PC/SC readers whose name contains ``reader_filter`` (all when empty).

    The watcher blocks in ``SCardGetStatusChange`` without a timeout, so a card is announced the
    moment pcscd sees it (a 200 ms poll made a waiting cardholder wait 100 ms on average, 200 ms at
    worst); readers coming and going wake it through pcsc-lite's PnP notification reader, and
    :meth:`stop` wakes it with ``SCardCancel``. Without PnP support it polls every ``poll_ms``.
    """

    def __init__(self, reader_filter: str = "", poll_ms: int = 250):
        self.reader_filter = reader_filter
        self.poll_ms = poll_ms
        self._subs: list[Callable[[CardEvent], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ctx = None
        self._ctx_lock = threading.Lock()
        self.present: dict[str, bytes | None] = {}
        self.ready = threading.Event()      # set once the first state of every reader is known

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

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> "CardWatcher":
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="pcsc-watch", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return
        # SCardCancel wakes a wait in progress only: one that the thread is about to begin (it is
        # listing readers, or emitting an event) would start after it and never end. So cancel
        # again until the thread is gone.
        deadline = time.monotonic() + timeout
        while thread.is_alive() and time.monotonic() < deadline:
            self._cancel()
            thread.join(0.02)

    def _cancel(self) -> None:
        from smartcard import scard

        with self._ctx_lock:
            if self._ctx is not None:
                scard.SCardCancel(self._ctx)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _open(self):
        from smartcard import scard

        rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if rc != scard.SCARD_S_SUCCESS:
            return None
        with self._ctx_lock:
            self._ctx = ctx
        return ctx

    def _release(self, ctx) -> None:
        from smartcard import scard

        with self._ctx_lock:
            self._ctx = None
        scard.SCardReleaseContext(ctx)

    def _run(self) -> None:
        from smartcard import scard

        ctx = None
        states: dict[str, int] = {}
        pnp: int | None = scard.SCARD_STATE_UNAWARE      # None: pcscd has no PnP notification
        try:
            while not self._stop.is_set():
                if ctx is None:
                    ctx = self._open()
                    if ctx is None:
                        self._stop.wait(1.0)
                        continue
                    if self._stop.is_set():     # stop() came before the context it could cancel
                        break
                rc, names = scard.SCardListReaders(ctx, [])
                if rc != scard.SCARD_S_SUCCESS:
                    names = []
                names = [n for n in names if self.reader_filter in n]
                self._readers_changed(states, names)
                query = [(n, states[n]) for n in names]
                if pnp is not None:
                    query.append((PNP, pnp))
                if not query:
                    self._stop.wait(self.poll_ms / 1000)
                    continue
                wait = scard.INFINITE if pnp is not None else self.poll_ms
                rc, result = scard.SCardGetStatusChange(ctx, wait, query)
                if rc == scard.SCARD_E_TIMEOUT:
                    continue
                if rc == scard.SCARD_E_CANCELLED:
                    continue            # stop() (checked by the loop) or a reader to add
                if rc == scard.SCARD_E_UNKNOWN_READER and pnp is not None:
                    pnp = None          # a pcsc-lite without the PnP reader: poll for readers instead
                    continue
                if rc != scard.SCARD_S_SUCCESS:
                    log.info("SCardGetStatusChange: %s", scard.SCardGetErrorMessage(rc))
                    self._release(ctx)
                    ctx = None
                    states.clear()
                    self._stop.wait(0.5)
                    continue
                for name, event_state, atr in result:
                    if name == PNP:
                        if event_state & scard.SCARD_STATE_UNKNOWN:
                            pnp = None          # not supported: poll for readers instead
                        else:
                            pnp = event_state & ~scard.SCARD_STATE_CHANGED
                        continue
                    states[name] = event_state & ~scard.SCARD_STATE_CHANGED
                    has_card = bool(event_state & scard.SCARD_STATE_PRESENT)
                    before = self.present.get(name)
                    if has_card and before is None:
                        self.present[name] = bytes(atr)
                        self._emit(CardEvent("inserted", name, bytes(atr)))
                    elif not has_card and before is not None:
                        self.present[name] = None
                        self._emit(CardEvent("removed", name))
                self.ready.set()
        finally:
            if ctx is not None:
                self._release(ctx)

    def _readers_changed(self, states: dict[str, int], names: list[str]) -> None:
        from smartcard import scard

        for gone in set(states) - set(names):
            del states[gone]
            if self.present.pop(gone, None) is not None:
                self._emit(CardEvent("removed", gone))
            self._emit(CardEvent("reader_removed", gone))
        for new in set(names) - set(states):
            states[new] = scard.SCARD_STATE_UNAWARE
            self.present.setdefault(new, None)
            self._emit(CardEvent("reader_added", new))
