"""`onestop demo desk --autoplay DIR`: the dispatcher's console on the seeded demo community and the
simulated printer (a real socket) takes a hotline call, confirms its category, dispatches it and
prints the slip, writing each screen and the printed slip as PNGs. The slip's QR code is read back
with zxing-cpp, a decoder our code did not write."""

from __future__ import annotations

import sqlite3
import subprocess

import zxingcpp
from PIL import Image, ImageChops

from pos.desk.demo import ORDERS
from pos.desk.events import CHANNELS

from .conftest import onestop_cmd

SCREENS = ("desk-queue", "desk-intake", "desk-classified", "desk-dispatched", "desk-slip-printed")


def test_demo_desk_autoplay_plays_the_console_and_prints_a_readable_slip(onestop_env, artifacts):
    out = artifacts / "desk-autoplay"
    for old in out.glob("*.png") if out.exists() else []:
        old.unlink()
    r = subprocess.run(onestop_cmd() + ["demo", "desk", "--size", "1280x800", "--autoplay", str(out)],
                       env=onestop_env, capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    names = sorted(p.stem for p in out.glob("*.png"))
    assert [n[3:] for n in names] == [*SCREENS, "desk-slip-receipt"], names

    db = sqlite3.connect(onestop_env["ONESTOP_STORE"])
    (no, state, assignee), = db.execute("SELECT order_no, state, assignee FROM desk_orders WHERE source_ref = '' "
                                        "AND unit = '3-1201' AND channel = 'hotline'").fetchall()
    assert state == "dispatched" and assignee                 # the call the autoplay took
    seeded = db.execute("SELECT channel, state FROM desk_orders WHERE source_ref LIKE 'demo-%'").fetchall()
    assert len(seeded) == len(ORDERS) >= 30
    assert {c for c, _ in seeded} == set(CHANNELS)            # every channel
    assert {"received", "classified", "dispatched", "in_progress", "deferred", "completed", "qc_passed",
            "awaiting_payment", "follow_up", "closed", "cancelled"} <= {s for _, s in seeded}
    assert db.execute("SELECT count(*) FROM desk_finance WHERE state = 'open'").fetchone()[0] >= 3

    shots = {}
    for p in out.glob("*.png"):
        with Image.open(p) as im:
            shots[p.stem[3:]] = im.convert("L")
    for name in SCREENS:
        assert shots[name].size == (1280, 800), name
        assert len(set(shots[name].get_flattened_data())) > 8, name     # drawn, not blank
    for a, b in zip(SCREENS, SCREENS[1:]):                    # each step changed what the screen shows
        assert ImageChops.difference(shots[a], shots[b]).getbbox() is not None, (a, b)
    slip = shots["desk-slip-receipt"]
    assert slip.size[1] > slip.size[0] > 300                  # a receipt, not a screen
    ink = sum(1 for v in slip.get_flattened_data() if v < 128) / (slip.size[0] * slip.size[1])
    assert 0.01 < ink < 0.5, ink                              # printed text, not an empty or black strip
    assert [c.text for c in zxingcpp.read_barcodes(slip)] == [f"onestop:desk:{no}"]
