"""ESC/POS printers: profiles (capabilities as data), transports, the renderer and the device.

Schemes: ``escpos+tcp``, ``escpos+serial``, ``escpos+usb``, ``escpos+file`` (one module each).
"""

from .printer import EscposPrinter
from .profiles import PROFILES, get_profile
from .render import render_escpos

__all__ = ["EscposPrinter", "PROFILES", "get_profile", "render_escpos"]
