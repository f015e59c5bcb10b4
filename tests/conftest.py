"""Shared fixtures. Kivy's environment is set here, before anything imports Kivy.

Kivy renders with SDL's offscreen driver (EGL + Mesa), so no X server is needed; tests marked
``x11`` need the Xvfb that ``scripts/test.sh`` provides through xvfb-run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_HOME", str(ROOT / ".kivy"))
os.environ["SDL_VIDEODRIVER"] = "offscreen"          # Kivy never needs X; DISPLAY is for x11 tests
os.environ.setdefault("KIVY_CLIPBOARD", "dummy")             # xsel/xclip are not installed
os.environ.setdefault("KCFG_GRAPHICS_WIDTH", "1280")
os.environ.setdefault("KCFG_GRAPHICS_HEIGHT", "800")
os.environ.setdefault("KCFG_KIVY_EXIT_ON_ESCAPE", "0")
Path(os.environ["KIVY_HOME"]).mkdir(parents=True, exist_ok=True)

import pytest  # noqa: E402

ARTIFACTS = Path(os.environ.get("ONESTOP_ARTIFACTS", ROOT / "test-artifacts"))


@pytest.fixture
def artifacts() -> Path:
    """Folder for screenshots and rendered documents that people look at after a run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def store(tmp_path):
    """A fresh, migrated store in a temporary folder."""
    from pos.store import Store

    s = Store(tmp_path / "store.sqlite", device_id="KTEST")
    yield s
    s.close()


@pytest.fixture
def onestop_env(tmp_path, monkeypatch):
    """Environment for running the ``onestop`` command in a subprocess: private data and log dirs."""
    env = dict(os.environ)
    env["ONESTOP_DATA_DIR"] = str(tmp_path / "data")
    env["ONESTOP_LOG_DIR"] = str(tmp_path / "logs")
    env["ONESTOP_STORE"] = str(tmp_path / "data" / "store.sqlite")
    return env


def onestop_cmd() -> list[str]:
    return [sys.executable, "-m", "kiosk.cli"]
