"""Club test support: a private Mosquitto that a test can stop and start, and waiting helpers.

The shared broker is 127.0.0.1:1883 (scripts/services.sh starts it); tests that restart a broker
run their own on a free port, with or without persistence.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from pos.club.ids import ulid

SHARED = "mqtt://127.0.0.1:1883"


def wait_for(predicate, timeout: float = 40.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def site_name() -> str:
    """A site name of its own per test, so tests sharing the broker never see each other."""
    return "t" + ulid().lower()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def require_shared_broker():
    if not _listening(1883):
        pytest.fail("no Mosquitto at 127.0.0.1:1883: run scripts/services.sh")


class Mosquitto:
    """``mosquitto -c <own conf>`` on a free loopback port; ``persistence`` keeps sessions and
    queued messages across :meth:`restart` (in a folder of its own)."""

    def __init__(self, folder: Path, persistence: bool = False, users: dict[str, str] | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = _free_port()
        self.persistence = persistence
        self.proc: subprocess.Popen | None = None
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        conf = self.folder / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true",
                 f"persistence {'true' if persistence else 'false'}",
                 f"persistence_location {self.folder}/", "autosave_interval 1", "max_queued_messages 10000"]
        if users:
            pw = self.folder / "passwd"
            for i, (user, password) in enumerate(users.items()):
                subprocess.run(["mosquitto_passwd", "-b"] + (["-c"] if i == 0 else []) + [str(pw), user, password],
                               check=True, capture_output=True)
            lines = [ln for ln in lines if not ln.startswith("allow_anonymous")]
            lines += ["allow_anonymous false", f"password_file {pw}"]
        if os.geteuid() == 0:          # as root Mosquitto drops to its own user, who cannot read tmp_path
            lines.append("user root")
        conf.write_text("\n".join(lines) + "\n")
        self.cmd = [binary, "-c", str(conf)]

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> "Mosquitto":
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=open(self.folder / "log", "ab"))
        wait_for(lambda: _listening(self.port), 10, "mosquitto to listen")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()          # SIGTERM: mosquitto saves its persistence file and exits
            self.proc.wait(10)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
