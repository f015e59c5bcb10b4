"""ESC/POS printers: profiles (capabilities as data), transports, the renderer and the device.

Schemes: ``escpos+tcp``, ``escpos+serial``, ``escpos+usb``, ``escpos+file`` (one module each).
"""

from ..lazy import lazy_exports
from .profiles import PROFILES, get_profile

__all__ = ["EscposPrinter", "PROFILES", "get_profile", "render_escpos"]


# the device and the renderer pull in python-escpos (its capability database costs ~0.2 s to load)
__getattr__ = lazy_exports(__name__, {"EscposPrinter": ".printer", "render_escpos": ".render"})
