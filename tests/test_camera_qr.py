"""E-voucher and hospital QR codes from the (virtual) camera: image files and a video file."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
import qrcode
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.errors import DeviceTimeout
from drivers.identity_wait import wait_for_identity
from drivers.qr import MAX_PAYLOAD, BadCode, QrDecoder, payload_identity
from drivers.registry import open_device, probe

from .conftest import ROOT, onestop_cmd


def qr_frame(data: str | bytes, box: int = 4, size=(720, 1280), invert=False) -> np.ndarray:
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_L, box_size=box, border=4)
    q.add_data(data)
    q.make(fit=True)
    img = np.array(q.make_image(fill_color="black", back_color="white").convert("L"))
    frame = np.full(size, 190, np.uint8)
    h, w = img.shape
    y, x = (size[0] - h) // 2, (size[1] - w) // 2
    frame[y:y + h, x:x + w] = img
    if invert:
        frame = 255 - frame
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def save(tmp_path, frame, name="code.png"):
    p = tmp_path / name
    cv2.imwrite(str(p), frame)
    return p


def read_file(path, timeout=5.0, **q):
    query = "&".join(f"{k}={v}" for k, v in q.items())
    dev = open_device(f"camera+file://{path}" + (f"?{query}" if query else ""), "camera")
    try:
        return dev.read_identity(timeout)
    finally:
        dev.close()


def test_evoucher_token_from_image(tmp_path):
    ident = read_file(save(tmp_path, qr_frame("ECT0123456789ABCDEFGHIJ")))
    assert ident.as_json()["source"] == "evoucher" and ident.token == "ECT0123456789ABCDEFGHIJ"
    assert ident.name == "" and ident.sex == "U"


def test_json_payload_gives_token_not_name(tmp_path):
    payload = json.dumps({"ecToken": "tok-42", "name": "张三"}, ensure_ascii=False)
    ident = read_file(save(tmp_path, qr_frame(payload.encode("utf-8"))))
    assert ident.token == "tok-42" and ident.name == "" and ident.extra["kind"] == "json"


def test_4k_payload_falls_back_to_zxing(tmp_path):
    payload = "HOSP" + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 111
    assert len(payload) == 4000
    frame = qr_frame(payload, box=3)
    dec = QrDecoder("auto")
    assert dec.decode(frame) == [payload]
    ident = read_file(save(tmp_path, frame))
    assert ident.token == payload


def test_inverted_code_needs_the_fallback(tmp_path):
    frame = qr_frame("INVERTED-TOKEN", invert=True)
    assert QrDecoder("cv2").decode(frame) == []
    dec = QrDecoder("auto")
    assert dec.decode(frame) == ["INVERTED-TOKEN"] and dec.last_engine == "zxing"


def test_auto_asks_zxing_first_and_opencv_when_zxing_is_missing(monkeypatch):
    frame = qr_frame("ORDER-TOKEN")
    dec = QrDecoder("auto")
    assert dec.decode(frame) == ["ORDER-TOKEN"] and dec.last_engine == "zxing"
    monkeypatch.setitem(sys.modules, "zxingcpp", None)        # import zxingcpp now raises ImportError
    dec = QrDecoder("auto")
    assert dec.decode(frame) == ["ORDER-TOKEN"] and dec.last_engine == "cv2"
    with pytest.raises(ImportError):
        QrDecoder("zxing").decode(frame)


def test_control_characters_are_refused(tmp_path):
    with pytest.raises(BadCode, match="control characters") as info:
        read_file(save(tmp_path, qr_frame(b"TOKEN\x07\x1b[2J")))
    assert info.value.user_message


def test_video_file_and_end_of_video(tmp_path):
    path = tmp_path / "clip.avi"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    blank = np.full((480, 640, 3), 128, np.uint8)
    for _ in range(5):
        w.write(blank)
    for _ in range(3):
        w.write(qr_frame("VIDEO-TOKEN-7", box=5, size=(480, 640)))
    w.release()
    dev = open_device(f"camera+file://{path}", "camera")
    assert dev.read_identity(5).token == "VIDEO-TOKEN-7" and dev.frames == 6
    dev.close()
    empty = tmp_path / "empty.avi"
    w = cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for _ in range(3):
        w.write(blank)
    w.release()
    with pytest.raises(DeviceTimeout, match="ended"):
        read_file(empty)


def test_folder_of_images_and_timeout(tmp_path):
    save(tmp_path, np.full((480, 640, 3), 255, np.uint8), "a.png")
    save(tmp_path, qr_frame("SECOND-IMAGE", size=(480, 640)), "b.png")
    assert read_file(tmp_path).token == "SECOND-IMAGE"
    still = tmp_path / "still"
    still.mkdir()
    save(still, np.full((120, 160, 3), 255, np.uint8), "x.png")
    with pytest.raises(DeviceTimeout):
        read_file(still, timeout=0.3)


def test_bad_urls_and_probe(tmp_path):
    assert probe(f"camera+file://{tmp_path}/missing.png", "camera").state.value == "disconnected"
    assert probe("camera://0?engine=magic", "camera").state.value == "error"
    assert probe("camera://abc", "camera").state.value == "error"


def test_wait_for_identity_and_cli(tmp_path, onestop_env):
    p = save(tmp_path, qr_frame("CLI-TOKEN"))
    assert wait_for_identity([("camera", f"camera+file://{p}")], timeout=5).token == "CLI-TOKEN"
    r = subprocess.run(onestop_cmd() + ["card", "read", "--reader", f"camera+file://{p}", "--json"],
                       cwd=ROOT, env=onestop_env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["token"] == "CLI-TOKEN"


@settings(max_examples=300)
@given(st.text(max_size=200) | st.builds(lambda n, c, tail: c * n + tail, st.integers(MAX_PAYLOAD - 3, MAX_PAYLOAD + 2),
                                         st.sampled_from("A\x00"), st.text(max_size=2)))
def test_fuzz_payload(text):
    try:
        ident = payload_identity(text)
    except BadCode as exc:
        assert exc.user_message
        return
    assert ident.source == "evoucher" and ident.token and len(text) <= MAX_PAYLOAD
    assert not any(ord(c) < 32 and c != "\t" for c in ident.token)


CLOSE_RACE = r"""
import sys
from drivers.identity_wait import wait_for_identity

code, video, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
won = 0
for _ in range(rounds):
    ident = wait_for_identity([("camera", f"camera+file://{code}"), ("camera", f"camera+file://{video}?loop=1")],
                              timeout=5)
    won += ident.token == "RACE-TOKEN"
print(won)
"""


def test_the_winning_read_never_closes_a_camera_under_a_read(tmp_path):
    """Two cameras wait; one reads a code while the other is inside OpenCV's read. The loser used
    to be released from the waiting thread under that read, a segfault in OpenCV."""
    code = save(tmp_path, qr_frame("RACE-TOKEN", box=5, size=(480, 640)))
    video = tmp_path / "blank.avi"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for i in range(20):
        w.write(np.full((480, 640, 3), 100 + i, np.uint8))
    w.release()
    proc = subprocess.run([sys.executable, "-c", CLOSE_RACE, str(code), str(video), "150"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["150"]
