"""Counter and diagnostics: PIN login by touch, device rows, the sync queue."""

import pytest

from pos.config import parse_config

from .kivy_harness import start_app, stop_app


@pytest.fixture
def front(tmp_path):
    uis = []

    def start(name, **kw):
        kw.setdefault("store_path", str(tmp_path / "staff.sqlite"))
        ui = start_app(name, **kw)
        uis.append(ui)
        return ui

    yield start
    for ui in uis:
        stop_app(ui)


def enter_pin(ui, pin):
    pad = ui.screen().ids.pad
    keys = {b.text: b for b in pad.children}
    for digit in pin:
        ui.tap(keys[digit])
    ui.tap(ui.screen().ids.key_ok)


def test_diag_requires_the_technician_pin_and_lists_devices(front, artifacts):
    ui = front("diag", language="en")
    assert ui.app.sm.current == "login"
    enter_pin(ui, "1234")  # the cashier's PIN is not the technician's
    ui.wait(lambda: "Wrong PIN" in ui.screen().ids.message.text, what="refusal")
    assert ui.app.sm.current == "login" and ui.app.staff_role == ""
    enter_pin(ui, "4321")
    ui.wait(lambda: ui.app.sm.current == "diag", what="diag screen")
    ui.settle()
    rows = ui.screen().rows
    ui.wait(lambda: all(r.state == "connected" for r in rows.values()), what="device rows")
    assert set(rows) == {"card_reader", "id_reader", "receipt_printer", "label_printer",
                         "payment_terminal", "scanner", "camera"}
    ui.tap(rows["receipt_printer"].children[0])  # "Probe"
    ui.wait(lambda: rows["receipt_printer"].state == "connected" and "ready" in rows["receipt_printer"].reason,
            what="probe result")
    ui.screenshot(artifacts, "diag-devices-en")
    ui.tap(ui.find("Log out"))
    ui.settle()
    assert ui.app.sm.current == "login" and ui.app.staff_role == ""


def test_wrong_pins_lock_the_login(front):
    ui = front("counter", language="zh-Hans")
    for _ in range(5):
        enter_pin(ui, "0000")
        ui.frames(10)
        ui.wait(lambda: ui.screen().ids.message.text, what="message")
    ui.wait(lambda: "一分钟" in ui.screen().ids.message.text, what="lockout")
    enter_pin(ui, "1234")  # right PIN, but locked
    ui.frames(10)
    assert ui.app.sm.current == "login"


def test_no_configured_pin_refuses_login(front):
    ui = front("counter", language="en", config=parse_config('[devices]\ncamera = "sim://camera"\n'))
    enter_pin(ui, "1234")
    assert "No PIN is configured" in ui.screen().ids.message.text


def test_counter_shows_the_sync_queue_and_activity(front, artifacts):
    ui = front("counter", language="zh-Hant")
    with ui.app.store.transaction() as tx:
        tx.emit("help.requested", {"device": "K1", "screen": "home", "lang": "zh-Hant", "at": "2026-12-07T01:00:00Z"})
    enter_pin(ui, "1234")
    ui.wait(lambda: ui.app.sm.current == "counter_home", what="counter home")
    ui.settle()
    ui.wait(lambda: "1" in ui.screen().ids.queue.text, what="queue count")
    assert "待同步" in ui.screen().ids.queue.text
    ui.find("自助機 K1 呼叫協助")
    ui.screenshot(artifacts, "counter-home-zh-Hant")


def test_counter_shows_offline_since_and_the_queue(front, tmp_path):
    import socket

    from kiosk.launch import demo_config_path
    from pos.config import load_config

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                  # nothing listens there: the server is unreachable
    cfg = load_config(demo_config_path())
    cfg.values["sync"] = {"server_url": f"http://127.0.0.1:{port}", "interval": 1}
    ui = front("counter", language="en", config=cfg)
    with ui.app.store.transaction() as tx:
        tx.emit("kiosk.help_requested", {"screen": "home"})
    enter_pin(ui, "1234")
    label = ui.app.root.ids.sync_status
    ui.wait(lambda: "Offline since" in label.text and "1 waiting" in label.text, timeout=20, what="offline status")
    assert ui.app.sync_worker.status().online is False
