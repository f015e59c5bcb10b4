"""Render a layout dict (see ``pos.documents.layout``) to ESC/POS bytes for a profile.

python-escpos is the command layer: an ``Escpos`` subclass whose ``_raw`` appends to a buffer
(:class:`Commands`), composed with our transports instead of python-escpos's connectors.

* text: native (``FS &`` Chinese mode, GB18030 bytes) when ``profile["chinese"] == "native"``;
  otherwise consecutive text lines are drawn with the CJK font into one raster image (GS v 0);
* barcodes: native ``GS k`` CODE128 (python-escpos needs the ``{B`` code-set prefix);
* QR: native ``GS ( k`` or a raster image, per profile;
* cut (GS V), drawer kick (ESC p).
"""

from __future__ import annotations

import base64
import contextlib
import io

from escpos.escpos import Escpos
from PIL import Image

from ..labelplan import draw_label
from ..textgrid import draw_lines, format_block

__all__ = ["Commands", "render_escpos", "ESC_INIT", "FS_CHINESE_ON", "FS_CHINESE_OFF"]

ESC_INIT = b"\x1b@"
FS_CHINESE_ON = b"\x1c&"
FS_CHINESE_OFF = b"\x1c."
_TEXT_BLOCKS = ("text", "columns", "rule")


class Commands(Escpos):
    """python-escpos's command layer writing into a byte buffer."""

    def __init__(self, base_profile: str = "default"):
        super().__init__(profile=base_profile)
        self.buf = bytearray()

    def _raw(self, msg: bytes) -> None:
        self.buf += msg

    def take(self) -> bytes:
        out, self.buf = bytes(self.buf), bytearray()
        return out


def _image(cmd: Commands, img: Image.Image, width_px: int) -> None:
    if img.width > width_px:
        img = img.resize((width_px, max(1, img.height * width_px // img.width)))
    cmd.image(img, impl="bitImageRaster", center=False)


def _text_lines(block: dict, cols: int) -> list[tuple[str, tuple[int, int], bool]]:
    size = tuple(block.get("size", [1, 1])) if block["type"] == "text" else (1, 1)
    return [(line, size, bool(block.get("bold"))) for line in format_block(block, cols)]


def _emit_native_text(cmd: Commands, lines) -> None:
    for text, (w, h), bold in lines:
        cmd.set(bold=bold, custom_size=True, width=w, height=h)
        cmd._raw(text.rstrip().encode("gb18030") + b"\n")
    cmd.set(bold=False, custom_size=True, width=1, height=1)


def render_label(layout: dict, profile: dict) -> bytes:
    """ESC/POS label mode: the whole label as one raster image printed along the band, then
    GS FF (feed to the start of the next label)."""
    cmd = Commands(profile.get("base", "default"))
    cmd.profile.profile_data["media"]["width"]["pixels"] = profile["width_px"]
    landscape = draw_label(layout, profile.get("dpi", 203))
    portrait = landscape.rotate(-90, expand=True)
    if portrait.width > profile["width_px"]:
        portrait = portrait.crop((0, 0, profile["width_px"], portrait.height))
    cmd._raw(ESC_INIT)
    cmd.image(portrait, impl="bitImageRaster", fragment_height=portrait.height + 1)
    cmd._raw(b"\x1d\x0c")
    return cmd.take()


def render_escpos(layout: dict, profile: dict) -> bytes:
    """ESC/POS bytes for one document (starting with ESC @)."""
    if layout.get("kind") == "label" and profile.get("label"):
        return render_label(layout, profile)
    cmd = Commands(profile.get("base", "default"))
    cmd.profile.profile_data["media"]["width"]["pixels"] = profile["width_px"]
    cols = profile["width_px"] // profile["col_px"]
    native = profile["chinese"] == "native"
    lang = layout.get("lang", "zh-Hans")
    cmd._raw(ESC_INIT)
    if native:
        cmd._raw(FS_CHINESE_ON)
    pending: list = []

    def flush() -> None:
        if not pending:
            return
        if native:
            _emit_native_text(cmd, pending)
        else:
            _image(cmd, draw_lines(pending, profile["width_px"], profile["col_px"], lang), profile["width_px"])
        pending.clear()

    for block in layout["blocks"]:
        kind = block["type"]
        if kind in _TEXT_BLOCKS:
            pending.extend(_text_lines(block, cols))
            continue
        flush()
        if kind == "barcode":
            cmd.set(align="center")
            with contextlib.redirect_stdout(io.StringIO()):   # python-escpos print()s its renderer choice
                cmd.barcode("{B" + block["data"], "CODE128", height=max(1, min(block.get("height", 64), 255)),
                            width=2, pos="BELOW" if block.get("hri", True) else "OFF", function_type="B",
                            check=False)
            cmd.set(align="left")
        elif kind == "qr":
            if profile["qr"] == "native":
                cmd.set(align="center")
                cmd.qr(block["data"], size=max(1, min(block.get("size", 6), 16)), native=True)
                cmd._raw(b"\n")
                cmd.set(align="left")
            else:
                cmd.qr(block["data"], size=max(1, min(block.get("size", 6), 16)), native=False, center=True)
        elif kind == "image":
            _image(cmd, Image.open(io.BytesIO(base64.b64decode(block["png"]))), profile["width_px"])
        elif kind == "feed":
            cmd._raw(b"\n" * max(0, block.get("lines", 1)))
        elif kind == "cut":
            if profile.get("cut", True):
                cmd.cut(mode="PART" if block.get("partial") else "FULL")
            else:
                cmd._raw(b"\n" * 4)
        elif kind == "drawer":
            if profile.get("drawer"):
                cmd.cashdraw(5 if block.get("pin") == 5 else 2)
        else:
            raise ValueError(f"unknown layout block {kind!r}")
    flush()
    if native:
        cmd._raw(FS_CHINESE_OFF)
    return cmd.take()
