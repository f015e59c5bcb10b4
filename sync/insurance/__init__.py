"""The national medical-insurance platform over HTTP: :class:`PlatformGateway` implements
:class:`pos.hospital.gateway.InsuranceGateway` with the platform's published message numbers
(1101, 2301, 2303, 2304, 2305, and 5203 to look a settlement up), and :mod:`.simserver` is a
simulator of that interface on a real socket for the tests and the demo."""

from .client import PlatformGateway
from .simserver import PlatformSimServer

__all__ = ["PlatformGateway", "PlatformSimServer"]
