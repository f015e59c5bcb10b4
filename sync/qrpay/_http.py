"""One POST to a provider, with the failure mapped to what it means for the money: nothing
reached the provider (:class:`NotSent`) or the request went out and no reply came (in doubt)."""

from __future__ import annotations

import logging

import httpx

from drivers.errors import PaymentInDoubt
from drivers.payment import NotSent

log = logging.getLogger(__name__)


def post(client: httpx.Client, url: str, *, op: str, **kw) -> httpx.Response:
    try:
        r = client.post(url, **kw)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise NotSent(f"{op}: {url} unreachable: {exc}") from exc
    except httpx.HTTPError as exc:      # read timeout, connection closed before the reply ...
        raise PaymentInDoubt(f"{op}: no reply from {url}: {type(exc).__name__}: {exc}") from exc
    if r.status_code >= 500:
        raise PaymentInDoubt(f"{op}: {url} answered HTTP {r.status_code}")
    return r


def yuan(fen: int) -> str:
    """Fen as a yuan string with two decimals, exactly (no rounding: fen are whole)."""
    return f"{fen // 100}.{fen % 100:02d}"


def fen(yuan_text: str) -> int:
    """The exact inverse of :func:`yuan` (refuses more than two decimals)."""
    whole, _, frac = yuan_text.strip().partition(".")
    if len(frac) > 2 or not whole.isdigit() or (frac and not frac.isdigit()):
        raise ValueError(f"not a yuan amount: {yuan_text!r}")
    return int(whole) * 100 + int((frac + "00")[:2])
