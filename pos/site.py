"""The composition root: one object that builds the services a front end or command uses, from
the site configuration and the local store.

    site = Site(config, store)
    site.hospital   # HospitalService (admissions, deposits, charges, discharge, settlement)
    site.payments   # PaymentService (card terminal, crash-safe journal)
    site.cash       # CashDrawer (counter cash, shift count)
    site.printing   # PrintJournal (every print job journalled, retried, reprinted)

Each service is built on first use, so a screen that never pays never imports the ZVT driver.
The insurance gateway is the simulated one unless a real one is passed in (the real platform's
adapter is a site integration).
"""

from __future__ import annotations

from functools import cached_property
from typing import Callable

from .config import Config

__all__ = ["Site"]


class Site:
    def __init__(self, config: Config, store, *, gateway=None, online: Callable[[], bool] | None = None):
        self.config = config
        self.store = store
        self._gateway = gateway
        self.online = online or (lambda: True)

    def device(self, role: str) -> str:
        """The configured URL for a device role ('' when none)."""
        return self.config.devices.get(role, "")

    @cached_property
    def gateway(self):
        if self._gateway is not None:
            return self._gateway
        from .hospital.gateway_sim import SimGateway
        from .hospital.policy import load_policy

        return SimGateway(load_policy(self.config.get("hospital", "insurance_policy") or None),
                          self.config.get("hospital", "hospital_level"))

    @cached_property
    def hospital(self):
        from .hospital.service import HospitalService

        return HospitalService.from_config(self.store, self.config, gateway=self.gateway, online=self.online)

    @cached_property
    def printing(self):
        from .printing import PrintJournal

        return PrintJournal.from_config(self.store, self.config)

    def documents(self, lang: str = "zh-Hans"):
        """Prints the hospital's documents (receipts, wristbands, lists) through the journal."""
        from .hospital.print_docs import DocumentPrinter

        return DocumentPrinter(self.hospital, self.printing, self.config, lang)

    @cached_property
    def payments(self):
        from .payments.service import PaymentService

        return PaymentService(self.store, posters=self.posters())

    @cached_property
    def cash(self):
        from .payments.cash import CashDrawer

        return CashDrawer(self.store, kick=self.kick_drawer)

    def posters(self) -> dict:
        """Purpose -> fn(tx, attempt_row): books an approved card payment in the hospital ledger
        inside the transaction that marks it posted (so an approval is never left unbooked)."""
        from .hospital.payments_bridge import POSTERS

        return {purpose: (lambda tx, row, f=fn: f(self.hospital, tx, row)) for purpose, fn in POSTERS.items()}

    def kick_drawer(self) -> None:
        from drivers.registry import open_device

        from .printing import printer_turn

        url = self.device("receipt_printer")
        if not url:
            return
        # the cash is already recorded: never keep the cashier waiting behind a long print job;
        # after 2 s the drawer stays shut (DeviceBusy; the cashier opens it by key, the caller logs why)
        with printer_turn(url, timeout=2.0), open_device(url, "receipt_printer") as printer:
            kick = getattr(printer, "kick_drawer", None)
            if kick is not None:
                kick()
