"""The IT page's resend of an interface's held, failed or queued message (``/admin/interfaces/...``,
behind the admin session like every /admin page)."""

from __future__ import annotations

from starlette.routing import Route

from ..web import in_thread
from .pages import back, lang_of, read_form

__all__ = ["routes"]


def routes(ctx) -> list[Route]:
    settings = ctx.settings

    async def resend(request):
        await read_form(request)
        iface = settings.his
        name, direction, control = (request.path_params[k] for k in ("name", "direction", "control_id"))
        if iface is not None and iface.m.name == name:
            if direction == "in":
                await in_thread(iface.resend_inbound, control)
            elif direction == "out" and await in_thread(iface.resend_outbound, control):
                await in_thread(iface.pump)
        return back(lang_of(request))

    return [Route("/admin/interfaces/{name}/{direction}/{control_id}/resend", resend, methods=["POST"])]
