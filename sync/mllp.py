"""MLLP (the HL7 minimal lower layer protocol) over asyncio: a message is ``0x0B <bytes> 0x1C 0x0D``.

Generic platform code: it moves frames and knows nothing of HL7's content. :class:`MllpServer`
answers each complete frame with whatever its handler returns (the handler runs in a thread: it
may use the database); :func:`send` delivers one frame and returns the reply frame.

Framing rules: bytes before a start block are dropped (logged); a frame larger than ``max_bytes``
is not buffered: the handler's ``oversize(head)`` is called with its first bytes (enough for the
MSH segment) and the rest of the frame is skipped; a connection that closes inside a frame drops
that partial frame (nothing reaches the handler) and counts it in :attr:`MllpServer.stats`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["SB", "EB", "CR", "frame", "MllpServer", "send", "send_sync", "MllpError"]

log = logging.getLogger(__name__)

SB, EB, CR = b"\x0b", b"\x1c", b"\x0d"
HEAD = 4096                     # bytes of an oversized frame passed to ``oversize``


class MllpError(Exception):
    """No reply frame: the peer closed, timed out or answered without framing."""


def frame(message: bytes) -> bytes:
    return SB + message + EB + CR


@dataclass
class Stats:
    connections: int = 0            # open now
    accepted: int = 0               # since start
    frames: int = 0
    dropped_partial: int = 0        # connections closed inside a frame
    oversized: int = 0
    last_frame_at: float | None = None
    last_peer: str = ""
    errors: list = field(default_factory=list)


class MllpServer:
    """Listens on ``host:port``; ``handler(bytes) -> bytes`` answers a frame, ``oversize(head) -> bytes``
    answers a frame over ``max_bytes``. ``start()`` runs the loop in a thread (for a sync caller);
    ``port`` is the bound port once started."""

    def __init__(self, handler: Callable[[bytes], bytes], oversize: Callable[[bytes], bytes], host: str = "127.0.0.1",
                 port: int = 0, max_bytes: int = 1 << 20, idle_timeout: float = 300.0):
        self.handler, self.oversize = handler, oversize
        self.host, self.port, self.max_bytes, self.idle_timeout = host, port, max_bytes, idle_timeout
        self.stats = Stats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = None
        self._thread: threading.Thread | None = None

    async def serve(self) -> None:
        self._server = await asyncio.start_server(self._conn, self.host, self.port, limit=1 << 16)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = "%s:%s" % writer.get_extra_info("peername")[:2]
        st = self.stats
        st.connections += 1
        st.accepted += 1
        buf = bytearray()               # bytes after the start block of the open frame
        in_frame = skipping = False
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(reader.read(1 << 16), self.idle_timeout)
                except asyncio.TimeoutError:
                    log.info("mllp %s idle for %.0f s: closing", peer, self.idle_timeout)
                    break
                if not chunk:
                    if in_frame:
                        st.dropped_partial += 1
                        log.warning("mllp %s closed inside a frame (%d bytes dropped, nothing applied)", peer,
                                    len(buf))
                    break
                buf += chunk
                while True:
                    if not in_frame:
                        i = buf.find(SB)
                        if i < 0:
                            if bytes(buf).strip():
                                log.warning("mllp %s: %d bytes outside a frame dropped", peer, len(buf))
                            buf.clear()
                            break
                        del buf[:i + 1]
                        in_frame, skipping = True, False
                    j = buf.find(EB + CR)
                    if j < 0:
                        if not skipping and len(buf) > self.max_bytes:
                            st.oversized += 1
                            log.warning("mllp %s: frame over %d bytes refused", peer, self.max_bytes)
                            reply = await asyncio.to_thread(self.oversize, bytes(buf[:HEAD]))
                            writer.write(frame(reply))
                            await writer.drain()
                            skipping = True
                        if skipping:
                            del buf[:-1]            # keep a 0x1C that may end the frame with the next read
                        break
                    msg = bytes(buf[:j])
                    del buf[:j + 2]
                    in_frame = False
                    if skipping:
                        continue
                    if len(msg) > self.max_bytes:
                        st.oversized += 1
                        reply = await asyncio.to_thread(self.oversize, msg[:HEAD])
                    else:
                        st.frames += 1
                        st.last_frame_at, st.last_peer = time.time(), peer
                        reply = await asyncio.to_thread(self.handler, msg)
                    writer.write(frame(reply))
                    await writer.drain()
        except ConnectionError as exc:
            if in_frame:
                st.dropped_partial += 1
            log.warning("mllp %s: connection lost (%s)", peer, exc)
        finally:
            st.connections -= 1
            writer.close()

    # -- running in a thread, for a synchronous owner (the server process, tests) --------------------
    def start(self) -> "MllpServer":
        ready = threading.Event()
        err: list = []

        def run():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self.serve())
            except Exception as exc:            # cannot bind: tell start()
                err.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            self._server.close()
            tasks = asyncio.all_tasks(self._loop)        # open connections: end them before the loop
            for t in tasks:
                t.cancel()
            if tasks:
                self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

        self._thread = threading.Thread(target=run, name=f"mllp:{self.port}", daemon=True)
        self._thread.start()
        ready.wait(10)
        if err:
            raise err[0]
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)


async def send(host: str, port: int, message: bytes, timeout: float = 10.0) -> bytes:
    """Deliver one frame; returns the reply frame's content. :class:`MllpError` when none comes."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        raise MllpError(f"cannot connect to {host}:{port}: {exc}") from exc
    try:
        writer.write(frame(message))
        await writer.drain()
        data = await asyncio.wait_for(reader.readuntil(EB + CR), timeout)
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise MllpError(f"no reply from {host}:{port}: {exc!r}") from exc
    finally:
        writer.close()
    i = data.find(SB)
    if i < 0:
        raise MllpError(f"reply from {host}:{port} without a start block")
    return data[i + 1:-2]


def send_sync(host: str, port: int, message: bytes, timeout: float = 10.0) -> bytes:
    return asyncio.run(send(host, port, message, timeout))
