"""Technician self-tests driven by touches through the real diagnostics UI, against the
simulators over their real transports: the virtual printer and terminal on TCP, the SAM_V ID-card
module on a pty, the PC/SC card through pcscd + vpcd (when the stack can start), a camera playing
an image file, and a keyboard-wedge scanner typing through the window."""

from __future__ import annotations

import tomllib

import pytest

from tests.pcsc_stack import READER, running_stack, use_private_socket

use_private_socket()       # before any PC/SC call in this process (same socket as tests/test_pcsc.py)

from drivers.keyboard_layouts import as_typed  # noqa: E402
from drivers.sim.printer import VirtualPrinter  # noqa: E402
from drivers.sim.samv import SamvModule  # noqa: E402
from drivers.sim.scanner import SerialScannerSim  # noqa: E402
from drivers.sim.zvt_terminal import SimTerminal, TcpFrontEnd  # noqa: E402
from kiosk import selftest  # noqa: E402
from pos.config import parse_config  # noqa: E402

from .conftest import ROOT  # noqa: E402
from .kivy_harness import start_app, stop_app  # noqa: E402

CARDS = ROOT / "assets" / "cards"
DEMO = tomllib.loads((ROOT / "assets" / "config" / "demo.toml").read_text(encoding="utf-8"))
TECH_PIN = DEMO["staff"]["technician_pin"]
QR_TEXT = "onestop diag 二维码 test"


def config_text(devices: dict) -> str:
    lines = ["[site]", 'name = "示范医院 Demo Hospital"', 'counter_window = "3"', "[devices]"]
    lines += [f'{role} = "{url}"' for role, url in devices.items()]
    lines += ["[staff]", f'technician_pin = "{TECH_PIN}"']
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def qr_png(tmp_path_factory):
    from drivers.codes import qr_image

    path = tmp_path_factory.mktemp("camera") / "qr.png"
    qr_image(QR_TEXT, box=8, border=4).convert("RGB").save(path)
    return path


@pytest.fixture(scope="module")
def sims(tmp_path_factory, qr_png):
    from tests.conftest import ARTIFACTS

    printer = VirtualPrinter(out_dir=ARTIFACTS / "diag-printer").start()
    terminal = SimTerminal(tmp_path_factory.mktemp("zvt"))
    front = TcpFrontEnd(terminal).start()
    card = tomllib.loads((CARDS / "cnid_li.toml").read_text(encoding="utf-8"))["card"]
    samv = SamvModule(card).start()
    scanner = SerialScannerSim()
    devices = {
        "card_reader": f"pcsc://{READER}",
        "id_reader": f"cnid+serial://{samv.port_name}",
        "receipt_printer": f"escpos+tcp://127.0.0.1:{printer.port}",
        "label_printer": "",
        "payment_terminal": f"{front.url}?timeout=3&ack_timeout=2",
        "scanner": f"scanner+serial://{scanner.port_name}",
        "camera": f"camera+file://{qr_png}",
    }
    yield {"printer": printer, "terminal": terminal, "samv": samv, "devices": devices, "card": card,
           "scanner": scanner}
    front.stop()
    scanner.close()
    printer.stop()
    samv.stop()


@pytest.fixture(scope="module")
def diag_app(tmp_path_factory, sims):
    """One diagnostics app for the module (start-up and login render every label: seconds)."""
    ui = start_app("diag", config=parse_config(config_text(sims["devices"])), language="en",
                   store_path=str(tmp_path_factory.mktemp("diag") / "diag.sqlite"))
    try:
        login(ui)
        yield ui
    finally:
        stop_app(ui)


@pytest.fixture
def diag(diag_app, sims):
    """The app on its device list, with fresh counters and healthy simulators."""
    ui = diag_app
    selftest.COUNTERS.clear()
    selftest.LAST_ERRORS.clear()
    sims["printer"].set_state(paper_out=False)
    sims["samv"].card = sims["card"]
    if ui.app.sm.current != "diag":
        ui.app.go("diag")
        ui.settle()
    yield ui
    if ui.app.sm.current != "diag":
        ui.app.go("diag")
        ui.settle()


def login(ui, pin="4321"):
    pad = ui.screen().ids.pad
    keys = {b.text: b for b in pad.children}
    for digit in pin:
        ui.tap(keys[digit])
    ui.tap(ui.screen().ids.key_ok)
    ui.wait(lambda: ui.app.sm.current == "diag", what="diag screen")
    ui.settle()


def open_test(ui, role):
    row = ui.screen().rows[role]
    scroll = row.parent.parent.parent
    scroll.scroll_to(row, padding=4, animate=False)
    ui.frames(3)
    ui.tap(row.children[1])          # "Self-test"
    ui.settle()
    screen = ui.screen()
    assert ui.app.sm.current == "diag_test" and screen.role == role
    return screen


def run_action(ui, screen, method, timeout=20.0):
    ui.tap(screen.buttons[method])
    ui.wait(lambda: screen.outcome and not screen.busy, timeout=timeout, what=f"{method} to finish")
    return screen


def back(ui):
    ui.tap(ui.screen().ids.back)
    ui.settle()
    assert ui.app.sm.current == "diag"


def test_printer_self_test_prints_the_test_page(diag, sims, artifacts):
    ui = diag
    screen = open_test(ui, "receipt_printer")
    run_action(ui, screen, "do_printer_status")
    assert screen.outcome == "ok" and screen.lines[:2] == ["Status: Ready", "Paper: enough"]
    assert not any("_" in line or "False" in line for line in screen.lines)    # no raw keys (item 22)
    before = len(sims["printer"].docs)
    run_action(ui, screen, "do_print_test")
    assert screen.outcome == "ok", screen.lines
    doc = sims["printer"].wait_docs(before + 1)[-1]
    assert "PRINTER TEST PAGE" in doc.text and f"127.0.0.1:{sims['printer'].port}" in doc.text
    assert doc.cut
    job = ui.app.store.conn.execute("SELECT kind, state, role FROM print_jobs WHERE job_id = ?",
                                    (screen.last_result.data["job_id"],)).fetchall()
    assert job == [("test_page", "printed", "receipt_printer")]
    ui.screenshot(artifacts, "diag-test-printer-done-en")
    back(ui)
    row = ui.screen().rows["receipt_printer"]
    assert row.counters.get("tests") == 2 and not row.counters.get("failures")


def test_printer_out_of_paper_shows_the_fault(diag, sims):
    ui = diag
    sims["printer"].set_state(paper_out=True)
    screen = open_test(ui, "receipt_printer")
    run_action(ui, screen, "do_print_test")
    assert screen.outcome == "fail"
    assert ui.find("The test page was not printed.")
    assert ui.app.store.conn.execute("SELECT state FROM print_jobs WHERE job_id = ?",
                                     (screen.last_result.data["job_id"],)).fetchall() == [("failed",)]
    back(ui)
    row = ui.screen().rows["receipt_printer"]
    assert row.counters["failures"] == 1 and row.last_error


def test_terminal_enquiry_and_test_payment_net_zero(diag, sims, artifacts):
    ui = diag
    screen = open_test(ui, "payment_terminal")
    run_action(ui, screen, "do_enquiry")
    assert screen.outcome == "ok" and any("terminal_id" in line for line in screen.lines)
    run_action(ui, screen, "do_test_payment", timeout=30)
    assert screen.outcome == "ok", screen.lines
    ui.screenshot(artifacts, "diag-test-terminal-done-en")
    ledger = [e for e in sims["terminal"].ledger.entries() if e.get("result") == "approved"]
    assert [(e["kind"], e["amount_fen"]) for e in ledger] == [("sale", 1), ("reversal", 1)]
    assert ledger[1]["reverses"] == ledger[0]["receipt_no"]
    net = sum(e["amount_fen"] * (1 if e["kind"] == "sale" else -1) for e in ledger)
    assert net == 0
    rows = ui.app.store.conn.execute("SELECT kind, amount_fen, state, account FROM payment_attempts "
                                     "ORDER BY created_at").fetchall()
    assert rows == [("sale", 1, "reversed", selftest.DIAG_ACCOUNT), ("reversal", 1, "posted", selftest.DIAG_ACCOUNT)]
    # the screen never shows a full card number (the simulator sends one on purpose)
    assert not any(c.isdigit() and len(c) >= 13 for line in screen.lines for c in line.split())


def test_id_card_read_on_pty(diag, sims, artifacts):
    ui = diag
    screen = open_test(ui, "id_reader")
    run_action(ui, screen, "do_read_card")
    assert screen.outcome == "ok", screen.lines
    text = "\n".join(screen.lines)
    assert "id_number: 11010119900101004X" in text and "name: 李𠀀华" in text and "ATR: -" in text
    assert b"\x30\x01" in sims["samv"].commands
    ui.screenshot(artifacts, "diag-test-idcard-done-en")


def test_id_card_missing_gives_a_clear_failure(diag, sims):
    ui = diag
    sims["samv"].card = None
    screen = open_test(ui, "id_reader")
    screen.card_timeout = 0.5
    run_action(ui, screen, "do_read_card")
    assert screen.outcome == "fail" and "DeviceTimeout" in "\n".join(screen.lines)
    assert ui.find("The card could not be read.")
    back(ui)
    assert "DeviceTimeout" in ui.screen().rows["id_reader"].last_error


def test_scanner_layout_check(diag, sims, artifacts):
    from kivy.core.window import Window

    ui = diag
    screen = open_test(ui, "scanner")
    ui.wait(lambda: screen.preview is not None, what="test code on screen")
    ui.screenshot(artifacts, "diag-test-scanner-en")

    def scan(text):
        for ch in text:
            Window.dispatch("on_textinput", ch)
        Window.dispatch("on_key_down", 13, 0, None, [])

    scan(as_typed(selftest.SCANNER_TEST_CODE, "azerty"))
    ui.wait(lambda: screen.outcome, what="layout verdict")
    assert screen.outcome == "fail" and "AZERTY" in "\n".join(screen.lines)
    assert ui.find("different keyboard layouts")
    ui.tap(screen.buttons["do_scanner"])
    scan(selftest.SCANNER_TEST_CODE)
    ui.wait(lambda: screen.outcome, what="layout verdict")
    assert screen.outcome == "ok", screen.lines
    # the configured scanner is a serial one: the technician scans once the screen says it listens
    ui.tap(screen.buttons["do_scanner"])
    ui.wait(lambda: screen.progress == "Waiting for the scanner...", what="serial scanner listening")
    sims["scanner"].scan(selftest.SCANNER_TEST_CODE)
    ui.wait(lambda: screen.outcome, what="serial scan verdict")
    assert screen.outcome == "ok", screen.lines
    assert f"typed: {selftest.SCANNER_TEST_CODE}" in screen.lines
    back(ui)
    assert ui.screen().rows["scanner"].counters == {"tests": 3, "failures": 1}


def test_camera_preview_decodes_qr(diag, artifacts):
    ui = diag
    screen = open_test(ui, "camera")
    ui.tap(screen.buttons["do_camera"])
    ui.wait(lambda: screen.outcome == "ok", timeout=20, what="QR decoded")
    assert f"code: {QR_TEXT}" in screen.lines
    assert screen.preview is not None and screen.preview.size[0] > 100
    assert screen.ids.preview.texture is screen.preview
    ui.screenshot(artifacts, "diag-test-camera-en")
    ui.tap(screen.buttons["do_camera_stop"])
    ui.wait(lambda: "frames" in selftest.COUNTERS.get("camera", {}), what="camera stopped")
    assert selftest.COUNTERS["camera"]["frames"] >= 1


pcsc_stack = pytest.fixture(scope="module", name="pcsc_stack")(running_stack)


@pytest.mark.pcsc
def test_social_security_card_atr_and_record_via_pcscd(pcsc_stack, diag, artifacts):
    ui = diag
    pcsc_stack.insert(CARDS / "ssse_wang.toml")
    try:
        screen = open_test(ui, "card_reader")
        run_action(ui, screen, "do_read_card", timeout=30)
        assert screen.outcome == "ok", screen.lines
        atr = next(line for line in screen.lines if line.startswith("ATR: "))
        assert len(atr.split()) > 5        # real ATR bytes from vpcd, hex
        assert "source: ssc" in screen.lines
        ui.screenshot(artifacts, "diag-test-card-done-en")
    finally:
        pcsc_stack.remove_all()


def test_sim_devices_are_refused_before_any_journal_row(store):
    """sim:// only reports a status: the self-tests say so and leave no half-made job or intent."""
    from pos.payments.service import PaymentService
    from pos.printing import PrintJournal

    cfg = parse_config(config_text({"receipt_printer": "sim://receipt_printer",
                                    "payment_terminal": "sim://payment_terminal"}))
    res = selftest.print_test_page(cfg, PrintJournal(store), "sim://receipt_printer", "receipt_printer")
    assert not res.ok and "cannot print" in res.error
    res = selftest.test_payment(PaymentService(store), "sim://payment_terminal")
    assert not res.ok and "cannot take payments" in res.error
    res = selftest.read_card("sim://card_reader", "card_reader")
    assert not res.ok and "cannot read cards" in res.error
    assert store.conn.execute("SELECT count(*) FROM print_jobs").fetchone()[0] == 0
    assert store.conn.execute("SELECT count(*) FROM payment_attempts").fetchone()[0] == 0
    assert selftest.COUNTERS["payment_terminal"]["failures"] >= 1


def test_bundle_written_to_the_usb_stick_by_touch(diag, tmp_path):
    """Item 24: "Write to USB stick" puts the bundle on the stick (here a folder configured as the
    stick's mount point, kiosk.usb_path), readable, without secrets."""
    import zipfile

    ui = diag
    stick = tmp_path / "STICK"
    stick.mkdir()
    ui.app.site.values.setdefault("kiosk", {})["usb_path"] = str(stick)
    try:
        screen = ui.screen()
        ui.tap(screen.ids.usb_button)
        ui.wait(lambda: screen.message == "Diagnostics bundle written to the USB stick:", timeout=20,
                what="bundle on the stick")
        (path,) = stick.glob("onestop-diag-*.zip")
        assert screen.detail == str(path)
        ui.find(path.name)
        with zipfile.ZipFile(path) as z:
            assert {"README.txt", "config.json", "devices.json", "logs/onestop.log", "versions.json"} <= set(z.namelist())
            assert TECH_PIN not in z.read("config.json").decode("utf-8")
        assert not list(stick.glob("*.part"))
        # the stick is pulled: the technician is told, nothing is written elsewhere
        ui.app.site.values["kiosk"]["usb_path"] = str(tmp_path / "gone")
        from kiosk import diagbundle

        if diagbundle.removable_mounts(""):
            return          # this machine has a real stick mounted: the next check does not apply
        ui.tap(screen.ids.usb_button)
        ui.wait(lambda: screen.message == "No USB stick found. Insert one and try again.", timeout=20,
                what="no stick")
    finally:
        ui.app.site.values["kiosk"].pop("usb_path", None)
