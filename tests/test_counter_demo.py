"""`onestop demo counter` and `onestop demo diag` (issue 20): the front end with every device
simulated and the README's PINs; the command's options may come before or after its name."""

import re
import subprocess
from pathlib import Path

import pytest

from kiosk.cli import build_parser
from kiosk.launch import prepare

from .conftest import onestop_cmd
from .kivy_harness import start_app, stop_app
from .test_staff_ui import enter_pin

ROOT = Path(__file__).resolve().parent.parent


def readme_pins() -> dict[str, str]:
    m = re.search(r"Staff PINs in the demo: cashier (\d+), technician (\d+)", (ROOT / "README.md").read_text())
    return {"counter": m.group(1), "diag": m.group(2)}


@pytest.mark.parametrize("front,home,lang", [("counter", "counter_home", "zh-Hans"), ("diag", "diag", "en")])
def test_demo_front_takes_the_readme_pin(tmp_path, monkeypatch, front, home, lang):
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ONESTOP_STORE", raising=False)
    args = build_parser().parse_args(["demo", front, "--windowed"])
    name, config, store, world, error = prepare(args)
    assert (name, error) == (front, None)
    assert store == tmp_path / "data" / "demo.sqlite"
    assert all(not url.startswith("sim://") for url in world.devices.values())
    ui = start_app(name, config=config, store_path=str(store), language=lang, demo_world=world)
    try:
        assert ui.app.sm.current == "login"
        enter_pin(ui, readme_pins()[front])
        ui.wait(lambda: ui.app.sm.current == home, what=f"{home} after the README's PIN")
        if front == "counter":     # the demo hospital is there: search finds a demo patient's notice
            scr = ui.screen()
            scr.ids.search.text = "王喆"
            scr.search("王喆")
            ui.wait(lambda: scr.results, timeout=15, what="demo patient found")
            assert any(r.get("name") == "王喆" for r in scr.results)
    finally:
        stop_app(ui)
        world.stop()


def test_demo_counter_starts_clean(onestop_env, artifacts, tmp_path):
    shot = artifacts / "demo-counter-first-screen.png"
    shot.unlink(missing_ok=True)
    r = subprocess.run(onestop_cmd() + ["demo", "counter", "--size", "1280x800", "--screenshot", str(shot)],
                       env=onestop_env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert shot.exists()
    log = (tmp_path / "logs" / "onestop.log").read_text(encoding="utf-8")
    for text in (r.stderr, log):
        assert "CRITICAL" not in text and "Traceback" not in text, text[-3000:]
    assert "counter started" in log


def test_options_before_the_command_are_used(onestop_env, tmp_path):
    cfg = tmp_path / "one.toml"
    cfg.write_text('[devices]\nreceipt_printer = "sim://printer"\n')
    before = subprocess.run(onestop_cmd() + ["--config", str(cfg), "devices", "--json"], env=onestop_env,
                            capture_output=True, text=True, timeout=120)
    after = subprocess.run(onestop_cmd() + ["devices", "--json", "--config", str(cfg)], env=onestop_env,
                           capture_output=True, text=True, timeout=120)
    assert before.returncode == after.returncode == 0, before.stderr + after.stderr
    import json

    for r in (before, after):
        assert [d["role"] for d in json.loads(r.stdout)["configured"]] == ["receipt_printer"]
    args = build_parser().parse_args(["--store", "/tmp/a.sqlite", "-v", "counter", "--config", "x.toml"])
    assert (args.store, args.config, args.verbose) == ("/tmp/a.sqlite", "x.toml", 1)
    args = build_parser().parse_args(["--config", "first.toml", "devices", "--config", "second.toml"])
    assert args.config == "second.toml"                 # the one nearer the command wins
