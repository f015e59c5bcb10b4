"""Decode an ESC/POS byte stream into what a printer would put on paper (for the virtual printer).

:class:`EscposDecoder` is fed bytes in any chunking (``feed(data) -> reply bytes``) and produces
:class:`Doc` records: text lines (GB18030 in Chinese mode FS &, CP437 otherwise), raster images
(GS v 0, GS ( L, ESC *), native barcodes (GS k), native QR codes (GS ( k), cuts and drawer kicks.
Real-time status queries (DLE EOT n) are answered through the ``status`` callback at once.
A document ends at each cut. No I/O here: tests drive it with raw bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from PIL import Image

__all__ = ["EscposDecoder", "Doc", "Op"]

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
_BARCODE_A = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "CODABAR"}
_BARCODE_B = {65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF", 71: "CODABAR",
              72: "CODE93", 73: "CODE128"}
# ESC commands with a fixed number of parameter bytes
_ESC_FIXED = {0x21: 1, 0x2D: 1, 0x32: 0, 0x33: 1, 0x45: 1, 0x47: 1, 0x4D: 1, 0x52: 1, 0x54: 1, 0x56: 1,
              0x61: 1, 0x63: 2, 0x64: 1, 0x4A: 1, 0x74: 1, 0x7B: 1, 0x20: 1, 0x24: 2, 0x5C: 2, 0x3D: 1,
              0x25: 1, 0x72: 1, 0x65: 1, 0x69: 0, 0x6D: 0, 0x4C: 0, 0x53: 0, 0x40: 0, 0x70: 3}
_GS_FIXED = {0x21: 1, 0x42: 1, 0x48: 1, 0x66: 1, 0x68: 1, 0x77: 1, 0x4C: 2, 0x57: 2, 0x61: 1, 0x72: 1,
             0x49: 1, 0x62: 1, 0x50: 2, 0x24: 2, 0x5C: 2, 0x3A: 0, 0x0C: 0}
_FS_FIXED = {0x26: 0, 0x2E: 0, 0x21: 1, 0x2D: 1, 0x53: 2, 0x57: 1, 0x43: 1}


@dataclass
class Op:
    kind: str               # text, image, barcode, qr, cut, drawer, feed
    text: str = ""
    size: tuple = (1, 1)
    bold: bool = False
    align: int = 0
    image: Image.Image | None = None
    data: str = ""
    symbology: str = ""
    qr_size: int = 3


@dataclass
class Doc:
    ops: list[Op] = field(default_factory=list)
    cut: bool = False
    partial_cut: bool = False
    drawer_kicks: int = 0
    nbytes: int = 0
    unknown: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [o.text for o in self.ops if o.kind == "text"]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    @property
    def barcodes(self) -> list[tuple[str, str]]:
        return [(o.symbology, o.data) for o in self.ops if o.kind == "barcode"]

    @property
    def qr_codes(self) -> list[str]:
        return [o.data for o in self.ops if o.kind == "qr"]

    @property
    def images(self) -> list[Image.Image]:
        return [o.image for o in self.ops if o.kind == "image"]

    def empty(self) -> bool:
        return not (self.ops or self.cut or self.drawer_kicks)


class _Incomplete(Exception):
    pass


class EscposDecoder:
    def __init__(self, status: Callable[[int], int] | None = None,
                 on_doc: Callable[[Doc], None] | None = None,
                 on_op: Callable[["EscposDecoder", Op], bool] | None = None,
                 on_command: Callable[[bytes], None] | None = None):
        """``status(n)`` answers DLE EOT n; ``on_doc`` receives each finished document;
        ``on_op(decoder, op)`` may return False to hold an op back (paper out); ``on_command``
        sees real-time commands such as DLE DC4 (buffer clear)."""
        self.status = status or (lambda n: 0x12)
        self.on_doc = on_doc
        self.on_op = on_op
        self.on_command = on_command
        self.buf = bytearray()
        self.doc = Doc()
        self.line = bytearray()
        self.reset()

    def reset(self) -> None:
        self.bold, self.size, self.align, self.chinese = False, (1, 1), 0, getattr(self, "chinese", False)
        self.bc_height, self.bc_hri = 162, 0
        self.qr_store, self.qr_size, self.gfx_store = b"", 3, None

    # -- output --------------------------------------------------------------------
    def _put(self, op: Op) -> None:
        if self.on_op is not None and not self.on_op(self, op):
            return
        self.doc.ops.append(op)
        if op.kind == "cut":
            self.doc.cut = True
            self.doc.partial_cut = op.data == "partial"
            self.finish_doc()

    def _flush_line(self, force: bool = False) -> None:
        if not self.line and not force:
            return
        raw = bytes(self.line)
        self.line.clear()
        text = raw.decode("gb18030" if self.chinese else "cp437", errors="replace")
        self._put(Op("text", text=text, size=self.size, bold=self.bold, align=self.align))

    def finish_doc(self) -> Doc | None:
        if self.line:
            self._flush_line()
        doc, self.doc = self.doc, Doc()
        if doc.empty():
            self.doc.nbytes += doc.nbytes
            return None
        if self.on_doc:
            self.on_doc(doc)
        return doc

    # -- input ---------------------------------------------------------------------
    def feed(self, data: bytes) -> bytes:
        """Consume bytes; returns the bytes the printer sends back (status answers)."""
        self.buf += data
        self.doc.nbytes += len(data)
        reply = bytearray()
        pos = 0
        while pos < len(self.buf):
            try:
                pos = self._one(pos, reply)
            except _Incomplete:
                break
        del self.buf[:pos]
        return bytes(reply)

    def _need(self, pos: int, n: int) -> bytes:
        if pos + n > len(self.buf):
            raise _Incomplete
        return bytes(self.buf[pos:pos + n])

    def _one(self, pos: int, reply: bytearray) -> int:
        b = self.buf[pos]
        if b == 0x0A:
            self._flush_line(force=True)
            return pos + 1
        if b in (0x0D, 0x00):
            return pos + 1
        if b == 0x09:
            self.line += b"    "
            return pos + 1
        if b == 0x0C:
            self._flush_line()
            return pos + 1
        if b == DLE:
            return self._dle(pos, reply)
        if b == ESC:
            return self._esc(pos)
        if b == GS:
            return self._gs(pos, reply)
        if b == FS:
            return self._fs(pos)
        if b < 0x20:
            self.doc.unknown.append(f"ctl 0x{b:02x}")
            return pos + 1
        self.line.append(b)
        return pos + 1

    def _dle(self, pos: int, reply: bytearray) -> int:
        cmd = self._need(pos, 2)[1]
        if cmd == 0x04:
            n = self._need(pos, 3)[2]
            answer = self.status(n)
            if answer is not None:          # None: a printer that has gone silent
                reply.append(answer & 0xFF)
            return pos + 3
        if cmd == 0x05:
            return pos + 3
        if cmd == 0x14:
            fn = self._need(pos, 3)[2]
            length = {1: 5, 2: 5, 7: 4, 8: 10}.get(fn, 3)
            raw = self._need(pos, length)
            if self.on_command:
                self.on_command(raw)
            return pos + length
        self.line.append(DLE)
        return pos + 1

    def _esc(self, pos: int) -> int:
        cmd = self._need(pos, 2)[1]
        if cmd == 0x2A:                                   # ESC * m nL nH data
            m, nl, nh = self._need(pos, 5)[2:5]
            width = nl + nh * 256
            k = width * (3 if m in (32, 33) else 1)
            data = self._need(pos, 5 + k)[5:]
            self._flush_line()
            self._put(Op("image", image=_column_image(data, width, 24 if m in (32, 33) else 8)))
            return pos + 5 + k
        if cmd not in _ESC_FIXED:
            self.doc.unknown.append(f"ESC 0x{cmd:02x}")
            return pos + 2
        n = _ESC_FIXED[cmd]
        args = self._need(pos, 2 + n)[2:]
        if cmd == 0x40:
            self._flush_line()
            self.reset()
        elif cmd == 0x45:
            self.bold = bool(args[0] & 1)
        elif cmd == 0x61:
            self.align = args[0] % 48 if args[0] >= 48 else args[0]
        elif cmd == 0x21:
            self.bold = bool(args[0] & 0x08)
            self.size = (2 if args[0] & 0x20 else 1, 2 if args[0] & 0x10 else 1)
        elif cmd == 0x64:
            self._flush_line()
            self._put(Op("feed", data=str(args[0])))
        elif cmd == 0x70:
            self.doc.drawer_kicks += 1
            self._put(Op("drawer", data=f"pin{2 if args[0] in (0, 48) else 5}"))
        return pos + 2 + n

    def _gs(self, pos: int, reply: bytearray) -> int:
        cmd = self._need(pos, 2)[1]
        if cmd == 0x76:                                   # GS v 0 m xL xH yL yH data
            head = self._need(pos, 8)
            xb, y = head[4] + head[5] * 256, head[6] + head[7] * 256
            data = self._need(pos, 8 + xb * y)[8:]
            self._flush_line()
            self._put(Op("image", image=_raster_image(data, xb, y)))
            return pos + 8 + xb * y
        if cmd == 0x6B:                                   # GS k
            m = self._need(pos, 3)[2]
            if m <= 6:
                end = self.buf.find(b"\x00", pos + 3)
                if end < 0:
                    raise _Incomplete
                data, nxt = bytes(self.buf[pos + 3:end]), end + 1
                sym = _BARCODE_A.get(m, f"type{m}")
            else:
                n = self._need(pos, 4)[3]
                data, nxt = self._need(pos, 4 + n)[4:], pos + 4 + n
                sym = _BARCODE_B.get(m, f"type{m}")
            text = data.decode("latin-1")
            if sym == "CODE128" and len(text) >= 2 and text[0] == "{":
                text = text[2:]                          # code set selector {A {B {C
            self._flush_line()
            self._put(Op("barcode", data=text, symbology=sym, align=self.align, size=(self.bc_hri, self.bc_height)))
            return nxt
        if cmd in (0x28,):                                # GS ( k / GS ( L and friends
            head = self._need(pos, 5)
            fn_kind, length = head[2], head[3] + head[4] * 256
            body = self._need(pos, 5 + length)[5:]
            if fn_kind == 0x6B:
                self._two_d(body)
            elif fn_kind == 0x4C:
                self._graphics(body)
            return pos + 5 + length
        if cmd == 0x56:                                   # GS V m [n]
            m = self._need(pos, 3)[2]
            n = 4 if m in (65, 66, 97, 98, 103, 104) else 3
            self._need(pos, n)
            self._flush_line()
            self._put(Op("cut", data="partial" if m in (1, 49, 66) else "full"))
            return pos + n
        if cmd == 0x0C:                                   # GS FF: label printers feed to the next label
            self._flush_line()
            self._put(Op("cut", data="label"))
            return pos + 2
        if cmd not in _GS_FIXED:
            self.doc.unknown.append(f"GS 0x{cmd:02x}")
            return pos + 2
        n = _GS_FIXED[cmd]
        args = self._need(pos, 2 + n)[2:]
        if cmd == 0x21:
            self.size = ((args[0] >> 4) + 1, (args[0] & 0x0F) + 1)
        elif cmd == 0x68:
            self.bc_height = args[0]
        elif cmd == 0x48:
            self.bc_hri = args[0]
        elif cmd == 0x72:
            reply.append(self.status(4) & 0xFF)
        return pos + 2 + n

    def _two_d(self, body: bytes) -> None:
        if len(body) < 2 or body[0] != 49:               # cn 49 = QR
            return
        fn, rest = body[1], body[2:]
        if fn == 67 and rest:
            self.qr_size = rest[0]
        elif fn == 80:
            self.qr_store = rest[1:]
        elif fn == 81:
            self._flush_line()
            self._put(Op("qr", data=self.qr_store.decode("utf-8", errors="replace"), qr_size=self.qr_size,
                         align=self.align))

    def _graphics(self, body: bytes) -> None:
        if len(body) < 2:
            return
        fn = body[1]
        if fn == 112 and len(body) >= 10:              # store: m fn a bx by c xL xH yL yH data
            w, h = body[6] + body[7] * 256, body[8] + body[9] * 256
            self.gfx_store = _raster_image(body[10:], (w + 7) // 8, h)
        elif fn == 50 and self.gfx_store is not None:
            self._flush_line()
            self._put(Op("image", image=self.gfx_store))
            self.gfx_store = None

    def _fs(self, pos: int) -> int:
        cmd = self._need(pos, 2)[1]
        n = _FS_FIXED.get(cmd)
        if n is None:
            self.doc.unknown.append(f"FS 0x{cmd:02x}")
            return pos + 2
        self._need(pos, 2 + n)
        if cmd == 0x26:
            self._flush_line()
            self.chinese = True
        elif cmd == 0x2E:
            self._flush_line()
            self.chinese = False
        return pos + 2 + n


def _raster_image(data: bytes, xbytes: int, height: int) -> Image.Image:
    xbytes, height = max(xbytes, 1), max(height, 1)
    img = Image.frombytes("1", (xbytes * 8, height), bytes(data[:xbytes * height]).ljust(xbytes * height, b"\0"))
    # ESC/POS raster: 1 = black; PIL mode "1": 1 = white
    return Image.eval(img.convert("L"), lambda v: 255 - v).convert("1")


def _column_image(data: bytes, width: int, dots: int) -> Image.Image:
    img = Image.new("1", (max(width, 1), dots), 1)
    per = dots // 8
    px = img.load()
    for x in range(width):
        for k in range(per):
            byte = data[x * per + k]
            for bit in range(8):
                if byte & (0x80 >> bit):
                    px[x, k * 8 + bit] = 0
    return img
