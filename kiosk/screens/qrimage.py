"""A QR code as a Kivy texture (the ``qrcode`` library draws it; error correction M, 4-module quiet zone)."""

from __future__ import annotations

import qrcode
from kivy.graphics.texture import Texture

__all__ = ["qr_texture"]


def qr_texture(text: str, box: int = 10) -> Texture:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box, border=4)
    qr.add_data(text)
    img = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    tex = Texture.create(size=img.size, colorfmt="rgb")
    tex.blit_buffer(img.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
    tex.flip_vertical()
    tex.mag_filter = tex.min_filter = "nearest"
    return tex
