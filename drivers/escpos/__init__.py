"""ESC/POS printers: profiles (capabilities as data), transports, the renderer and the device.

Schemes: ``escpos+tcp``, ``escpos+serial``, ``escpos+usb``, ``escpos+file`` (one module each).
"""

from .profiles import PROFILES, get_profile

__all__ = ["EscposPrinter", "PROFILES", "get_profile", "render_escpos"]


def __getattr__(name: str):
    # the renderer pulls in python-escpos, whose capability database costs ~0.2 s to load: only
    # code that prints pays for it (the status codes and the simulators do not)
    if name == "EscposPrinter":
        from .printer import EscposPrinter
        return EscposPrinter
    if name == "render_escpos":
        from .render import render_escpos
        return render_escpos
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
