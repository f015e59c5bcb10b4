"""Amounts in Chinese capital numerals (大寫金額), as written on receipts and cheques.

``fen_to_capitals(100000)`` gives ``壹仟元整``. Money is integer fen (1 元 = 10 角 = 100 分).

Rules followed (the usual bank/accounting conventions):

* digits 壹贰叁肆伍陆柒捌玖, units 拾佰仟 inside a group of four, groups 万 and 亿
  (amounts are limited to below 10^12 元, so 万亿 is never needed);
* ``拾`` is always preceded by its digit: 10 元 is 壹拾元整;
* one 零 stands for any run of zeros inside the number (1005 元 = 壹仟零伍元整; 100,000,001 元 =
  壹亿零壹元整; 10,500 元 = 壹万零伍佰元整), never at the end of the 元 part;
* ``整`` after 元 when there are no 角 and 分; after 角 no 整; 分 never takes 整;
* a zero 角 between 元 and 分 is written 零 (1.05 元 = 壹元零伍分);
* less than one 元: only 角/分 (0.50 元 = 伍角, 0.05 元 = 伍分); zero is 零元整;
* negative amounts take the prefix 负 (負).

``script`` chooses Simplified (``zh-Hans``) or Traditional (``zh-Hant``) characters.
"""

from __future__ import annotations

__all__ = ["fen_to_capitals", "format_yuan", "MAX_FEN"]

MAX_FEN = 10**14 - 1  # below 10^12 元 (a trillion)

_DIGITS = {"zh-Hans": "零壹贰叁肆伍陆柒捌玖", "zh-Hant": "零壹貳參肆伍陸柒捌玖"}
_GROUPS = {"zh-Hans": ("", "万", "亿"), "zh-Hant": ("", "萬", "億")}
_NEG = {"zh-Hans": "负", "zh-Hant": "負"}
_SMALL_UNITS = ("仟", "佰", "拾", "")


def _group(n: int, digits: str) -> str:
    """0 < n < 10000 as written inside its group; leading zeros are the caller's business."""
    out, zero = [], False
    for unit, d in zip(_SMALL_UNITS, f"{n:04d}"):
        d = int(d)
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append(digits[0])
            zero = False
        out.append(digits[d] + unit)
    return "".join(out)


def _yuan(n: int, script: str) -> str:
    digits, names = _DIGITS[script], _GROUPS[script]
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out, need_zero = [], False
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if g == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or g < 1000):
            out.append(digits[0])
        out.append(_group(g, digits) + names[i])
        need_zero = False
    return "".join(out)


def fen_to_capitals(fen: int, script: str = "zh-Hans") -> str:
    """``fen`` (an int) in capital numerals; raises ValueError for non-int or out-of-range amounts."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise ValueError(f"amount must be integer fen, got {type(fen).__name__}")
    if script not in _DIGITS:
        raise ValueError(f"script must be zh-Hans or zh-Hant, got {script!r}")
    if abs(fen) > MAX_FEN:
        raise ValueError(f"amount {fen} fen is too large")
    digits = _DIGITS[script]
    if fen < 0:
        return _NEG[script] + fen_to_capitals(-fen, script)
    yuan, jiao, fen_ = fen // 100, fen // 10 % 10, fen % 10
    if fen == 0:
        return digits[0] + "元整"
    out = _yuan(yuan, script) + "元" if yuan else ""
    if jiao == 0 and fen_ == 0:
        return out + "整"
    if jiao:
        out += digits[jiao] + "角"
    elif yuan:
        out += digits[0]
    if fen_:
        out += digits[fen_] + "分"
    return out


def format_yuan(fen: int) -> str:
    """``123456`` -> ``1,234.56`` (figures for documents)."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise ValueError(f"amount must be integer fen, got {type(fen).__name__}")
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"
