"""The IT page (``/admin``): login, the overview, enrolment codes, revocation, help requests and
the claim conflict pages (a hospital bed's, for example). Plain HTML forms (POST, then a redirect back); the session cookie comes
from :func:`login` (see :class:`sync.server.middleware.AdminAuth`). The language is ``?lang=``,
else the browser's Accept-Language."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs, urlencode

from starlette.responses import HTMLResponse, RedirectResponse
from starlette.routing import Route

from ...errors import Refusal, ResolveError
from .. import helpdesk, service
from ..admin import LABELS, Named, conflict_params, overview, render, resolution_text
from ..labels import negotiate
from ..middleware import SESSION_COOKIE, new_session
from ..ratelimit import RateLimiter
from ..web import check_text, in_thread, read_body

__all__ = ["routes", "login_page", "lang_of", "read_form", "back", "error_text"]


def lang_of(request) -> str:
    return negotiate(request.query_params.get("lang"), request.headers.get("accept-language", ""))


def login_page(ctx, request, status: int = 200, failed: bool = False) -> HTMLResponse:
    lang = lang_of(request)
    return HTMLResponse(render("login.html", lang, ctx.settings.timezone, failed=failed, wait=status == 429), status_code=status)


async def read_form(request) -> dict:
    body = await read_body(request)
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
    check_text(form)            # a NUL (%00) no column can store: refused like in JSON bodies
    return form


def back(lang: str, **more) -> RedirectResponse:
    return RedirectResponse(f"/admin?{urlencode({'lang': lang, **more})}", status_code=303)


def error_text(lang: str, exc: Refusal) -> str:
    t = LABELS.get(lang, LABELS["zh-Hans"])
    text = t.get(f"err_{exc.code}", t["err_invalid"])
    try:
        return text.format(**getattr(exc, "params", {}))
    except (KeyError, IndexError):
        return text


def routes(ctx) -> list[Route]:
    backend, settings = ctx.backend, ctx.settings
    tz = settings.timezone
    attempts = RateLimiter(0.2, 10)         # sign-in tries per client address: 10, then one per 5 s

    async def login_form(request):
        return login_page(ctx, request)

    async def login(request):
        form = await read_form(request)
        lang = lang_of(request)
        if attempts.allow(request.client.host if request.client else "?"):
            return login_page(ctx, request, 429, failed=True)
        given = form.get("token", "")
        if not (settings.admin_token and hmac.compare_digest(given.encode(), settings.admin_token.encode())):
            return login_page(ctx, request, 401, failed=True)
        response = back(lang)
        response.set_cookie(SESSION_COOKIE, new_session(settings.admin_token, settings.session_hours),
                            max_age=int(settings.session_hours * 3600), path="/", httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    async def logout(request):
        response = RedirectResponse(f"/admin/login?{urlencode({'lang': lang_of(request)})}", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    async def page(request, notices=(), error: str = "", refresh: bool = True, status: int = 200):
        lang = lang_of(request)
        data = await in_thread(overview, backend, settings)
        t = LABELS.get(lang, LABELS["zh-Hans"])
        q = request.query_params
        shown = list(notices)
        if q.get("resolved"):
            c = next((c for c in data["resolved"] if c["conflict_id"] == q["resolved"]), None)
            if c:
                shown.append({"id": "notice", "text": t["done"].format_map(Named(
                    conflict_params(c), result=resolution_text(t, c["resolution"])))})
        if q.get("revoked"):
            d = next((d for d in data["devices"] if d["device_id"] == q["revoked"]), None)
            if d:
                shown.append({"id": "notice", "text": t["revoke_done"].format(device=d["name"] or d["device_id"])})
        if q.get("acked"):
            d = next((d for d in data["devices"] if d["device_id"] == q["acked"]), None)
            shown.append({"id": "notice", "text": t["ack_done"].format(
                device=(d["name"] or d["device_id"]) if d else q["acked"][:32])})
        # the refresh reloads the plain overview: a notice is shown once, not every 15 s
        html = render("overview.html", lang, tz, data=data, notices=shown, error=error,
                      refresh=f"/admin?{urlencode({'lang': lang})}" if refresh else "")
        return HTMLResponse(html, status_code=status)

    async def overview_page(request):
        return await page(request)

    async def enrol_code(request):
        await read_form(request)
        code = await in_thread(service.issue_enrol_code, backend)
        t = LABELS.get(lang_of(request), LABELS["zh-Hans"])
        # shown once, on a page that does not reload (the code is not in any URL)
        return await page(request, [{"id": "code", "text": t["enrol_code"].format(code=code)}], refresh=False)

    async def revoke_form(request):
        device_id = request.path_params["device_id"]
        data = await in_thread(overview, backend, settings)
        device = next((d for d in data["devices"] if d["device_id"] == device_id), None)
        if device is None or device["revoked_at"]:
            return back(lang_of(request))
        return HTMLResponse(render("revoke.html", lang_of(request), tz, device=device))

    async def revoke(request):
        await read_form(request)
        device_id = request.path_params["device_id"]
        await in_thread(service.revoke, backend, device_id)
        return back(lang_of(request), revoked=device_id)

    async def acknowledge(request):
        form = await read_form(request)
        try:
            done = await in_thread(helpdesk.acknowledge, backend, request.path_params["request_id"], form.get("by"))
        except ResolveError as exc:
            return await page(request, error=error_text(lang_of(request), exc), status=exc.status)
        return back(lang_of(request), acked=done["device"])

    return [
        Route("/admin/login", login_form, methods=["GET"]),
        Route("/admin/login", login, methods=["POST"]),
        Route("/admin/logout", logout, methods=["POST"]),
        Route("/admin", overview_page, methods=["GET"]),
        Route("/admin/enrol-codes", enrol_code, methods=["POST"]),
        Route("/admin/devices/{device_id}/revoke", revoke_form, methods=["GET"]),
        Route("/admin/devices/{device_id}/revoke", revoke, methods=["POST"]),
        Route("/admin/help/{request_id}/acknowledge", acknowledge, methods=["POST"]),
    ]
