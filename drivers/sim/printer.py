"""A virtual receipt/label printer on TCP: decodes ESC/POS and ZPL, renders PNGs, answers status.

Run it as a process for the demo or a technician::

    python -m drivers.sim.printer --port 9100 --out DIR [--paper-out-after BYTES]

and point ``escpos+tcp://127.0.0.1:9100`` or ``zpl+tcp://127.0.0.1:9100`` at it. In tests, start
:class:`VirtualPrinter` on port 0 (an ephemeral port) and read ``printer.docs``.

Each connection is ESC/POS unless its first byte is ``^`` or ``~`` (ZPL). A document ends at each
cut (ESC/POS) or ``^XZ`` (ZPL). Status is settable (:meth:`set_state`): paper out, near end,
cover open, offline. ``paper_out_after=N`` makes the paper run out after N more bytes of a job:
the part before is printed (a torn, incomplete document), the rest waits in the printer's buffer
and prints when paper returns, unless the host cleared the buffers (DLE DC4 8 / ``~JA``).
"""

from __future__ import annotations

import argparse
import logging
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path

from ..escpos.status import PrinterState, encode_status
from ..zpl.status import encode_host_status
from .escpos_decode import Doc, EscposDecoder, Op
from .zpl_decode import Label, ZplDecoder

__all__ = ["VirtualPrinter", "render_doc", "scan_codes", "main"]

log = logging.getLogger(__name__)


def render_doc(doc, width: int = 576):
    """A PNG-ready image of a decoded document (receipt strip, or a label read along its length)."""
    from PIL import Image, ImageDraw      # only a printed document pays for the imaging stack

    from ..codes import code128_image, qr_image
    from ..textgrid import draw_lines

    if isinstance(doc, Label):
        return doc.render().rotate(90, expand=True).convert("L")
    if doc.ops and doc.ops[-1].kind == "cut" and doc.ops[-1].data == "label":
        strip = [o.image for o in doc.ops if o.kind == "image"]
        if strip:     # ESC/POS label mode: show the band the way it is read
            return strip[0].rotate(90, expand=True).convert("L")
    parts: list = []
    for op in doc.ops:
        if op.kind == "text":
            parts.append(draw_lines([(op.text, op.size, op.bold)], width, 12))
        elif op.kind == "image":
            parts.append(op.image)
        elif op.kind == "barcode":
            img = code128_image(op.data, 2, max(op.size[1] if op.size else 60, 20), quiet=10)
            if op.size and op.size[0] in (2, 50):
                hri = draw_lines([(op.data, (1, 1), False)], img.width, 12)
                stack = Image.new("1", (img.width, img.height + hri.height), 1)
                stack.paste(img, (0, 0))
                stack.paste(hri, ((img.width - len(op.data) * 12) // 2, img.height))
                img = stack
            parts.append(img)
        elif op.kind == "qr":
            parts.append(qr_image(op.data, box=max(op.qr_size, 1), border=2))
        elif op.kind == "feed":
            parts.append(Image.new("1", (width, 30 * max(int(op.data or 1), 1)), 1))
        elif op.kind == "cut":
            cut = Image.new("1", (width, 16), 1)
            ImageDraw.Draw(cut).line([(0, 8), (width, 8)], fill=0, width=1)
            parts.append(cut)
    if not doc.cut:
        torn = Image.new("1", (width, 20), 1)
        d = ImageDraw.Draw(torn)
        for x in range(0, width, 16):
            d.line([(x, 4), (x + 8, 16), (x + 16, 4)], fill=0)
        parts.append(torn)
    width = max([width] + [p.width for p in parts])
    page = Image.new("L", (width + 16, sum(p.height for p in parts) + 16), 255)
    y = 8
    for p in parts:
        x = 8 + ((width - p.width) // 2 if p.width < width and p.mode == "1" and p.width != width else 0)
        page.paste(p.convert("L"), (x, y))
        y += p.height
    return page


def scan_codes(img) -> list[tuple[str, str]]:
    """What a barcode scanner reads off the rendered paper: (format, text) pairs (zxing-cpp)."""
    import zxingcpp

    return sorted({(str(r.format).split(".")[-1], r.text) for r in zxingcpp.read_barcodes(img.convert("L"))})


class VirtualPrinter:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, out_dir: str | Path | None = None,
                 paper_out_after: int | None = None, sock: socket.socket | None = None,
                 silent_after_cut: bool = False):
        """``sock``: a listening socket bound beforehand (the demo reserves its ports early).
        ``silent_after_cut``: once the next document is cut, the printer answers no status query
        (ESC/POS DLE EOT, ZPL ~HS) until :meth:`wake` - it printed, but the register cannot know."""
        self.silent_after_cut = silent_after_cut
        self.silent = False
        self.host = host
        self.out_dir = Path(out_dir) if out_dir else None
        self.state = PrinterState()
        self.paper_out_after = paper_out_after
        self.docs: list = []
        self.held: list[Op] = []
        self.commands: list[bytes] = []
        self._lock = threading.Condition()
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(8)
        self._sock = sock
        self._sock.settimeout(0.5)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conns: list[socket.socket] = []
        self._handlers: list[threading.Thread] = []

    # -- control -------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> "VirtualPrinter":
        self._thread = threading.Thread(target=self._serve, name=f"simprinter:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)       # wakes the blocked accept()
        except OSError:
            pass
        try:
            self._sock.close()
        except OSError:
            pass
        if self._thread:
            self._thread.join(timeout=2)
        # a printer prints what it was sent: connections whose register has finished (closed its end)
        # are read to the end first; only those still held open after a second are cut
        deadline = time.monotonic() + 1.0
        for t in list(self._handlers):
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        for c in list(self._conns):
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass
        for t in list(self._handlers):
            t.join(timeout=2)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def set_state(self, *, paper_out: bool | None = None, near_end: bool | None = None,
                  cover_open: bool | None = None, offline: bool | None = None) -> None:
        """Change what the printer reports; when it becomes ready again, buffered data prints."""
        with self._lock:
            changes = {k: v for k, v in (("paper_out", paper_out), ("near_end", near_end),
                                         ("cover_open", cover_open)) if v is not None}
            if offline is not None:
                changes["online"] = not offline
            self.state = replace(self.state, **changes)
            if self.state.ready and self.held:
                resumed = Doc(ops=list(self.held), cut=any(o.kind == "cut" for o in self.held))
                self.held.clear()
                self._record(resumed)
            self._lock.notify_all()

    def wait_docs(self, n: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.docs) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"virtual printer got {len(self.docs)} documents, expected {n}")
                self._lock.wait(left)
            return list(self.docs)

    # -- internals -----------------------------------------------------------------
    def _record(self, doc) -> None:
        with self._lock:
            self.docs.append(doc)
            if self.silent_after_cut and (getattr(doc, "cut", False) or isinstance(doc, Label)):
                self.silent, self.silent_after_cut = True, False       # once: wake() restores it
            idx = len(self.docs)
            if self.out_dir:
                self.out_dir.mkdir(parents=True, exist_ok=True)
                kind = "label" if isinstance(doc, Label) or (doc.ops and doc.ops[-1].data == "label") \
                    else ("receipt" if doc.cut else "torn")
                path = self.out_dir / f"{self.port}-{idx:04d}-{kind}.png"
                render_doc(doc).save(path)
                doc.png_path = str(path)
            self._lock.notify_all()
        log.info("virtual printer %s: document %d (%s)", self.port, idx, type(doc).__name__)

    def wake(self) -> None:
        """A silent printer answers status queries again."""
        self.silent = False

    def _escpos_status(self, n: int) -> int | None:
        if self.silent:
            return None
        p, o, r = encode_status(self.state)
        return {1: p, 2: o, 4: r}.get(n, 0x12)

    def _hold_if_not_ready(self, _dec, op: Op) -> bool:
        if self.state.ready:
            return True
        with self._lock:
            self.held.append(op)
        return False

    def _on_escpos_command(self, raw: bytes) -> None:
        self.commands.append(raw)
        if len(raw) >= 3 and raw[2] == 0x08:
            with self._lock:
                self.held.clear()

    def _on_zpl_command(self, cmd: str) -> None:
        self.commands.append(cmd.encode())

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(None)
            self._conns.append(conn)
            t = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._handlers.append(t)
            t.start()

    def _handle(self, conn: socket.socket) -> None:
        decoder = None
        job_bytes = 0
        try:
            while True:                 # to the register's end of the job (stop() cuts it if need be)
                data = conn.recv(65536)
                if not data:
                    break
                if decoder is None:
                    first = data.lstrip()[:1]
                    if first in (b"^", b"~"):
                        decoder = ZplDecoder(status=self._zpl_status, on_doc=self._zpl_doc,
                                             on_command=self._on_zpl_command)
                    else:
                        decoder = EscposDecoder(status=self._escpos_status, on_doc=self._record,
                                                on_op=self._hold_if_not_ready, on_command=self._on_escpos_command)
                trip = self.paper_out_after
                if trip is not None and self.state.ready and job_bytes + len(data) > trip and len(data) > 3:
                    cut_at = max(trip - job_bytes, 0)
                    reply = decoder.feed(data[:cut_at])
                    self.paper_out_after = None
                    with self._lock:
                        self.state = replace(self.state, paper_out=True)
                    if isinstance(decoder, EscposDecoder):
                        decoder.finish_doc()               # the torn part that did print
                    reply += decoder.feed(data[cut_at:])
                else:
                    reply = decoder.feed(data)
                if len(data) > 3:
                    job_bytes += len(data)
                if reply:
                    conn.sendall(reply)
        except OSError:
            pass
        finally:
            if isinstance(decoder, EscposDecoder):
                decoder.finish_doc()
            try:
                conn.close()
            except OSError:
                pass
            if conn in self._conns:
                self._conns.remove(conn)
            me = threading.current_thread()
            if me in self._handlers:
                self._handlers.remove(me)

    def _zpl_status(self) -> bytes:
        if self.silent:
            return b""
        s = self.state
        return encode_host_status(paper_out=s.paper_out, paused=not s.online, head_up=s.cover_open)

    def _zpl_doc(self, label: Label) -> None:
        if not self.state.ready:
            return      # a label sent to a stopped printer waits; ~JA drops it (held labels not modelled)
        self._record(label)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m drivers.sim.printer", description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9100)
    ap.add_argument("--out", default="sim-printer-out", help="folder for the PNGs of printed documents")
    ap.add_argument("--paper-out-after", type=int, default=None, metavar="BYTES")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    printer = VirtualPrinter(args.host, args.port, args.out, args.paper_out_after).start()
    print(f"virtual printer on {printer.host}:{printer.port}, PNGs in {args.out}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        printer.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
