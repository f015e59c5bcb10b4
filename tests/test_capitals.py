"""fen -> 大写 converter: known examples, an exhaustive sweep, and hypothesis against an
independent parser of capital numerals."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pos.documents.capitals import MAX_FEN, fen_to_capitals, format_yuan

KNOWN = {
    100000: "壹仟元整",
    0: "零元整",
    1: "壹分",
    5: "伍分",
    50: "伍角",
    55: "伍角伍分",
    100: "壹元整",
    105: "壹元零伍分",
    110: "壹元壹角",
    1000: "壹拾元整",
    1100: "壹拾壹元整",
    10100: "壹佰零壹元整",
    100500: "壹仟零伍元整",
    168032: "壹仟陆佰捌拾元叁角贰分",
    1000000: "壹万元整",
    1050000: "壹万零伍佰元整",
    1005000: "壹万零伍拾元整",
    10050000: "壹拾万零伍佰元整",
    10700053: "壹拾万柒仟元伍角叁分",
    1010000000: "壹仟零壹拾万元整",
    10000000000: "壹亿元整",
    10000000100: "壹亿零壹元整",
    100001000000: "壹拾亿零壹万元整",
    10001000000: "壹亿零壹万元整",
    10100000000: "壹亿零壹佰万元整",
    10010000000: "壹亿零壹拾万元整",
    MAX_FEN: "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分",
}


@pytest.mark.parametrize("fen,text", sorted(KNOWN.items()))
def test_known_amounts(fen, text):
    assert fen_to_capitals(fen) == text


def test_traditional_and_negative():
    assert fen_to_capitals(168032, "zh-Hant") == "壹仟陸佰捌拾元參角貳分"
    assert fen_to_capitals(1050000, "zh-Hant") == "壹萬零伍佰元整"
    assert fen_to_capitals(-50) == "负伍角"
    assert fen_to_capitals(-50, "zh-Hant") == "負伍角"


@pytest.mark.parametrize("bad", [1.5, "100", None, True, MAX_FEN + 1, -MAX_FEN - 1])
def test_rejects_non_int_and_out_of_range(bad):
    with pytest.raises(ValueError):
        fen_to_capitals(bad)


def test_rejects_unknown_script():
    with pytest.raises(ValueError):
        fen_to_capitals(100, "ja")


def test_format_yuan():
    assert format_yuan(123456) == "1,234.56"
    assert format_yuan(5) == "0.05"
    assert format_yuan(-100) == "-1.00"


# -- an independent reader of capital numerals -------------------------------------------
_D = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_D.update({c: i for i, c in enumerate("零壹貳參肆伍陸柒捌玖")})
_SMALL = {"拾": 10, "佰": 100, "仟": 1000}
_BIG = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}


def parse_capitals(text: str) -> int:
    sign = -1 if text[:1] in ("负", "負") else 1
    text = text.lstrip("负負")
    fen = 0
    m = re.fullmatch(r"(?:(.*)元)?(?:零)?(?:(.)角)?(?:(.)分)?(整)?", text)
    assert m, text
    yuan_s, jiao, fen_s, whole = m.groups()
    if yuan_s:
        total, section, digit = 0, 0, 0
        for ch in yuan_s:
            if ch in _D:
                digit = _D[ch]
            elif ch in _SMALL:
                section += digit * _SMALL[ch]
                digit = 0
            elif ch in _BIG:
                section += digit
                # 亿 closes everything before it; 万 closes only its own section
                total = (total + section) * _BIG[ch] if _BIG[ch] == 10**8 else total + section * _BIG[ch]
                section, digit = 0, 0
            else:
                raise AssertionError(f"unexpected {ch!r} in {text!r}")
        fen += (total + section + digit) * 100
    fen += _D[jiao] * 10 if jiao else 0
    fen += _D[fen_s] if fen_s else 0
    return sign * fen


def _well_formed(text: str, fen: int) -> None:
    assert "零零" not in text
    if fen:
        assert not re.search(r"零[元万亿萬億]", text)
    assert text.endswith(("整", "角", "分"))
    assert ("整" in text) == (fen % 100 == 0)
    assert not text.startswith("零") or fen == 0


def test_exhaustive_small_amounts_round_trip():
    # every amount up to 1,000.00 yuan, plus whole-yuan amounts up to 200,000
    for fen in range(0, 100_001):
        t = fen_to_capitals(fen)
        assert parse_capitals(t) == fen, (fen, t)
        _well_formed(t, fen)
    for yuan in range(0, 200_001, 13):
        t = fen_to_capitals(yuan * 100, "zh-Hant")
        assert parse_capitals(t) == yuan * 100, (yuan, t)


@settings(max_examples=1500, deadline=None)
@given(st.integers(min_value=-MAX_FEN, max_value=MAX_FEN), st.sampled_from(["zh-Hans", "zh-Hant"]))
def test_round_trip_any_amount(fen, script):
    t = fen_to_capitals(fen, script)
    assert parse_capitals(t) == fen
    _well_formed(t.lstrip("负負"), abs(fen))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=14))
def test_round_trip_sparse_digits(digits):
    # amounts with many zeros are where the 零 rules bite
    fen = int("".join(str(d) if i % 3 else "0" for i, d in enumerate(digits)))
    assert parse_capitals(fen_to_capitals(fen)) == fen
