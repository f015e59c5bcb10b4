"""The ZVT serial dialogue against a peer whose framing and CRC come from outside our code.

The peer below parses DLE STX ... DLE ETX frames itself and checks every CRC with the ``crc``
library's CRC-16/KERMIT (reflected CCITT, polynomial 0x8408, init 0), the CRC ecrterm's
``crc.py`` table implements for ZVT. It answers NAK to a frame whose CRC is wrong, as a real
terminal does, so a driver with the wrong CRC never gets past registration.
"""

from __future__ import annotations

import os
import select
import threading
import time

import pytest
from crc import Calculator, Crc16

from drivers.registry import open_device
from drivers.sim.ptys import raw_pty
from drivers.sim.zvt_terminal import PtyFrontEnd, SimTerminal
from drivers.zvt.framing import FrameDecoder, Frame, crc16, encode_frame

KERMIT = Calculator(Crc16.KERMIT)
DLE, STX, ETX, ACK, NAK = 0x10, 0x02, 0x03, 0x06, 0x15


def peer_frame(apdu: bytes) -> bytes:
    """A frame built by the test alone: stuffing by hand, CRC from the ``crc`` library."""
    c = KERMIT.checksum(apdu + bytes([ETX]))
    return bytes([DLE, STX]) + apdu.replace(b"\x10", b"\x10\x10") + bytes([DLE, ETX, c & 0xFF, c >> 8])


def test_crc_matches_the_catalogue_and_an_independent_library():
    assert KERMIT.checksum(b"123456789") == 0x2189          # CRC catalogue check value
    assert crc16(b"123456789") == 0x2189
    for n in (0, 1, 3, 17, 255, 300):
        data = bytes((i * 37 + n) & 0xFF for i in range(n))
        assert crc16(data) == KERMIT.checksum(data)


def test_frames_agree_with_independent_encoding_both_ways():
    for apdu in (b"\x80\x00\x00", b"\x06\x00\x06\x00\x00\x00\x8e\x09\x78\x03\x03",
                 b"\x04\x0f\x03\x10\x10\x10", b"\x06\x0f\x00"):
        assert encode_frame(apdu) == peer_frame(apdu)
        assert FrameDecoder().feed(peer_frame(apdu)) == [Frame(apdu)]


class KermitPeer:
    """A minimal ZVT terminal on a pty: ACKs good frames, NAKs bad ones, answers every command
    with 80 00 00 and then 06 0F 00 (completion)."""

    def __init__(self):
        self.master, slave, self.port = raw_pty()
        os.close(slave)
        self.commands: list[bytes] = []
        self.naks = 0
        self._stop = threading.Event()
        self._buf = bytearray()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _read(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while not self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or self._stop.is_set():
                return None
            r, _, _ = select.select([self.master], [], [], min(left, 0.1))
            if r:
                try:
                    self._buf += os.read(self.master, 4096)
                except OSError:
                    time.sleep(0.05)
        return self._buf.pop(0)

    def _frame(self, timeout: float) -> tuple[bytes, bool] | None:
        while True:                     # hunt DLE STX
            b = self._read(timeout)
            if b is None:
                return None
            if b == DLE and self._read(1.0) == STX:
                break
        body = bytearray()
        while True:
            b = self._read(1.0)
            if b is None:
                return None
            if b == DLE:
                nxt = self._read(1.0)
                if nxt == ETX:
                    break
                body.append(DLE)
            else:
                body.append(b)
        lo, hi = self._read(1.0), self._read(1.0)
        return bytes(body), (lo | hi << 8) == KERMIT.checksum(bytes(body) + bytes([ETX]))

    def _send(self, apdu: bytes) -> bool:
        for _ in range(3):
            os.write(self.master, peer_frame(apdu))
            if self._read(2.0) == ACK:
                return True
        return False

    def _run(self):
        while not self._stop.is_set():
            got = self._frame(0.2)
            if got is None:
                continue
            apdu, ok = got
            if not ok:
                self.naks += 1
                os.write(self.master, bytes([NAK]))
                continue
            os.write(self.master, bytes([ACK]))
            if apdu[:2] == b"\x80\x00":
                continue                  # the ECR acknowledging our completion
            self.commands.append(apdu)
            if self._send(b"\x80\x00\x00"):
                self._send(b"\x06\x0f\x00")

    def stop(self):
        self._stop.set()
        self.thread.join(timeout=10)
        os.close(self.master)


@pytest.fixture
def peer():
    p = KermitPeer()
    yield p
    p.stop()


def test_driver_registers_and_enquires_with_an_independent_crc_peer(peer):
    term = open_device(f"zvt+serial://{peer.port}?timeout=3&ack_timeout=3", "payment_terminal")
    try:
        term.enquire()
    finally:
        term.close()
    assert peer.naks == 0
    assert [c[:2] for c in peer.commands] == [b"\x06\x00", b"\x05\x01"]
    reg = peer.commands[0]
    # registration: LEN, password 000000 (BCD), config byte, currency 0156 (BCD), service byte
    assert reg[3:6] == b"\x00\x00\x00" and reg[7:9] == b"\x01\x56"
    # config byte: bit 08 = "ECR requires intermediate status information" (ZVT 06 00; Portalum's
    # RegistrationConfig.SendIntermediateStatusInformation is the same bit), so the PIN pad's
    # "insert card" / "enter PIN" / "please wait" reach the screen
    assert reg[6] & 0x08 and reg[6] == 0x8E


def test_simulator_answers_a_frame_built_without_our_code(tmp_path):
    """The simulated terminal takes a registration framed by the test alone, and its own frames
    pass the independent CRC check."""
    sim = SimTerminal(tmp_path / "sim")
    front = PtyFrontEnd(sim).start()
    fd = os.open(front.port, os.O_RDWR | os.O_NOCTTY)
    try:
        apdu = b"\x06\x00\x08" + b"\x00\x00\x00" + b"\x8e" + b"\x01\x56" + b"\x03\x03"
        os.write(fd, peer_frame(apdu))
        got = bytearray()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(got) < 1 + len(peer_frame(b"\x80\x00\x00")):
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                got += os.read(fd, 4096)
        assert got[0] == ACK, got.hex()
        assert bytes(got[1:1 + 9]) == peer_frame(b"\x80\x00\x00"), got.hex()
    finally:
        os.close(fd)
        front.stop()
