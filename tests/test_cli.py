"""The onestop command line, run as a user runs it (a subprocess)."""

import json
import subprocess
import sys

import pytest

from kiosk.cli import build_parser

from .conftest import onestop_cmd


def run(args, env, **kw):
    return subprocess.run(onestop_cmd() + args, env=env, capture_output=True, text=True, timeout=120, **kw)


def all_command_paths():
    """Every command and subcommand path, e.g. ['config', 'check']."""
    out = []

    def walk(parser, prefix):
        for action in parser._actions:
            if action.__class__.__name__ == "_SubParsersAction":
                for name, sub in action.choices.items():
                    out.append(prefix + [name])
                    walk(sub, prefix + [name])

    walk(build_parser(), [])
    return out


def test_every_command_has_help(onestop_env):
    paths = all_command_paths()
    assert {"demo", "kiosk", "counter", "diag", "devices"} <= {p[0] for p in paths}
    assert ["config", "check"] in paths
    for path in paths:
        r = run(path + ["--help"], onestop_env)
        assert r.returncode == 0, (path, r.stderr)
        assert "--config" in r.stdout and "--store" in r.stdout, path


def test_devices_json_lists_simulated_devices_connected(onestop_env):
    from kiosk.launch import demo_config_path

    r = run(["devices", "--json", "--config", demo_config_path()], onestop_env)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    roles = {d["role"]: d for d in data["configured"]}
    assert set(roles) == {"card_reader", "id_reader", "receipt_printer", "label_printer",
                          "payment_terminal", "scanner", "camera"}
    assert all(d["state"] == "connected" for d in roles.values()), roles
    assert isinstance(data["discovered"], list)


def test_absent_device_exits_nonzero_with_one_line(onestop_env, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[devices]\nreceipt_printer = "sim://printer?state=disconnected"\ncamera = "sim://camera"\n')
    r = run(["devices", "--config", str(cfg)], onestop_env)
    assert r.returncode == 1
    assert "receipt_printer" in r.stdout and "disconnected" in r.stdout
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert "not usable: receipt_printer" in r.stderr


def test_broken_config_exits_nonzero_without_traceback(onestop_env, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[devices]\nreceipt_printer = "laser://x"\n')
    r = run(["devices", "--config", str(cfg)], onestop_env)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert f"{cfg}:2: devices.receipt_printer" in r.stderr


def test_config_check(onestop_env, tmp_path):
    good = tmp_path / "good.toml"
    good.write_text('[site]\nname = "仁济医院"\nlanguage = "zh-Hant"\n')
    r = run(["config", "check", str(good)], onestop_env)
    assert r.returncode == 0 and "OK" in r.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[site]\nname = "x"\ncolour = "red"\n')
    r = run(["config", "check", str(bad)], onestop_env)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and f"{bad}:3: site.colour" in r.stderr
    r = run(["config", "check", str(tmp_path / "missing.toml")], onestop_env)
    assert r.returncode == 2 and "not found" in r.stderr and "Traceback" not in r.stderr


def test_store_option_and_environment(onestop_env, tmp_path):
    from kiosk.runtime import store_path
    from pos.config import Config

    class A:
        store = str(tmp_path / "x.sqlite")
    assert str(store_path(A, Config())) == A.store
    r = run(["config", "pin-hash", "--pin", "2468"], onestop_env)
    assert r.returncode == 0 and r.stdout.startswith("pbkdf2-sha256$")
    from pos.staff import verify_pin
    assert verify_pin("2468", r.stdout.strip()) and not verify_pin("2469", r.stdout.strip())
