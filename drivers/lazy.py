"""Package attributes imported on first use (PEP 562 module ``__getattr__``).

The printer packages export their device and renderer classes this way: those pull in
python-escpos, the imaging and the barcode stack (about 0.2 s on a Pi-class machine), which only
code that prints should pay for; the status codes and the simulators do not.
"""

from __future__ import annotations

import importlib

__all__ = ["lazy_exports"]


def lazy_exports(package: str, where: dict[str, str]):
    """A module ``__getattr__`` for ``package`` giving each name in ``where`` from its submodule
    (``{"EscposPrinter": ".printer"}``), imported when first asked for."""

    def __getattr__(name: str):
        if name in where:
            return getattr(importlib.import_module(where[name], package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
