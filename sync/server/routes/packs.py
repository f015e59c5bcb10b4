"""The site packs' own device endpoints (``pos.packs.Pack.endpoints``): ``POST /v1/packs/<pack>/<name>``,
signed like a push (:class:`sync.server.middleware.DeviceAuth`). The handler is ``fn(data, caller,
submit) -> (status, body)``; ``submit(commands)`` applies commands as the caller's batch (the
request's nonce is spent by the first). A handler with a ``query`` parameter also gets
``query(sql, params) -> rows``: a read of the server's database (e.g. the pack's own table of
which callers it accepts), before anything is submitted."""

from __future__ import annotations

import inspect
import time

from starlette.responses import JSONResponse
from starlette.routing import Route

from pos import packs

from .. import service
from ..web import in_thread, parse_json

__all__ = ["routes", "signed_paths"]


def _targets() -> list[tuple[str, str]]:
    return [(f"/v1/packs/{p.name}/{name}", target) for p in packs.active() for name, target in p.endpoints.items()]


def signed_paths() -> frozenset:
    """The packs' endpoint paths, for DeviceAuth."""
    return frozenset(path for path, _target in _targets())


def routes(ctx) -> list[Route]:
    backend = ctx.backend

    def query(sql: str, params=()) -> list:
        with backend.tx() as cur:
            return cur.execute(sql, params).fetchall()

    def endpoint(fn):
        more = {"query": query} if "query" in inspect.signature(fn).parameters else {}

        async def handle(request):
            body, authenticate = request.state.body, request.state.authenticate

            def work():
                cred = authenticate()
                data = parse_json(body)
                spent = []

                def submit(commands: list[dict]) -> dict:
                    seq0 = int(time.time() * 1000)
                    batch = [{"device_id": cred.device_id, "device_seq": seq0 + i,
                              "created_at": c.get("created_at") or service.utcnow_iso(), **c}
                             for i, c in enumerate(commands)]
                    out = service.push(backend, cred.device_id, {"commands": batch}, None, None if spent else cred)
                    spent.append(True)
                    return out
                return fn(data, cred.device_id, submit, **more)
            status, out = await in_thread(work)
            return JSONResponse(out, status_code=status)
        return handle

    return [Route(path, endpoint(packs.resolve(target)), methods=["POST"]) for path, target in _targets()]
