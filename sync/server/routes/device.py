"""What kiosks call: enrolment (unsigned), push, pull and snapshot (signed, see
:class:`sync.server.middleware.DeviceAuth`), health and the OpenAPI document."""

from __future__ import annotations

import time

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ... import protocol as P
from ...errors import AuthError, Refused, Replayed
from .. import service
from ..openapi import SPEC
from ..web import in_thread, parse_json, read_body

__all__ = ["routes", "SIGNED"]

#: the paths DeviceAuth guards
SIGNED = frozenset({"/v1/push", "/v1/events", "/v1/snapshot"})


def routes(ctx) -> list[Route]:
    backend = ctx.backend

    async def health(request):
        return JSONResponse({"ok": True, "server_time": time.time()})

    async def openapi(request):
        return JSONResponse(SPEC)

    async def enrol(request):
        data = parse_json(await read_body(request))
        if not isinstance(data, dict) or not isinstance(data.get("code"), str) \
                or not isinstance(data.get("device_id"), str) or not isinstance(data.get("name", ""), str):
            raise Refused(422, "expected {code, device_id, name?} strings")
        try:
            secret = await in_thread(service.enrol, backend, data["code"], data["device_id"], data.get("name", ""))
        except AuthError as exc:
            raise AuthError(exc.status, exc.detail, "enrolment_refused") from None
        return JSONResponse({"device_id": data["device_id"], "secret": secret})

    async def push(request):
        body, authenticate = request.state.body, request.state.authenticate
        device_time = request.headers.get(P.H_DEVICE_TIME)

        def work():          # authenticate, parse, validate and apply in one trip to the thread pool
            cred = authenticate()
            data = parse_json(body)
            try:
                return service.push(backend, cred.device_id, data, device_time, cred)
            except Replayed:             # the same signed push again (a network copy): its stored results
                return service.replayed_push(backend, cred.device_id, data)
        return JSONResponse(await in_thread(work))

    async def events(request):
        authenticate = request.state.authenticate
        try:
            after = int(request.query_params.get("after", "0"))
            limit = int(request.query_params.get("limit", "500"))
        except ValueError:
            after = limit = None

        def work():
            cred = authenticate()
            if after is None:
                raise Refused(422, "after and limit must be integers")
            if after < 0 or after >= 2**62 or limit < 1:
                raise Refused(422, "after must be >= 0 and limit >= 1")
            return service.pull_json(backend, cred.device_id, after, limit, cred)
        # the stored payloads pass through as they are (service.pull_json)
        return Response(await in_thread(work), media_type="application/json")

    async def snapshot(request):
        authenticate = request.state.authenticate

        def work():
            cred = authenticate()
            return service.snapshot(backend, cred.device_id, cred)
        return JSONResponse(await in_thread(work))

    return [
        Route("/v1/health", health),
        Route("/openapi.json", openapi),
        Route("/v1/enrol", enrol, methods=["POST"]),
        Route("/v1/push", push, methods=["POST"]),
        Route("/v1/events", events, methods=["GET"]),
        Route("/v1/snapshot", snapshot, methods=["GET"]),
    ]
