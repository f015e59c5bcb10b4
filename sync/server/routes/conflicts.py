"""The hospital's bed conflict queue on the IT page and in the admin API: one page per conflict
(assign another bed, or dismiss with a reason) and ``POST /v1/admin/conflicts/{id}/resolve``.
Site-specific: a site pack brings routes like these with its own part of the page."""

from __future__ import annotations

import secrets

from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from ...errors import Refused, ResolveError
from .. import service
from ..admin import find_conflict, render
from ..web import in_thread, parse_json, read_body
from .pages import back, error_text, lang_of, read_form

__all__ = ["routes"]


def routes(ctx) -> list[Route]:
    backend, tz = ctx.backend, ctx.settings.timezone

    def resolve_page(request, conflict, error: str = "", form: dict | None = None, status: int = 200):
        return HTMLResponse(render("site/resolve.html", lang_of(request), tz, conflict=conflict, error=error,
                                   form=form or {}, request_ids=(secrets.token_hex(16), secrets.token_hex(16))),
                            status_code=status)

    async def conflict_page(request):
        conflict = await in_thread(find_conflict, backend, request.path_params["conflict_id"])
        if conflict is None or conflict["resolved_at"]:
            return back(lang_of(request))
        return resolve_page(request, conflict)

    async def conflict_form(request):
        form = await read_form(request)
        conflict_id = request.path_params["conflict_id"]
        try:
            await in_thread(service.resolve_conflict, backend, conflict_id, form.get("action"), form.get("by"),
                            form.get("reason"), dict(form), form.get("request_id"))
        except ResolveError as exc:
            conflict = await in_thread(find_conflict, backend, conflict_id)
            if conflict is None or exc.code == "already_resolved":
                return back(lang_of(request))
            return resolve_page(request, conflict, error_text(lang_of(request), exc), form, exc.status)
        return back(lang_of(request), resolved=conflict_id)

    async def resolve_api(request):
        data = parse_json(await read_body(request))
        if not isinstance(data, dict):
            raise Refused(422, "expected an object {action, by, reason?, request_id?, and what the resource's pack reads}")
        return JSONResponse(await in_thread(
            service.resolve_conflict, backend, request.path_params["conflict_id"], data.get("action"),
            data.get("by"), data.get("reason"), data, data.get("request_id")))

    return [
        Route("/admin/conflicts/{conflict_id}", conflict_page, methods=["GET"]),
        Route("/admin/conflicts/{conflict_id}/resolve", conflict_form, methods=["POST"]),
        Route("/v1/admin/conflicts/{conflict_id}/resolve", resolve_api, methods=["POST"]),
    ]
