"""Undocumented commands, URL schemes and config keys fail the suite (as in sqlite-utils)."""

from pathlib import Path

from drivers.registry import SCHEMES
from pos.config import SCHEMA

from .test_cli import all_command_paths

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_cli_command_is_documented():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for path in all_command_paths():
        assert f"`onestop {' '.join(path)}" in text, f"docs/cli.md lacks onestop {' '.join(path)}"


def test_every_url_scheme_is_documented():
    text = (DOCS / "devices.md").read_text(encoding="utf-8")
    for scheme in SCHEMES:
        assert f"`{scheme}" in text, f"docs/devices.md lacks the {scheme} scheme"


def test_every_config_key_is_documented():
    text = (DOCS / "config.md").read_text(encoding="utf-8")
    for section, keys in SCHEMA.items():
        for key in keys:
            if section == "devices":
                assert f"`{key}`" in text, f"docs/config.md lacks devices.{key}"
            else:
                assert f"`{section}.{key}`" in text, f"docs/config.md lacks {section}.{key}"
