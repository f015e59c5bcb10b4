"""`onestop club demo --autoplay DIR` (and the same demo as `onestop demo club`): the club with its
own Mosquitto and simulated staff writes the role screens as PNGs."""

from __future__ import annotations

import subprocess

import pytest
from PIL import Image

from tests.conftest import onestop_cmd


@pytest.mark.parametrize("command", (["club", "demo"], ["demo", "club"]), ids=("club-demo", "demo-club"))
def test_club_demo_autoplay_writes_the_role_screens(onestop_env, artifacts, command):
    out = artifacts / f"{'-'.join(command)}-autoplay"
    for old in out.glob("*.png") if out.exists() else []:
        old.unlink()
    r = subprocess.run(onestop_cmd() + command + ["--autoplay", str(out)], env=onestop_env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    names = sorted(p.stem for p in out.glob("*.png"))
    expected = ["club-butler-checklist", "club-butler-arrival", "club-butler-arrival-en",
                "club-greeter-arrival", "club-greeter-arrival-zh-Hant", "club-runner-can-serve",
                "club-manager", "club-manager-en"]
    expected += ["club-order", "club-order-en", "club-kitchen-ticket", "club-bar-ticket", "club-valet-key-tag"]
    expected += ["club-bill", "club-receipt", "club-fapiao-request"]          # the cashier's documents
    assert names == sorted(expected)
    paper = {"club-kitchen-ticket", "club-bar-ticket", "club-valet-key-tag"}      # thermal prints: black on white
    for p in out.glob("*.png"):
        with Image.open(p) as im:
            if p.stem in paper:
                ink = sum(1 for v in im.convert("L").getdata() if v < 128) / (im.size[0] * im.size[1])
                assert im.size[0] >= 640 and 0.02 < ink < 0.6, (p, ink)            # printed, not blank
                continue
            assert im.size[0] >= 640 and len(set(im.convert("L").getdata())) > 8, p   # drawn, not blank


def test_club_box_and_role_commands_parse_their_options():
    for args, expect in ((["club", "box", "--help"], "--einvoice"), (["club", "role", "--help"], "sommelier")):
        r = subprocess.run(onestop_cmd() + args, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and expect in r.stdout, r.stdout + r.stderr
    r = subprocess.run(onestop_cmd() + ["club", "role", "--role", "chef", "--staff", "x"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0 and "invalid choice" in r.stderr
