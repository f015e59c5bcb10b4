"""A long-lived PC/SC context and card connections on it (pyscard's low-level ``smartcard.scard``).

pyscard's high-level ``readers()``/``createConnection()`` establish a fresh PC/SC context for
every call (about 0.5 ms each through pcscd); a kiosk reading cards all day keeps one context per
reader object instead and re-establishes it only when pcscd was restarted.
"""

from __future__ import annotations

import logging
import threading

from ..errors import DeviceNotFound
from ..identity import CardRemoved

__all__ = ["PcscContext", "ScardConnection"]

log = logging.getLogger(__name__)


def _scard():
    from smartcard import scard
    return scard


class ScardConnection:
    """One connected card: pyscard-compatible ``transmit(list) -> (data, sw1, sw2)``."""

    def __init__(self, hcard, protocol: int, reader: str):
        s = _scard()
        self.hcard = hcard
        self.reader = reader
        self.pci = s.SCARD_PCI_T1 if protocol == s.SCARD_PROTOCOL_T1 else s.SCARD_PCI_T0

    def transmit(self, apdu):
        s = _scard()
        rc, resp = s.SCardTransmit(self.hcard, self.pci, list(apdu))
        if rc != s.SCARD_S_SUCCESS or len(resp) < 2:
            raise CardRemoved(f"{self.reader}: transmit failed: "
                              f"{s.SCardGetErrorMessage(rc) if rc != s.SCARD_S_SUCCESS else 'no status word'}")
        return resp[:-2], resp[-2], resp[-1]

    def getATR(self) -> list[int]:  # noqa: N802 - pyscard's name
        s = _scard()
        rc, _reader, _state, _proto, atr = s.SCardStatus(self.hcard)
        return list(atr) if rc == s.SCARD_S_SUCCESS else []

    def disconnect(self) -> None:
        s = _scard()
        if self.hcard is not None:
            s.SCardDisconnect(self.hcard, s.SCARD_LEAVE_CARD)
            self.hcard = None


class PcscContext:
    """A PC/SC context kept open, re-established once when pcscd went away in between."""

    def __init__(self):
        self._ctx = None
        self._closed = False
        self._lock = threading.Lock()

    def _get(self):
        s = _scard()
        if self._closed:        # released by its owner: never open a context nobody will release
            raise DeviceNotFound("PC/SC context already released",
                                 user_message="The card reader is not working. Please ask the staff for help.")
        if self._ctx is None:
            rc, ctx = s.SCardEstablishContext(s.SCARD_SCOPE_USER)
            if rc != s.SCARD_S_SUCCESS:
                raise DeviceNotFound(f"PC/SC service not available: {s.SCardGetErrorMessage(rc)}",
                                     user_message="The card reader is not working. Please ask the staff for help.")
            self._ctx = ctx
        return self._ctx

    def _call(self, fn, *args):
        """Run ``fn(ctx, *args)``; on a dead context, re-establish once and retry."""
        s = _scard()
        with self._lock:
            result = fn(self._get(), *args)
            if result[0] in (s.SCARD_E_NO_SERVICE, s.SCARD_E_SERVICE_STOPPED, s.SCARD_E_INVALID_HANDLE):
                self.release_locked()
                result = fn(self._get(), *args)
            return result

    def readers(self) -> list[str]:
        s = _scard()
        rc, names = self._call(s.SCardListReaders, [])
        if rc == s.SCARD_E_NO_READERS_AVAILABLE:
            return []
        if rc != s.SCARD_S_SUCCESS:
            raise DeviceNotFound(f"PC/SC readers not listed: {s.SCardGetErrorMessage(rc)}")
        return list(names)

    def atr(self, reader: str) -> bytes | None:
        """The ATR of the card in ``reader``, or None when it is empty."""
        s = _scard()
        rc, states = self._call(s.SCardGetStatusChange, 0, [(reader, s.SCARD_STATE_UNAWARE)])
        if rc != s.SCARD_S_SUCCESS:
            return None
        _name, state, atr = states[0]
        return bytes(atr) if state & s.SCARD_STATE_PRESENT and not state & s.SCARD_STATE_MUTE else None

    def connect(self, reader: str) -> ScardConnection:
        s = _scard()
        rc, hcard, proto = self._call(s.SCardConnect, reader, s.SCARD_SHARE_SHARED,
                                      s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1)
        if rc != s.SCARD_S_SUCCESS:
            raise CardRemoved(f"{reader}: cannot connect to the card: {s.SCardGetErrorMessage(rc)}")
        return ScardConnection(hcard, proto, reader)

    def release_locked(self) -> None:
        if self._ctx is not None:
            _scard().SCardReleaseContext(self._ctx)
            self._ctx = None

    def release(self) -> None:
        """Release for good: a later call (a reader thread still finishing) is refused."""
        with self._lock:
            self._closed = True
            self.release_locked()
