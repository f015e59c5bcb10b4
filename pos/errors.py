"""Domain errors. Each reason is written for the cashier who reads it.

    OnestopError (drivers.errors)
    └── DomainError ── InvalidTransition, InsufficientDeposit, ResourceTaken, NotFound, ConfigError, StoreError
"""

from __future__ import annotations

from drivers.errors import OnestopError

__all__ = ["DomainError", "InvalidTransition", "InsufficientDeposit", "ResourceTaken", "NotFound",
           "ConfigError", "StoreError"]


class DomainError(OnestopError):
    """A business rule said no. ``str(exc)`` is the reason, readable by a cashier."""

    user_message = "This cannot be done now. Please ask the staff for help."


class InvalidTransition(DomainError):
    pass


class InsufficientDeposit(DomainError):
    pass


class ResourceTaken(DomainError):
    """A resource (a hospital bed, a room for an evening, a technician's slot) is held by someone else."""


class NotFound(DomainError):
    pass


class ConfigError(DomainError):
    """A configuration file problem; the message names the file, the line and the key."""


class StoreError(DomainError):
    pass
