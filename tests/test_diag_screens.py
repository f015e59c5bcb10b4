"""Every diagnostics screen by touch in the three languages at 1280x800 and 800x480 (screenshots
in test-artifacts/diag-*), the log viewer's level filter, and "Export diagnostics bundle"."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from pos.config import parse_config

from .kivy_harness import all_widgets, assert_no_tofu, start_app, stop_app
from .test_diag_bundle import LOG, PAN, PINS
from .test_diag_selftests import QR_TEXT, back, config_text, login, open_test, qr_png, run_action, sims  # noqa: F401

LANGS = ("zh-Hans", "zh-Hant", "en")


def shoot(ui, artifacts, name, size):
    """Screenshots in the three languages, starting with the current one (switching is slow)."""
    start = LANGS.index(ui.app.lang)
    for lang in LANGS[start:] + LANGS[:start]:
        if ui.app.lang != lang:
            ui.app.set_language(lang)
            ui.frames(2)
        assert_no_tofu(ui.app.root)
        ui.screenshot(artifacts, f"diag-{name}-{lang}-{size[0]}x{size[1]}")


def visible_buttons_fit(ui):
    """Every button on the screen is at least the touch minimum and inside the window."""
    w, h = ui.window.size
    for wid in all_widgets(ui.app.root):
        if type(wid).__name__ in ("OButton", "SecondaryButton", "LevelButton") and wid.opacity and wid.width > 1:
            x, y = wid.to_window(wid.x, wid.y)
            assert wid.height >= ui.app.touch_min - 1, (wid.text, wid.height)
            assert -1 <= x and x + wid.width <= w + 1, (wid.text, x, wid.width)


@pytest.mark.parametrize("size", [(1280, 800), (800, 480)])
def test_every_diag_screen_three_languages(size, sims, tmp_path, monkeypatch, artifacts):  # noqa: F811
    from kiosk import selftest

    selftest.COUNTERS.clear()
    selftest.LAST_ERRORS.clear()
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "onestop.log").write_text(LOG, encoding="utf-8")
    monkeypatch.setenv("ONESTOP_LOG_DIR", str(logs))
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path / "data"))
    ui = start_app("diag", config=parse_config(config_text(sims["devices"])), language="en", size=size,
                   store_path=str(tmp_path / "diag.sqlite"))
    try:
        shoot(ui, artifacts, "login", size)
        login(ui)
        rows = ui.screen().rows
        ui.wait(lambda: rows["receipt_printer"].state == "connected", what="device status")
        visible_buttons_fit(ui)
        shoot(ui, artifacts, "devices", size)

        for role, method, name in (("id_reader", "do_read_card", "idcard"), ("receipt_printer", "do_printer_status",
                                                                             "printer"),
                                   ("payment_terminal", "do_enquiry", "terminal")):
            screen = open_test(ui, role)
            run_action(ui, screen, method)
            assert screen.outcome == "ok", screen.lines
            visible_buttons_fit(ui)
            shoot(ui, artifacts, f"test-{name}", size)
            back(ui)

        screen = open_test(ui, "scanner")
        ui.wait(lambda: screen.preview is not None, what="scanner test code")
        shoot(ui, artifacts, "test-scanner", size)
        back(ui)

        screen = open_test(ui, "camera")
        ui.tap(screen.buttons["do_camera"])
        ui.wait(lambda: screen.outcome == "ok", timeout=20, what="QR decoded")
        assert f"code: {QR_TEXT}" in screen.lines
        shoot(ui, artifacts, "test-camera", size)
        ui.tap(screen.buttons["do_camera_stop"])
        back(ui)

        # the log viewer, filtered to errors by touch
        ui.tap(ui.screen().ids.logs_button)
        ui.settle()
        logs_screen = ui.screen()
        assert ui.app.sm.current == "diag_logs"
        ui.wait(lambda: logs_screen.total[0] == 7, what="log read")
        assert len(logs_screen.lines) == 6          # INFO and above (the default), not the DEBUG line
        ui.tap(ui.find(ui.app.t("Errors")))
        ui.wait(lambda: logs_screen.level == "ERROR" and logs_screen.total[1] == 4, what="error filter")
        shown = logs_screen.ids.log_text.text
        assert "self-test crashed" in shown and "slow answer" not in shown and "ValueError" in shown
        assert "476173******0119" in shown and "4761739001010119" not in shown
        shoot(ui, artifacts, "logs", size)
        ui.tap(ui.find(ui.app.t("All")))
        ui.wait(lambda: logs_screen.total[1] == 7, what="all levels")
        ui.tap(ui.find(ui.app.t("Back")))
        ui.settle()

        # export the bundle by touch
        diag = ui.screen()
        ui.tap(diag.ids.bundle_button)
        ui.wait(lambda: diag.message == "Diagnostics bundle written:", timeout=20, what="bundle written")
        path = Path(diag.detail)
        assert path.parent == tmp_path / "data" and path.exists()
        ui.find(path.name)
        shoot(ui, artifacts, "bundle", size)
        with zipfile.ZipFile(path) as z:
            everything = "\n".join(z.read(n).decode("utf-8") for n in z.namelist())
            devices = {d["role"]: d for d in json.loads(z.read("devices.json"))["configured"]}
        for secret in PINS + (PAN, "4761739001010119"):
            assert secret not in everything
        assert devices["payment_terminal"]["counters"]["tests"] == 1
        assert devices["camera"]["counters"]["frames"] >= 1
    finally:
        stop_app(ui)


def test_diag_shows_print_jobs_recovered_as_uncertain_at_start(sims, tmp_path, monkeypatch):  # noqa: F811
    """A job a crash left "printing" is recovered when diagnostics starts and is listed there."""
    from pos.documents import deposit_receipt
    from pos.printing import PrintJournal
    from pos.store import Store

    from ._print_samples import RECEIPT, SITE

    monkeypatch.setenv("ONESTOP_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("ONESTOP_DATA_DIR", str(tmp_path / "data"))
    path = str(tmp_path / "diag.sqlite")
    store = Store(path)
    j = PrintJournal(store, devices={"receipt_printer": sims["devices"]["receipt_printer"]})
    job_id = j.submit("deposit_receipt", deposit_receipt(SITE, RECEIPT), ref="CRASH-DIAG")
    j._claim(job_id)
    store.close()
    ui = start_app("diag", config=parse_config(config_text(sims["devices"])), language="en", store_path=path)
    try:
        login(ui)
        scr = ui.screen()
        ui.wait(lambda: scr.uncertain_prints, timeout=20, what="uncertain print jobs")
        assert [p["job_id"] for p in scr.uncertain_prints] == [job_id]
        assert scr.message == "Print jobs that may have printed (reprint them as copies):"
        assert "CRASH-DIAG" in scr.detail and "CRASH-DIAG" in scr.ids.message.text
    finally:
        stop_app(ui)


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_device_list_words_and_no_test_for_an_unconfigured_device(tmp_path, lang):
    """Issue 20 items 22/24: one clear name per action (a full test, a connection check), no raw
    'not configured' or 'tests 2', and nothing offered for a role with no device."""
    from kiosk import selftest
    from kiosk.i18n import tr

    from .kivy_harness import _TAG, _unescape

    cfg = tmp_path / "site.toml"
    cfg.write_text(config_text({"receipt_printer": "sim://printer", "card_reader": ""}), encoding="utf-8")
    from pos.config import load_config

    ui = start_app("diag", config=load_config(str(cfg)), store_path=str(tmp_path / "d.sqlite"), language=lang)
    try:
        login(ui)
        scr = ui.screen()
        rows = scr.rows
        selftest.COUNTERS["receipt_printer"] = {"tests": 2, "failures": 1}
        rows["receipt_printer"].refresh_counters()
        ui.frames(3)

        def shown(w):
            return _unescape(_TAG.sub("", w.text))

        texts = [shown(w) for w in all_widgets(rows["receipt_printer"]) if isinstance(getattr(w, "text", None), str)]
        assert tr("Full test", lang) in texts and tr("Check connection", lang) in texts
        assert any(tr("tests run {n}", lang, n=2) in t and tr("failed {n}", lang, n=1) in t for t in texts), texts
        assert not any("tests 2" in t for t in texts)
        unconfigured = rows["card_reader"]
        assert unconfigured.ids.self_test.disabled and unconfigured.ids.self_test.opacity == 0
        assert unconfigured.ids.probe.disabled and unconfigured.ids.probe.opacity == 0
        texts = [shown(w) for w in all_widgets(unconfigured) if isinstance(getattr(w, "text", None), str)]
        assert any(tr("not configured (no URL for this role in the config)", lang) in t for t in texts), texts
    finally:
        selftest.COUNTERS.pop("receipt_printer", None)
        stop_app(ui)
