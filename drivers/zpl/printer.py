"""The ZPL label printer device: ``~HS`` status before and after each label, then the ZPL."""

from __future__ import annotations

import logging

from ..base import Device
from ..errors import CoverOpen, PaperOut, PrinterError, PrinterOffline, ProtocolError
from ..status import DeviceStatus
from ..url import DeviceURL
from .render import render_zpl
from .status import ANSWER_LEN, HOST_STATUS, decode_host_status

__all__ = ["ZplPrinter"]

log = logging.getLogger(__name__)


class ZplPrinter(Device):
    def __init__(self, url: DeviceURL, role: str | None, transport, profile: dict):
        super().__init__(url, role)
        self.transport, self.profile = transport, profile

    def query(self, timeout: float = 2.0) -> dict:
        self.transport.write(HOST_STATUS)
        raw = self.transport.read(ANSWER_LEN, timeout)
        if not raw:
            raise PrinterOffline(f"{self.url.raw}: no answer to ~HS")
        try:
            return decode_host_status(raw)
        except ValueError as exc:
            raise ProtocolError(f"{self.url.raw}: {exc}") from exc

    def _raise_for(self, st: dict, where: str) -> None:
        if st["paper_out"]:
            raise PaperOut(f"{where}: labels out")
        if st["head_up"]:
            raise CoverOpen(f"{where}: print head open")
        if st["paused"]:
            raise PrinterOffline(f"{where}: paused")

    def status(self) -> DeviceStatus:
        try:
            st = self.query()
            self._raise_for(st, self.url.raw)
        except (PrinterError, ProtocolError) as exc:
            return DeviceStatus.error(str(exc)) if isinstance(exc, (PaperOut, CoverOpen)) \
                else DeviceStatus.disconnected(str(exc))
        return DeviceStatus.connected("ready", profile="zpl")

    def render(self, layout: dict) -> bytes:
        return render_zpl(layout, self.profile)

    def print_layout(self, layout: dict) -> dict:
        with self._lock:
            self._raise_for(self.query(), self.url.raw)
            data = self.render(layout)
            # the answer comes once the printer has taken the label: on a serial line (or a
            # serial adapter) at 115200 baud a 15 kB label takes 1.3 s
            after = self.send_job(data, "label")
            if after["paper_out"] or after["head_up"] or after["paused"]:
                self.count("jobs_failed")
                self.transport.write(b"~JA")      # cancel all: nothing resumes by itself
                self._raise_for(after, f"{self.url.raw} (during the job)")
            log.info("%s: label of %d bytes sent", self.url.raw, len(data))
            return {"bytes": len(data), "near_end": False}

    def close(self) -> None:
        self.transport.close()
