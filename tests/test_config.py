"""Configuration: every problem names the file, the line and the key."""

import pytest

from pos.config import SCHEMA, load_config, parse_config
from pos.errors import ConfigError


def test_demo_and_sample_configs_are_valid():
    from kiosk.launch import demo_config_path

    cfg = load_config(demo_config_path())
    assert cfg.devices["receipt_printer"].startswith("sim://")
    assert cfg.language == "zh-Hans"


def write(tmp_path, text):
    p = tmp_path / "site.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_unknown_key_names_file_line_and_key(tmp_path):
    p = write(tmp_path, '[site]\nname = "x"\n\n[devices]\nreceipt_printer = "sim://printer"\nfax = "sim://x"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert f"{p}:6: devices.fax" in str(exc.value) and "unknown key" in str(exc.value)


def test_bad_device_url_names_the_line(tmp_path):
    p = write(tmp_path, '[devices]\n\ncard_reader = "warp://x"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert f"{p}:3: devices.card_reader" in str(exc.value) and "warp" in str(exc.value)


def test_wrong_role_for_scheme_and_bad_option(tmp_path):
    p = write(tmp_path, '[devices]\ncamera = "sim://camera?fps=3"\n')
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    assert ":2: devices.camera" in str(exc.value) and "fps" in str(exc.value)


@pytest.mark.parametrize("text,needle", [
    ('[site]\nlanguage = "fr"\n', "site.language"),
    ('[kiosk]\nidle_timeout = "soon"\n', "kiosk.idle_timeout"),
    ('[kiosk]\nidle_timeout = -1\n', "kiosk.idle_timeout"),
    ('[sync]\nserver_url = "ftp://x"\n', "sync.server_url"),
    ('[printer_farm]\nx = 1\n', "[printer_farm]"),
    ('[site\nname=1', "not valid TOML"),
])
def test_bad_values(tmp_path, text, needle):
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, text))
    assert needle in str(exc.value)


def test_missing_file():
    with pytest.raises(ConfigError, match="not found"):
        load_config("/nonexistent/site.toml")


def test_defaults_apply_for_unset_keys():
    cfg = parse_config('[site]\nname = "医院"\n')
    assert cfg.site_name == "医院" and cfg.get("kiosk", "idle_timeout") == SCHEMA["kiosk"]["idle_timeout"].default
