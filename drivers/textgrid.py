"""Text on a fixed character grid, shared by every printer renderer.

Printers count columns: an ASCII character takes one, a CJK (wide) character two. This module
turns text and column blocks of a layout dict (see ``pos.documents.layout``) into padded lines of
an exact display width, and draws such lines into 1-bit images with the CJK monospace font (so a
raster receipt has the same columns as a native-text one).
"""

from __future__ import annotations

import functools
import os
import unicodedata
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

__all__ = ["char_width", "text_width", "wrap", "format_block", "draw_lines", "cjk_font", "FONT_PATHS",
           "font_index"]

FONT_PATHS = [
    os.environ.get("ONESTOP_CJK_FONT", ""),
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
]
#: face indexes in NotoSansCJK-Regular.ttc (face 0 is JP): the monospace SC and TC faces
_FACE = {"zh-Hans": 7, "zh-Hant": 8}


def font_index(lang: str) -> int:
    return _FACE.get(lang, 7)


@functools.lru_cache(maxsize=32)
def cjk_font(px: int, lang: str = "zh-Hans") -> ImageFont.FreeTypeFont:
    for path in FONT_PATHS:
        if path and Path(path).exists():
            return ImageFont.truetype(path, px, index=font_index(lang) if path.endswith(".ttc") else 0)
    raise FileNotFoundError("no CJK font found (install fonts-noto-cjk or set ONESTOP_CJK_FONT)")


@functools.lru_cache(maxsize=4096)
def char_width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    return sum(char_width(c) for c in text)


def wrap(text: str, cols: int) -> list[str]:
    """Break ``text`` into lines of at most ``cols`` display columns (at least one line)."""
    cols = max(cols, 2)
    lines, cur, w = [], [], 0
    for ch in text:
        cw = char_width(ch)
        if w + cw > cols:
            # a Latin word is not cut ("nurs / e"): the line ends at its last space when it has one
            cut = len(cur) - 1 - cur[::-1].index(" ") if ch != " " and cw == 1 and " " in cur else -1
            if cut > 0 and all(char_width(c) == 1 for c in cur[cut + 1:]):
                lines.append("".join(cur[:cut]).rstrip())
                cur = cur[cut + 1:]
                w = text_width("".join(cur))
            else:
                lines.append("".join(cur))
                cur, w = [], 0
                if ch == " ":
                    continue
        cur.append(ch)
        w += cw
    lines.append("".join(cur))
    return lines


def _pad(text: str, width: int, align: str) -> str:
    gap = max(width - text_width(text), 0)
    if align == "right":
        return " " * gap + text
    if align == "center":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap


def format_block(block: dict, cols: int) -> list[str]:
    """Lines (each exactly the display width of the grid at the block's size) for a text,
    columns or rule block. ``cols`` is the line width at size 1."""
    kind = block["type"]
    if kind == "rule":
        return [(block.get("char") or "-")[0] * cols]
    if kind == "text":
        sw = max(1, int(block.get("size", [1, 1])[0]))
        width = max(cols // sw, 2)
        return [_pad(line, width, block.get("align", "left")) for line in wrap(block["text"], width)]
    if kind == "columns":
        cells = block["cells"]
        total = sum(max(c["width"], 1) for c in cells)
        widths = [cols * max(c["width"], 1) // total for c in cells]
        widths[-1] += cols - sum(widths)
        for i in range(len(widths)):          # every cell holds one wide character (+ its separator)
            need = 2 if i == len(widths) - 1 else 3
            while widths[i] < need:
                donor = max(range(len(widths)), key=lambda k: widths[k])
                if widths[donor] <= (2 if donor == len(widths) - 1 else 3):
                    break
                widths[donor] -= 1
                widths[i] += 1
        wrapped = []
        for c, w in zip(cells, widths):
            inner = max(w - 1, 2) if c is not cells[-1] else max(w, 2)   # one space between cells
            wrapped.append([_pad(x, inner, c.get("align", "left")) for x in wrap(c["text"], inner)])
        rows = max(len(x) for x in wrapped)
        out = []
        for r in range(rows):
            parts = []
            for (c, w, lines) in zip(cells, widths, wrapped):
                inner = max(w - 1, 2) if c is not cells[-1] else max(w, 2)
                cell = lines[r] if r < len(lines) else " " * inner
                parts.append(cell + (" " if c is not cells[-1] else ""))
            out.append("".join(parts))
        return out
    raise ValueError(f"not a text block: {kind!r}")


def draw_lines(lines: list[tuple[str, tuple[int, int], bool]], width_px: int, col_px: int,
               lang: str = "zh-Hans") -> Image.Image:
    """Draw (text, (w, h) size, bold) lines on a white 1-bit image ``width_px`` wide, each character
    on the column grid (``col_px`` dots per column, 2 for wide characters)."""
    line_h = col_px * 2
    strip_h = line_h + col_px // 2
    heights = [strip_h * size[1] for _, size, _ in lines]
    img = Image.new("L", (width_px, max(sum(heights), 1)), 255)
    font = cjk_font(line_h, lang)
    top = -(font.getbbox("中")[1] - 2)      # glyph top 2 dots below the strip's top
    y = 0
    for (text, (sw, sh), bold), h in zip(lines, heights):
        strip = Image.new("L", (max(text_width(text), 1) * col_px, strip_h), 255)
        d = ImageDraw.Draw(strip)
        col = 0
        run_start, run = 0, []
        for ch in text + "\0":
            if ch == "\0" or ch == " ":
                if run:
                    for dx in ((0, 1) if bold else (0,)):
                        d.text((run_start * col_px + dx, top), "".join(run), font=font, fill=0)
                    run = []
                col += 1
                run_start = col
                continue
            if not run:
                run_start = col
            run.append(ch)
            col += char_width(ch)
        if (sw, sh) != (1, 1):
            strip = strip.resize((strip.width * sw, strip.height * sh), Image.NEAREST)
        img.paste(strip.crop((0, 0, min(strip.width, width_px), strip.height)), (0, y))
        y += h
    return img.point(lambda v: 0 if v < 128 else 255, mode="1")
