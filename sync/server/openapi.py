"""The OpenAPI 3 description served at ``/openapi.json`` (written by hand; kept small)."""

from __future__ import annotations

from .. import protocol as P
from pos.packs import payload_schemas

from .commands import HANDLERS
from .limits import MAX_HEALTH_KEY, MAX_HEALTH_KEYS, MAX_HEALTH_VALUE, MAX_QUEUE_DEPTH

#: the command payloads' schemas, generated from the site packs' msgspec structs (pos.packs.Kind.payload)
_PAYLOAD_REFS, _PAYLOAD_COMPONENTS = payload_schemas()

__all__ = ["SPEC"]

_ERR = {"description": "refused", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_SIGNED = [{"name": h, "in": "header", "required": True, "schema": {"type": "string"}}
           for h in ("X-Onestop-Device", "X-Onestop-Timestamp", "X-Onestop-Nonce", "X-Onestop-Signature")]
_ADMIN = [{"name": "Authorization", "in": "header", "required": True, "schema": {"type": "string"},
           "description": "Bearer ADMIN_TOKEN"}]

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "onestop central server", "version": "1"},
    "paths": {
        "/v1/health": {"get": {"operationId": "health", "responses": {"200": {"description": "alive"}}}},
        "/v1/enrol": {"post": {
            "operationId": "enrol", "summary": "Exchange a one-time enrolment code for a device secret",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["code", "device_id"],
                "properties": {"code": {"type": "string"},
                               "device_id": {"type": "string", "pattern": "^[A-Za-z0-9]{2,32}$"},
                               "name": {"type": "string", "maxLength": 80}}}}}},
            "responses": {"200": {"description": "enrolled"}, "400": _ERR, "401": _ERR, "403": _ERR, "413": _ERR,
                          "422": _ERR}}},
        "/v1/push": {"post": {
            "operationId": "push", "summary": "Push a batch of outbox commands (idempotent per command_id)",
            "parameters": _SIGNED,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Batch"}}}},
            "responses": {"200": {"description": "per-command results"}, "400": _ERR, "401": _ERR, "403": _ERR,
                          "413": _ERR, "422": _ERR, "429": _ERR, "503": _ERR}}},
        "/v1/events": {"get": {
            "operationId": "pull", "summary": "Events after a cursor, in global sequence order",
            "parameters": _SIGNED + [
                {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                              "maximum": P.PULL_LIMIT}}],
            "responses": {"200": {"description": "a page of events"}, "401": _ERR, "403": _ERR, "422": _ERR,
                          "429": _ERR, "503": _ERR}}},
        "/v1/snapshot": {"get": {
            "operationId": "snapshot", "summary": "A new kiosk's starting state (every claimed resource) and the sequence it is as of",
            "parameters": _SIGNED,
            "responses": {"200": {"description": "the claimed resources as of a sequence number"}, "401": _ERR, "403": _ERR,
                          "429": _ERR, "503": _ERR}}},
        "/v1/admin/enrol-codes": {"post": {"operationId": "enrolCode", "parameters": _ADMIN,
                                           "responses": {"200": {"description": "a one-time code"}, "401": _ERR}}},
        "/v1/admin/devices/{device_id}/revoke": {"post": {
            "operationId": "revoke",
            "parameters": _ADMIN + [{"name": "device_id", "in": "path", "required": True,
                                     "schema": {"type": "string"}}],
            "responses": {"200": {"description": "revoked"}, "401": _ERR, "404": _ERR}}},
        "/v1/admin/help/{request_id}/acknowledge": {"post": {
            "operationId": "acknowledgeHelp", "summary": "Acknowledge an open help request from a kiosk",
            "parameters": _ADMIN + [{"name": "request_id", "in": "path", "required": True,
                                     "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["by"], "properties": {"by": {"type": "string", "maxLength": 80}}}}}},
            "responses": {"200": {"description": "acknowledged (or the stored answer of an earlier one)"},
                          "400": _ERR, "401": _ERR, "404": _ERR, "413": _ERR, "422": _ERR}}},
        "/v1/admin/overview": {"get": {"operationId": "overview", "parameters": _ADMIN,
                                       "responses": {"200": {"description": "the admin page's data"}, "401": _ERR}}},
        "/v1/admin/conflicts/{conflict_id}/resolve": {"post": {
            "operationId": "resolveConflict",
            "summary": "Resolve a claim conflict: assign the refused holder another free resource, or dismiss with a reason",
            "parameters": _ADMIN + [{"name": "conflict_id", "in": "path", "required": True,
                                     "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["action", "by"],
                "properties": {"action": {"type": "string", "enum": ["assign", "dismiss"]},
                               "by": {"type": "string", "maxLength": 80},
                               "reason": {"type": "string", "maxLength": 200},
                               "request_id": {"type": "string", "minLength": 8, "maxLength": 64}},
                # what names the resource to assign, as its pack reads it (e.g. the hospital's ward_code, bed_no)
                "additionalProperties": {"type": "string", "maxLength": 100}}}}},
            "responses": {"200": {"description": "resolved (or the stored result of the same request_id)"},
                          "400": _ERR, "401": _ERR, "404": _ERR, "409": _ERR, "413": _ERR, "422": _ERR}}},
    },
    "components": {"schemas": {
        **_PAYLOAD_COMPONENTS,
        "Error": {"type": "object", "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}},
        "Command": {"type": "object", "required": ["command_id", "device_id", "device_seq", "created_at", "kind",
                                                   "payload"],
                    "properties": {"command_id": {"type": "string"}, "device_id": {"type": "string"},
                                   "device_seq": {"type": "integer"}, "created_at": {"type": "string"},
                                   "kind": {"type": "string", "enum": sorted(HANDLERS)},
                                   "payload": {"type": "object", "description":
                                               "the kind's payload: x-payloads names its schema"}},
                    "x-payloads": _PAYLOAD_REFS},
        "Batch": {"type": "object", "required": ["commands"],
                  "properties": {"device": {"type": "object", "additionalProperties": False, "properties": {
                      "queue_depth": {"type": "integer", "minimum": 0, "maximum": MAX_QUEUE_DEPTH},
                      "health": {"type": "object", "maxProperties": MAX_HEALTH_KEYS,
                                 "description": f"role -> status; keys 1-{MAX_HEALTH_KEY} characters; values a "
                                                f"string (at most {MAX_HEALTH_VALUE}), an integer, a boolean or null",
                                 "additionalProperties": {"type": "string", "maxLength": MAX_HEALTH_VALUE}}}},
                      "commands": {"type": "array", "maxItems": P.MAX_BATCH,
                                   "items": {"$ref": "#/components/schemas/Command"}}}},
    }},
}
