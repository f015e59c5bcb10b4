"""PCI: no full PAN of the simulator's test cards ends up in the store or in any log file."""

from __future__ import annotations

import logging
import re
import subprocess

from drivers.pci import RedactingFilter, install_log_redaction
from drivers.sim.zvt_terminal import TEST_CARDS
from pos.payments import PaymentService
from pos.store import Store

from .conftest import onestop_cmd
from .zvt_sim_helpers import sim_terminal


def _files(folder):
    return [p for p in folder.rglob("*") if p.is_file()]


def _assert_no_pan(paths):
    checked = 0
    for p in paths:
        blob = p.read_bytes()
        checked += len(blob)
        for card in TEST_CARDS:
            pan = card["pan"]
            assert pan.encode() not in blob, f"full PAN in {p}"
            assert pan.encode("utf-16-le") not in blob, f"full PAN (utf-16) in {p}"
            assert bytes.fromhex(pan + ("F" if len(pan) % 2 else "")) not in blob, f"BCD PAN in {p}"
    assert checked > 0


def test_no_full_pan_in_store_or_logs(tmp_path, onestop_env):
    logs = tmp_path / "logs"
    logs.mkdir()
    handler = logging.FileHandler(logs / "inproc.log", encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    install_log_redaction(root)
    store_path = tmp_path / "data" / "store.sqlite"
    try:
        for transport in ("tcp", "pty"):
            with sim_terminal(tmp_path / f"sim-{transport}", transport) as (sim, url):
                store = Store(store_path, device_id="KPCI1")
                svc = PaymentService(store)
                lines = []
                for i, _card in enumerate(TEST_CARDS):
                    sim.script.push({"action": "approve", "card": i})
                    out = svc.pay(1000 + i, terminal_url=url, account="ZY-1")
                    lines += out.receipt_lines
                    logging.getLogger("test.pci").info("receipt %s", out.receipt_lines)
                sim.script.push({"action": "decline", "card": 0}, {"action": "approve", "lose_completion": True, "card": 1})
                svc.pay(5, terminal_url=url, account="ZY-1")
                svc.pay(6, terminal_url=url, account="ZY-1")
                # the terminal did send full PANs (BMP 22 and a print line): our side masked them
                assert any(re.search(r"CARD \d{6}\*+\d{4}", line) for line in lines)
                masked = [r[0] for r in store.conn.execute("SELECT masked_pan FROM payment_attempts WHERE masked_pan IS NOT NULL")]
                assert masked and all(re.fullmatch(r"\d{6}\*+\d{4}", m) for m in masked)
                store.close()
            # and the command line, with debug logging
            with sim_terminal(tmp_path / f"sim-cli-{transport}", transport) as (sim, url):
                env = dict(onestop_env, ONESTOP_STORE=str(store_path), ONESTOP_LOG_DIR=str(logs / "cli"))
                r = subprocess.run(onestop_cmd() + ["-vv", "pay", "12.34", "--terminal", url, "--json"], env=env,
                                   capture_output=True, text=True, timeout=60)
                assert r.returncode == 0, r.stderr
                for card in TEST_CARDS:
                    assert card["pan"] not in r.stdout + r.stderr
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(old_level)
    store_files = [p for p in store_path.parent.iterdir() if p.name.startswith("store.sqlite")]
    _assert_no_pan(store_files + _files(logs))


def test_log_filter_redacts_messages_args_and_tracebacks(tmp_path):
    logger = logging.getLogger("test.pci.filter")
    logger.propagate = False
    path = tmp_path / "x.log"
    h = logging.FileHandler(path, encoding="utf-8")
    h.addFilter(RedactingFilter())
    logger.addHandler(h)
    pan = TEST_CARDS[1]["pan"]
    try:
        logger.warning("card %s seen", pan)
        logger.warning(f"spaced {pan[:4]} {pan[4:8]} {pan[8:12]} {pan[12:]}")
        try:
            raise ValueError(f"bad card {pan}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(h)
        h.close()
    text = path.read_text()
    assert pan not in text and pan[:4] + " " + pan[4:8] not in text
    assert text.count("476173******0119") == 3
