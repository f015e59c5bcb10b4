"""The FHIR R4 facade (read only): ``GET /fhir/{type}/{id}``, ``GET /fhir/Encounter/{id}/$everything``
(built by the module an active pack names in ``Pack.fhir``, e.g. the hospital pack's stays) and
``GET /fhir/metadata`` (the CapabilityStatement, open to all). Behind the admin's token or session,
or the separate read-only ``fhir_token`` (``onestop server --fhir-token``). Answers ``application/fhir+json``; errors are
an OperationOutcome."""

from __future__ import annotations

import hmac

from starlette.responses import Response
from starlette.routing import Route

from ..middleware import admin_ok
from ..web import in_thread

__all__ = ["routes"]

MEDIA = "application/fhir+json"


def _outcome(status: int, code: str, text: str) -> Response:
    from fhir.resources.R4B.operationoutcome import OperationOutcome
    body = OperationOutcome(issue=[{"severity": "error", "code": code, "diagnostics": text}]).model_dump_json()
    return Response(body, status_code=status, media_type=MEDIA)


def settings_date() -> str:
    from datetime import datetime, timezone
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


def _fhir():
    """The builders of the first active pack that declares some, imported on the first FHIR request
    (the models take a while to load); None when no pack does."""
    from pos import packs
    return next((packs.resolve(p.fhir) for p in packs.active() if p.fhir), None)


def routes(ctx) -> list[Route]:
    backend, settings = ctx.backend, ctx.settings

    def allowed(request) -> bool:
        if admin_ok(request, settings.admin_token):
            return True
        auth = request.headers.get("authorization", "")
        return bool(settings.fhir_token) and auth.lower().startswith("bearer ") and hmac.compare_digest(
            auth[7:].encode(), settings.fhir_token.encode())

    def read(fn, *args):
        with backend.tx() as cur:
            return fn(cur, *args).model_dump_json(exclude_none=True)

    async def one(request):
        if not allowed(request):
            return _outcome(401, "login", "a FHIR or admin bearer token is required")
        rtype, rid = request.path_params["rtype"], request.path_params["rid"]
        fhir = await in_thread(_fhir)          # not on the event loop: the first import is slow
        if fhir is None:
            return _outcome(404, "not-found", "no site pack serves FHIR resources")
        try:
            return Response(await in_thread(read, fhir.resource, rtype, rid), media_type=MEDIA)
        except fhir.NotFound as exc:
            return _outcome(404, "not-found", str(exc))

    async def everything(request):
        if not allowed(request):
            return _outcome(401, "login", "a FHIR or admin bearer token is required")
        fhir = await in_thread(_fhir)          # not on the event loop: the first import is slow
        if fhir is None:
            return _outcome(404, "not-found", "no site pack serves FHIR resources")
        try:
            return Response(await in_thread(read, fhir.everything, request.path_params["rid"]), media_type=MEDIA)
        except fhir.NotFound as exc:
            return _outcome(404, "not-found", str(exc))

    async def metadata(request):
        from fhir.resources.R4B.capabilitystatement import CapabilityStatement
        fhir = await in_thread(_fhir)
        types = fhir.TYPES if fhir is not None else ()
        cs = CapabilityStatement(
            status="active", kind="instance", date=settings_date(), fhirVersion="4.0.1", format=["json"],
            software={"name": "onestop"}, implementation={"description": "onestop central server, read only"},
            rest=[{"mode": "server", "resource": [{"type": t, "interaction": [{"code": "read"}]} for t in types],
                   "operation": [{"name": "everything",
                                  "definition": "http://hl7.org/fhir/OperationDefinition/Encounter-everything"}]}])
        return Response(cs.model_dump_json(exclude_none=True), media_type=MEDIA)

    return [
        Route("/fhir/metadata", metadata, methods=["GET"]),
        Route("/fhir/Encounter/{rid}/$everything", everything, methods=["GET"]),
        Route("/fhir/{rtype}/{rid}", one, methods=["GET"]),
    ]
