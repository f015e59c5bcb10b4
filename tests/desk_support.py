"""Helpers for the desk tests: an outside system (the monitoring centre, the repair centre) enrolled
with the real server and posting signed calls to the desk's intake endpoint."""

from __future__ import annotations

import json
import time

import httpx

from sync import protocol as P

from .sync_support import ADMIN_TOKEN, admin_code

INTAKE = "/v1/packs/desk/intake"


def admin_browser(url: str, lang: str = "en") -> httpx.Client:
    """The admin signed in on the IT site's login form (a session cookie, as a browser keeps it)."""
    c = httpx.Client(base_url=url, timeout=60)
    r = c.post(f"/admin/login?lang={lang}", data={"token": ADMIN_TOKEN})
    assert r.status_code == 303 and "set-cookie" in r.headers, r.text
    return c


def allow_intake(url: str, device_id: str, role: str) -> None:
    """The admin allows an enrolled device to call the intake endpoint (the desk's IT-site page)."""
    c = admin_browser(url)
    try:
        r = c.post("/admin/packs/desk/intake-callers?lang=en", data={"device_id": device_id, "role": role})
        assert r.status_code == 303, r.text
    finally:
        c.close()


class Caller:
    """An enrolled outside system: signs its calls like a device (HMAC-SHA256, timestamp, nonce)."""

    def __init__(self, url: str, device_id: str, role: str | None = None):
        """Enrolled, and allowed for intake as ``role`` (default: from the name, MON -> monitoring,
        RC -> repair_centre; ``""`` = enrolled only, not allowed)."""
        self.url, self.device_id = url, device_id
        r = httpx.post(url + "/v1/enrol", json={"code": admin_code(url), "device_id": device_id, "name": device_id})
        r.raise_for_status()
        self.secret = r.json()["secret"]
        self.http = httpx.Client(base_url=url, timeout=30)
        if role is None:
            role = "monitoring" if device_id.startswith("MON") else "repair_centre" if device_id.startswith("RC") else ""
        if role:
            allow_intake(url, device_id, role)

    def headers(self, body: bytes, path: str = INTAKE, secret: str | None = None, nonce: str | None = None) -> dict:
        ts, nonce = f"{time.time():.3f}", nonce or P.new_nonce()
        return {P.H_DEVICE: self.device_id, P.H_TS: ts, P.H_NONCE: nonce, "Content-Type": "application/json",
                P.H_SIG: P.sign(secret or self.secret, "POST", path, ts, nonce, body)}

    def post(self, data: dict, **kw) -> httpx.Response:
        body = json.dumps(data).encode()
        return self.http.post(INTAKE, content=body, headers=self.headers(body, **kw))

    def close(self):
        self.http.close()
