"""What every route needs: the request body (bounded), JSON parsed safely, the thread pool, and the
error answer. Nothing here knows a route."""

from __future__ import annotations

import json
import logging
import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from .. import protocol as P
from ..errors import Refusal, Refused, ServerUnavailable

__all__ = ["error_response", "refusal_response", "read_body", "parse_json", "in_thread", "check_text"]

log = logging.getLogger(__name__)


def error_response(status: int, code: str, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status, headers=headers)


async def read_body(request: Request) -> bytes:
    """The body, at most :data:`protocol.MAX_BODY` bytes (else :class:`Refused` 413)."""
    cl = request.headers.get("content-length")
    if cl and cl.isdigit() and int(cl) > P.MAX_BODY:
        raise Refused(413, f"body larger than {P.MAX_BODY} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > P.MAX_BODY:
            raise Refused(413, f"body larger than {P.MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


#: the escapes behind text no column can store: NUL (PostgreSQL text refuses it) and surrogates
#: (a lone one cannot be encoded as UTF-8); a pair is fine, which check_text tells apart
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def check_text(value) -> None:
    """Refuse (422) any string, key or value, nested anywhere, with a NUL or a lone surrogate."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, str):
            if "\x00" in v:
                raise Refused(422, "text must not contain NUL characters")
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                raise Refused(422, "text must be valid Unicode (a lone surrogate was sent)") from None


def parse_json(body: bytes):
    """The body as JSON: 400 if it is not JSON (or nests too deep to read), 422 for text that
    cannot be stored."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise Refused(400, "body is nested too deeply") from None
    except ValueError:
        raise Refused(400, "body is not JSON") from None
    if _SUSPECT.search(body):
        check_text(data)
    return data


async def in_thread(fn, *args):
    """Run a database call in the thread pool (a :class:`ServerUnavailable` is logged and answered 503)."""
    try:
        return await run_in_threadpool(fn, *args)
    except ServerUnavailable as exc:
        log.warning("database unavailable: %s", exc)
        raise


def refusal_response(exc: Refusal) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.detail, exc.headers)
