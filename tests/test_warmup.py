"""The printing stack is warmed after the first frame: the configured printers' drivers render
once (their heavy imports and fonts loaded) and nothing is sent to a printer."""

from __future__ import annotations

import socket
import subprocess
import sys

from .conftest import ROOT


def test_warm_printing_loads_the_drivers_and_sends_nothing(tmp_path):
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(0.5)
    port = srv.getsockname()[1]
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[devices]\nreceipt_printer = "escpos+tcp://127.0.0.1:{port}?profile=TM-T88V"\n'
                   f'label_printer = "zpl+tcp://127.0.0.1:{port}"\n', encoding="utf-8")
    code = ("import sys; from pos.config import load_config; from kiosk.warmup import warm_printing; "
            f"before = {{m for m in ('escpos', 'PIL') if m in sys.modules}}; "
            f"print(sorted(before), warm_printing(load_config({str(cfg)!r})), "
            "sorted(m for m in ('escpos', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "[] ['receipt_printer', 'label_printer'] ['PIL', 'escpos']"
    try:
        conn, _ = srv.accept()
        conn.close()
        connected = True
    except socket.timeout:
        connected = False
    srv.close()
    assert not connected
