"""Render a label layout dict to ZPL II for Zebra printers (e.g. the HC100 wristband printer).

The band is printed along its length, so every field is rotated: ASCII text uses the built-in
scalable font rotated (``^A0R``), CJK text is drawn with our font and sent as a graphic field
(``^GFA``, hex; a ``^FX`` comment before it carries the text for whoever reads the ZPL), the
barcode is ``^BCR`` (Code 128, rotated) and the QR code ``^BQN`` (square, so not rotated).
``^FO`` is the top-left corner of the field's box on the printer's portrait coordinates.
"""

from __future__ import annotations

from PIL import Image

from ..labelplan import plan_label

__all__ = ["render_zpl", "gf_field"]


def gf_field(img: Image.Image) -> str:
    """``^GFA`` for a 1-bit image (black = ink)."""
    bw = img.convert("1")
    row_bytes = (bw.width + 7) // 8
    raw = bytes(255 - b for b in bw.tobytes())     # PIL "1": 1 = white; ZPL: 1 = black
    # pad rows are already byte aligned in PIL's packing; padding bits became 1 (black) - clear them
    out = bytearray(raw)
    pad = row_bytes * 8 - bw.width
    if pad:
        mask = (0xFF << pad) & 0xFF
        for r in range(bw.height):
            out[r * row_bytes + row_bytes - 1] &= mask
    total = len(out)
    return f"^GFA,{total},{total},{row_bytes},{out.hex().upper()}"


def _portrait(width: int, x: int, y: int, w: int, h: int) -> tuple[int, int]:
    """Landscape box (x along, y across) -> portrait ^FO of the rotated box."""
    return width - y - h, x


def render_zpl(layout: dict, profile: dict) -> bytes:
    dpi = profile.get("dpi", 300)
    length, width, placed = plan_label(layout, dpi)
    out = ["^XA", "^CI28", f"^PW{width}", f"^LL{length}", "^LH0,0"]
    for kind, x, y, w, h, data in placed:
        fx, fy = _portrait(width, x, y, w, h)
        if kind == "text":
            text, size, _bold = data
            out.append(f"^FO{fx},{fy}^A0R,{h},{w // max(len(text), 1)}^FD{_escape(text)}^FS")
        elif kind == "textimg":
            out.append(f"^FX text: {data.info.get('text', '')}")
            out.append(f"^FO{fx},{fy}{gf_field(data.rotate(-90, expand=True))}^FS")
        elif kind == "barcode":
            payload, module, bh = data
            out.append(f"^BY{module}^FO{fx},{fy}^BCR,{bh},N,N,N^FD{_escape(payload)}^FS")
        elif kind == "qr":
            payload, mag = data
            out.append(f"^FO{fx},{fy}^BQN,2,{mag}^FDMA,{_escape(payload)}^FS")
    out.append("^PQ1")
    out.append("^XZ")
    return ("\n".join(out) + "\n").encode("utf-8")


def _escape(text: str) -> str:
    # ^ and ~ start commands; ZPL has no escape by default, so replace them
    return text.replace("^", " ").replace("~", " ")
