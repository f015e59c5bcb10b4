"""The ESC/POS printer device: a profile and a transport, composed.

``print_layout`` checks the status before the job (refuses to send to a printer that is out of
paper, open or offline), sends the rendered bytes, and checks again after: a job during which the
paper ran out raises :class:`PaperOut`, and the printer's buffers are cleared so the job cannot
resume by itself when paper is loaded (the print journal decides what prints again).
"""

from __future__ import annotations

import logging
import time

from ..base import Device
from ..errors import CoverOpen, PaperOut, PrinterError, PrinterOffline, ProtocolError
from ..status import DeviceStatus
from ..url import DeviceURL
from .profiles import get_profile
from .render import render_escpos
from .status import CLEAR_BUFFERS, QUERIES, PrinterState, decode_status

__all__ = ["EscposPrinter", "COMMON_OPTIONS", "raise_for_state"]

log = logging.getLogger(__name__)

COMMON_OPTIONS = {"profile": (str, "cn80"), "chinese": (str, "auto"), "qr": (str, "auto"),
                  "timeout": (float, 5.0)}


def raise_for_state(state: PrinterState, where: str) -> None:
    if state.paper_out:
        raise PaperOut(f"{where}: paper out")
    if state.cover_open:
        raise CoverOpen(f"{where}: cover open")
    if not state.ready:
        raise PrinterOffline(f"{where}: {state.reason()}")


class EscposPrinter(Device):
    """ESC/POS receipt (or label) printer: ``EscposPrinter(url, role, transport, profile)``."""

    def __init__(self, url: DeviceURL, role: str | None, transport, profile: dict):
        super().__init__(url, role)
        self.transport = transport
        self.profile = profile

    # -- status ----------------------------------------------------------------------
    def query(self, timeout: float = 1.0) -> PrinterState | None:
        """The printer's state via DLE EOT 1/2/4, or None if the link cannot read."""
        if not (self.profile.get("status") and self.transport.can_read):
            return None
        answers = []
        for q in QUERIES:
            self.transport.write(q)
            b = self.transport.read(1, timeout)
            if not b:
                raise PrinterOffline(f"{self.url.raw}: no answer to status query (printer off or busy)")
            answers.append(b[0])
        try:
            return decode_status(*answers)
        except ValueError as exc:
            raise ProtocolError(f"{self.url.raw}: {exc}") from exc

    def status(self) -> DeviceStatus:
        try:
            state = self.query()
        except PrinterError as exc:
            return DeviceStatus.disconnected(str(exc))
        except ProtocolError as exc:
            return DeviceStatus.error(str(exc))
        if state is None:
            return DeviceStatus.connected("ready (this link reports no status)", profile=self.profile["name"])
        detail = {"profile": self.profile["name"], "paper_near_end": state.near_end}
        if state.ready:
            return DeviceStatus.connected(state.reason(), **detail)
        return DeviceStatus.error(state.reason(), **detail)

    # -- printing --------------------------------------------------------------------
    def render(self, layout: dict) -> bytes:
        return render_escpos(layout, self.profile)

    def print_layout(self, layout: dict) -> dict:
        """Print one document; returns ``{"bytes": n, "near_end": bool}`` or raises a PrinterError."""
        with self._lock:
            before = self.query()
            if before is not None:
                raise_for_state(before, self.url.raw)
            data = self.render(layout)
            t0 = time.monotonic()
            after = self.send_job(data, "job (cut included)")
            if after is not None and not after.ready:
                self.count("jobs_failed")
                try:
                    self.transport.write(CLEAR_BUFFERS)
                except PrinterError:
                    pass
                self.last_error = after.reason()
                log.warning("%s: job of %d bytes ended with %s", self.url.raw, len(data), after.reason())
                raise_for_state(after, f"{self.url.raw} (during the job)")
            if after is not None and after.near_end:
                log.warning("%s: paper near end", self.url.raw)
            log.info("%s: printed %d bytes in %.2fs", self.url.raw, len(data), time.monotonic() - t0)
            return {"bytes": len(data), "near_end": bool(after and after.near_end)}

    def kick_drawer(self, pin: int = 2) -> None:
        if not self.profile.get("drawer"):
            raise PrinterError(f"{self.url.raw}: profile {self.profile['name']} has no cash drawer port")
        self.print_layout({"version": 1, "kind": "receipt", "blocks": [{"type": "drawer", "pin": pin}]})

    def close(self) -> None:
        self.transport.close()


def check_profile(url: DeviceURL, opts: dict) -> None:
    """A scheme's ``check``: the profile and its overrides exist (see drivers.registry.check_url)."""
    make_profile(url, opts)


def make_profile(url: DeviceURL, opts: dict) -> dict:
    from ..errors import BadDeviceURL

    try:
        return get_profile(opts["profile"], {"chinese": opts.get("chinese"), "qr": opts.get("qr")})
    except (KeyError, ValueError) as exc:
        raise BadDeviceURL(f"{url.raw!r}: {exc.args[0]}") from None
