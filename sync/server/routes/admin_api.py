"""The admin JSON API (``/v1/admin/``, bearer token or the IT page's session, see
:class:`sync.server.middleware.AdminAuth`): enrolment codes, revocation, the overview and
help-request acknowledgement (the hospital's conflict resolution: :mod:`.conflicts`)."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.routing import Route

from ...errors import Refused
from .. import helpdesk, service
from ..admin import overview
from ..web import in_thread, parse_json, read_body

__all__ = ["routes"]


def routes(ctx) -> list[Route]:
    backend, settings = ctx.backend, ctx.settings

    async def enrol_code(request):
        return JSONResponse({"code": await in_thread(service.issue_enrol_code, backend)})

    async def revoke(request):
        done = await in_thread(service.revoke, backend, request.path_params["device_id"])
        return JSONResponse({"revoked": done}, status_code=200 if done else 404)

    async def admin_overview(request):
        return JSONResponse(await in_thread(overview, backend, settings))

    async def object_body(request, shape: str) -> dict:
        data = parse_json(await read_body(request))
        if not isinstance(data, dict):
            raise Refused(422, f"expected an object {shape}")
        return data

    async def acknowledge(request):
        data = await object_body(request, "{by}")
        return JSONResponse(await in_thread(helpdesk.acknowledge, backend, request.path_params["request_id"],
                                            data.get("by")))

    return [
        Route("/v1/admin/enrol-codes", enrol_code, methods=["POST"]),
        Route("/v1/admin/devices/{device_id}/revoke", revoke, methods=["POST"]),
        Route("/v1/admin/overview", admin_overview, methods=["GET"]),
        Route("/v1/admin/help/{request_id}/acknowledge", acknowledge, methods=["POST"]),
    ]
