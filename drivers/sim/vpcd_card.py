"""A virtual contact card that plugs into vpcd (the vsmartcard reader driver for pcscd).

Run it to "insert" a card; stop it to "remove" it::

    python -m drivers.sim.vpcd_card assets/cards/ssse_zhang.toml [--host 127.0.0.1] [--port 35963]

vpcd's wire protocol: every message is a 2-byte big-endian length and a payload. A 1-byte
payload is a control code (``00`` power off, ``01`` power on, ``02`` reset, ``04`` send the
ATR); anything longer is a C-APDU, answered with the R-APDU. vpcd sends length and payload as
separate segments, so the socket sets ``TCP_NODELAY`` and ``TCP_QUICKACK`` (before every
receive), or Nagle + delayed ACK cost ~40 ms per APDU. ``VPCD_CARD_DEBUG=1`` logs every command.

Never install vpcd on a real kiosk: it listens on every interface. The tests run pcscd, vpcd and
this card in a private network namespace (see ``tests/pcsc_stack.py``).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys

from .cardfs import CardFS
from .cardprofile import build_card, load_profile

__all__ = ["VpcdCard", "serve", "main", "VPCD_PORT"]

log = logging.getLogger(__name__)

VPCD_PORT = 0x8C7B          # 35963: "Virtual PCD 00 00"; +1 for "00 01"
CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        _quickack(sock)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("vpcd closed the connection")
        buf += chunk
    return bytes(buf)


def _quickack(sock: socket.socket) -> None:
    if hasattr(socket, "TCP_QUICKACK"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


class VpcdCard:
    """One card session with vpcd: connect, then answer until stopped or pulled."""

    def __init__(self, card: CardFS, host: str = "127.0.0.1", port: int = VPCD_PORT,
                 pull_after: int | None = None):
        self.card = card
        self.host, self.port = host, port
        self.pull_after = pull_after
        self.apdus = 0
        self.sock: socket.socket | None = None

    def connect(self, timeout: float = 5.0) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock

    def _send(self, payload: bytes) -> None:
        self.sock.sendall(len(payload).to_bytes(2, "big") + payload)

    def serve(self) -> None:
        """Answer vpcd until it disconnects or the card is "pulled" after ``pull_after`` APDUs."""
        log.info("card inserted into %s:%d", self.host, self.port)
        try:
            while True:
                length = int.from_bytes(_recv_exact(self.sock, 2), "big")
                payload = _recv_exact(self.sock, length) if length else b""
                log.debug("rx %s", payload.hex())
                if len(payload) == 1:
                    code = payload[0]
                    if code == CTRL_ATR:
                        self._send(self.card.atr)
                    elif code in (CTRL_ON, CTRL_RESET, CTRL_OFF):
                        self.card.reset()
                    continue
                if self.pull_after is not None and self.apdus >= self.pull_after:
                    log.info("card pulled after %d APDUs", self.apdus)
                    return
                self.apdus += 1
                self._send(self.card.process(payload))
        except (ConnectionError, OSError) as exc:
            log.info("vpcd connection ended: %s", exc)
        finally:
            self.close()

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None


def serve(profile: str, host: str = "127.0.0.1", port: int = VPCD_PORT, pull_after: int | None = None) -> VpcdCard:
    card = VpcdCard(build_card(load_profile(profile)), host, port, pull_after)
    card.connect()
    return card


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m drivers.sim.vpcd_card",
                                 description="Insert a virtual card (from a card profile) into vpcd.")
    ap.add_argument("profile", help="card profile TOML (a path, or a name from assets/cards)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=VPCD_PORT, help="vpcd slot port (35963 = first slot)")
    ap.add_argument("--pull-after", type=int, default=None, metavar="N",
                    help="pull the card out after N APDUs (fault rehearsal)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if os.environ.get("VPCD_CARD_DEBUG") else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        card = serve(args.profile, args.host, args.port, args.pull_after)
    except (OSError, ValueError) as exc:
        print(f"vpcd_card: {exc}", file=sys.stderr)
        return 2
    print("inserted", flush=True)
    try:
        card.serve()
    except KeyboardInterrupt:
        card.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
