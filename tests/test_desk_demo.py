"""`onestop demo desk --autoplay DIR`: on the seeded demo community and the simulated devices (the
printer over a real socket, the file camera), one order's life through every front end: the
console takes a hotline call, confirms its category, dispatches it and prints the slip; the
technician starts it, takes a photo and completes it; the supervisor passes QC and records the
follow-up (closed); at the lobby kiosk a household identifies itself, sends a request with a photo
(slip printed), rates its finished order and reads the common answers; then the month's report
charts and PDF. Each screen, the printed slips and the charts are PNGs. The slips' QR codes are
read back with zxing-cpp, a decoder our code did not write; the PDF is read with pikepdf."""

from __future__ import annotations

import re
import sqlite3
import subprocess

import pikepdf
import zxingcpp
from PIL import Image, ImageChops

from pos.desk.demo import ORDERS
from pos.desk.events import CHANNELS

from .conftest import onestop_cmd

SCREENS = ("desk-queue", "desk-intake", "desk-classified", "desk-dispatched", "desk-slip-printed")
LATER = ("desk-staff-working", "desk-staff-completed", "desk-qc", "desk-follow-up", "desk-follow-up-closed",
         "desk-lobby-identified", "desk-lobby-submitted")
RATED = ("desk-lobby-rated", "desk-lobby-pay", "desk-lobby-paid")
CHARTS = tuple(f"desk-report-{c}" for c in ("daily", "channels", "categories", "causes", "satisfaction"))


def _screen(stem: str) -> str:
    """``NN-<language>-<screen>`` (the autoplay names each picture by its place and language) -> screen."""
    return re.sub(r"^\d\d-(?:(?:zh-Hans|zh-Hant|en)-)?", "", stem)


def test_demo_desk_autoplay_plays_the_console_and_prints_a_readable_slip(onestop_env, artifacts):
    out = artifacts / "desk-autoplay"
    for old in out.glob("*.png") if out.exists() else []:
        old.unlink()
    r = subprocess.run(onestop_cmd() + ["demo", "desk", "--size", "1280x800", "--autoplay", str(out)],
                       env=onestop_env, capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    names = sorted(p.stem for p in out.glob("*.png"))
    # NN-<language>-<screen>: the autoplay names every picture by its place and its language
    assert [_screen(n) for n in names] == [*SCREENS, "desk-slip-receipt", *LATER, "desk-lobby-slip-receipt", *RATED,
                                      "desk-lobby-paid-slip-receipt", "desk-lobby-faq", *CHARTS], names

    db = sqlite3.connect(onestop_env["ONESTOP_STORE"])
    (no, state, assignee, photos), = db.execute("SELECT order_no, state, assignee, photos FROM desk_orders "
                                                "WHERE source_ref = '' AND unit = '3-1201' AND channel = 'hotline'"
                                                ).fetchall()
    assert state == "closed" and assignee and photos != "[]"   # the call the autoplay took, to its close
    events = [e for (e,) in db.execute("SELECT event FROM desk_events WHERE order_no = ? ORDER BY id", (no,))]
    assert events == ["received", "classified", "dispatched", "started", "completed", "qc_passed",
                      "follow_up_opened", "followed_up"]
    (lobby_no, lobby_unit, lobby_party), = db.execute(
        "SELECT order_no, unit, party FROM desk_orders WHERE channel = 'lobby_kiosk' AND source_ref = ''").fetchall()
    assert (lobby_unit, lobby_party) == ("8-2003", "陈雅琴")      # the household identified at the kiosk
    assert db.execute("SELECT count(*) FROM desk_events WHERE event = 'followed_up' AND by = 'resident 8-2003'"
                      ).fetchone()[0] == 1
    (state, paid), = db.execute("SELECT o.state, e.data FROM desk_events e JOIN desk_orders o USING (order_no) "
                                "WHERE e.event = 'paid' AND o.unit = '2-0303'").fetchall()
    assert state == "follow_up" and '"pay_method": "card"' in paid   # paid at the kiosk on the demo's terminal
    seeded = db.execute("SELECT channel, state FROM desk_orders WHERE source_ref LIKE 'demo-%'").fetchall()
    assert len(seeded) == len(ORDERS) >= 30
    assert {c for c, _ in seeded} == set(CHANNELS)            # every channel
    assert {"received", "classified", "dispatched", "in_progress", "deferred", "completed", "qc_passed",
            "awaiting_payment", "follow_up", "closed", "cancelled"} <= {s for _, s in seeded}
    assert db.execute("SELECT count(*) FROM desk_finance WHERE state = 'open'").fetchone()[0] >= 3

    shots = {}
    for p in out.glob("*.png"):
        with Image.open(p) as im:
            shots[_screen(p.stem)] = im.convert("L")
    screens = (*SCREENS, *LATER, *RATED, "desk-lobby-faq")
    for name in screens:
        assert shots[name].size == (1280, 800), name
        assert len(set(shots[name].get_flattened_data())) > 8, name     # drawn, not blank
    for a, b in zip(screens, screens[1:]):                    # each step changed what the screen shows
        assert ImageChops.difference(shots[a], shots[b]).getbbox() is not None, (a, b)
    for name in CHARTS:                                       # the report's charts: drawn pictures
        assert shots[name].size[0] > 300 and len(set(shots[name].get_flattened_data())) > 8, name
    with pikepdf.open(out / "desk-report.pdf") as pdf:
        assert len(pdf.pages) >= 1
    lobby_slip = shots["desk-lobby-slip-receipt"]
    assert [c.text for c in zxingcpp.read_barcodes(lobby_slip)] == [f"onestop:desk:{lobby_no}"]
    slip = shots["desk-slip-receipt"]
    assert slip.size[1] > slip.size[0] > 300                  # a receipt, not a screen
    ink = sum(1 for v in slip.get_flattened_data() if v < 128) / (slip.size[0] * slip.size[1])
    assert 0.01 < ink < 0.5, ink                              # printed text, not an empty or black strip
    assert [c.text for c in zxingcpp.read_barcodes(slip)] == [f"onestop:desk:{no}"]
