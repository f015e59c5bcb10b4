"""onestop hardware drivers. Imports nothing else of ours.

Layers are composed, not inherited: transport -> framing/protocol -> device logic.
Device addresses are URLs resolved by :mod:`drivers.registry`.
"""

from .base import ROLES, Device
from .errors import *  # noqa: F401,F403 - the error tree is public
from .errors import __all__ as _errors_all
from .registry import SCHEMES, check_url, open_device, probe
from .status import DeviceState, DeviceStatus
from .url import DeviceURL, parse_url

__all__ = [
    "ROLES", "Device", "SCHEMES", "check_url", "open_device", "probe", "DeviceState",
    "DeviceStatus", "DeviceURL", "parse_url", *_errors_all,
]
