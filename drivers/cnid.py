"""``cnid+serial://`` - the resident ID card (第二代居民身份证) through a SAM_V reader module.

URL format::

    cnid+serial:///dev/ttyUSB0[?baud=115200]

(``cnid+serial://loop`` gives pyserial's ``loop://`` for experiments.) The module is asked to
find the card (``20 01``), select it (``20 02``) and read text and photo (``30 01``). The reply
carries 256 bytes of fixed-width UCS-2LE text and the photo (1024 bytes of WLT, kept opaque:
decoding it needs a licensed library). The ID number's GB 11643 check digit and its agreement
with the birth date and sex are verified before a record exists.
"""

from __future__ import annotations

import logging
import threading
import time

from .base import Device
from .errors import DeviceError, DeviceNotFound, DeviceTimeout, ProtocolError
from .identity import Identity, Insurance, UnreadableCard, iso_date, valid_cn_id_number
from .samv import (SW_FIND_FAILED, SW_FOUND, SW_OK, SW_SELECT_FAILED, SW_TEXT, Frame, FrameParser,
                   encode)
from .serialline import SerialLine
from .status import DeviceStatus
from .url import DeviceURL

__all__ = ["GRAMMAR", "OPTIONS", "ROLES", "open", "probe", "CnIdReader", "parse_read_reply",
           "parse_text", "TEXT_FIELDS", "CMD_FIND", "CMD_SELECT", "CMD_READ"]

log = logging.getLogger(__name__)

GRAMMAR = "cnid+serial:///dev/ttyUSB0[?baud=115200]"
OPTIONS = {"baud": (int, 115200)}
ROLES = ("id_reader",)

CMD_FIND, CMD_SELECT, CMD_READ = b"\x20\x01", b"\x20\x02", b"\x30\x01"
CMD_STATUS = b"\x11\xFF"
#: (field, bytes) in the 256-byte text block
TEXT_FIELDS = (("name", 30), ("sex", 2), ("ethnicity", 4), ("birth_date", 16), ("address", 70),
               ("id_number", 36), ("authority", 30), ("valid_from", 16), ("valid_to", 16),
               ("reserved", 36))
TEXT_LEN = sum(n for _f, n in TEXT_FIELDS)


def parse_text(text: bytes) -> dict[str, str]:
    """Split the UCS-2LE text block into stripped fields; UnreadableCard for invalid text."""
    if len(text) != TEXT_LEN:
        raise UnreadableCard(f"ID-card text is {len(text)} bytes, expected {TEXT_LEN}")
    out, pos = {}, 0
    for name, n in TEXT_FIELDS:
        raw = text[pos:pos + n]
        pos += n
        try:
            value = raw.decode("utf-16-le")
        except UnicodeDecodeError as exc:
            raise UnreadableCard(f"ID-card field {name}: invalid UCS-2 ({exc.reason})") from exc
        value = value.rstrip(" \x00")
        if name != "reserved" and any(not ch.isprintable() for ch in value):
            raise UnreadableCard(f"ID-card field {name}: control characters")
        out[name] = value.strip()
    return out


def parse_read_reply(data: bytes) -> tuple[Identity, bytes]:
    """The data of a ``30 01`` reply (after SW1-3) -> (identity, opaque photo bytes)."""
    if len(data) < 4:
        raise UnreadableCard("ID-card reply too short for its length fields")
    text_len, photo_len = int.from_bytes(data[0:2], "big"), int.from_bytes(data[2:4], "big")
    if len(data) < 4 + text_len + photo_len:
        raise UnreadableCard(f"ID-card reply has {len(data) - 4} bytes, lengths say {text_len}+{photo_len}")
    f = parse_text(data[4:4 + text_len])
    photo = bytes(data[4 + text_len:4 + text_len + photo_len])
    number = f["id_number"].upper()
    if not valid_cn_id_number(number):
        raise UnreadableCard(f"ID number {number[:6]}... fails the GB 11643 check")
    try:
        birth = iso_date(f["birth_date"])
        valid_to = iso_date(f["valid_to"])
    except ValueError as exc:
        raise UnreadableCard(f"ID card: {exc}") from exc
    if birth is None or birth.replace("-", "") != number[6:14]:
        raise UnreadableCard("ID card: birth date does not match the ID number")
    sex = {"1": "M", "2": "F"}.get(f["sex"], "U")
    if sex != "U" and sex != ("M" if int(number[16]) % 2 else "F"):
        raise UnreadableCard("ID card: sex does not match the ID number")
    if not f["name"]:
        raise UnreadableCard("ID card: empty name")
    ident = Identity(source="cn_id", name=f["name"], sex=sex, birth_date=birth, id_number=number,
                     card_number=None, issuer=f["authority"] or None, valid_until=valid_to,
                     insurance=Insurance(), extra={"address": f["address"], "ethnicity": f["ethnicity"],
                                                   "valid_from": f["valid_from"], "photo_bytes": len(photo)})
    return ident, photo


class CnIdReader(Device):
    """SAM_V module over a serial transport (anything with pyserial's read/write/close)."""

    def __init__(self, url: DeviceURL, role: str | None = "id_reader", transport=None):
        super().__init__(url, role)
        self.options = url.options_for(OPTIONS, GRAMMAR)
        self.line = SerialLine(url.path or f"{url.netloc}://", url.raw, self.options["baud"],
                               "The ID-card reader is not connected. Please ask the staff for help.",
                               transport)
        self.parser = FrameParser()
        self.last_read: Identity | None = None
        self.last_photo: bytes | None = None

    def command(self, cmd: bytes, data: bytes = b"", timeout: float = 2.0) -> Frame:
        """Send one command and return the module's reply frame."""
        with self.line.use() as port:
            self.parser = FrameParser()
            deadline = time.monotonic() + timeout
            try:
                port.reset_input_buffer()
                port.write(encode(cmd + data))
            except Exception as exc:  # SerialException/OSError: unplugged
                raise DeviceNotFound(f"{self.url.raw}: {exc}") from exc
            while time.monotonic() < deadline and not self.line.closed:
                try:
                    chunk = port.read(max(1, port.in_waiting))
                except Exception as exc:  # unplugged mid-reply
                    raise DeviceNotFound(f"{self.url.raw}: {exc}") from exc
                if chunk:
                    frames = self.parser.feed(chunk)
                    if frames:
                        if self.parser.skipped:
                            log.info("%s: skipped %d noise bytes", self.url.raw, self.parser.skipped)
                        return frames[0]
        if self.line.closed:
            raise DeviceTimeout(f"{self.url.raw}: reader closed")
        raise DeviceTimeout(f"{self.url.raw}: no complete SAM_V reply to {cmd.hex()} "
                            f"({self.parser.pending} byte(s) of a frame)",
                            user_message="The ID-card reader did not answer. Please try again.")

    def read_identity(self, timeout: float | None = None, cancel: threading.Event | None = None) -> Identity:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while True:
                if self.line.closed or (cancel is not None and cancel.is_set()):
                    raise DeviceTimeout("waiting for an ID card was cancelled")
                found = self.command(CMD_FIND)
                if found.sw3 == SW_FOUND:
                    sel = self.command(CMD_SELECT)
                    if sel.sw3 == SW_OK:
                        reply = self.command(CMD_READ)
                        if reply.sw3 != SW_OK:
                            self.count("errors")
                            raise UnreadableCard(f"{self.url.raw}: read failed: "
                                                 f"{SW_TEXT.get(reply.sw3, hex(reply.sw3))}")
                        try:
                            ident, photo = parse_read_reply(reply.data)
                        except UnreadableCard as exc:
                            self.count("errors")
                            self.last_error = str(exc)
                            raise
                        self.count("reads")
                        self.last_read, self.last_photo = ident, photo
                        return ident
                    if sel.sw3 != SW_SELECT_FAILED:
                        raise ProtocolError(f"{self.url.raw}: select: {SW_TEXT.get(sel.sw3, hex(sel.sw3))}")
                elif found.sw3 != SW_FIND_FAILED:
                    raise DeviceError(f"{self.url.raw}: module says {SW_TEXT.get(found.sw3, hex(found.sw3))}")
                if deadline is not None and time.monotonic() >= deadline:
                    raise DeviceTimeout(f"no ID card on {self.url.raw} within {timeout:g} s",
                                        user_message="No card was placed on the reader. Please try again.")
                time.sleep(0.1)

    def status(self) -> DeviceStatus:
        try:
            frame = self.command(CMD_STATUS, timeout=1.0)
        except DeviceError as exc:
            return DeviceStatus.disconnected(str(exc))
        if frame.sw3 == SW_OK:
            return DeviceStatus.connected("ID-card module ready",
                                          last_read=self.last_read.source if self.last_read else None)
        return DeviceStatus.error(f"ID-card module: {SW_TEXT.get(frame.sw3, hex(frame.sw3))}")

    def close(self) -> None:
        self.line.close()


def open(url: DeviceURL, role: str | None = "id_reader") -> CnIdReader:  # noqa: A001
    return CnIdReader(url, role)


def probe(url: DeviceURL, role: str | None = "id_reader") -> DeviceStatus:
    dev = CnIdReader(url, role)
    try:
        return dev.status()
    finally:
        dev.close()
