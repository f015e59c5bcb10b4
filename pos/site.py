"""The composition root: one object that builds the services a front end or command uses, from
the site configuration and the local store.

    site = Site(config, store)
    site.payments   # PaymentService (card terminal, crash-safe journal)
    site.cash       # CashDrawer (counter cash, shift count)
    site.printing   # PrintJournal (every print job journalled, retried, reprinted)
    site.service("hospital") or site.hospital   # a site pack's service (``Pack.services``)

Each service is built on first use, so a screen that never pays never imports the ZVT driver.
A pack service named ``gateway`` may be replaced by passing ``gateway=`` (a site's real adapter).
"""

from __future__ import annotations

from functools import cached_property
from typing import Callable

from . import packs
from .config import Config

__all__ = ["Site"]


class Site:
    def __init__(self, config: Config, store, *, gateway=None, online: Callable[[], bool] | None = None):
        self.config = config
        self.store = store
        self._built: dict = {} if gateway is None else {"gateway": gateway}
        self.online = online or (lambda: True)

    def device(self, role: str) -> str:
        """The configured URL for a device role ('' when none)."""
        return self.config.devices.get(role, "")

    def service(self, name: str):
        """The active packs' service ``name``, built once (``Pack.services``: name -> factory(site))."""
        if name not in self._built:
            for p in packs.active():
                if name in p.services:
                    self._built[name] = packs.resolve(p.services[name])(self)
                    break
            else:
                raise AttributeError(f"no site pack offers a service {name!r}")
        return self._built[name]

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return self.service(name)

    @cached_property
    def printing(self):
        from .printing import PrintJournal

        return PrintJournal.from_config(self.store, self.config)

    @cached_property
    def payments(self):
        from .payments.service import PaymentService

        return PaymentService(self.store, posters=self.posters())

    @cached_property
    def cash(self):
        from .payments.cash import CashDrawer

        return CashDrawer(self.store, kick=self.kick_drawer)

    def posters(self) -> dict:
        """Purpose -> fn(tx, attempt_row): books an approved card payment in the pack that owns the
        purpose, inside the transaction that marks it posted (so an approval is never left unbooked).
        Each pack's ``posters`` functions take ``(service, tx, row)``, the service being the pack's
        service of the pack's own name."""
        out = {}
        for p, table in packs.hooks("posters"):
            for purpose, fn in table.items():
                out[purpose] = (lambda tx, row, f=fn, name=p.name: f(self.service(name), tx, row))
        return out

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
