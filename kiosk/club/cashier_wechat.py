"""The invoice title behind a scanned WeChat title QR code: WeChat's ``scantitle`` call (httpx), and
a simulated WeChat (Starlette) for the tests and the demo.

``POST {base}/card/invoice/scantitle?access_token=TOKEN`` with ``{"scan_text": <the QR text>}``
(developers.weixin.qq.com/doc/service/api/invoice/name/api_invoicescantitle). The access token is
the club's official account's (``/cgi-bin/token``); fetching and refreshing it is the deployment's
business and is passed in as a callable here. The QR text is checked first
(:func:`pos.club.wxtitle.parse_title_qr`), so nothing else the scanner reads is ever sent.
"""

from __future__ import annotations

import logging
from typing import Callable

import httpx

from pos.club.errors import ClubError
from pos.club.wxtitle import InvoiceTitle, parse_scantitle, parse_title_qr

__all__ = ["WeChatTitles", "WeChatSim"]

log = logging.getLogger(__name__)


class WeChatTitles:
    def __init__(self, base_url: str = "https://api.weixin.qq.com", token: Callable[[], str] = lambda: "",
                 *, timeout: float = 5.0):
        self.base = base_url.rstrip("/")
        self.token = token
        self.http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def lookup(self, scanned: str) -> InvoiceTitle:
        qr = parse_title_qr(scanned)
        try:
            r = self.http.post(f"{self.base}/card/invoice/scantitle", params={"access_token": self.token()},
                               json={"scan_text": qr.scan_text})
            r.raise_for_status()
            answer = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("wechat scantitle: no usable answer (%s: %s)", type(exc).__name__, exc)
            raise ClubError(f"WeChat scantitle: {type(exc).__name__}: {exc}", code="title_lookup_failed") from exc
        return parse_scantitle(answer)


class WeChatSim:
    """WeChat's ``scantitle`` for known invoice keys; an unknown key answers errcode 72031 (invalid
    params), as WeChat does; a wrong token 40001."""

    def __init__(self, titles: dict[str, dict], token: str = "sim-token"):
        from starlette.applications import Starlette
        from starlette.routing import Route

        self.titles = dict(titles)
        self.token = token
        self.calls: list[str] = []
        self.app = Starlette(routes=[Route("/card/invoice/scantitle", self.scantitle, methods=["POST"])])

    async def scantitle(self, request):
        from starlette.responses import JSONResponse

        if request.query_params.get("access_token") != self.token:
            return JSONResponse({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        text = str((await request.json()).get("scan_text", ""))
        self.calls.append(text)
        try:
            key = parse_title_qr(text).invoice_key
        except ClubError:
            key = ""
        if key not in self.titles:
            return JSONResponse({"errcode": 72031, "errmsg": "invalid params"})
        return JSONResponse({"errcode": 0, "errmsg": "ok", **self.titles[key]})
