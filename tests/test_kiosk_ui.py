"""The kiosk shell, rendered for real (SDL offscreen) and driven by touches."""

import os
import time

import pytest
from kivy.core.window import Window
from kivy.metrics import mm
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.popup import Popup
from kivy.uix.textinput import TextInput

from pos.config import load_config, parse_config
from kiosk.launch import demo_config_path

from .kivy_harness import all_widgets, assert_no_tofu, label_runs, start_app, stop_app

SIZES = [(1280, 800), (800, 480)]


def outbox_kinds(app):
    return [r["kind"] for r in app.store.outbox_pending()]


@pytest.fixture
def kiosk(tmp_path):
    uis = []

    def start(**kw):
        kw.setdefault("store_path", str(tmp_path / "kiosk.sqlite"))
        ui = start_app(**kw)
        uis.append(ui)
        return ui

    yield start
    for ui in uis:
        stop_app(ui)


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_home_screen_in_each_language(kiosk, artifacts, lang, size):
    ui = kiosk(language=lang, size=size)
    ui.wait(lambda: len(ui.app.device_status) == 7, what="device status")
    ui.frames(3)
    assert ui.app.sm.current == "home"
    expected = {"zh-Hans": "入院登记", "zh-Hant": "入院登記", "en": "Admission check-in"}[lang]
    assert ui.find(expected) == ui.screen().ids.svc_admission.__self__
    assert_no_tofu(ui.app.root)
    for w in all_widgets(ui.app.root):
        if isinstance(w, Button) and w.get_root_window() is not None:
            assert min(w.size) >= mm(15) - 0.5, f"touch target {w.text!r} is {w.size}, under 15 mm"
    strip = ui.app.root.ids.status_strip
    assert {c.state for c in strip.chips.values()} == {"connected"}
    shot = ui.screenshot(artifacts, f"kiosk-home-{lang}-{size[0]}x{size[1]}")
    assert shot.stat().st_size > 10_000


def test_language_buttons_switch_every_label(kiosk):
    ui = kiosk(language="en")
    home = ui.screen()
    ui.tap(home.ids.lang_zh_hant)
    assert ui.app.lang == "zh-Hant" and "入院登記" in home.ids.svc_admission.text
    ui.tap(home.ids.lang_zh_hans)
    assert "入院登记" in home.ids.svc_admission.text
    assert_no_tofu(ui.app.root)


def test_touching_a_service_goes_on_and_reaches_the_store(kiosk, artifacts):
    ui = kiosk(language="zh-Hans")
    ui.tap(ui.screen().ids.svc_admission)
    ui.settle()
    assert ui.app.sm.current == "identify"
    assert "医保卡" in ui.screen().ids.instruction.text
    ui.wait(lambda: "kiosk.service_started" in outbox_kinds(ui.app), what="outbox row")
    row = ui.app.store.outbox_pending()[-1]
    assert row["payload"] == {"service": "admission"}
    ui.screenshot(artifacts, "kiosk-identify-zh-Hans")
    ui.tap(ui.screen().ids.back)
    ui.settle()
    assert ui.app.sm.current == "home"


def test_help_button_calls_staff(kiosk):
    ui = kiosk(language="zh-Hant")
    ui.tap(ui.app.root.ids.help_button)
    ui.wait(lambda: ui.app.notice, what="notice")
    assert "已通知工作人員" in ui.app.root.ids.notice.text
    assert outbox_kinds(ui.app) == ["help.requested"]


def test_idle_timeout_returns_home_and_clears_everything(kiosk):
    ui = kiosk(language="en", idle_timeout=2.0)
    ui.tap(ui.screen().ids.svc_topup)
    ui.settle()
    ti = TextInput()
    popup = Popup(title="x", content=ti, size_hint=(0.5, 0.5))
    popup.open(animation=False)
    ui.frames(3)
    ti.focus = True
    ui.frames(3)
    assert ti.focus and popup in Window.children
    ui.wait(lambda: ui.app.sm.current == "home", timeout=10, what="idle return")
    ui.settle()
    assert popup not in Window.children
    assert not ti.focus
    assert ui.app.notice == ""
    assert ui.app.screen("identify").service == ""


def test_touches_keep_the_kiosk_awake(kiosk):
    ui = kiosk(language="en", idle_timeout=1.0)
    ui.tap(ui.screen().ids.svc_topup)
    ui.settle()
    end = time.monotonic() + 1.6
    while time.monotonic() < end:  # a person keeps touching the screen
        ui.tap(ui.screen().ids.instruction)
        time.sleep(0.2)
    assert ui.app.sm.current == "identify"


def test_kiosk_mode_swallows_escape_and_refuses_close(kiosk):
    ui = kiosk(language="en")
    assert Window.dispatch("on_keyboard", 27, 0, "", []) is True
    assert Window.dispatch("on_request_close") is True
    ui.frames(2)
    assert ui.app.root.get_root_window() is Window


def test_missing_device_and_broken_config_show_in_the_strip(kiosk, tmp_path):
    cfg = parse_config('[devices]\nreceipt_printer = "sim://printer?state=disconnected"\n'
                       'payment_terminal = "sim://terminal"\n')
    ui = kiosk(language="en", config=cfg)
    ui.wait(lambda: len(ui.app.device_status) == 7, what="status")
    ui.frames(3)
    chips = ui.app.root.ids.status_strip.chips
    assert set(chips) == {"receipt_printer", "payment_terminal"}
    assert chips["receipt_printer"].state == "disconnected"
    assert "not connected" in ui.find("Receipt printer").text
    assert chips["payment_terminal"].state == "connected"
    assert ui.app.device_status["camera"].reason == "not configured"


def test_rare_name_characters_do_not_render_as_boxes(kiosk, artifacts):
    ui = kiosk(language="zh-Hans")
    name = "王𠀀 李堃 张喆 刘龑 陈䶮 Zoë"
    label = Label(text=ui.app.fx(name), markup=True, font_name=ui.app.font, font_size=60,
                  color=(0, 0, 0, 1), size_hint_y=None, height=120)
    ui.screen().children[0].add_widget(label, index=0)
    ui.frames(3)
    runs = label_runs(label)
    assert any("𠀀" in t and f != ui.app.font for f, t in runs), runs  # 𠀀 comes from a fallback face
    assert "".join(t for _, t in runs) == name
    assert_no_tofu(label)
    ui.screenshot(artifacts, "kiosk-rare-characters")


def test_a_result_arriving_after_the_app_stopped_is_dropped(kiosk, caplog):
    """A device that answers while the app shuts down: its result never reaches the stopped
    app's screens (their kv rules read ``app``, which is gone), and the drop is logged."""
    import threading

    from kiosk import worker

    ui = kiosk()
    release, delivered = threading.Event(), []
    fut = worker.submit(lambda: release.wait(10) and "late answer", delivered.append, delivered.append)
    ui.frames(2)
    assert not fut.done()
    stop_app(ui)
    with caplog.at_level("INFO", logger="kiosk.worker"):
        release.set()
        fut.result(timeout=5)
        ui.wait(lambda: any("its app has stopped" in r.getMessage() for r in caplog.records),
                what="the dropped result's log line")
    assert delivered == []
    after = kiosk()                  # and the next app gets its results as usual
    got = []
    worker.submit(lambda: 42, got.append)
    after.wait(lambda: got == [42], what="the result for the running app")
