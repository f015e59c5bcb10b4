"""``camera://`` and ``camera+file://`` - e-voucher (医保电子凭证) and other QR codes from a camera.

URL format::

    camera://INDEX[?engine=auto|cv2|zxing]                  a V4L2 camera (/dev/videoINDEX)
    camera+file:///PATH[?engine=auto|cv2|zxing&loop=0|1]    image file, folder of images, or video

Frames are decoded with OpenCV's QRCodeDetector, falling back to zxing-cpp (``engine=auto``).
The result is an identity with ``source: evoucher`` and the token; the insurance gateway turns
the token into a person later. :meth:`CameraScanner.take_photo` takes a still JPEG instead (the
kiosk's check-in photo).
"""

from __future__ import annotations

import logging
import threading
import time

from .base import Device
from .errors import BadDeviceURL, DeviceNotFound, DeviceTimeout
from .identity import Identity
from .qr import QrDecoder, payload_identity
from .status import DeviceStatus
from .url import DeviceURL

__all__ = ["GRAMMAR", "OPTIONS", "ROLES", "open", "probe", "CameraScanner"]

log = logging.getLogger(__name__)

GRAMMAR = "camera://INDEX[?engine=auto|cv2|zxing] or camera+file:///PATH[?engine=...&loop=0|1]"
OPTIONS = {"engine": (str, "auto"), "loop": (bool, False)}
ROLES = ("camera",)


def _source(url: DeviceURL, loop: bool):
    if url.scheme == "camera+file":
        from .sim.camera import FileCamera
        try:
            return FileCamera(url.path, loop=loop)
        except FileNotFoundError as exc:
            raise DeviceNotFound(f"{url.raw}: {exc}") from exc
    if not url.netloc.isdigit():
        raise BadDeviceURL(f"{url.raw!r}: camera index must be a number (format: {GRAMMAR})")
    import cv2
    cap = cv2.VideoCapture(int(url.netloc))
    if not cap.isOpened():
        raise DeviceNotFound(f"{url.raw}: camera {url.netloc} cannot be opened",
                             user_message="The camera is not working. Please use the card reader.")
    return cap


class CameraScanner(Device):
    def __init__(self, url: DeviceURL, role: str | None = "camera"):
        super().__init__(url, role)
        opts = url.options_for(OPTIONS, GRAMMAR)
        try:
            self.decoder = QrDecoder(opts["engine"])
        except ValueError as exc:
            raise BadDeviceURL(f"{url.raw!r}: {exc} (format: {GRAMMAR})") from None
        self.loop = opts["loop"]
        self.source = None
        self.frames = 0
        self.last_read: Identity | None = None
        self._closed = threading.Event()

    def _open(self):
        if self.source is None:
            self.source = _source(self.url, self.loop)
        return self.source

    def read_frame(self):
        """The next frame (numpy BGR) or None; for previews and self-tests (decode with ``decoder``).

        Reads hold the device lock, which :meth:`close` takes before releasing the capture:
        OpenCV frees a capture released under a read in another thread (a segfault)."""
        with self._lock:
            if self._closed.is_set():
                return None
            src = self._open()
            got = src.read()
        if isinstance(got, tuple):      # cv2.VideoCapture
            ok, frame = got
            return frame if ok else None
        return got

    def read_identity(self, timeout: float | None = None, cancel: threading.Event | None = None) -> Identity:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while True:
                if self._closed.is_set() or (cancel is not None and cancel.is_set()):
                    raise DeviceTimeout("waiting for a code was cancelled")
                frame = self.read_frame()
                if frame is None and self._closed.is_set():
                    raise DeviceTimeout("waiting for a code was cancelled")
                if frame is not None:
                    self.frames += 1
                    for payload in self.decoder.decode(frame):
                        ident = payload_identity(payload)
                        log.info("%s: code read by %s (%d chars)", self.url.raw, self.decoder.last_engine,
                                 len(payload))
                        self.count("reads")
                        self.last_read = ident
                        return ident
                elif self.url.scheme == "camera+file" and not self.loop:
                    raise DeviceTimeout(f"{self.url.raw}: the video ended without a readable code",
                                        user_message="No code was found. Please hold the code still in front of the camera.")
                if deadline is not None and time.monotonic() >= deadline:
                    raise DeviceTimeout(f"no code seen by {self.url.raw} within {timeout:g} s",
                                        user_message="No code was found. Please hold the code still in front of the camera.")
                if frame is None or self.url.scheme == "camera+file":
                    time.sleep(0.02)

    _frame = read_frame          # the name kiosk/selftest.py used before read_frame existed

    def take_photo(self, max_side: int = 320, quality: int = 75, timeout: float = 3.0) -> bytes:
        """A still photo (a person at a kiosk): the next frame, scaled down so that its long side is
        at most ``max_side`` pixels, as JPEG bytes (OpenCV's encoder, ``quality`` 1-100). Raises
        DeviceTimeout when the camera gives no frame within ``timeout`` seconds."""
        import cv2

        deadline = time.monotonic() + timeout
        while True:
            frame = self.read_frame()
            if frame is not None:
                break
            if self._closed.is_set() or time.monotonic() >= deadline:
                raise DeviceTimeout(f"{self.url.raw}: no frame for a photo within {timeout:g} s",
                                    user_message="The camera is not working. Please ask at the counter.")
            time.sleep(0.02)
        h, w = frame.shape[:2]
        scale = min(1.0, max_side / max(h, w))
        if scale < 1.0:
            frame = cv2.resize(frame, (max(1, round(w * scale)), max(1, round(h * scale))),
                               interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".jpg", frame, [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
        if not ok:
            raise DeviceTimeout(f"{self.url.raw}: the frame could not be encoded as JPEG")
        self.count("photos")
        log.info("%s: photo taken (%dx%d, %d bytes)", self.url.raw, frame.shape[1], frame.shape[0], len(buf))
        return buf.tobytes()

    def status(self) -> DeviceStatus:
        try:
            self._open()
        except DeviceNotFound as exc:
            return DeviceStatus.disconnected(str(exc))
        return DeviceStatus.connected("camera ready", frames=self.frames,
                                      last_read=self.last_read.source if self.last_read else None)

    def close(self) -> None:
        self._closed.set()              # a read in progress ends within one frame
        with self._lock:
            if self.source is not None:
                self.source.release()
                self.source = None


def open(url: DeviceURL, role: str | None = "camera") -> CameraScanner:  # noqa: A001
    return CameraScanner(url, role)


def probe(url: DeviceURL, role: str | None = "camera") -> DeviceStatus:
    dev = CameraScanner(url, role)
    try:
        return dev.status()
    finally:
        dev.close()
