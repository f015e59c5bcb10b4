"""A contactless resident card in vpcd, for the desk's lobby tests: it answers the PC/SC GET DATA
pseudo-APDU ``FF CA 00 00 00`` with its UID and ``90 00`` (PC/SC part 3, 3.2.2.1.3), as a PC/SC
reader does for an ISO 14443 card; other GET DATA values ``6A 81``, any other command ``6D 00``.
Its ATR is the one PC/SC part 3 (3.1.3.2.3) builds for a MIFARE Classic 1K storage card.

    python -m tests.desk_uid_card 04A1B2C3D41201 --port 35963
"""

from __future__ import annotations

import argparse
import sys

from drivers.sim.vpcd_card import VPCD_PORT, VpcdCard

#: PC/SC part 3, table 3.1.3.2.3 example: "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A"
MIFARE_1K_ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")


class UidCard:
    def __init__(self, uid: bytes):
        self.uid = uid
        self.atr = MIFARE_1K_ATR

    def reset(self) -> None:
        pass

    def process(self, apdu: bytes) -> bytes:
        if apdu[:2] == b"\xff\xca":
            return self.uid + b"\x90\x00" if apdu[2] == 0 else b"\x6a\x81"
        return b"\x6d\x00"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("uid")
    ap.add_argument("--port", type=int, default=VPCD_PORT)
    args = ap.parse_args(argv)
    card = VpcdCard(UidCard(bytes.fromhex(args.uid)), "127.0.0.1", args.port)
    try:
        card.connect()
    except OSError as exc:
        print(f"desk_uid_card: {exc}", file=sys.stderr)
        return 2
    print("inserted", flush=True)
    try:
        card.serve()
    except KeyboardInterrupt:
        card.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
