"""Decode ZPL II into labels (for the virtual printer): ^FD text, ^BC Code 128, ^BQ QR, ^GF graphics.

:class:`ZplDecoder` is fed bytes in any chunking; ``~HS`` is answered through the ``status``
callback; each ``^XA ... ^XZ`` becomes a :class:`Label`. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from PIL import Image, ImageDraw

__all__ = ["ZplDecoder", "Label"]


@dataclass
class Label:
    width: int = 0
    length: int = 0
    items: list[dict] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    nbytes: int = 0
    cut: bool = True          # a label is complete when ^XZ arrives
    unknown: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [i["data"] for i in self.items if i["kind"] == "text"]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def barcodes(self) -> list[tuple[str, str]]:
        return [("CODE128", i["data"]) for i in self.items if i["kind"] == "barcode"]

    @property
    def qr_codes(self) -> list[str]:
        return [i["data"] for i in self.items if i["kind"] == "qr"]

    @property
    def images(self) -> list[Image.Image]:
        return [i["image"] for i in self.items if i["kind"] == "graphic"]

    @property
    def alt_texts(self) -> list[str]:
        """Texts of graphic fields, from the ``^FX text:`` comments (not decoded from pixels)."""
        return [c[len("text: "):] for c in self.comments if c.startswith("text: ")]

    def render(self) -> Image.Image:
        """The label as printed, portrait (across x along), white background."""
        from ..codes import code128_image, qr_image
        from ..textgrid import cjk_font

        img = Image.new("1", (max(self.width, 1), max(self.length, 1)), 1)
        for it in self.items:
            x, y = it["x"], it["y"]
            if it["kind"] == "graphic":
                img.paste(it["image"], (x, y))
            elif it["kind"] == "text":
                font = cjk_font(max(it["h"], 8))
                tw = int(font.getlength(it["data"])) + 2
                strip = Image.new("1", (tw, it["h"] + it["h"] // 4), 1)
                ImageDraw.Draw(strip).text((0, -it["h"] // 6), it["data"], font=font, fill=0)
                img.paste(_orient(strip, it["o"]), (x, y))
            elif it["kind"] == "barcode":
                bc = code128_image(it["data"], it["module"], it["h"], quiet=0)
                img.paste(_orient(bc, it["o"]), (x, y))
            elif it["kind"] == "qr":
                img.paste(qr_image(it["data"], box=it["mag"], border=0), (x, y))
        return img


def _orient(img: Image.Image, o: str) -> Image.Image:
    return {"R": img.rotate(-90, expand=True), "I": img.rotate(180, expand=True),
            "B": img.rotate(90, expand=True)}.get(o, img)


def _gf_image(params: str) -> Image.Image | None:
    parts = params.split(",", 4)
    if len(parts) < 5 or parts[0] not in ("A", ""):
        return None
    total, row = int(parts[1]), int(parts[3])
    if total <= 0 or row <= 0 or total < row:
        return None
    raw = bytes.fromhex(parts[4].strip()[: total * 2])
    height = total // row
    img = Image.frombytes("1", (row * 8, height), raw)
    return Image.eval(img.convert("L"), lambda v: 255 - v).convert("1")


class ZplDecoder:
    def __init__(self, status: Callable[[], bytes] | None = None, on_doc: Callable[[Label], None] | None = None,
                 on_command: Callable[[str], None] | None = None):
        self.status = status or (lambda: b"")
        self.on_doc = on_doc
        self.on_command = on_command
        self.buf = ""
        self.label: Label | None = None
        self._reset_field()
        self.module, self.pending_bytes = 2, 0

    def _reset_field(self) -> None:
        self.fo = (0, 0)
        self.font = ("N", 30, 30)
        self.field: tuple | None = None

    def feed(self, data: bytes) -> bytes:
        self.buf += data.decode("utf-8", errors="replace")
        self.pending_bytes += len(data)
        reply = bytearray()
        while True:
            start = min((i for i in (self.buf.find("^"), self.buf.find("~")) if i >= 0), default=-1)
            if start < 0:
                self.buf = ""
                break
            nxt = min((i for i in (self.buf.find("^", start + 1), self.buf.find("~", start + 1)) if i >= 0),
                      default=-1)
            if nxt < 0:
                # a command is complete only when the next one starts, except the few we know end here
                tail = self.buf[start:].rstrip()
                if tail[:3] in ("^XZ", "~HS", "~JA"):
                    self._safe_command(tail[:3], reply)
                    self.buf = self.buf[start + 3:]
                    continue
                self.buf = self.buf[start:]
                break
            self._safe_command(self.buf[start:nxt].rstrip("\r\n"), reply)
            self.buf = self.buf[nxt:]
        return bytes(reply)

    def _safe_command(self, cmd: str, reply: bytearray) -> None:
        try:
            self._command(cmd, reply)
        except (ValueError, IndexError, ZeroDivisionError):
            if self.label is not None:
                self.label.unknown.append(f"malformed {cmd[:12]!r}")

    def _command(self, cmd: str, reply: bytearray) -> None:
        name, params = cmd[:3].upper(), cmd[3:]
        if name == "~HS":
            reply += self.status()
            return
        if name == "~JA":
            if self.on_command:
                self.on_command("cancel")
            return
        if name == "^XA":
            self.label = Label()
            self._reset_field()
            return
        lab = self.label
        if lab is None:
            return
        if name == "^XZ":
            lab.nbytes, self.pending_bytes = self.pending_bytes, 0
            self.label = None
            if self.on_doc:
                self.on_doc(lab)
            return
        if name == "^PW":
            lab.width = int(params or 0)
        elif name == "^LL":
            lab.length = int(params.split(",")[0] or 0)
        elif name == "^FO":
            x, _, y = params.partition(",")
            self.fo = (int(x or 0), int((y.split(",")[0]) or 0))
        elif name == "^FX":
            lab.comments.append(params.strip())
        elif name == "^BY":
            self.module = int(params.split(",")[0] or 2)
        elif name.startswith("^A"):
            p = cmd[2:].split(",")
            o = (p[0][1:2] or "N").upper() if p and len(p[0]) > 1 else "N"
            h = int(p[1]) if len(p) > 1 and p[1] else 30
            w = int(p[2]) if len(p) > 2 and p[2] else h
            self.font = (o, h, w)
        elif name == "^BC":
            p = params.split(",")
            self.field = ("barcode", (p[0] or "N").upper(), int(p[1]) if len(p) > 1 and p[1] else 100)
        elif name == "^BQ":
            p = params.split(",")
            self.field = ("qr", int(p[2]) if len(p) > 2 and p[2] else 2)
        elif name == "^GF":
            img = _gf_image(params)
            if img is not None:
                lab.items.append({"kind": "graphic", "x": self.fo[0], "y": self.fo[1], "image": img})
        elif name == "^FD":
            self._field_data(lab, params)
        elif name == "^FS":
            self.field = None
        elif name not in ("^CI", "^LH", "^PQ", "^FW", "^MN", "^MT", "^PR", "^MD", "^FT", "^FH"):
            lab.unknown.append(name)

    def _field_data(self, lab: Label, data: str) -> None:
        x, y = self.fo
        if self.field and self.field[0] == "barcode":
            lab.items.append({"kind": "barcode", "x": x, "y": y, "data": data, "o": self.field[1],
                              "h": self.field[2], "module": self.module})
        elif self.field and self.field[0] == "qr":
            payload = data.split(",", 1)[1] if "," in data[:4] else data
            lab.items.append({"kind": "qr", "x": x, "y": y, "data": payload, "mag": self.field[1]})
        else:
            o, h, w = self.font
            lab.items.append({"kind": "text", "x": x, "y": y, "data": data, "o": o, "h": h, "w": w})
        self.field = None
