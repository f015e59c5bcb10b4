"""Device-independent document layouts, as data.

A :class:`Layout` is a list of blocks. Drivers never see these classes: they receive
:meth:`Layout.to_dict`, a plain JSON-able dict (``drivers/`` imports nothing of ours), so the
print journal can store a layout and render it again years later on another printer.

The dict form (version 1)::

    {"version": 1, "kind": "receipt" | "label", "title": str, "lang": "zh-Hans" | "zh-Hant",
     "width_mm": 80, "label_mm": [25, 280] | None, "copy": false,
     "blocks": [
        {"type": "text", "text": str, "align": "left|center|right", "size": [w, h], "bold": bool},
        {"type": "columns", "cells": [{"text": str, "width": int, "align": str}], "bold": bool},
        {"type": "rule", "char": "-"},
        {"type": "barcode", "data": str, "symbology": "CODE128", "height": int, "hri": bool},
        {"type": "qr", "data": str, "size": int},
        {"type": "image", "png": base64 str},
        {"type": "feed", "lines": int},
        {"type": "cut", "partial": bool},
        {"type": "drawer", "pin": 2 | 5}]}

``size`` is the character magnification (1..8 wide, 1..8 high). Column ``width`` values are
relative weights; a renderer shares its line width out between them.
"""

from __future__ import annotations

import copy as _copy
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Layout", "ALIGNS", "BLOCK_TYPES", "mark_copy", "COPY_MARK"]

ALIGNS = ("left", "center", "right")
BLOCK_TYPES = ("text", "columns", "rule", "barcode", "qr", "image", "feed", "cut", "drawer")

#: the banner a reprint carries, by document script
COPY_MARK = {"zh-Hans": "副本 COPY", "zh-Hant": "副本 COPY"}


@dataclass
class Layout:
    """A document as a list of blocks (see the module docstring for each block's fields)."""

    kind: str = "receipt"
    title: str = ""
    lang: str = "zh-Hans"
    width_mm: int = 80
    label_mm: tuple[int, int] | None = None
    copy: bool = False
    blocks: list[dict[str, Any]] = field(default_factory=list)

    # -- builders --------------------------------------------------------------------
    def text(self, text: str, align: str = "left", size: tuple[int, int] = (1, 1), bold: bool = False) -> "Layout":
        if align not in ALIGNS:
            raise ValueError(f"align must be one of {ALIGNS}")
        self.blocks.append({"type": "text", "text": str(text), "align": align, "size": [int(size[0]), int(size[1])],
                            "bold": bool(bold)})
        return self

    def columns(self, *cells: tuple[str, int, str], bold: bool = False) -> "Layout":
        """``cells`` are (text, weight, align) triples."""
        self.blocks.append({"type": "columns", "bold": bool(bold),
                            "cells": [{"text": str(t), "width": int(w), "align": a} for t, w, a in cells]})
        return self

    def rule(self, char: str = "-") -> "Layout":
        self.blocks.append({"type": "rule", "char": char})
        return self

    def barcode(self, data: str, symbology: str = "CODE128", height: int = 64, hri: bool = True) -> "Layout":
        if not data or not all(32 <= ord(c) < 127 for c in data):
            raise ValueError(f"barcode data must be printable ASCII: {data!r}")
        self.blocks.append({"type": "barcode", "data": data, "symbology": symbology, "height": int(height),
                            "hri": bool(hri)})
        return self

    def qr(self, data: str, size: int = 6) -> "Layout":
        if not data:
            raise ValueError("QR data is empty")
        self.blocks.append({"type": "qr", "data": data, "size": int(size)})
        return self

    def image(self, png_b64: str) -> "Layout":
        self.blocks.append({"type": "image", "png": png_b64})
        return self

    def feed(self, lines: int = 1) -> "Layout":
        self.blocks.append({"type": "feed", "lines": int(lines)})
        return self

    def cut(self, partial: bool = False) -> "Layout":
        self.blocks.append({"type": "cut", "partial": bool(partial)})
        return self

    def drawer(self, pin: int = 2) -> "Layout":
        self.blocks.append({"type": "drawer", "pin": int(pin)})
        return self

    # -- data form -------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"version": 1, "kind": self.kind, "title": self.title, "lang": self.lang,
                "width_mm": self.width_mm, "label_mm": list(self.label_mm) if self.label_mm else None,
                "copy": self.copy, "blocks": _copy.deepcopy(self.blocks)}

    @classmethod
    def from_dict(cls, d: dict) -> "Layout":
        if d.get("version") != 1:
            raise ValueError(f"unknown layout version {d.get('version')!r}")
        for b in d["blocks"]:
            if b.get("type") not in BLOCK_TYPES:
                raise ValueError(f"unknown layout block {b.get('type')!r}")
        return cls(kind=d["kind"], title=d.get("title", ""), lang=d.get("lang", "zh-Hans"),
                   width_mm=d.get("width_mm", 80), label_mm=tuple(d["label_mm"]) if d.get("label_mm") else None,
                   copy=bool(d.get("copy")), blocks=_copy.deepcopy(d["blocks"]))

    def texts(self) -> list[str]:
        """Every piece of text in the layout (for tests and the journal's search)."""
        out = []
        for b in self.blocks:
            if b["type"] == "text":
                out.append(b["text"])
            elif b["type"] == "columns":
                out.extend(c["text"] for c in b["cells"])
        return out


def mark_copy(layout: dict, copy_no: int = 1) -> dict:
    """A reprint of ``layout`` (dict form): flagged ``copy`` with a banner at the top and bottom."""
    d = _copy.deepcopy(layout)
    mark = COPY_MARK.get(d.get("lang", "zh-Hans"), "COPY")
    banner = {"type": "text", "text": f"** {mark} #{copy_no} **", "align": "center", "size": [2, 2], "bold": True}
    d["copy"] = True
    d["blocks"] = [banner] + [b for b in d["blocks"] if not b.get("copy_banner")]
    banner_end = dict(banner, size=[1, 1])
    cut_at = next((i for i, b in enumerate(d["blocks"]) if b["type"] == "cut"), len(d["blocks"]))
    d["blocks"].insert(cut_at, banner_end)
    for b in (d["blocks"][0], d["blocks"][cut_at]):
        b["copy_banner"] = True
    return d
