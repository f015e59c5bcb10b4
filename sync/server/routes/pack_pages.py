"""The site packs' pages on the IT site (``pos.packs.Pack.pages``): ``/admin/packs/<pack>/<path>``,
GET and POST, behind the admin's login (:class:`sync.server.middleware.AdminAuth` guards every
``/admin/`` path). The pack's handler gets a :class:`pos.packs.PageRequest` (no web framework) and
answers a :class:`pos.packs.PageResponse`; its templates are the ``templates/`` folder beside the
handler's module, with the IT page's templates behind them (``{% extends "base.html" %}``) and the
IT page's words (``t``), language and local time (``local``)."""

from __future__ import annotations

import importlib
import logging
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pos import packs

from ..admin import _ENV, LABELS, _local
from ..web import check_text, in_thread, read_body
from .pages import lang_of

__all__ = ["routes", "PREFIX"]

log = logging.getLogger(__name__)

PREFIX = "/admin/packs"


@lru_cache(maxsize=16)
def _env(module: str) -> Environment:
    here = Path(importlib.import_module(module).__file__).parent / "templates"
    env = Environment(loader=ChoiceLoader([FileSystemLoader(str(here)), PackageLoader("sync.server", "templates")]),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    env.filters.update(_ENV.filters)
    env.globals.update(_ENV.globals)
    return env


def _targets() -> list[tuple[str, str, str]]:
    return [(p.name, path, target) for p in packs.active() for path, target in p.pages.items()]


def routes(ctx) -> list[Route]:
    backend, tz = ctx.backend, ctx.settings.timezone

    def page(pack: str, target: str):
        fn = packs.resolve(target)
        module = target.partition(":")[0]

        async def handle(request):
            lang = lang_of(request)
            form = {}
            if request.method == "POST":
                body = await read_body(request)
                form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"),
                                                      keep_blank_values=True).items()}
                check_text(form)
            query = dict(request.query_params)

            def render(template: str, **context) -> str:
                t = LABELS.get(lang, LABELS["zh-Hans"])
                return _env(module).get_template(template).render(t=t, lang=lang, local=lambda iso: _local(iso, tz),
                                                                  **context)

            def url(path: str, **q) -> str:
                return f"{PREFIX}/{pack}/{path}?{urlencode({'lang': lang, **q})}"

            req = packs.PageRequest(method=request.method, path=request.url.path, params=dict(request.path_params),
                                    query=query, form=form, lang=lang, tz=tz, backend=backend, render=render,
                                    url=url)
            out = await in_thread(fn, req)
            if out.location:
                return RedirectResponse(out.location, status_code=303)
            return Response(out.body, status_code=out.status, media_type=out.content_type)
        return handle

    return [Route(f"{PREFIX}/{pack}/{path}", page(pack, target), methods=["GET", "POST"])
            for pack, path, target in _targets()]
