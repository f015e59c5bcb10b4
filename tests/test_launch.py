"""`onestop demo` and `onestop kiosk` as a user starts them, in a real process."""

import subprocess

from PIL import Image

from .conftest import onestop_cmd


def test_demo_opens_the_home_screen(onestop_env, artifacts):
    shot = artifacts / "demo-first-screen.png"
    shot.unlink(missing_ok=True)
    r = subprocess.run(onestop_cmd() + ["demo", "--size", "1280x800", "--screenshot", str(shot)],
                       env=onestop_env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    img = Image.open(shot).convert("RGB")
    assert img.size == (1280, 800)
    # the header band is dark blue and the service buttons blue: a rendered screen, not a blank one
    assert img.getpixel((640, 20))[2] > img.getpixel((640, 20))[0]
    assert len(img.resize((64, 40)).getcolors(maxcolors=4096) or []) > 20


def test_a_broken_config_does_not_stop_the_kiosk(onestop_env, tmp_path, artifacts):
    cfg = tmp_path / "broken.toml"
    cfg.write_text('[devices]\nreceipt_printer = "laser://nowhere"\n')
    shot = artifacts / "kiosk-broken-config.png"
    r = subprocess.run(onestop_cmd() + ["kiosk", "--config", str(cfg), "--size", "800x480", "--language", "en",
                                        "--screenshot", str(shot)],
                       env=onestop_env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert shot.exists()
    log = (tmp_path / "logs" / "onestop.log").read_text(encoding="utf-8")
    assert f"{cfg}:2: devices.receipt_printer" in log
