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
from urllib.parse import parse_qs, urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.routing import Route

from .. import protocol as P
from ..errors import ServerUnavailable
from . import service
from .admin import find_conflict, overview, render_admin, render_resolve
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
    task_interval: float = 5.0  # seconds between runs of the packs' server tasks (0 = never)


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

    class RateLimited(Exception):
        def __init__(self, wait: float):
            super().__init__(wait)
            self.wait = wait

    def check(request: Request, body: bytes) -> service.Credentials:
        """Signature, timestamp, revocation and the device's rate (in the worker thread). The nonce is
        spent by the transaction that serves the request (service.claim_nonce)."""
        path_qs = request.url.path + (("?" + request.url.query) if request.url.query else "")
        cred = service.verify(backend, request.headers, request.method, path_qs, body)
        wait = limiter.allow(cred.device_id)
        if wait:
            raise RateLimited(wait)
        state["requests"] += 1
        if state["requests"] % 1000 == 0:
            service.prune_nonces(backend)
        return cred

    def refusal(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, RateLimited):
            return _err(429, "rate_limited", "too many requests", {"Retry-After": str(max(1, round(exc.wait)))})
        log.warning("refused %s %s from %s: %s", request.method, request.url.path,
                    request.client.host if request.client else "?", exc.reason)
        return _err(exc.status, "unauthorized" if exc.status == 401 else "revoked", exc.reason)

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

    async def read_json(request: Request):
        """The body as JSON, or the error response to send (413, 400)."""
        body = await read_body(request)
        if isinstance(body, JSONResponse):
            return body
        try:
            return json.loads(body)
        except ValueError:
            return _err(400, "bad_json", "body is not JSON")

    async def enrol(request):
        data = await read_json(request)
        if isinstance(data, JSONResponse):
            return data
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
        device_time = request.headers.get(P.H_DEVICE_TIME)

        def work():          # authenticate, parse, validate and apply in one trip to the thread pool
            cred = check(request, body)
            try:
                data = json.loads(body)
            except ValueError:
                raise service.Refused(400, "body is not JSON") from None
            return service.push(backend, cred.device_id, data, device_time, cred)
        try:
            out = await guarded(work)
        except (service.AuthError, RateLimited) as exc:
            return refusal(request, exc)
        except service.Refused as exc:
            log.warning("push from %s refused: %s", request.headers.get(P.H_DEVICE), exc.reason)
            return _err(exc.status, "bad_json" if exc.status == 400 else "refused", exc.reason)
        return JSONResponse(out)

    async def events(request):
        try:
            after = int(request.query_params.get("after", "0"))
            limit = int(request.query_params.get("limit", "500"))
        except ValueError:
            after = limit = None

        def work():
            cred = check(request, b"")
            if after is None:
                raise service.Refused(422, "after and limit must be integers")
            if after < 0 or after >= 2**62 or limit < 1:
                raise service.Refused(422, "after must be >= 0 and limit >= 1")
            return service.pull(backend, cred.device_id, after, limit, cred)
        try:
            return JSONResponse(await guarded(work))
        except (service.AuthError, RateLimited) as exc:
            return refusal(request, exc)
        except service.Refused as exc:
            return _err(exc.status, "invalid", exc.reason)

    async def snapshot(request):
        def work():
            cred = check(request, b"")
            return service.snapshot(backend, cred.device_id, cred)
        try:
            return JSONResponse(await guarded(work))
        except (service.AuthError, RateLimited) as exc:
            return refusal(request, exc)

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

    def lang(request) -> str:
        return request.query_params.get("lang", "zh-Hans")

    async def admin_page(request):
        if not admin_ok(request):
            return HTMLResponse("<h1>401</h1><p>Admin token required: /admin?token=…</p>", status_code=401)
        data = await guarded(overview, backend, settings.timezone)
        done = request.query_params.get("resolved")
        notice = next((c for c in data["resolved"] if c["conflict_id"] == done), None) if done else None
        return HTMLResponse(render_admin(data, settings.timezone, lang(request), request.query_params.get("token", ""),
                                         notice))

    async def resolve_api(request):
        if not admin_ok(request):
            return _err(401, "unauthorized", "admin token required")
        data = await read_json(request)
        if isinstance(data, JSONResponse):
            return data
        if not isinstance(data, dict):
            return _err(422, "invalid", "expected an object {action, by, reason?, request_id?, and what the resource's pack reads}")
        try:
            out = await guarded(service.resolve_conflict, backend, request.path_params["conflict_id"],
                                data.get("action"), data.get("by"), data.get("reason"), data,
                                data.get("request_id"))
        except service.ResolveError as exc:
            return JSONResponse({"error": exc.code, "detail": exc.detail}, status_code=exc.status)
        return JSONResponse(out)

    async def conflict_page(request):
        if not admin_ok(request):
            return HTMLResponse("<h1>401</h1><p>Admin token required</p>", status_code=401)
        conflict = await guarded(find_conflict, backend, request.path_params["conflict_id"])
        token = request.query_params.get("token", "")
        if conflict is None or conflict["resolved_at"]:
            return RedirectResponse(f"/admin?{urlencode({'token': token, 'lang': lang(request)})}", status_code=303)
        return HTMLResponse(render_resolve(conflict, settings.timezone, lang(request), token))

    async def conflict_form(request):
        """The page's forms (application/x-www-form-urlencoded): resolve, then back to the overview."""
        if not admin_ok(request):
            return HTMLResponse("<h1>401</h1><p>Admin token required</p>", status_code=401)
        body = await read_body(request)
        if isinstance(body, JSONResponse):
            return body
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        conflict_id = request.path_params["conflict_id"]
        token = request.query_params.get("token", "")
        try:
            await guarded(service.resolve_conflict, backend, conflict_id, form.get("action"), form.get("by"),
                          form.get("reason"), dict(form), form.get("request_id"))
        except service.ResolveError as exc:
            conflict = await guarded(find_conflict, backend, conflict_id)
            if conflict is None or exc.code == "already_resolved":
                return RedirectResponse(f"/admin?{urlencode({'token': token, 'lang': lang(request)})}",
                                        status_code=303)
            return HTMLResponse(render_resolve(conflict, settings.timezone, lang(request), token,
                                               {"code": exc.code, "params": exc.params}, form),
                                status_code=exc.status)
        return RedirectResponse(f"/admin?{urlencode({'token': token, 'lang': lang(request), 'resolved': conflict_id})}",
                                status_code=303)

    def pack_endpoint(fn):
        """A pack's POST route (``pos.packs.Pack.endpoints``): signed like a push, then ``fn(data,
        caller, submit)``; ``submit`` applies commands as the caller's batch (the nonce is spent by the first)."""
        async def endpoint(request):
            body = await read_body(request)
            if isinstance(body, JSONResponse):
                return body

            def work():
                cred = check(request, body)
                try:
                    data = json.loads(body)
                except ValueError:
                    raise service.Refused(400, "body is not JSON") from None
                spent = []

                def submit(commands: list[dict]) -> dict:
                    seq0 = int(time.time() * 1000)
                    batch = [{"device_id": cred.device_id, "device_seq": seq0 + i,
                              "created_at": c.get("created_at") or service.utcnow_iso(), **c}
                             for i, c in enumerate(commands)]
                    out = service.push(backend, cred.device_id, {"commands": batch}, None,
                                       None if spent else cred)
                    spent.append(True)
                    return out
                return fn(data, cred.device_id, submit)
            try:
                status, out = await guarded(work)
            except (service.AuthError, RateLimited) as exc:
                return refusal(request, exc)
            except service.Refused as exc:
                return _err(exc.status, "bad_json" if exc.status == 400 else "refused", exc.reason)
            return JSONResponse(out, status_code=status)
        return endpoint

    async def unavailable(request, exc):
        return _err(503, "unavailable", "database unavailable, retry later", {"Retry-After": "1"})

    routes = [
        Route("/v1/health", health),
        Route("/openapi.json", openapi),
        Route("/v1/enrol", enrol, methods=["POST"]),
        Route("/v1/push", push, methods=["POST"]),
        Route("/v1/events", events, methods=["GET"]),
        Route("/v1/snapshot", snapshot, methods=["GET"]),
        Route("/v1/admin/enrol-codes", admin_code, methods=["POST"]),
        Route("/v1/admin/devices/{device_id}/revoke", admin_revoke, methods=["POST"]),
        Route("/v1/admin/overview", admin_overview, methods=["GET"]),
        Route("/v1/admin/conflicts/{conflict_id}/resolve", resolve_api, methods=["POST"]),
        Route("/admin", admin_page, methods=["GET"]),
        Route("/admin/conflicts/{conflict_id}", conflict_page, methods=["GET"]),
        Route("/admin/conflicts/{conflict_id}/resolve", conflict_form, methods=["POST"]),
    ]
    from pos import packs
    for p in packs.active():
        for name, target in p.endpoints.items():
            routes.append(Route(f"/v1/packs/{p.name}/{name}", pack_endpoint(packs.resolve(target)), methods=["POST"]))
    app = Starlette(routes=routes, exception_handlers={ServerUnavailable: unavailable})
    app.add_middleware(ServerTimeMiddleware)
    app.state.backend = backend
    from .tasks import start_pack_tasks
    app.state.tasks = start_pack_tasks(backend, settings.task_interval)
    return app
