"""The club's member card on the cashier's PC/SC reader: its UID is the card number.

A contactless reader answers the PC/SC pseudo-APDU GET DATA ``FF CA 00 00 00`` (PC/SC Part 3,
§3.2.2.1.3: CLA FF, INS CA, P1 00 = the UID, P2 00, Le 00 = all of it) with the card's UID and
``90 00``; ``6A 81`` means the card (or the reader) has none. The UID, as upper-case hex, is the
member card number of :class:`pos.club.cards.MemberCards`. Blocking: call it from a worker thread.
"""

from __future__ import annotations

import logging
import time

from drivers.errors import DeviceNotFound, DeviceTimeout
from drivers.identity import CardRemoved, UnreadableCard
from drivers.pcsc.connection import PcscContext

__all__ = ["GET_UID", "read_member_card", "MemberCardReader"]

log = logging.getLogger(__name__)

GET_UID = bytes.fromhex("FFCA000000")


class MemberCardReader:
    def __init__(self, reader: str = "", ctx: PcscContext | None = None):
        self.reader = reader
        self.ctx = ctx or PcscContext()

    def close(self) -> None:
        self.ctx.release()

    def _reader(self) -> str:
        names = self.ctx.readers()
        if self.reader:                                  # a name or a part of it, as pcsc:// URLs have it
            found = [n for n in names if self.reader in n]
            if not found:
                raise DeviceNotFound(f"PC/SC reader {self.reader!r} not found (have {names})",
                                     user_message="The card reader is not working. Please ask the staff for help.")
            return found[0]
        if not names:
            raise DeviceNotFound("no PC/SC reader", user_message="The card reader is not working. Please ask the staff for help.")
        return names[0]

    def read(self, timeout: float = 20.0, poll: float = 0.1) -> str:
        """Wait for a card on the reader and return its UID (hex)."""
        reader = self._reader()
        deadline = time.monotonic() + timeout
        while self.ctx.atr(reader) is None:
            if time.monotonic() > deadline:
                raise DeviceTimeout(f"{reader}: no card within {timeout:g} s",
                                    user_message="No member card was presented. Please hold the card on the reader.")
            time.sleep(poll)
        conn = self.ctx.connect(reader)
        try:
            data, sw1, sw2 = conn.transmit(list(GET_UID))
        finally:
            conn.disconnect()
        if (sw1, sw2) != (0x90, 0x00) or not data:
            log.warning("%s: GET DATA (UID) answered %02X%02X", reader, sw1, sw2)
            raise UnreadableCard(f"{reader}: GET DATA (UID) answered {sw1:02X}{sw2:02X}",
                                 user_message="This card is not a member card of the club.")
        uid = bytes(data).hex().upper()
        log.info("%s: member card read (UID of %d bytes)", reader, len(data))
        return uid


def read_member_card(reader: str = "", timeout: float = 20.0) -> str:
    r = MemberCardReader(reader)
    try:
        return r.read(timeout)
    finally:
        r.close()
