"""The server's ASGI middleware: the server clock on every answer, device signing and rate
limits for the signed endpoints, and admin access (a bearer token or the IT page's session).

Signed endpoints. :class:`DeviceAuth` reads the body (at most ``MAX_BODY``), refuses a request
without the four signing headers, and leaves ``request.state.body`` and
``request.state.authenticate``: the signature, clock window, revocation and the device's rate
are checked by that call, which the endpoint makes in its own trip to the thread pool (one trip
per request: checking and applying a push together is what keeps a push fast). The nonce is spent
by the transaction that serves the request.

Admin. :class:`AdminAuth` guards ``/v1/admin/`` (401 JSON) and ``/admin`` (the login page, 401,
in the page's language) except the login itself. It accepts ``Authorization: Bearer TOKEN`` or the
session cookie the login page sets (HttpOnly, SameSite=Strict): ``EXPIRY.HMAC(token, EXPIRY)``,
so nothing is kept on the server and changing the token ends every session.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from functools import partial

from starlette.requests import Request

from .. import protocol as P
from ..errors import AuthError, RateLimited, Refusal
from . import service
from .ratelimit import RateLimiter
from .web import error_response, read_body, refusal_response

__all__ = ["ServerTimeMiddleware", "DeviceAuth", "AdminAuth", "SESSION_COOKIE", "new_session", "session_ok",
           "admin_ok"]

log = logging.getLogger(__name__)

SESSION_COOKIE = "onestop_admin"


class ServerTimeMiddleware:
    """``X-Onestop-Server-Time`` (Unix seconds) on every answer: kiosks correct their signing clock."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_time(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [
                    (P.H_SERVER_TIME.encode(), f"{time.time():.3f}".encode())]
            await send(message)
        return await self.app(scope, receive, send_with_time)


class DeviceAuth:
    def __init__(self, app, backend, paths: frozenset, rate: float, burst: int):
        self.app, self.backend, self.paths = app, backend, paths
        self.limiter = RateLimiter(rate, burst)
        self.requests = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] not in self.paths:
            return await self.app(scope, receive, send)
        request = Request(scope, receive)
        try:
            body = await read_body(request)
            if not all(request.headers.get(h) for h in (P.H_DEVICE, P.H_TS, P.H_NONCE, P.H_SIG)):
                raise AuthError(401, "missing credentials")
        except Refusal as exc:
            log_refusal(request, exc)
            return await refusal_response(exc)(scope, receive, send)
        path_qs = request.url.path + (("?" + request.url.query) if request.url.query else "")
        state = scope.setdefault("state", {})
        state["body"] = body
        state["authenticate"] = partial(self.check, request.headers, request.method, path_qs, body)
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await self.app(scope, replay, send)

    def check(self, headers, method: str, path_qs: str, body: bytes) -> service.Credentials:
        """Signature, timestamp window, revocation, then the device's rate (in the worker thread)."""
        cred = service.verify(self.backend, headers, method, path_qs, body)
        wait = self.limiter.allow(cred.device_id)
        if wait:
            raise RateLimited(wait)
        self.requests += 1
        if self.requests % 1000 == 0:
            service.prune_nonces(self.backend)
        return cred


def log_refusal(request: Request, exc: Refusal) -> None:
    if isinstance(exc, AuthError):
        log.warning("refused %s %s from %s: %s", request.method, request.url.path,
                    request.client.host if request.client else "?", exc.detail)


# -- admin ------------------------------------------------------------------------------------
def _mac(token: str, expiry: str) -> str:
    return hmac.new(token.encode(), f"admin-session:{expiry}".encode(), hashlib.sha256).hexdigest()


def new_session(token: str, hours: float, now: float | None = None) -> str:
    expiry = str(int((time.time() if now is None else now) + hours * 3600))
    return f"{expiry}.{_mac(token, expiry)}"


def session_ok(token: str, value: str, now: float | None = None) -> bool:
    expiry, _, mac = (value or "").partition(".")
    if not (token and expiry.isdigit() and mac):
        return False
    if int(expiry) < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(mac.encode(), _mac(token, expiry).encode())


def admin_ok(request: Request, token: str) -> bool:
    if not token:
        return False
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return hmac.compare_digest(auth[7:].encode(), token.encode())
    return session_ok(token, request.cookies.get(SESSION_COOKIE, ""))


class AdminAuth:
    """``login_page(request, status)`` answers an /admin page asked for without a session."""

    OPEN = ("/admin/login",)

    def __init__(self, app, token: str, login_page):
        self.app, self.token, self.login_page = app, token, login_page

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        api = path.startswith("/v1/admin/")
        page = (path == "/admin" or path.startswith("/admin/")) and not path.startswith(self.OPEN)
        if not (api or page):
            return await self.app(scope, receive, send)
        request = Request(scope, receive)
        if admin_ok(request, self.token):
            return await self.app(scope, receive, send)
        if api:
            response = error_response(401, "unauthorized", "admin token required")
        else:
            response = self.login_page(request, 401)
        return await response(scope, receive, send)
