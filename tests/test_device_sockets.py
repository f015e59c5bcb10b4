"""Every TCP device link sets TCP_NODELAY: a job's last write (a status query, an APDU) must not
wait for the peer's delayed ACK. Checked on the real sockets, against the virtual devices."""

from __future__ import annotations

import socket

import pytest

from drivers.escpos.transport import TcpTransport
from drivers.sim.printer import VirtualPrinter
from drivers.zvt.transport import TcpLink

from .zvt_sim_helpers import sim_terminal


def _nodelay(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


@pytest.mark.parametrize("scheme", ["escpos+tcp", "zpl+tcp"])
def test_printer_sockets_set_nodelay(artifacts, scheme):
    from drivers.registry import open_device

    with VirtualPrinter(out_dir=artifacts / "printer-nodelay") as vp:
        role = "label_printer" if scheme.startswith("zpl") else "receipt_printer"
        printer = open_device(f"{scheme}://127.0.0.1:{vp.port}", role)
        try:
            printer.status()              # opens the link and asks the printer
            socks = [v._sock for v in vars(printer).values() if isinstance(v, TcpTransport)]
            socks += [v._sock for obj in vars(printer).values() if hasattr(obj, "__dict__")
                      for v in vars(obj).values() if isinstance(v, TcpTransport)]
            assert socks and all(s is not None and _nodelay(s) for s in socks)
        finally:
            printer.close()


def test_plain_socket_default_is_nagle():
    """The check above can fail: a plain TCP socket does not set it by itself."""
    srv = socket.create_server(("127.0.0.1", 0))
    try:
        c = socket.create_connection(srv.getsockname())
        assert not _nodelay(c)
        c.close()
    finally:
        srv.close()


def test_zvt_link_sets_nodelay(tmp_path):
    with sim_terminal(tmp_path / "sim", "tcp") as (_sim, url):
        host, port = url.split("://", 1)[1].split("?")[0].rstrip("/").split(":")
        link = TcpLink(host, int(port))
        try:
            assert _nodelay(link.sock)
        finally:
            link.close()
