"""ZPL II label printers (Zebra wristband printers): renderer, ~HS status, device, ``zpl+tcp``."""

from ..lazy import lazy_exports

__all__ = ["ZplPrinter", "render_zpl"]


# the device and the renderer pull in the imaging and barcode stack
__getattr__ = lazy_exports(__name__, {"ZplPrinter": ".printer", "render_zpl": ".render"})
