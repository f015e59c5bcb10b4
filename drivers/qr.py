"""QR decoding for e-vouchers and other codes: OpenCV first, zxing-cpp as the fallback.

OpenCV's ``QRCodeDetector`` misses some codes (mixed segments, dense versions); zxing-cpp reads
them. :func:`payload_identity` turns a decoded payload into an ``evoucher`` identity: the token
is resolved to a person later by the insurance gateway, so nothing in the code is trusted as a
name. Payloads with control characters or beyond what a QR code can hold are refused.
"""

from __future__ import annotations

import json
import logging
import unicodedata

from .errors import ProtocolError
from .identity import Identity

__all__ = ["QrDecoder", "payload_identity", "MAX_PAYLOAD", "BadCode"]

log = logging.getLogger(__name__)

MAX_PAYLOAD = 7089          # the most a QR code holds (numeric, version 40-L)
_TOKEN_KEYS = ("token", "ecToken", "ec_token", "qrCode", "code")


class BadCode(ProtocolError):
    user_message = "This code cannot be used here. Please show the code from your insurance app."


class QrDecoder:
    """``decode(frame)`` -> list of payload strings. ``engine``: auto | cv2 | zxing."""

    def __init__(self, engine: str = "auto"):
        if engine not in ("auto", "cv2", "zxing"):
            raise ValueError(f"QR engine must be auto, cv2 or zxing, not {engine!r}")
        self.engine = engine
        self._cv = None
        self.last_engine: str | None = None

    def _cv2(self, frame) -> list[str]:
        import cv2
        if self._cv is None:
            self._cv = cv2.QRCodeDetector()
        try:
            text, _points, _ = self._cv.detectAndDecode(frame)
        except cv2.error as exc:
            log.debug("cv2 QR decode failed: %s", exc)
            return []
        return [text] if text else []

    @staticmethod
    def _zxing(frame) -> list[str]:
        import zxingcpp
        out = []
        for code in zxingcpp.read_barcodes(frame, formats=zxingcpp.BarcodeFormat.QRCode):
            if code.valid if hasattr(code, "valid") else True:
                raw = bytes(code.bytes)
                try:
                    out.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    out.append(code.text)
        return out

    def decode(self, frame) -> list[str]:
        if self.engine in ("auto", "cv2"):
            got = self._cv2(frame)
            if got or self.engine == "cv2":
                self.last_engine = "cv2"
                return got
        self.last_engine = "zxing"
        return self._zxing(frame)


def payload_identity(payload: str) -> Identity:
    """An ``evoucher`` identity from a QR/barcode payload; :class:`BadCode` for unusable codes."""
    if not isinstance(payload, str):
        raise BadCode("code payload is not text")
    if len(payload) > MAX_PAYLOAD:
        raise BadCode(f"code payload of {len(payload)} characters is more than a QR code holds")
    text = payload.strip()
    if not text:
        raise BadCode("empty code")
    bad = [c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Cn") and c not in "\t"]
    if bad:
        raise BadCode(f"code contains control characters ({', '.join(sorted({f'U+{ord(c):04X}' for c in bad}))})")
    token, kind = text, "opaque"
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            kind = "json"
            for key in _TOKEN_KEYS:
                if isinstance(obj.get(key), str) and obj[key].strip():
                    token = obj[key].strip()
                    break
    return Identity(source="evoucher", token=token, extra={"payload": text, "kind": kind, "length": len(text)})
