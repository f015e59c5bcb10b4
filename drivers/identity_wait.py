"""Wait for the first identity from any of several configured devices (card readers, ID-card
reader, camera, scanner). Meant for a UI worker thread::

    ident = wait_for_identity(["pcsc://", "cnid+serial:///dev/ttyUSB0"], timeout=30, cancel=ev)

Every device URL is opened through the registry and read on its own thread; the first complete
record wins. A definite answer from a device (card unknown, expired or unreadable) is raised at
once, since the person is standing there with that card. ``cancel`` (a ``threading.Event``) stops
the wait early, e.g. when the person walks away.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from .errors import CardError, DeviceError, DeviceTimeout, ProtocolError
from .identity import Identity

__all__ = ["wait_for_identity"]

log = logging.getLogger(__name__)


def wait_for_identity(urls, timeout: float, *, cancel: threading.Event | None = None,
                      check_expiry: bool = True, opener=None) -> Identity:
    """``urls``: device URLs, or ``(role, url)`` pairs. Raises DeviceTimeout when nothing comes."""
    if opener is None:
        from .registry import open_device as opener
    cancel = cancel or threading.Event()
    stop = threading.Event()
    results: queue.Queue = queue.Queue()
    devices, broken = [], []
    for item in urls:
        role, url = item if isinstance(item, tuple) else (None, item)
        try:
            devices.append(opener(url, role))
        except DeviceError as exc:      # one missing device must not hide the others
            log.warning("identity device %s unusable: %s", url, exc)
            broken.append(exc)
    if not devices:
        raise broken[0] if broken else DeviceError("no identity device is configured")

    def relay():
        while not stop.is_set():
            if cancel.wait(0.1):
                stop.set()

    def worker(dev):
        try:
            results.put(("ok", dev, dev.read_identity(timeout, stop)))
        except DeviceTimeout as exc:
            results.put(("timeout", dev, exc))
        except DeviceError as exc:
            results.put(("error", dev, exc))
        except Exception as exc:  # a driver bug must still end the wait with a clear error
            log.exception("%s: identity read crashed", dev)
            results.put(("error", dev, DeviceError(f"{dev.url}: internal error {type(exc).__name__}: {exc}")))
        finally:        # the reading thread closes its own device, never another thread under a read
            try:
                dev.close()
            except Exception:  # closing a device that failed is best effort
                log.debug("closing %s failed", dev, exc_info=True)

    threads = [threading.Thread(target=worker, args=(d,), daemon=True, name=f"id-{d.url.scheme}") for d in devices]
    threading.Thread(target=relay, daemon=True).start()
    for t in threads:
        t.start()
    pending = len(threads)
    deadline = time.monotonic() + timeout + 2.0
    try:
        while pending:
            try:
                kind, dev, value = results.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            pending -= 1
            if kind == "ok":
                return value.check_valid() if check_expiry else value
            if kind == "error":
                if isinstance(value, (CardError, ProtocolError)):
                    raise value         # the person is holding this card/code: answer now
                log.warning("%s stopped: %s", dev.url, value)
                broken.append(value)
        if cancel.is_set():
            raise DeviceTimeout("waiting for a card was cancelled")
        if broken and len(broken) >= len(urls):
            raise broken[0]
        raise DeviceTimeout(f"no card or code within {timeout:g} s",
                            user_message="No card was inserted. Please try again.")
    finally:
        stop.set()                      # every reader stops, then closes its device
        end = time.monotonic() + 3.0
        for t in threads:
            t.join(max(0.0, end - time.monotonic()))
            if t.is_alive():
                log.warning("%s: the reader has not stopped yet; it closes its device when it does", t.name)
