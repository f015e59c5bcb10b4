"""Sync errors, part of the OnestopError tree.

    OnestopError
    └── SyncError ── Unauthorized, ServerUnavailable, BadRequest, EnrolmentFailed
"""

from __future__ import annotations

from drivers.errors import OnestopError

__all__ = ["SyncError", "Unauthorized", "ServerUnavailable", "BadRequest", "EnrolmentFailed"]


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
