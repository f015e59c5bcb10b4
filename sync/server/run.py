"""Run the server: bind the socket ourselves (so ``--port 0`` works and the address is printed),
then hand it to uvicorn, with TLS when a certificate and key are given."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import sys

import uvicorn

from .app import Settings, create_app
from .db import open_backend

__all__ = ["serve", "bind"]

log = logging.getLogger(__name__)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto given explicitly: asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP, and an
    # accepted socket inherits the listener's. Without it, a response on a kept-alive connection (headers,
    # then body) waits for the client's delayed ACK: +40 ms per request (measured with bench_sync).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(256)
    sock.set_inheritable(True)
    return sock


def serve(db_url: str | None, host: str = "127.0.0.1", port: int = 8742, settings: Settings | None = None,
          tls_cert: str | None = None, tls_key: str | None = None, workers_log: bool = False,
          workers: int = 1, his: dict | None = None) -> None:
    """Serve until stopped. ``workers`` > 1 forks that many server processes on the one listening
    socket (the kernel hands each connection to one of them); each opens its own database
    connections after the fork. The server keeps no state between requests except the rate-limit
    buckets, which become per worker. One worker per core: docs/performance.md, "Sync server"."""
    settings = settings or Settings()
    sock = bind(host, port)
    scheme = "https" if tls_cert else "http"
    real_port = sock.getsockname()[1]
    children = []
    for _ in range(max(1, workers) - 1):
        pid = os.fork()
        if pid == 0:                        # a worker: serve on the inherited socket until killed
            try:
                _die_with_parent()
                _run(db_url, settings, tls_cert, tls_key, sock)
            finally:
                os._exit(0)
        children.append(pid)
    if children:
        def stop_children(*_):
            for pid in children:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass

        atexit.register(stop_children)
        signal.signal(signal.SIGTERM, lambda *_: (stop_children(), sys.exit(0)))
    backend = _run(db_url, settings, tls_cert, tls_key, sock, announce=lambda dialect: print(
        f"onestop server listening on {scheme}://{host}:{real_port} (db {dialect}, {max(1, workers)} "
        f"worker{'s' if workers > 1 else ''})", flush=True), his=his)
    _ = backend


def _die_with_parent() -> None:
    """Linux: SIGTERM this worker when the first process dies, however it dies."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))      # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the first process's exit handler still stops it
        log.debug("no PR_SET_PDEATHSIG", exc_info=True)


def _run(db_url, settings, tls_cert, tls_key, sock, announce=None, his=None):
    backend = open_backend(db_url)
    app = create_app(backend, settings)
    if announce is not None:
        announce(backend.dialect)
        sys.stdout.flush()
    if his and his.get("listen"):   # the HIS interface (HL7 v2 over MLLP), in the first process only
        from .his import from_options
        settings.his = from_options(backend, tz=settings.timezone, **his)
        print(f"onestop HIS interface on mllp://{settings.his.server.host}:{settings.his.port}", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, ssl_certfile=tls_cert,
                            ssl_keyfile=tls_key, timeout_keep_alive=5, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
    return backend
