"""Barcode and QR code bitmaps (pixel-exact, module by module), for raster printing and the simulator."""

from __future__ import annotations

import barcode
import qrcode
from PIL import Image

__all__ = ["code128_modules", "code128_image", "qr_image"]


def code128_modules(data: str) -> str:
    """The bar/space modules of a Code 128 symbol as a string of ``1`` (bar) and ``0`` (space)."""
    return barcode.get("code128", data).build()[0]


def code128_image(data: str, module: int = 2, height: int = 80, quiet: int = 10) -> Image.Image:
    mods = code128_modules(data)
    img = Image.new("1", ((len(mods) + 2 * quiet) * module, height), 1)
    px = img.load()
    for i, m in enumerate(mods):
        if m == "1":
            x0 = (quiet + i) * module
            for x in range(x0, x0 + module):
                for y in range(height):
                    px[x, y] = 0
    return img


def qr_image(data: str, box: int = 4, border: int = 2, ec: str = "M") -> Image.Image:
    levels = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
              "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}
    q = qrcode.QRCode(border=border, box_size=1, error_correction=levels[ec])
    q.add_data(data, optimize=0)      # mixed ASCII/CJK split into segments defeats some readers
    q.make(fit=True)
    matrix = q.get_matrix()
    n = len(matrix)
    img = Image.new("1", (n, n), 1)
    img.putdata([0 if cell else 1 for row in matrix for cell in row])
    return img.resize((n * box, n * box), Image.NEAREST)
