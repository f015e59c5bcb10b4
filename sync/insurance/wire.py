"""The platform's JSON: the message envelope and its decimal numbers, read and written exactly.

Every request is ``{"infno", "msgid", "mdtrtarea_admvs", "insuplc_admdvs", "recer_sys_code",
"dev_no", "dev_safe_info", "cainfo", "signtype", "infver", "opter_type", "opter", "opter_name",
"inf_time", "fixmedins_code", "fixmedins_name", "sign_no", "input": {...}}``; every answer is
``{"infcode": 0 | -1, "inf_refmsgid", "refmsg_time", "respond_time", "err_msg", "output": {...}}``.
Amounts are yuan with 2 decimals (16,2), prices 6 (16,6), quantities 4 (16,4), ratios 4 (5,4).
Numbers are written as decimal strings and read with ``parse_float=Decimal``: no float ever
touches money. Sending more decimals than the field has is an error, never a rounding.
"""

from __future__ import annotations

import json
from decimal import Decimal

__all__ = ["ENVELOPE_KEYS", "dumps", "loads", "yuan", "fen", "price", "uyuan", "cnt", "qty_e4", "prop", "permille"]

#: the keys every request carries (``signtype`` is optional: published samples leave it out)
ENVELOPE_KEYS = ("infno", "msgid", "mdtrtarea_admvs", "insuplc_admdvs", "recer_sys_code", "dev_no", "dev_safe_info",
                 "cainfo", "infver", "opter_type", "opter", "opter_name", "inf_time", "fixmedins_code",
                 "fixmedins_name", "sign_no", "input")


def dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes):
    return json.loads(data.decode("utf-8"), parse_float=Decimal)


def _fmt(units: int, places: int) -> str:
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10 ** places)
    return f"{sign}{whole}.{frac:0{places}d}"


def _parse(v, places: int, what: str) -> int:
    if isinstance(v, bool) or v is None:
        raise ValueError(f"{what}: not a number: {v!r}")
    if isinstance(v, float):
        raise ValueError(f"{what}: a float reached the money path: {v!r}")
    d = Decimal(str(v)) if not isinstance(v, Decimal) else v
    scaled = d.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{what}: {v} has more than {places} decimals")
    return int(scaled)


def yuan(fen_: int) -> str:
    return _fmt(fen_, 2)


def fen(v, what: str = "amount") -> int:
    return _parse(v, 2, what)


def price(uyuan_: int) -> str:
    return _fmt(uyuan_, 6)


def uyuan(v, what: str = "price") -> int:
    return _parse(v, 6, what)


def cnt(e4: int) -> str:
    return _fmt(e4, 4)


def qty_e4(v, what: str = "cnt") -> int:
    return _parse(v, 4, what)


def prop(permille_: int) -> str:
    """A ratio as the platform writes it (5,4): 100 permille -> ``'0.1000'``."""
    return _fmt(permille_ * 10, 4)


def permille(v, what: str = "ratio") -> int:
    e4 = _parse(v, 4, what)
    if e4 % 10:
        raise ValueError(f"{what}: {v} is finer than a permille")
    return e4 // 10
