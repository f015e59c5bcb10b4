"""The central server as an ASGI app (Starlette): push, pull, enrolment, admin, the OpenAPI spec.

``create_app(backend, settings)`` puts together the route modules (:mod:`.routes`) and the
middleware (:mod:`.middleware`: the server clock, device signing and rate limits, admin access).
Every database call runs in the thread pool; every response carries ``X-Onestop-Server-Time``
(Unix seconds) so kiosks can correct their signing clock. Errors are JSON ``{"error": code,
"detail": text}``: a :class:`sync.errors.Refusal` gives its 4xx, a database outage 503, and
anything unforeseen a JSON 500 (logged with its traceback).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from ..errors import Refusal, ServerUnavailable
from .middleware import AdminAuth, DeviceAuth, ServerTimeMiddleware, log_refusal
from .routes import admin_api, conflicts, device, fhir, interfaces, pack_pages, packs, pages
from .tasks import start_pack_tasks
from .web import error_response, refusal_response

__all__ = ["create_app", "Settings"]

log = logging.getLogger(__name__)


@dataclass
class Settings:
    admin_token: str = ""
    rate: float = 50.0          # requests per second per device
    burst: int = 100
    timezone: str = "Asia/Shanghai"
    session_hours: float = 12.0         # the IT page's login lasts this long
    offline_after_s: float = 300.0      # a kiosk not seen for this long shows as offline
    task_interval: float = 5.0          # seconds between runs of the packs' server tasks (0 = never)
    his: object = None                  # the running HIS interface (sync.server.his), if any
    fhir_token: str = ""                # a read-only bearer token for the FHIR facade (besides the admin's)


@dataclass(frozen=True)
class AppContext:
    """What the route modules share."""
    backend: object
    settings: Settings


async def _refused(request, exc: Refusal):
    log_refusal(request, exc)
    return refusal_response(exc)


async def _unavailable(request, exc):
    return error_response(503, "unavailable", "database unavailable, retry later", {"Retry-After": "1"})


async def _http_error(request, exc: HTTPException):
    """Starlette's own refusals (no such path, method not allowed) in the same JSON shape."""
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "refused")
    return error_response(exc.status_code, code, str(exc.detail), dict(exc.headers or {}))


async def _internal(request, exc):
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal", "the server failed on this request; see its log")


def create_app(backend, settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    ctx = AppContext(backend, settings)
    middleware = [
        Middleware(ServerTimeMiddleware),
        Middleware(AdminAuth, token=settings.admin_token,
                   login_page=lambda request, status: pages.login_page(ctx, request, status)),
        Middleware(DeviceAuth, backend=backend, paths=device.SIGNED | packs.signed_paths(), rate=settings.rate,
                   burst=settings.burst),
    ]
    routes = (device.routes(ctx) + admin_api.routes(ctx) + pages.routes(ctx) + conflicts.routes(ctx)
              + fhir.routes(ctx) + interfaces.routes(ctx) + packs.routes(ctx) + pack_pages.routes(ctx))
    handlers = {HTTPException: _http_error, Refusal: _refused, ServerUnavailable: _unavailable, Exception: _internal}
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)
    app.state.backend = backend
    app.state.tasks = start_pack_tasks(backend, settings.task_interval)
    return app
