"""A fault-injecting HTTP/1.1 proxy on loopback, for testing sync against a bad network.

Each client connection carries one request (the sync client sends ``Connection: close``). For each,
a seeded RNG picks an action by weight:

``pass``           forward, return the response.
``drop_request``   close the client connection; the server never sees the request.
``drop_response``  forward (the server commits), then close without answering.
``duplicate``      forward twice, return the first response.
``delay``          wait, then forward.
``reset``          forward, send half the response, then reset the connection (RST).
``reorder``        hold the request and reset the client; deliver the request later, after the
                   next request has gone through (a stale message arriving out of order).

``proxy.upstream`` can be changed while it runs (a restarted server on a new port);
``proxy.counts`` tells which actions fired. Everything runs in daemon threads.
"""

from __future__ import annotations

import collections
import logging
import random
import socket
import struct
import threading
import time

__all__ = ["FaultProxy", "ACTIONS"]

log = logging.getLogger(__name__)

ACTIONS = ("pass", "drop_request", "drop_response", "duplicate", "delay", "reset", "reorder")


def _read_request(sock: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


def _rst(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class FaultProxy:
    def __init__(self, upstream: tuple[str, int], seed: int = 0, weights: dict[str, float] | None = None,
                 delay: tuple[float, float] = (0.02, 0.2)):
        self.upstream = upstream
        self.rng = random.Random(seed)
        self.weights = dict(weights or {"pass": 1.0})
        self.delay = delay
        self.counts: collections.Counter = collections.Counter()
        self._held: list[bytes] = []
        self._lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True, name="faultproxy")

    def start(self) -> "FaultProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop = True
        try:
            self.sock.close()
        except OSError:
            pass

    def heal(self) -> None:
        """Only ``pass`` from now on; deliver whatever was held back."""
        with self._lock:
            self.weights = {"pass": 1.0}
            held, self._held = self._held, []
        for req in held:
            self._forward_quietly(req)

    def _choose(self) -> str:
        with self._lock:
            names = list(self.weights)
            action = self.rng.choices(names, [self.weights[n] for n in names])[0]
            pause = self.rng.uniform(*self.delay)
            self.counts[action] += 1
            return action, pause

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(self.upstream, timeout=30) as up:
            up.sendall(request)
            chunks = []
            while True:
                chunk = up.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks)

    def _forward_quietly(self, request: bytes) -> None:
        try:
            self._forward(request)
        except OSError as exc:
            log.debug("held request lost: %s", exc)

    def _release_held(self) -> None:
        with self._lock:
            held, self._held = self._held, []
        for req in held:
            self._forward_quietly(req)

    def _handle(self, client: socket.socket) -> None:
        try:
            client.settimeout(30)
            request = _read_request(client)
            if request is None:
                client.close()
                return
            action, pause = self._choose()
            if action == "drop_request":
                client.close()
                return
            if action == "reorder":
                with self._lock:
                    self._held.append(request)
                _rst(client)
                return
            if action == "delay":
                time.sleep(pause)
            try:
                response = self._forward(request)
            except OSError:
                _rst(client)            # upstream down: like a refused connection for the client
                return
            if action == "duplicate":
                self._forward_quietly(request)
            self._release_held()
            if action == "drop_response":
                client.close()
                return
            if action == "reset":
                client.sendall(response[: len(response) // 2])
                _rst(client)
                return
            client.sendall(response)
            client.close()
        except OSError as exc:
            log.debug("proxy connection error: %s", exc)
            try:
                client.close()
            except OSError:
                pass
