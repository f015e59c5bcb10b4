"""A virtual SAM_V resident-ID-card module on a pseudo-terminal.

It answers find (``20 01``), select (``20 02``), read (``30 01``) and status (``11 FF``) with
real frames: the card's text as 256 bytes of UCS-2LE and a 1024-byte opaque photo. Technicians
and tests point ``cnid+serial://`` at :attr:`SamvModule.port_name`. Faults to rehearse:
``noise`` (bytes before each reply), ``bad_checksum``, ``truncate`` (a reply cut short), and
taking the card away (``card = None``).

    python -m drivers.sim.samv assets/cards/cnid_li.toml     # prints the pty path
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import threading
import tomllib

from ..samv import FrameParser, encode
from ..errors import ProtocolError
from .ptys import raw_pty

__all__ = ["SamvModule", "card_text", "read_reply_data", "main"]

_FIELDS = (("name", 30), ("sex", 2), ("ethnicity", 4), ("birth_date", 16), ("address", 70),
           ("id_number", 36), ("authority", 30), ("valid_from", 16), ("valid_to", 16), ("reserved", 36))


def card_text(card: dict) -> bytes:
    """The 256-byte UCS-2LE text block, each field space-padded to its width."""
    out = b""
    for name, n in _FIELDS:
        raw = str(card.get(name, "")).replace("-", "") if name in ("birth_date", "valid_from", "valid_to") \
            else str(card.get(name, ""))
        enc = raw.encode("utf-16-le")
        if len(enc) > n:
            raise ValueError(f"{name} longer than {n // 2} characters")
        out += enc + " ".encode("utf-16-le") * ((n - len(enc)) // 2)
    return out


def read_reply_data(card: dict) -> bytes:
    text = card_text(card)
    photo = hashlib.shake_256(text).digest(1024)      # opaque stand-in for the WLT photo
    return len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo


class SamvModule:
    def __init__(self, card: dict | None = None, *, noise: bytes = b"", bad_checksum: bool = False,
                 truncate: int | None = None, pty: tuple[int, int, str] | None = None):
        """``pty``: a :func:`~drivers.sim.ptys.raw_pty` opened beforehand (the demo reserves it early)."""
        self.card = card
        self.noise, self.bad_checksum, self.truncate = noise, bad_checksum, truncate
        self.master, self.slave, self.port_name = pty or raw_pty()
        self.commands: list[bytes] = []
        self._selected = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="samv-sim")

    def start(self) -> "SamvModule":
        self._thread.start()
        return self

    def _reply(self, sw3: int, data: bytes = b"") -> None:
        frame = encode(b"\x00\x00" + bytes([sw3]) + data)
        if self.bad_checksum:
            frame = frame[:-1] + bytes([frame[-1] ^ 0xFF])
        if self.truncate is not None:
            frame = frame[:self.truncate]
        os.write(self.master, self.noise + frame)

    def handle(self, body: bytes) -> None:
        cmd = body[:2]
        self.commands.append(cmd)
        if cmd == b"\x20\x01":
            self._selected = False
            self._reply(0x9F if self.card else 0x80, b"\x00\x00\x00\x00" if self.card else b"")
        elif cmd == b"\x20\x02":
            self._selected = bool(self.card)
            self._reply(0x90 if self.card else 0x81, bytes(8) if self.card else b"")
        elif cmd == b"\x30\x01":
            if not (self.card and self._selected):
                self._reply(0x41)
            else:
                self._reply(0x90, read_reply_data(self.card))
        elif cmd == b"\x11\xFF":
            self._reply(0x90)
        else:
            self._reply(0x21)

    def _run(self) -> None:
        # the serving thread owns both descriptors and closes them itself: closed from stop()
        # while it still ran, their numbers could go to the next pty and it would read its bytes
        try:
            self._serve()
        finally:
            self._close_fds()

    def _close_fds(self) -> None:
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass

    def _serve(self) -> None:
        import select
        parser = FrameParser()
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            try:
                frames = parser.feed(data)
            except ProtocolError:
                self._reply(0x10)
                continue
            for frame in frames:
                self.handle(frame.body)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30)
        elif self._thread.ident is None:      # never started
            self._close_fds()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m drivers.sim.samv", description="Virtual SAM_V ID-card module on a pty.")
    ap.add_argument("card", help="card TOML ([card] name, sex, ethnicity, birth_date, address, id_number, "
                                 "authority, valid_from, valid_to)")
    args = ap.parse_args(argv)
    with open(args.card, "rb") as fh:
        card = tomllib.load(fh)["card"]
    mod = SamvModule(card).start()
    print(f"cnid+serial://{mod.port_name}", flush=True)
    try:
        mod._thread.join()
    except KeyboardInterrupt:
        pass
    mod.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
