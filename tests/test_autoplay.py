"""`onestop demo --autoplay DIR` plays a check-in, a top-up, a daily list and a discharge by itself
on the simulated devices, then the counter's and the diagnostics' screens, and writes every screen
and printed document as a PNG with an index.html to page through them (here in one language, to be
quick; the default run plays all three)."""

import re
import sqlite3
import subprocess

from PIL import Image, ImageChops, ImageStat

from .conftest import onestop_cmd


def test_autoplay_writes_every_screen_and_document(onestop_env, tmp_path, artifacts):
    out = artifacts / "autoplay"
    for old in out.glob("*.png"):
        old.unlink()
    env = dict(onestop_env, ONESTOP_AUTOPLAY_LANGUAGES="zh-Hans")      # one language: quick
    r = subprocess.run(onestop_cmd() + ["demo", "--size", "1280x800", "--autoplay", str(out)],
                       env=env, capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stderr[-3000:]
    names = sorted(p.name for p in out.glob("*.png"))
    for step in ("home", "checkin-confirm", "checkin-amount", "checkin-done", "printed-checkin-receipt",
                 "printed-checkin-wristband", "topup-done", "daily-list", "printed-daily-list",
                 "discharge-review", "discharge-done", "printed-discharge", "counter-login", "counter-home",
                 "counter-patient", "counter-deposit", "counter-in-doubt-queue", "counter-shift", "diag-login",
                 "diag-devices", "diag-logs"):
        assert any(step in n for n in names), f"no picture of {step}: {names}"
    for p in out.glob("*.png"):
        assert Image.open(p).size[0] > 100
        assert re.match(r"^\d\d-zh-Hans-", p.name), p.name            # NN-<language>-<flow>: pageable in order
        img = Image.open(p).convert("L")
        assert ImageStat.Stat(img).stddev[0] > 5, f"{p.name} is blank"    # not one flat colour
    shots = sorted(p for p in out.glob("*.png") if "printed" not in p.name)
    for a, b in zip(shots, shots[1:]):             # consecutive screens differ: the demo moved on
        assert ImageChops.difference(Image.open(a).convert("RGB"), Image.open(b).convert("RGB")).getbbox(), (a, b)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert all(p.name in index for p in out.glob("*.png")) and "简体中文" in index
    db = sqlite3.connect(onestop_env["ONESTOP_STORE"])
    states = [r[0] for r in db.execute("SELECT state FROM hosp_admissions")]
    assert states == ["discharged"]
    kinds = [r[0] for r in db.execute("SELECT kind FROM payment_attempts ORDER BY attempt_id")]
    assert kinds.count("sale") == 2 and "refund" in kinds
