"""``pcsc://`` - contact smart cards (social-security card, German eGK) through PC/SC (pcscd).

URL format::

    pcsc://[READER-NAME-SUBSTRING]

``pcsc://`` uses the first reader; ``pcsc://ACS`` the first reader whose name contains "ACS".
The card kind is found by selecting the applications we know (SSSE, then the eGK's HCA); any
other card is refused as unknown. Layers: pyscard connection -> :class:`ApduTransport`
(status words) -> :class:`SocialSecurityCard` / :class:`EgkCard` -> :class:`Identity`.
"""

from __future__ import annotations

import logging
import threading
import time

from ..base import Device
from ..errors import CardError, DeviceNotFound, DeviceTimeout
from ..identity import CardRemoved, Identity, UnknownCard
from ..status import DeviceStatus
from ..url import DeviceURL
from .egk import EgkCard
from .connection import PcscContext
from .monitor import CardEvent, CardWatcher
from .ssse import SocialSecurityCard
from .transport import ApduTransport, StatusWordError

__all__ = ["GRAMMAR", "OPTIONS", "ROLES", "open", "probe", "PcscCardReader", "read_card",
           "list_readers", "CardEvent", "CardWatcher"]

log = logging.getLogger(__name__)

GRAMMAR = "pcsc://[READER-NAME-SUBSTRING]"
OPTIONS: dict = {}
ROLES = ("card_reader",)
CARD_KINDS = (SocialSecurityCard, EgkCard)


def list_readers() -> list[str]:
    """Names of the PC/SC readers; DeviceNotFound when pcscd is not running."""
    from smartcard.System import readers
    try:
        return [str(r) for r in readers()]
    except Exception as exc:  # EstablishContextException when pcscd is absent
        raise DeviceNotFound(f"PC/SC service not available: {exc}",
                             user_message="The card reader is not working. Please ask the staff for help.") from exc


def read_card(connection, name: str = "card") -> Identity:
    """Detect the card kind on an open connection and read it into an :class:`Identity`."""
    transport = ApduTransport(connection, name)
    for kind in CARD_KINDS:
        card = kind(transport)
        try:
            card.select()
        except StatusWordError as exc:
            log.debug("%s: not %s (%04X)", name, kind.kind, exc.sw)
            continue
        return card.read(selected=True)
    raise UnknownCard(f"{name}: card has neither the SSSE nor the eGK application")


class PcscCardReader(Device):
    """One PC/SC reader slot, chosen by name substring."""

    def __init__(self, url: DeviceURL, role: str | None = "card_reader"):
        super().__init__(url, role)
        url.options_for(OPTIONS, GRAMMAR)
        self.match = (url.netloc + url.path).strip("/")
        self.last_atr: bytes | None = None
        self.last_read: Identity | None = None
        self.last_read_at: float | None = None
        self._watcher: CardWatcher | None = None
        self._watch_lock = threading.Lock()
        self._name: str | None = None        # the matching reader, as last listed
        self._io = threading.Lock()
        self.ctx = PcscContext()

    def reader_name(self) -> str:
        names = [n for n in self.ctx.readers() if self.match in n]
        if not names:
            self._name = None
            raise DeviceNotFound(f"no PC/SC reader matching {self.match!r} (format: {GRAMMAR})",
                                 user_message="The card reader is not connected. Please ask the staff for help.")
        self._name = names[0]
        return names[0]

    def card_present(self) -> bytes | None:
        """The ATR of the card in the reader, or None."""
        return self.ctx.atr(self.reader_name())

    def wait_for_card(self, timeout: float | None, cancel: threading.Event | None = None) -> bytes:
        """The ATR once a card is in the reader; DeviceTimeout after ``timeout`` seconds.

        The reader's watcher (started on the first wait, it lives as long as the reader) delivers
        the insertion the moment pcscd announces it; there is no poll on the way."""
        got: list[bytes] = []
        arrived = threading.Event()

        def on_event(ev: CardEvent) -> None:
            if ev.kind == "inserted":
                got.append(ev.atr)
                arrived.set()

        watcher = self._ensure_watcher()
        unsubscribe = watcher.subscribe(on_event)       # before looking: no insertion missed
        try:
            if watcher.ready.is_set():      # its view is pcscd's, pushed as it changes: no round trip
                atr = next((a for a in list(watcher.present.values()) if a), None)
            else:
                atr = self.card_present()
            if atr:
                return atr
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                if cancel is not None and cancel.is_set():
                    raise DeviceTimeout("waiting for a card was cancelled")
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise DeviceTimeout(f"no card in {self.match or 'the reader'} within {timeout:g} s",
                                        user_message="No card was inserted. Please try again.")
                # the slice only bounds how late a cancel is noticed; an insertion ends the wait at once
                if arrived.wait(0.1 if left is None else min(0.1, left)):
                    return got[-1] or self.card_present() or got[-1]
        finally:
            unsubscribe()

    def _ensure_watcher(self) -> CardWatcher:
        with self._watch_lock:
            if self._watcher is None or not self._watcher.running:
                self._watcher = CardWatcher(self.match).start()
            return self._watcher

    def _connect(self, reader: str, timeout: float | None):
        """Connect, riding out the moment where pcscd still reports a card just swapped."""
        deadline = time.monotonic() + (timeout or 0) + 1.0
        while True:
            try:
                return self.ctx.connect(reader)
            except CardRemoved:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
                self.wait_for_card(max(0.0, deadline - time.monotonic()))

    def read_identity(self, timeout: float | None = None, cancel: threading.Event | None = None) -> Identity:
        """Wait for a card (up to ``timeout`` s), read it, and return the checked record."""
        with self._io:
            atr = self.wait_for_card(timeout, cancel)
            reader = self._name or self.reader_name()
            try:
                conn = self._connect(reader, timeout)
            except CardError:
                self._name = None           # the reader may have gone: look it up again next time
                raise
            try:
                self.last_atr = atr         # what pcscd reported with the insertion (SCardStatus's ATR)
                self.count("reads")
                ident = read_card(conn, reader)
            except CardError as exc:
                self.count("errors")
                self.last_error = str(exc)
                raise
            finally:
                try:
                    conn.disconnect()
                except Exception:  # the card or reader is already gone
                    pass
            self.last_read, self.last_read_at = ident, time.time()
            return ident

    def watch(self, callback) -> CardWatcher:
        """Start delivering :class:`CardEvent` for this reader to ``callback``; returns the watcher."""
        watcher = self._ensure_watcher()
        watcher.subscribe(callback)
        return watcher

    def status(self) -> DeviceStatus:
        try:
            name = self.reader_name()
            atr = self.ctx.atr(name)
        except DeviceNotFound as exc:
            return DeviceStatus.disconnected(str(exc))
        detail = {"reader": name, "atr": atr.hex(" ").upper() if atr else None,
                  "last_read": self.last_read.source if self.last_read else None}
        return DeviceStatus.connected("card present" if atr else "ready, no card", **detail)

    def close(self) -> None:
        with self._watch_lock:
            watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()
        self.ctx.release()


def open(url: DeviceURL, role: str | None = "card_reader") -> PcscCardReader:  # noqa: A001
    return PcscCardReader(url, role)


def probe(url: DeviceURL, role: str | None = "card_reader") -> DeviceStatus:
    reader = PcscCardReader(url, role)
    try:
        return reader.status()
    finally:        # the monitor probes every few seconds: each context must go back to pcscd
        reader.close()
