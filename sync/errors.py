"""Sync errors, part of the OnestopError tree.

    OnestopError
    └── SyncError
        ├── Unauthorized, ServerUnavailable, BadRequest, EnrolmentFailed      (the kiosk's side)
        └── Refusal ── AuthError, Replayed, Refused, RateLimited, ResolveError  (the server's side)

A :class:`Refusal` is what the server answers instead of doing a request: it carries the HTTP
``status``, a machine ``code`` and a ``detail`` for the technician, and the app turns any of them
into ``{"error": code, "detail": detail}`` (see :mod:`sync.server.app`).
"""

from __future__ import annotations

from drivers.errors import OnestopError

__all__ = ["SyncError", "Unauthorized", "ServerUnavailable", "BadRequest", "EnrolmentFailed", "Refusal",
           "AuthError", "Replayed", "Refused", "RateLimited", "ResolveError"]


class SyncError(OnestopError):
    user_message = "The central server cannot be reached. Your work is kept and will be sent later."


class Unauthorized(SyncError):
    user_message = "This kiosk is not enrolled with the central server. Please call IT staff."


class ServerUnavailable(SyncError):
    pass


class BadRequest(SyncError):
    user_message = "The central server refused data from this kiosk. Please call IT staff."


class EnrolmentFailed(SyncError):
    user_message = "The enrolment code was not accepted. Please ask IT staff for a new code."


class Refusal(SyncError):
    """The server refuses a request: ``status`` (4xx), ``code``, ``detail``; ``headers`` go with the answer."""

    code = "refused"

    def __init__(self, status: int, detail: str, code: str | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.status, self.detail = status, detail
        self.code = code or self.code
        self.headers = headers

    @property
    def reason(self) -> str:
        return self.detail


class AuthError(Refusal):
    """401 (unknown, forged, replayed, expired) or 403 (revoked)."""

    def __init__(self, status: int, reason: str, code: str | None = None):
        super().__init__(status, reason, code or ("unauthorized" if status == 401 else "revoked"))


class Replayed(AuthError):
    """A request whose nonce was spent already: for a push, an identical copy of one that committed."""


class Refused(Refusal):
    """A request refused as a whole: nothing stored."""

    def __init__(self, status: int, reason: str, code: str | None = None):
        super().__init__(status, reason, code or {400: "bad_json", 413: "too_large"}.get(status, "invalid"))


class RateLimited(Refusal):
    def __init__(self, wait: float):
        super().__init__(429, "too many requests", "rate_limited", {"Retry-After": str(max(1, round(wait)))})
        self.wait = wait


class ResolveError(Refusal):
    """A resolution refused; ``code`` names the message (admin label ``err_<code>``), ``params`` fill it."""

    def __init__(self, status: int, code: str, detail: str, **params):
        super().__init__(status, detail, code)
        self.params = params
