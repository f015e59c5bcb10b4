"""Identity-source benchmarks (docs/performance.md, section "cards").

1. An SSSE card read end to end through pcscd + vpcd + our virtual card (PcscCardReader:
   presence check, connect, card-kind detection, the whole read, checks), against the same APDU
   sequence sent by a bare pyscard loop that keeps its PC/SC context, as our reader does
   (SCardConnect, SCardTransmit each APDU, SCardDisconnect), in the same run.
   Goal: at most 1.2x. Needs root (private namespaces); otherwise the section says why.
2. SAM_V ID-card reply parsing (framing + text + checks) per second, against the bare minimum
   (XOR checksum and UCS-2 decode of the same bytes).
3. QR decoding per 720p frame: OpenCV's QRCodeDetector against zxing-cpp.

    .venv/bin/python bench/bench_cards.py
"""

from __future__ import annotations

import statistics
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import timeit, write_section  # noqa: E402
from tests import pcsc_stack  # noqa: E402

pcsc_stack.use_private_socket()


def bench_ssse() -> str:
    from smartcard.System import readers

    from drivers.pcsc import PcscCardReader, read_card
    from drivers.url import parse_url

    reason = pcsc_stack.PcscStack.why_unavailable()
    if reason:
        return f"SSSE end-to-end: not measured ({reason})."
    stack = pcsc_stack.PcscStack().start()
    try:
        stack.insert(ROOT / "assets" / "cards" / "ssse_zhang.toml")
        dev = PcscCardReader(parse_url(f"pcsc://{pcsc_stack.READER}"))
        dev.read_identity(10)

        # record the APDU sequence our driver sends
        reader = next(r for r in readers() if str(r) == pcsc_stack.READER)
        conn = reader.createConnection()
        conn.connect()
        sent = []

        class Spy:
            def transmit(self, apdu):
                sent.append(list(apdu))
                return conn.transmit(apdu)

        read_card(Spy())
        conn.disconnect()
        conn.release()

        from smartcard import scard

        rc, bare_ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)    # one context, kept
        assert rc == scard.SCARD_S_SUCCESS

        def bare():
            rc, card, proto = scard.SCardConnect(bare_ctx, pcsc_stack.READER, scard.SCARD_SHARE_SHARED,
                                                 scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
            assert rc == scard.SCARD_S_SUCCESS
            pci = scard.SCARD_PCI_T1 if proto == scard.SCARD_PROTOCOL_T1 else scard.SCARD_PCI_T0
            for apdu in sent:
                scard.SCardTransmit(card, pci, apdu)
            scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)

        def ours():
            dev.read_identity(10)

        rounds = 10
        bares, ourss = [], []
        for _ in range(3):          # alternated, so drift on the shared machine hits both
            bares.append(timeit(bare, repeat=rounds))
            ourss.append(timeit(ours, repeat=rounds))
        t_bare, t_ours = statistics.median(bares), statistics.median(ourss)
        scard.SCardReleaseContext(bare_ctx)
        ratio = t_ours / t_bare
        return (f"| SSSE read (social-security card, {len(sent)} APDUs incl. 61xx/6Cxx) | "
                f"{t_ours * 1000:.2f} ms | {t_bare * 1000:.2f} ms | {ratio:.2f}x (goal <= 1.2x) |")
    finally:
        stack.stop()


def bench_samv() -> str:
    from drivers.cnid import parse_read_reply
    from drivers.samv import FrameParser, encode, xor
    from drivers.sim.samv import read_reply_data

    card = tomllib.loads((ROOT / "assets" / "cards" / "cnid_li.toml").read_text(encoding="utf-8"))["card"]
    frame = encode(b"\x00\x00\x90" + read_reply_data(card))
    n = 2000

    def ours():
        for _ in range(n):
            f = FrameParser().feed(frame)[0]
            parse_read_reply(f.data)

    def minimal():
        for _ in range(n):
            assert xor(frame[5:-1]) == frame[-1]
            frame[14:14 + 256].decode("utf-16-le")

    t_ours, t_min = timeit(ours, repeat=5) / n, timeit(minimal, repeat=5) / n
    return (f"| ID-card reply parse (1295-byte SAM_V frame, checks) | {1 / t_ours:,.0f} frames/s "
            f"({t_ours * 1e6:.0f} µs) | {1 / t_min:,.0f} frames/s (XOR + UCS-2 only) | {t_ours / t_min:.2f}x |")


def bench_qr() -> list[str]:
    import cv2
    import numpy as np
    import qrcode

    from drivers.qr import QrDecoder

    def frame(data, box):
        q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L, box_size=box, border=4)
        q.add_data(data)
        q.make(fit=True)
        img = np.array(q.make_image().convert("L"))
        f = np.full((720, 1280), 190, np.uint8)
        h, w = img.shape
        f[(720 - h) // 2:(720 - h) // 2 + h, (1280 - w) // 2:(1280 - w) // 2 + w] = img
        return cv2.cvtColor(f, cv2.COLOR_GRAY2BGR)

    cases = [("e-voucher token (24 chars)", frame("ECT0123456789ABCDEFGHIJK", 6)),
             ("JSON payload (UTF-8, 60 bytes)", frame('{"ecToken":"tok-000000000042","org":"医院","v":1}'.encode(), 5)),
             ("4 KB payload (version 39)", frame("HOSP" + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 111, 3)),
             ("no code in frame", np.full((720, 1280, 3), 190, np.uint8))]
    rows = []
    for name, f in cases:
        res = {}
        for engine in ("cv2", "zxing"):
            dec = QrDecoder(engine)
            got = dec.decode(f)
            samples = []
            for _ in range(7):
                t0 = time.perf_counter()
                dec.decode(f)
                samples.append(time.perf_counter() - t0)
            res[engine] = (statistics.median(samples), bool(got))
        (tc, okc), (tz, okz) = res["cv2"], res["zxing"]
        rows.append(f"| {name} | {tc * 1000:.1f} ms ({'decoded' if okc else 'nothing'}) | "
                    f"{tz * 1000:.1f} ms ({'decoded' if okz else 'nothing'}) | {tc / tz:.1f}x |")
    return rows


def main() -> None:
    import os

    ssse = bench_ssse()
    load = os.getloadavg()[0]
    samv = bench_samv()
    qr = bench_qr()
    if ssse.startswith("|"):
        ssse_table = "| what | onestop | baseline (same run) | ratio |\n|---|---|---|---|\n" + ssse
    else:
        ssse_table = ssse
    md = f"""## Identity sources (`bench/bench_cards.py`)

**PC/SC, end to end through pcscd + vpcd + our virtual card** (3 alternated rounds of 10 reads,
median). The baseline is a bare pyscard loop sending the same APDU sequence that keeps its PC/SC
context as our reader does (`SCardConnect`, `SCardTransmit`, `SCardDisconnect`); the earlier
baseline opened a new context for every read, which flattered us. Load average {load:.1f}.

{ssse_table}

**Resident ID card frames** (parse of a full read reply, median of 5 x 2000):

| what | onestop | baseline (same run) | ratio |
|---|---|---|---|
{samv}

**QR decoding per 720p frame** (median of 7; `engine=auto` asks zxing-cpp first, then OpenCV when zxing-cpp finds nothing):

| frame | OpenCV QRCodeDetector | zxing-cpp | OpenCV / zxing |
|---|---|---|---|
""" + "\n".join(qr) + "\n"
    write_section("cards", md)


if __name__ == "__main__":
    main()
