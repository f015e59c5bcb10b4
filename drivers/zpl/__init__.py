"""ZPL II label printers (Zebra wristband printers): renderer, ~HS status, device, ``zpl+tcp``."""

__all__ = ["ZplPrinter", "render_zpl"]


def __getattr__(name: str):
    # the renderer pulls in the imaging and barcode stack: only code that prints pays for it
    if name == "ZplPrinter":
        from .printer import ZplPrinter
        return ZplPrinter
    if name == "render_zpl":
        from .render import render_zpl
        return render_zpl
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
