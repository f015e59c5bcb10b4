"""What kiosk and server agree on: request signing, header names and limits.

A request is signed with the device's secret (HMAC-SHA256) over::

    METHOD \\n PATH?QUERY \\n TIMESTAMP \\n NONCE \\n sha256(body) hex

and sent with ``X-Onestop-Device``, ``X-Onestop-Timestamp`` (Unix seconds, server-corrected),
``X-Onestop-Nonce`` (random, never reused) and ``X-Onestop-Signature`` (hex). The server refuses a
timestamp more than :data:`TIMESTAMP_WINDOW` seconds from its own clock and any nonce it has seen.
``X-Onestop-Device-Time`` carries the device's raw clock so the server can warn about skew.

:class:`SigningAuth` does this for an ``httpx`` client (``client.request(..., auth=SigningAuth(...))``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Callable

import httpx

__all__ = ["SigningAuth", "sign", "signing_string", "new_nonce", "H_DEVICE", "H_TS", "H_NONCE", "H_SIG", "H_DEVICE_TIME",
           "H_SERVER_TIME", "TIMESTAMP_WINDOW", "MAX_BATCH", "MAX_BODY", "SKEW_WARN_S", "PULL_LIMIT"]

H_DEVICE = "x-onestop-device"
H_TS = "x-onestop-timestamp"
H_NONCE = "x-onestop-nonce"
H_SIG = "x-onestop-signature"
H_DEVICE_TIME = "x-onestop-device-time"
H_SERVER_TIME = "x-onestop-server-time"

TIMESTAMP_WINDOW = 300       # seconds either side of the server clock
MAX_BATCH = 500              # commands per push
MAX_BODY = 2_000_000         # bytes per request
SKEW_WARN_S = 120            # device clock this far from the server's -> warning
PULL_LIMIT = 1000            # events per pull page, at most


def signing_string(method: str, path_qs: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join([method.upper(), path_qs, timestamp, nonce, hashlib.sha256(body).hexdigest()]).encode()


def sign(secret: str, method: str, path_qs: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(secret.encode(), signing_string(method, path_qs, timestamp, nonce, body), hashlib.sha256).hexdigest()


def new_nonce() -> str:
    return secrets.token_hex(16)


class SigningAuth(httpx.Auth):
    """Signs each request with the device's secret: the four ``X-Onestop-*`` headers over the
    method, the path with its query, a fresh nonce, the timestamp (``clock()``, Unix seconds: the
    caller's corrected clock) and the body."""

    requires_request_body = True

    def __init__(self, device_id: str, secret: str, clock: Callable[[], float] = time.time):
        self.device_id, self.secret, self.clock = device_id, secret, clock

    def auth_flow(self, request: httpx.Request):
        ts, nonce = f"{self.clock():.3f}", new_nonce()
        path_qs = request.url.raw_path.decode("ascii")
        request.headers[H_DEVICE] = self.device_id
        request.headers[H_TS] = ts
        request.headers[H_NONCE] = nonce
        request.headers[H_SIG] = sign(self.secret, request.method, path_qs, ts, nonce, request.content)
        yield request
