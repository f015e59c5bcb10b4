"""The demo world: every device simulated over its real wire format, on this machine only.

``onestop demo`` starts, in-process:

* a resident-ID-card reader: the virtual SAM_V module on a pseudo-terminal (``cnid+serial://``);
* the receipt printer and the wristband printer: virtual printers on loopback TCP ports that
  decode ESC/POS and ZPL and render every document to a PNG (``escpos+tcp://``, ``zpl+tcp://``);
* the card terminal: the ZVT terminal simulator on a loopback TCP port (``zvt+tcp://``), with its
  own ledger of what it charged.

Then it seeds the store with the demo hospital (wards, fees, admission notices for the demo card
holders). The person at the screen "places an ID card" with the demo buttons, which put that
person's card on the virtual module, exactly as a real card on a real reader.
"""

from __future__ import annotations

import copy
import logging
import os
import socket
import threading
from pathlib import Path

from drivers.sim.ptys import raw_pty
from pos.config import Config

log = logging.getLogger(__name__)

__all__ = ["DemoWorld", "demo_cards"]


def demo_cards() -> list[dict]:
    """Resident ID cards for the demo people (their admission notices are in the demo data)."""
    from pos.hospital.demo import PEOPLE

    cards = []
    for name, _sex, birth, idno, *_rest in PEOPLE:
        # a real ID card's sex always agrees with the ID number's 17th digit (odd = male)
        cards.append({"name": name, "sex": "1" if int(idno[16]) % 2 else "2", "ethnicity": "01", "birth_date": birth,
                      "address": "北京市东城区示范街1号", "id_number": idno, "authority": "北京市公安局东城分局",
                      "valid_from": "2020-01-01", "valid_to": "长期"})
    return cards


class DemoWorld:
    """The simulated devices. Their ports and pty are taken at once (the config needs the URLs);
    the simulators themselves, and their imports, start with :meth:`start`, which the app calls
    after its first frame (``start=False``) so that the home screen does not wait for them."""

    def __init__(self, state_dir: str | Path, start: bool = True):
        self.dir = Path(state_dir)
        self.printed = self.dir / "printed"
        self.printed.mkdir(parents=True, exist_ok=True)
        self._socks = {name: socket.create_server(("127.0.0.1", 0)) for name in ("receipt", "wristband", "terminal")}
        self._pty = raw_pty()
        self._ports = {name: s.getsockname()[1] for name, s in self._socks.items()}
        self._started = False
        self._start_lock = threading.Lock()
        self.receipt_printer = self.label_printer = self.terminal = self.terminal_sim = self.id_module = None
        if start:
            self.start()

    def start(self) -> "DemoWorld":
        """Start every simulator on the endpoints taken in ``__init__`` (idempotent)."""
        with self._start_lock:
            if self._started:
                return self
            from drivers.sim.printer import VirtualPrinter
            from drivers.sim.samv import SamvModule
            from drivers.sim.zvt_terminal import SimTerminal, TcpFrontEnd

            self.receipt_printer = VirtualPrinter(out_dir=self.printed / "receipt", sock=self._socks["receipt"]).start()
            self.label_printer = VirtualPrinter(out_dir=self.printed / "wristband",
                                                    sock=self._socks["wristband"]).start()
            self.terminal_sim = SimTerminal(self.dir / "terminal")
            self.terminal = TcpFrontEnd(self.terminal_sim, sock=self._socks["terminal"]).start()
            self.id_module = SamvModule(None, pty=self._pty).start()
            self._started = True
        log.info("demo devices: id %s, printers %s %s, terminal %s", self.id_module.port_name,
                 self.receipt_printer.url, self.label_printer.url, self.terminal.url)
        return self

    @property
    def devices(self) -> dict[str, str]:
        return {
            "id_reader": f"cnid+serial://{self._pty[2]}",
            "receipt_printer": f"escpos+tcp://127.0.0.1:{self._ports['receipt']}",
            "label_printer": f"zpl+tcp://127.0.0.1:{self._ports['wristband']}",
            "payment_terminal": f"zvt+tcp://127.0.0.1:{self._ports['terminal']}",
        }

    def config(self, base: Config) -> Config:
        """``base`` with every device pointing at this world's simulators."""
        values = copy.deepcopy(base.values)
        devices = values.setdefault("devices", {})
        for role in list(devices):
            if devices[role].startswith("sim://"):
                devices[role] = ""
        devices.update(self.devices)
        return Config(path=base.path, values=values)

    def mark(self) -> tuple[int, int]:
        """Where the printers' output stands now (a patient's session begins)."""
        self.start()
        return len(self.receipt_printer.docs), len(self.label_printer.docs)

    def printed_since(self, mark: tuple[int, int]) -> list[str]:
        """PNG pictures of the documents printed since ``mark``: this patient's, no one else's."""
        docs = self.receipt_printer.docs[mark[0]:] + self.label_printer.docs[mark[1]:]
        return [d.png_path for d in docs if getattr(d, "png_path", None)]

    def place_card(self, card: dict | None) -> None:
        """Put a resident ID card on the reader (``None`` takes it away)."""
        self.start().id_module.card = card

    def stop(self) -> None:
        with self._start_lock:
            if not self._started:        # never started: give back what was reserved
                for s in self._socks.values():
                    s.close()
                for fd in self._pty[:2]:
                    os.close(fd)
                self._started = True     # nothing to start any more
                return
        for thing in (self.receipt_printer, self.label_printer, self.terminal, self.id_module):
            if thing is None:
                continue
            try:
                thing.stop()
            except Exception:  # shutting down: a simulator that is already gone is fine
                log.debug("stopping %s", thing, exc_info=True)
