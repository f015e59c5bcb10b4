"""The central server as an ASGI app (Starlette): push, pull, enrolment, admin, the OpenAPI spec.

``create_app(backend, settings)``. Every database call runs in the thread pool; every response
carries ``X-Onestop-Server-Time`` (Unix seconds) so kiosks can correct their signing clock.
Errors are JSON ``{"error": code, "detail": text}`` with a 4xx status; a database outage is 503.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from .. import protocol as P
from ..errors import ServerUnavailable
from . import service
from .admin import overview, render_admin
from .openapi import SPEC
from .ratelimit import RateLimiter

__all__ = ["create_app", "Settings"]

log = logging.getLogger(__name__)


@dataclass
class Settings:
    admin_token: str = ""
    rate: float = 50.0          # requests per second per device
    burst: int = 100
    timezone: str = "Asia/Shanghai"


def _err(status: int, code: str, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


class ServerTimeMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_time(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (P.H_SERVER_TIME.encode(), f"{time.time():.3f}".encode())]
            await send(message)
        return await self.app(scope, receive, send_with_time)


def create_app(backend, settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    limiter = RateLimiter(settings.rate, settings.burst)
    state = {"requests": 0}

    async def read_body(request: Request) -> bytes | JSONResponse:
        cl = request.headers.get("content-length")
        if cl and cl.isdigit() and int(cl) > P.MAX_BODY:
            return _err(413, "too_large", f"body larger than {P.MAX_BODY} bytes")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > P.MAX_BODY:
                return _err(413, "too_large", f"body larger than {P.MAX_BODY} bytes")
        return body

    async def device_auth(request: Request, body: bytes):
        path_qs = request.url.path + (("?" + request.url.query) if request.url.query else "")
        try:
            device_id = await run_in_threadpool(service.authenticate, backend, request.headers, request.method,
                                                path_qs, body)
        except service.AuthError as exc:
            log.warning("refused %s %s from %s: %s", request.method, request.url.path,
                        request.client.host if request.client else "?", exc.reason)
            return None, _err(exc.status, "unauthorized" if exc.status == 401 else "revoked", exc.reason)
        wait = limiter.allow(device_id)
        if wait:
            return None, _err(429, "rate_limited", "too many requests", {"Retry-After": str(max(1, round(wait)))})
        state["requests"] += 1
        if state["requests"] % 1000 == 0:
            await run_in_threadpool(service.prune_nonces, backend)
        return device_id, None

    def admin_ok(request: Request) -> bool:
        if not settings.admin_token:
            return False
        auth = request.headers.get("authorization", "")
        given = auth[7:] if auth.lower().startswith("bearer ") else request.query_params.get("token", "")
        return hmac.compare_digest(given.encode(), settings.admin_token.encode())

    async def guarded(fn, *args):
        try:
            return await run_in_threadpool(fn, *args)
        except ServerUnavailable as exc:
            log.warning("database unavailable: %s", exc)
            raise

    async def health(request):
        return JSONResponse({"ok": True, "server_time": time.time()})

    async def openapi(request):
        return JSONResponse(SPEC)

    async def enrol(request):
        body = await read_body(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            data = json.loads(body)
        except ValueError:
            return _err(400, "bad_json", "body is not JSON")
        if not isinstance(data, dict) or not isinstance(data.get("code"), str) \
                or not isinstance(data.get("device_id"), str) or not isinstance(data.get("name", ""), str):
            return _err(422, "invalid", "expected {code, device_id, name?} strings")
        try:
            secret = await guarded(service.enrol, backend, data["code"], data["device_id"], data.get("name", ""))
        except service.AuthError as exc:
            return _err(exc.status, "enrolment_refused", exc.reason)
        except service.Refused as exc:
            return _err(exc.status, "invalid", exc.reason)
        return JSONResponse({"device_id": data["device_id"], "secret": secret})

    async def push(request):
        body = await read_body(request)
        if isinstance(body, JSONResponse):
            return body
        device_id, refusal = await device_auth(request, body)
        if refusal:
            return refusal
        def work():          # parse, validate and apply off the event loop
            try:
                data = json.loads(body)
            except ValueError:
                raise service.Refused(400, "body is not JSON") from None
            cmds, meta = service.validate_batch(data, device_id)
            return service.ingest(backend, device_id, cmds, meta, request.headers.get(P.H_DEVICE_TIME))
        try:
            out = await guarded(work)
        except service.Refused as exc:
            log.warning("push from %s refused: %s", device_id, exc.reason)
            return _err(exc.status, "bad_json" if exc.status == 400 else "refused", exc.reason)
        return JSONResponse(out)

    async def events(request):
        device_id, refusal = await device_auth(request, b"")
        if refusal:
            return refusal
        try:
            after = int(request.query_params.get("after", "0"))
            limit = int(request.query_params.get("limit", "500"))
        except ValueError:
            return _err(422, "invalid", "after and limit must be integers")
        if after < 0 or after >= 2**62 or limit < 1:
            return _err(422, "invalid", "after must be >= 0 and limit >= 1")
        return JSONResponse(await guarded(service.pull, backend, device_id, after, limit))

    async def admin_code(request):
        if not admin_ok(request):
            return _err(401, "unauthorized", "admin token required")
        return JSONResponse({"code": await guarded(service.issue_enrol_code, backend)})

    async def admin_revoke(request):
        if not admin_ok(request):
            return _err(401, "unauthorized", "admin token required")
        done = await guarded(service.revoke, backend, request.path_params["device_id"])
        return JSONResponse({"revoked": done}, status_code=200 if done else 404)

    async def admin_overview(request):
        if not admin_ok(request):
            return _err(401, "unauthorized", "admin token required")
        return JSONResponse(await guarded(overview, backend, settings.timezone))

    async def admin_page(request):
        if not admin_ok(request):
            return HTMLResponse("<h1>401</h1><p>Admin token required: /admin?token=…</p>", status_code=401)
        data = await guarded(overview, backend, settings.timezone)
        return HTMLResponse(render_admin(data, settings.timezone, request.query_params.get("lang", "zh-Hans")))

    async def unavailable(request, exc):
        return _err(503, "unavailable", "database unavailable, retry later", {"Retry-After": "1"})

    routes = [
        Route("/v1/health", health),
        Route("/openapi.json", openapi),
        Route("/v1/enrol", enrol, methods=["POST"]),
        Route("/v1/push", push, methods=["POST"]),
        Route("/v1/events", events, methods=["GET"]),
        Route("/v1/admin/enrol-codes", admin_code, methods=["POST"]),
        Route("/v1/admin/devices/{device_id}/revoke", admin_revoke, methods=["POST"]),
        Route("/v1/admin/overview", admin_overview, methods=["GET"]),
        Route("/admin", admin_page, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={ServerUnavailable: unavailable})
    app.add_middleware(ServerTimeMiddleware)
    app.state.backend = backend
    return app
