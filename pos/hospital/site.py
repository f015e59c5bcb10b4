"""The hospital pack's services, built by :class:`pos.site.Site` on first use (``Pack.services``)."""

from __future__ import annotations

__all__ = ["hospital_service", "gateway", "document_printer", "recover"]


def gateway(site):
    """The insurance platform adapter the configuration names (``hospital.insurance_gateway``): ``sim``
    for the simulated platform, or ``module:factory``. None named is an error, never a silent
    fall-back to the simulation (a real site must not settle against a simulator)."""
    from ..errors import ConfigError
    from ..packs import resolve

    name = site.config.get("hospital", "insurance_gateway")
    if name == "sim":
        from .gateway_sim import SimGateway
        from .policy import load_policy

        return SimGateway(load_policy(site.config.get("hospital", "insurance_policy") or None),
                          site.config.get("hospital", "hospital_level"))
    if not name:
        raise ConfigError(f"{site.config.path or 'the site config'}: hospital.insurance_gateway names no insurance "
                          "platform adapter (sim for the simulated platform, or module:factory)")
    return resolve(name)(site.config)


def hospital_service(site):
    from .service import HospitalService

    return HospitalService.from_config(site.store, site.config, gateway=site.gateway, online=site.online)


def document_printer(site):
    """``documents(lang)``: prints the hospital's documents (receipts, wristbands, lists) through the journal."""
    from .print_docs import DocumentPrinter

    return lambda lang="zh-Hans": DocumentPrinter(site.hospital, site.printing, site.config, lang)


def recover(site) -> dict[str, str]:
    """On start-up: settlements and cancellations a crash left half-done are finished, reversed or
    left in doubt by asking the insurance platform (``discharge.recover``). A store with none left
    builds no platform adapter."""
    from . import views

    if not views.settlements_left_open(site.store.conn):
        return {}
    return site.hospital.recover()

