"""Place a label layout (wristband) on its strip: what goes where, in dots.

A wristband is read along its length, so the plan is made in *landscape* coordinates: ``x`` runs
along the band, ``y`` across it. Text blocks stack across the band in a column at the start; then
the barcode and the QR code follow along the band. Each placed item is ``(kind, x, y, w, h, data)``
where kind is ``text`` (data = (text, size, bold)), ``textimg`` (data = 1-bit image of CJK text),
``barcode`` (data = payload, module width, height) or ``qr`` (data = payload, magnification).
"""

from __future__ import annotations

from .codes import code128_modules, qr_image
from .textgrid import draw_lines

__all__ = ["plan_label", "Placed"]

Placed = tuple


def plan_label(layout: dict, dpi: int) -> tuple[int, int, list[Placed]]:
    """Returns (length_dots, width_dots, placed items) for a layout with ``label_mm``."""
    width_mm, length_mm = layout.get("label_mm") or (25, 280)
    dpmm = dpi / 25.4
    width, length = round(width_mm * dpmm), round(length_mm * dpmm)
    margin = round(2 * dpmm)
    col_px = max(6, round(1.2 * dpmm))          # half-width column of about 1.2 mm
    x0 = round(30 * dpmm)                          # leave the clasp end blank
    y = margin
    placed: list[Placed] = []
    text_end = x0
    lang = layout.get("lang", "zh-Hans")
    col_x = x0
    for b in layout["blocks"]:
        if b["type"] != "text":
            continue
        size, bold, text = tuple(b.get("size", [1, 1])), bool(b.get("bold")), b["text"]
        if text.isascii():
            h = col_px * 2 * size[1]
            w = len(text) * col_px * size[0]
            item = ["text", col_x, y, w, h, (text, size, bold)]
        else:
            img = draw_lines([(text, size, bold)], 10_000, col_px, lang)
            img = img.crop((0, 0, _ink_width(img) + 2, img.height))
            img.info["text"] = text
            w, h = img.size
            item = ["textimg", col_x, y, w, h, img]
        if y + h > width - margin and y > margin:      # band full across: start the next column
            col_x, y = text_end + round(4 * dpmm), margin
            item[1], item[2] = col_x, y
        placed.append(tuple(item))
        text_end = max(text_end, col_x + w)
        y += h + margin // 2
    x = text_end + round(8 * dpmm)
    for b in layout["blocks"]:
        if b["type"] == "barcode":
            module = 2 if dpi < 250 else 3
            w = (len(code128_modules(b["data"])) + 20) * module
            h = width - 2 * margin - round(4 * dpmm)
            placed.append(("barcode", x, margin + round(2 * dpmm), w, h, (b["data"], module, h)))
            x += w + round(6 * dpmm)
        elif b["type"] == "qr":
            n = qr_image(b["data"], box=1, border=0).width
            mag = max(1, (width - 2 * margin) // (n + 4))
            side = n * mag
            placed.append(("qr", x, (width - side) // 2, side, side, (b["data"], mag)))
            x += side + round(6 * dpmm)
    return length, width, placed


def _ink_width(img) -> int:
    inv = img.convert("L").point(lambda v: 255 - v)
    box = inv.getbbox()
    return box[2] if box else 1


def draw_label(layout: dict, dpi: int):
    """The whole label as one 1-bit image in landscape (read along the band), for raster printing."""
    from PIL import Image, ImageDraw

    from .codes import code128_image, qr_image
    from .textgrid import cjk_font

    length, width, placed = plan_label(layout, dpi)
    img = Image.new("1", (length, width), 1)
    for kind, x, y, w, h, data in placed:
        if kind == "textimg":
            img.paste(data, (x, y))
        elif kind == "text":
            text, size, _bold = data
            font = cjk_font(h)
            strip = Image.new("1", (w + 4, h + h // 4), 1)
            ImageDraw.Draw(strip).text((0, -h // 6), text, font=font, fill=0)
            img.paste(strip, (x, y))
        elif kind == "barcode":
            payload, module, bh = data
            img.paste(code128_image(payload, module, bh, quiet=10), (x, y))
        elif kind == "qr":
            payload, mag = data
            img.paste(qr_image(payload, box=mag, border=0), (x, y))
    return img
