"""The generic MLLP transport (sync/mllp.py) over real loopback sockets written by hand: frames in
one write or split anywhere (even between 0x1C and 0x0D), bytes outside frames, the size limit,
and our client against python-hl7's own MLLP client reading the same server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sync import mllp


@pytest.fixture
def server():
    seen = []

    def handler(msg: bytes) -> bytes:
        seen.append(msg)
        return b"ACK:" + msg[:20]
    s = mllp.MllpServer(handler, lambda head: b"TOO BIG:" + head[:10], max_bytes=1000).start()
    s.seen = seen
    yield s
    s.stop()


def replies(sock: socket.socket, n: int) -> list[bytes]:
    buf = b""
    sock.settimeout(10)
    while buf.count(b"\x1c\x0d") < n:
        chunk = sock.recv(65536)
        assert chunk, buf
        buf += chunk
    return [f.strip(b"\x0b") for f in buf.split(b"\x1c\x0d")[:n]]


def test_two_frames_in_one_write_and_garbage_between(server):
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(b"noise\r\n\x0bMSH|one\x1c\x0djunk\x0bMSH|two\x1c\x0d")
        assert replies(s, 2) == [b"ACK:MSH|one", b"ACK:MSH|two"]
    assert server.seen == [b"MSH|one", b"MSH|two"]


@pytest.mark.parametrize("cut", [1, 5, -2, -1])
def test_a_frame_split_anywhere(server, cut):
    frame = b"\x0bMSH|split here\x1c\x0d"
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(frame[:cut])
        time.sleep(0.05)
        s.sendall(frame[cut:])
        assert replies(s, 1) == [b"ACK:MSH|split here"]


def test_an_oversized_frame_is_answered_once_and_skipped(server):
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(b"\x0bMSH|big" + b"x" * 5000)
        time.sleep(0.05)
        s.sendall(b"y" * 5000 + b"\x1c")
        time.sleep(0.05)
        s.sendall(b"\x0d\x0bMSH|after\x1c\x0d")
        assert replies(s, 2) == [b"TOO BIG:MSH|bigxxx", b"ACK:MSH|after"]
    assert server.seen == [b"MSH|after"]
    assert server.stats.oversized == 1


def test_our_client_and_python_hl7s_client_against_the_server(server, tmp_path):
    assert mllp.send_sync("127.0.0.1", server.port, b"MSH|ours") == b"ACK:MSH|ours"
    f = tmp_path / "m.hl7"
    f.write_bytes(b"MSH|^~\\&|theirs\r")
    cmd = [str(Path(sys.executable).parent / "mllp_send"), "--loose", "-f", str(f), "-p", str(server.port), "127.0.0.1"]
    out = subprocess.run(cmd, capture_output=True, timeout=30)
    assert out.returncode == 0 and b"ACK:MSH|^~\\&|theirs" in out.stdout
    with pytest.raises(mllp.MllpError):
        mllp.send_sync("127.0.0.1", 1, b"MSH|nobody", timeout=2)
