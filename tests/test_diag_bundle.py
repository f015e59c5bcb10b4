"""The diagnostics bundle (``onestop diag-bundle`` and its parts) and the log tail/filter."""

from __future__ import annotations

import json
import subprocess
import tomllib
import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.diagbundle import LEVELS, REMOVED, filter_level, redact_config, tail_lines, versions
from pos.config import Config, parse_config

from .conftest import ROOT, onestop_cmd

DEMO = tomllib.loads((ROOT / "assets" / "config" / "demo.toml").read_text(encoding="utf-8"))
PINS = (DEMO["staff"]["cashier_pin"], DEMO["staff"]["technician_pin"])
PAN = "6212345678901232"
SERVER = "https://tech:hunter2@central.example:8443/api?token=abc123secret&site=7"

CONFIG = f"""
[site]
name = "示范医院 Demo Hospital"
[devices]
receipt_printer = "sim://receipt_printer"
payment_terminal = "sim://payment_terminal?state=error"
[sync]
server_url = "{SERVER}"
[staff]
cashier_pin = "{PINS[0]}"
technician_pin = "{PINS[1]}"
"""

LOG = f"""2026-11-28 09:00:00,001 INFO pos.payments: payment approved card {PAN}
2026-11-28 09:00:01,002 WARNING drivers.zvt: slow answer from the terminal
2026-11-28 09:00:02,003 ERROR kiosk.app: self-test crashed for 6222 9888 1234 0000 018
Traceback (most recent call last):
  File "x.py", line 1, in <module>
ValueError: card 4761739001010119 refused
2026-11-28 09:00:03,004 DEBUG drivers.pcsc: apdu 00A40400
"""


def test_cli_bundle_has_config_devices_logs_versions_and_no_secrets(onestop_env, tmp_path):
    cfg = tmp_path / "site.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "onestop.log").write_text(LOG, encoding="utf-8")
    out = tmp_path / "out" / "bundle.zip"
    r = subprocess.run(onestop_cmd() + ["diag-bundle", "--config", str(cfg), "--out", str(out)], env=onestop_env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(out)
    with zipfile.ZipFile(out) as z:
        assert set(z.namelist()) == {"README.txt", "config.json", "devices.json", "logs/onestop.log", "versions.json"}
        everything = "\n".join(z.read(n).decode("utf-8") for n in z.namelist())
        config = json.loads(z.read("config.json"))
        devices = json.loads(z.read("devices.json"))
        log_text = z.read("logs/onestop.log").decode("utf-8")
        vers = json.loads(z.read("versions.json"))
    for secret in PINS + ("hunter2", "abc123secret", PAN, "4761739001010119", "6222 9888 1234 0000 018"):
        assert secret not in everything, secret
    assert config["staff"] == {"cashier_pin": REMOVED, "technician_pin": REMOVED, "supervisor_pin": "", "users": ""}
    assert config["sync"]["server_url"].startswith("https://<removed>@central.example:8443/api?token=<removed>")
    assert config["sync"]["server_url"].endswith("&site=7")
    assert config["site"]["name"] == "示范医院 Demo Hospital"
    assert "621234******1232" in log_text and "476173******0119" in log_text
    assert "slow answer from the terminal" in log_text and "Traceback" in log_text
    by_role = {d["role"]: d for d in devices["configured"]}
    assert by_role["receipt_printer"]["state"] == "connected"
    assert by_role["payment_terminal"]["state"] == "error"
    assert by_role["card_reader"]["reason"] == "not configured"
    assert isinstance(devices["discovered"], list)
    assert set(vers) >= {"onestop", "python", "kivy", "pyscard", "opencv", "os"}
    assert vers["kivy"] == "2.3.1" and vers["python"].count(".") == 2


def test_cli_bundle_with_a_broken_config_still_writes(onestop_env, tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[nope]\nx = 1\n", encoding="utf-8")
    out = tmp_path / "b.zip"
    r = subprocess.run(onestop_cmd() + ["diag-bundle", "--config", str(cfg), "--out", str(out)], env=onestop_env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "unknown section" in r.stdout and "Traceback" not in r.stderr
    with zipfile.ZipFile(out) as z:
        assert json.loads(z.read("config.json"))["path"] == str(cfg)


def test_redact_config_removes_any_secret_looking_key():
    cfg = Config(path="x.toml", values={
        "sync": {"server_url": "https://central.example/api?api_key=K9&x=1"},
        "integrations": {"api_key": "K1", "nested": {"client_secret": "S2", "endpoint": "https://u:P3@h/"},
                         "Password": "P4", "list": ["https://a:P5@b/"], "timeout": 5},
    })
    red = redact_config(cfg)
    text = json.dumps(red)
    for secret in ("K9", "K1", "S2", "P3", "P4", "P5"):
        assert secret not in text
    assert red["integrations"]["timeout"] == 5
    assert red["integrations"]["nested"]["endpoint"] == "https://<removed>@h/"
    assert red["sync"]["server_url"] == "https://central.example/api?api_key=<removed>&x=1"
    # an unset PIN stays visibly unset (the technician sees that login is refused)
    assert redact_config(parse_config(""))["staff"]["technician_pin"] == ""


def test_versions_are_real():
    import kivy
    import smartcard

    v = versions()
    assert v["kivy"] == kivy.__version__
    assert v["pyscard"] is not None and smartcard is not None


def test_filter_level_keeps_tracebacks_with_their_record(tmp_path):
    path = tmp_path / "onestop.log"
    path.write_text(LOG, encoding="utf-8")
    lines = tail_lines(path)
    errors = filter_level(lines, "ERROR")
    assert errors[0].startswith("2026-11-28 09:00:02,003 ERROR") and errors[-1].startswith("ValueError")
    assert len(errors) == 4 and "476173******0119" in errors[-1]
    assert [line.split()[2] for line in filter_level(lines, "WARNING") if line.startswith("2026")] == ["WARNING", "ERROR"]
    assert len(filter_level(lines, "DEBUG")) == len(lines) == 7


def test_tail_of_a_big_log_starts_at_a_whole_line(tmp_path):
    path = tmp_path / "onestop.log"
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(20000):
            fh.write(f"2026-11-28 09:00:00,{i % 1000:03d} INFO x: line {i:05d} card {PAN}\n")
    lines = tail_lines(path, max_lines=100, max_bytes=10_000)
    assert len(lines) == 100 and lines[-1].endswith("card 621234******1232") and "line 19999" in lines[-1]
    assert all(line.startswith("2026-11-28") for line in lines)
    assert tail_lines(tmp_path / "missing.log") == []


_line = st.one_of(
    st.builds(lambda lv, msg: f"2026-11-28 09:00:00,000 {lv} m: {msg}", st.sampled_from(LEVELS), st.text(max_size=20)),
    st.text(max_size=30).filter(lambda s: "\n" not in s and "\r" not in s))


@settings(max_examples=200)
@given(st.lists(_line, max_size=30), st.sampled_from(LEVELS))
def test_fuzz_filter_level_is_an_ordered_subset_at_or_above_the_level(lines, level):
    out = filter_level(lines, level)
    it = iter(lines)
    assert all(any(x == y for y in it) for x in out)          # a subsequence, order kept
    floor = LEVELS.index(level)
    for line in out:
        parts = line.split(" ")
        if len(parts) > 2 and line.startswith("2026-11-28 09:00:00,000 ") and parts[2] in LEVELS:
            assert LEVELS.index(parts[2]) >= floor


def _mode(path) -> int:
    import stat
    return stat.S_IMODE(path.stat().st_mode)


def _umask_022():
    import os
    os.umask(0o022)          # what most systems give a login: files 0644 unless the program says otherwise


def test_store_wal_shm_logs_server_db_and_bundle_are_owner_only(onestop_env, tmp_path):
    """`onestop enrol` writes the sync HMAC secret into the store; the store, its WAL and SHM, the
    log, the server's database and a diagnostics bundle are all 0600 under a 022 umask, and an
    older store left 0644 is tightened when it is opened."""
    from tests.sync_support import ThreadServer, admin_code
    server = ThreadServer(f"sqlite:///{tmp_path / 'srv' / 'server.sqlite'}")
    try:
        r = subprocess.run(onestop_cmd() + ["enrol", admin_code(server.url), "--server", server.url, "--name", "lobby"],
                           env=onestop_env, capture_output=True, text=True, timeout=120, preexec_fn=_umask_022)
        assert r.returncode == 0, r.stderr
        srv = tmp_path / "srv" / "server.sqlite"          # the device secrets, while the server runs
        assert _mode(srv) == 0o600 and _mode(srv.with_name("server.sqlite-wal")) == 0o600
    finally:
        server.stop()
    data, logs = tmp_path / "data", tmp_path / "logs"
    store = data / "store.sqlite"
    from pos.store import Store
    from sync.client import get_state
    s = Store(store)                       # open it again: WAL and SHM exist while it is open
    try:
        assert get_state(s, "secret")
        wal, shm = store.with_name("store.sqlite-wal"), store.with_name("store.sqlite-shm")
        assert wal.exists() and shm.exists()
        assert {p.name: _mode(p) for p in (store, wal, shm)} == {store.name: 0o600, wal.name: 0o600, shm.name: 0o600}
    finally:
        s.close()
    assert [(p.name, _mode(p)) for p in logs.glob("onestop.log*")] == [("onestop.log", 0o600)]
    store.chmod(0o644)
    Store(store).close()
    assert _mode(store) == 0o600
    out = tmp_path / "out" / "bundle.zip"
    cfg = tmp_path / "site.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    r = subprocess.run(onestop_cmd() + ["diag-bundle", "--config", str(cfg), "--out", str(out)], env=onestop_env,
                       capture_output=True, text=True, timeout=120, preexec_fn=_umask_022)
    assert r.returncode == 0, r.stderr
    assert _mode(out) == 0o600


def test_a_rotated_log_stays_owner_only(tmp_path):
    import logging
    import os
    from pos.private import PrivateRotatingFileHandler
    old = os.umask(0o022)
    try:
        h = PrivateRotatingFileHandler(tmp_path / "onestop.log", maxBytes=200, backupCount=2, encoding="utf-8")
        lg = logging.getLogger("onestop.test.rotate")
        lg.addHandler(h)
        lg.propagate = False
        for i in range(40):
            lg.warning("line %d %s", i, "x" * 40)
        h.close()
    finally:
        os.umask(old)
    files = sorted(tmp_path.glob("onestop.log*"))
    assert len(files) == 3 and all(_mode(f) == 0o600 for f in files)


def test_usb_sticks_are_found_under_media_and_run_media(tmp_path):
    """Mount points of removable media from /proc/mounts (octal escapes decoded; read-only ones and
    other file systems left out), the configured folder first."""
    from kiosk.diagbundle import removable_mounts

    media = tmp_path / "media"          # stands for /media: the paths in the table are real folders
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/sda1 / ext4 rw,relatime 0 0\n"
        "/dev/sdb1 /media/pi/MY\\040STICK vfat rw,nosuid,nodev 0 0\n"
        "/dev/sdc1 /run/media/tech/DIAG exfat rw 0 0\n"
        "/dev/sr0 /media/pi/CDROM iso9660 ro,nosuid 0 0\n", encoding="utf-8")
    import kiosk.diagbundle as db

    real = {"/media/pi/MY STICK": media / "a", "/run/media/tech/DIAG": media / "b", "/media/pi/CDROM": media / "c"}
    for p in real.values():
        p.mkdir(parents=True)
    configured = tmp_path / "configured"
    configured.mkdir()
    orig_access = db.os.access
    try:        # the table's mount points are checked for write access: answer for the folders above
        db.os.access = lambda p, mode: orig_access(real.get(str(p), p), mode)
        found = removable_mounts(str(configured), mounts_file=str(mounts))
    finally:
        db.os.access = orig_access
    assert [str(p) for p in found] == [str(configured), "/media/pi/MY STICK", "/run/media/tech/DIAG"]
    assert removable_mounts(str(tmp_path / "missing"), mounts_file=str(tmp_path / "no-such-file")) == []
