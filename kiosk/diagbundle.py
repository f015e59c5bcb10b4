"""The diagnostics bundle a technician sends to support, and the log tail the log viewer shows.

``write_bundle(config, out)`` writes a zip with:

* ``config.json`` - the site configuration minus secrets: staff PIN hashes and every value whose
  key names a key, token, secret, password or PIN are replaced by ``"<removed>"``; passwords in
  URLs (``user:pass@``, ``?token=``) are cut too;
* ``devices.json`` - every configured device with its status (probed now), the self-test counters
  and last errors, and what discovery finds;
* ``logs/onestop.log`` - the tail of the log file (and of its last rotation), every PAN masked
  with :func:`drivers.pci.redact`;
* ``versions.json`` - onestop, Python, Kivy, pyscard, OpenCV and the OS.

Nothing here imports Kivy: ``onestop diag-bundle`` runs on a machine with no display.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import platform
import re
import sys
import zipfile
from importlib import metadata
from pathlib import Path

from drivers.pci import redact
from pos.private import private_file

__all__ = ["removable_mounts", "write_bundle_to_stick", "redact_config", "versions", "device_list", "tail_lines", "filter_level", "LEVELS",
           "write_bundle", "default_bundle_path", "REMOVED", "SECRET_KEY"]

log = logging.getLogger(__name__)

REMOVED = "<removed>"
SECRET_KEY = re.compile(r"(key|token|secret|passw|pin|credential)", re.I)
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]*:[^/@\s]*@")
_URL_SECRET_PARAM = re.compile(r"(?i)([?&][^=&]*(?:key|token|secret|passw|pin)[^=&]*=)[^&#\s]*")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_LINE_LEVEL = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")
LOG_TAIL_BYTES = 512_000


def _clean_value(value):
    if isinstance(value, str):
        return _URL_SECRET_PARAM.sub(r"\1" + REMOVED, _URL_USERINFO.sub(REMOVED + "@", value))
    if isinstance(value, dict):
        return {k: (REMOVED if SECRET_KEY.search(k) else _clean_value(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_value(v) for v in value]
    return value


def redact_config(config) -> dict:
    """The configuration's values (defaults included) with every secret removed."""
    from pos.config import SCHEMA

    out: dict = {"path": config.path}
    for section, keys in SCHEMA.items():
        sec = {}
        for key in keys:
            value = config.get(section, key)
            if section == "staff" or SECRET_KEY.search(key):
                sec[key] = REMOVED if value else ""
            else:
                sec[key] = _clean_value(value)
        out[section] = sec
    for section, body in config.values.items():   # anything not in the schema (never expected)
        if section not in SCHEMA:
            out[section] = _clean_value(body)
    return out


def _dist_version(*names: str) -> str | None:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def versions() -> dict:
    return {
        "onestop": _dist_version("onestop"),
        "python": sys.version.split()[0],
        "kivy": _dist_version("kivy", "Kivy"),
        "pyscard": _dist_version("pyscard"),
        "opencv": _dist_version("opencv-python-headless", "opencv-python", "opencv-contrib-python"),
        "pyserial": _dist_version("pyserial"),
        "python-escpos": _dist_version("python-escpos"),
        "zxing-cpp": _dist_version("zxing-cpp"),
        "os": platform.platform(),
        "machine": platform.machine(),
    }


def device_list(config, statuses: dict | None = None, discovered: list | None = None) -> dict:
    """Configured devices with status, counters and last error; plus discovery. ``statuses``
    (role -> DeviceStatus) saves probing again when the caller has them."""
    from drivers.discovery import discover
    from drivers.registry import probe
    from drivers.status import DeviceStatus

    from .selftest import COUNTERS, LAST_ERRORS

    rows = []
    for role, url in config.devices.items():
        st = (statuses or {}).get(role)
        if st is None:
            st = probe(url, role) if url else DeviceStatus.disconnected("not configured")
        rows.append({"role": role, "url": _clean_value(url), **st.as_dict(),
                     "counters": dict(COUNTERS.get(role, {})), "last_error": LAST_ERRORS.get(role)})
    found = discovered if discovered is not None else [d.as_dict() for d in discover()]
    return {"configured": rows, "discovered": found}


def tail_lines(path: Path, max_lines: int = 400, max_bytes: int = LOG_TAIL_BYTES) -> list[str]:
    """The last lines of a (possibly big) log file, PANs masked; [] when there is no file."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            data = fh.read()
    except FileNotFoundError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    if size > max_bytes and lines:
        lines = lines[1:]               # the first line was cut in the middle
    return [redact(x) for x in lines[-max_lines:]]


def filter_level(lines: list[str], level: str) -> list[str]:
    """Records at ``level`` or above; a traceback line belongs to the record above it."""
    if level not in LEVELS:
        return list(lines)
    floor = LEVELS.index(level)
    out, keep = [], False
    for line in lines:
        m = _LINE_LEVEL.match(line)
        if m:
            keep = LEVELS.index(m.group(1)) >= floor
        if keep:
            out.append(line)
    return out


def default_bundle_path() -> Path:
    from .runtime import data_dir

    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return data_dir() / f"onestop-diag-{stamp}.zip"


def _log_text(log_dir: Path) -> str:
    parts = []
    for name in ("onestop.log.1", "onestop.log"):
        lines = tail_lines(log_dir / name, max_lines=5000, max_bytes=LOG_TAIL_BYTES // 2)
        if lines:
            parts.append(f"==> {name} <==\n" + "\n".join(lines))
    return "\n".join(parts) + "\n" if parts else "(no log file)\n"


def write_bundle(config, out: Path | str | None = None, *, statuses: dict | None = None,
                 discovered: list | None = None, log_dir: Path | None = None) -> Path:
    """Write the bundle and return its path (the folder is created if needed)."""
    from .runtime import log_dir as default_log_dir

    path = Path(out) if out else default_bundle_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    made = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    tmp = private_file(path.with_name(path.name + ".part"))     # logs and config inside: 0600
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.txt", f"onestop diagnostics bundle, made {made}\n"
                                 "config.json: configuration without secrets; devices.json: devices and status;\n"
                                 "logs/onestop.log: recent log (card numbers masked); versions.json: software.\n")
        z.writestr("config.json", json.dumps(redact_config(config), ensure_ascii=False, indent=2))
        z.writestr("devices.json", redact(json.dumps(device_list(config, statuses, discovered), ensure_ascii=False,
                                                     indent=2, default=str)))
        z.writestr("logs/onestop.log", _log_text(Path(log_dir) if log_dir else default_log_dir()))
        z.writestr("versions.json", json.dumps(versions(), indent=2))
    tmp.replace(path)
    log.info("diagnostics bundle written: %s", path)
    return path


# -- a USB stick ----------------------------------------------------------------------------
#: where desktop automounters (udisks2) put removable media
REMOVABLE_ROOTS = ("/media/", "/run/media/")


def _unescape_mount(field: str) -> str:
    """/proc/mounts writes space, tab, newline and backslash as octal escapes."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def removable_mounts(configured: str = "", mounts_file: str = "/proc/mounts") -> list[Path]:
    """Writable folders of USB sticks: ``configured`` (``kiosk.usb_path``) when it is a folder,
    then every mount point under /media or /run/media, in the order they were mounted."""
    out: list[Path] = []
    if configured and Path(configured).is_dir() and os.access(configured, os.W_OK):
        out.append(Path(configured))
    try:
        with open(mounts_file, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as exc:
        log.warning("cannot read %s: %s", mounts_file, exc)
        lines = []
    for line in lines:
        fields = line.split()
        if len(fields) < 4:
            continue
        point = _unescape_mount(fields[1])
        if point.startswith(REMOVABLE_ROOTS) and "ro" not in fields[3].split(",") and os.access(point, os.W_OK):
            p = Path(point)
            if p not in out:
                out.append(p)
    return out


def write_bundle_to_stick(config, stick: Path | str, **kw) -> Path:
    """Write the bundle onto a USB stick and flush it to the stick (it may be pulled right after)."""
    path = Path(stick) / default_bundle_path().name
    write_bundle(config, path, **kw)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    log.info("diagnostics bundle written to the USB stick at %s", stick)
    return path
