"""Integer money arithmetic: fen, quantities in thousandths, rates in permille.

Rounding rule (the only one): half up, away from zero, to the fen - on the absolute value in
integers, ``(a * n + d // 2) // d``, then the sign is put back. No float is ever used.
"""

from __future__ import annotations

__all__ = ["mul_div_round", "amount_fen", "fmt_fen", "parse_yuan", "parse_qty"]


def mul_div_round(a: int, n: int, d: int) -> int:
    """``round(a * n / d)`` half away from zero, in integers."""
    if type(a) is not int or type(n) is not int or type(d) is not int:    # no float, no bool
        raise TypeError(f"integers only: {a!r}, {n!r}, {d!r}")
    if d <= 0:
        raise ValueError("divisor must be positive")
    prod = a * n
    if prod < 0:
        return -((-prod + d // 2) // d)
    return (prod + d // 2) // d


def amount_fen(unit_price_fen: int, qty_milli: int) -> int:
    """Line amount: unit price (fen) x quantity (thousandths), rounded to the fen."""
    return mul_div_round(unit_price_fen, qty_milli, 1000)


def fmt_fen(fen: int) -> str:
    """``123456`` -> ``'1,234.56'`` (``-`` kept)."""
    sign = "-" if fen < 0 else ""
    y, f = divmod(abs(fen), 100)
    return f"{sign}{y:,}.{f:02d}"


def _parse_decimal(text: str, places: int) -> int:
    s = str(text).strip().replace(",", "")
    neg = s.startswith("-")
    s = s.lstrip("+-")
    whole, _, frac = s.partition(".")
    if not (whole or frac) or not (whole or "0").isdigit() or (frac and not frac.isdigit()) or len(frac) > places:
        raise ValueError(f"not a number with at most {places} decimals: {text!r}")
    value = int(whole or "0") * 10 ** places + int((frac + "0" * places)[:places] or "0")
    return -value if neg else value


def parse_yuan(text: str) -> int:
    """``'800.00'`` -> ``80000`` fen (exact; more than 2 decimals is an error)."""
    return _parse_decimal(text, 2)


def parse_qty(text: str) -> int:
    """``'1.5'`` -> ``1500`` thousandths."""
    return _parse_decimal(text, 3)
