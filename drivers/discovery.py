"""Discovery of what can be listed without opening it: serial ports, PC/SC readers, cameras.

Discovery is separate from drivers (as in Odoo's IoT box): it only lists buses. Device IDs are
stable across reboots where the system gives us a stable name (``/dev/serial/by-id``).
"""

from __future__ import annotations

import glob
import logging
import os
from dataclasses import asdict, dataclass

log = logging.getLogger(__name__)

__all__ = ["Discovered", "discover", "serial_ports", "pcsc_readers", "video_devices"]


@dataclass(frozen=True)
class Discovered:
    bus: str            # serial | pcsc | video
    id: str             # stable identifier (by-id path, reader name, /dev/videoN)
    description: str
    url_hint: str       # a URL a technician could put in the config

    def as_dict(self) -> dict:
        return asdict(self)


def serial_ports() -> list[Discovered]:
    try:
        from serial.tools import list_ports
    except ImportError:  # pragma: no cover - pyserial is a hard dependency
        return []
    by_id = {}
    for link in glob.glob("/dev/serial/by-id/*"):
        try:
            by_id[os.path.realpath(link)] = link
        except OSError:
            continue
    out = []
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        stable = by_id.get(os.path.realpath(port.device), port.device)
        desc = " ".join(x for x in (port.manufacturer, port.product, port.description) if x and x != "n/a")
        out.append(Discovered("serial", stable, desc or port.device, f"<cnid|zvt|scanner|escpos>+serial://{stable}"))
    return out


def pcsc_readers() -> list[Discovered]:
    try:
        from smartcard.System import readers
    except ImportError:
        return []
    try:
        names = [str(r) for r in readers()]
    except Exception as exc:  # pyscard raises its own tree; no pcscd means "nothing to list"
        log.info("PC/SC readers not listed: %s", exc)
        return []
    return [Discovered("pcsc", n, n, f"pcsc://{n}") for n in names]


def video_devices() -> list[Discovered]:
    out = []
    for dev in sorted(glob.glob("/dev/video*")):
        name = dev
        sysname = f"/sys/class/video4linux/{os.path.basename(dev)}/name"
        try:
            with open(sysname, encoding="utf-8", errors="replace") as fh:
                name = fh.read().strip() or dev
        except OSError:
            pass
        out.append(Discovered("video", dev, name, f"camera://{dev.removeprefix('/dev/video')}"))
    return out


def discover() -> list[Discovered]:
    return serial_ports() + pcsc_readers() + video_devices()
