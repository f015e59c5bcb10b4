"""The club's topics and message bodies on the MQTT bus (UTF-8 JSON objects).

Box → devices::

    club/{site}/room/{room}          a call's current row (each change; carries the room's rev)
    club/{site}/offer/runner         a runner call, read through $share/runners/...: one runner each
    club/{site}/reply/{device}       answers to one device (catch-up, refusals, duplicate acks)
    club/{site}/box                  retained: the box's boot id ("online") or its will ("offline")

Devices → box::

    club/{site}/in/call              {"group_id", "room", "kind", "from_role", "device", "text"?, "to_roles"?}
    club/{site}/in/ack               {"call_id", "staff", "role", "device"}
    club/{site}/in/sync              {"device", "known": {room: rev}}   (answered on reply/{device})
    club/{site}/in/tick              {"res_id", "item", "staff", "device"}   (a checklist item done)
    club/{site}/in/arrive            {"res_id", "role", "device"}           (guests arrived, from the day's list)
    club/{site}/in/shift             {"device", "staff", "role", "rooms", "on": true|false}
    club/{site}/presence/{device}    retained: {"state": "online", "role", "staff"}; the will says "offline"
"""

from __future__ import annotations

import json

__all__ = ["Topics", "encode", "decode", "RUNNER_GROUP"]

RUNNER_GROUP = "runners"


class Topics:
    def __init__(self, site: str):
        if not site or any(c in site for c in "/+#"):
            raise ValueError(f"bad site name for topics: {site!r}")
        self.base = f"club/{site}"

    def room(self, room: str) -> str:
        return f"{self.base}/room/{room}"

    @property
    def rooms(self) -> str:
        return f"{self.base}/room/+"

    def offer(self, role: str) -> str:
        return f"{self.base}/offer/{role}"

    def shared_offer(self, role: str, group: str = RUNNER_GROUP) -> str:
        return f"$share/{group}/{self.base}/offer/{role}"

    def reply(self, device: str) -> str:
        return f"{self.base}/reply/{device}"

    @property
    def box(self) -> str:
        return f"{self.base}/box"

    def inbox(self, what: str) -> str:
        return f"{self.base}/in/{what}"

    @property
    def inboxes(self) -> str:
        return f"{self.base}/in/+"

    def presence(self, device: str = "+") -> str:
        return f"{self.base}/presence/{device}"

    def room_of(self, topic: str) -> str | None:
        prefix = f"{self.base}/room/"
        return topic[len(prefix):] if topic.startswith(prefix) else None

    def tail(self, topic: str, middle: str) -> str | None:
        prefix = f"{self.base}/{middle}/"
        return topic[len(prefix):] if topic.startswith(prefix) else None


def encode(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def decode(payload: bytes) -> dict:
    body = json.loads(payload.decode("utf-8")) if payload else {}
    if not isinstance(body, dict):
        raise ValueError("message body must be a JSON object")
    return body
