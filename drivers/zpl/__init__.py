"""ZPL II label printers (Zebra wristband printers): renderer, ~HS status, device, ``zpl+tcp``."""

from .printer import ZplPrinter
from .render import render_zpl

__all__ = ["ZplPrinter", "render_zpl"]
