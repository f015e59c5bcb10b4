"""Insurance policy tables (``assets/config/insurance.toml``) and the settlement split.

Pure integer arithmetic; the one rounding rule is :func:`pos.money.mul_div_round`
(half away from zero, to the fen). The steps are in docs/domain.md ("Insurance"); in short:

1. 乙 self-pay-first share ``b_first = round(B * b_selfpay_first / 1000)``;
   eligible = A + B - b_first; 丙 is all self-pay.
2. deductible = min(eligible, deductible - deductible used this year).
3. the eligible amount above the deductible is cut into bands; pooled_raw = sum of
   round(segment * ratio / 1000).
4. pooled = min(pooled_raw, cap - pooled used this year).
5. self-pay = total - pooled (so the parts always add up to the total).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from pos.errors import ConfigError

from ..money import mul_div_round

__all__ = ["SCHEMES", "LEVELS", "CATEGORIES", "Band", "Rule", "Policy", "Split", "load_policy",
           "parse_policy", "DEFAULT_POLICY_PATH", "split"]

SCHEMES = ("employee", "resident", "rural", "self_pay")
LEVELS = ("primary", "secondary", "tertiary")
CATEGORIES = ("甲", "乙", "丙")
DEFAULT_POLICY_PATH = Path(__file__).resolve().parents[2] / "assets" / "config" / "insurance.toml"


@dataclass(frozen=True)
class Band:
    upto_fen: int | None      # upper end of the segment (above the deductible); None = no end
    ratio_permille: int


@dataclass(frozen=True)
class Rule:
    scheme: str
    level: str
    deductible_fen: int
    cap_fen: int
    b_selfpay_first_permille: int
    bands: tuple[Band, ...]


class Split(NamedTuple):
    total_fen: int
    a_fen: int
    b_fen: int
    c_fen: int
    b_first_fen: int          # 乙 share paid first by the patient
    eligible_fen: int         # 政策範圍內
    deductible_fen: int       # 起付線 part paid by the patient
    copay_fen: int            # the patient's share inside the bands
    over_cap_fen: int         # above the annual cap
    pooled_fen: int           # 統籌, fronted by the hospital and claimed from the scheme
    selfpay_fen: int          # the patient's part = total - pooled

    def as_dict(self) -> dict:
        return self._asdict()


@dataclass(frozen=True)
class Policy:
    rules: dict[tuple[str, str], Rule]
    labels: dict[str, str]
    path: str = "<policy>"

    def rule(self, scheme: str, level: str) -> Rule:
        try:
            return self.rules[(scheme, level)]
        except KeyError:
            raise ConfigError(f"{self.path}: no policy for scheme {scheme!r} at level {level!r}") from None

    def split(self, scheme: str, level: str, totals: dict[str, int], *, deductible_used_fen: int = 0,
              pooled_used_fen: int = 0) -> Split:
        return split(self.rule(scheme, level), totals, deductible_used_fen=deductible_used_fen,
                     pooled_used_fen=pooled_used_fen)


def split(rule: Rule, totals: dict[str, int], *, deductible_used_fen: int = 0, pooled_used_fen: int = 0) -> Split:
    a, b, c = totals.get("甲", 0), totals.get("乙", 0), totals.get("丙", 0)
    if a < 0 or b < 0 or c < 0 or deductible_used_fen < 0 or pooled_used_fen < 0:
        raise ValueError(f"negative totals or year-to-date figures: {totals}, {deductible_used_fen}, {pooled_used_fen}")
    total = a + b + c
    b_first = mul_div_round(b, rule.b_selfpay_first_permille, 1000)
    eligible = a + b - b_first
    deductible = min(eligible, max(0, rule.deductible_fen - deductible_used_fen))
    rest = eligible - deductible
    pooled_raw = 0
    low = 0
    for band in rule.bands:
        high = band.upto_fen
        seg = rest - low if high is None else max(0, min(rest, high) - low)
        if seg <= 0:
            break
        pooled_raw += mul_div_round(seg, band.ratio_permille, 1000)
        if high is None:
            break
        low = high
    pooled = min(pooled_raw, max(0, rule.cap_fen - pooled_used_fen))
    return Split(total_fen=total, a_fen=a, b_fen=b, c_fen=c, b_first_fen=b_first, eligible_fen=eligible,
                 deductible_fen=deductible, copay_fen=rest - pooled_raw, over_cap_fen=pooled_raw - pooled,
                 pooled_fen=pooled, selfpay_fen=total - pooled)


def _int(where: str, v, lo: int = 0, hi: int | None = None) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise ConfigError(f"{where}: expected an integer, got {v!r}")
    if v < lo or (hi is not None and v > hi):
        raise ConfigError(f"{where}: {v} is out of range [{lo}, {hi if hi is not None else '...'}]")
    return v


def parse_policy(text: str, path: str = "<policy>") -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    if data.get("version") != 1:
        raise ConfigError(f"{path}: version: expected 1")
    schemes = data.get("schemes")
    if not isinstance(schemes, dict):
        raise ConfigError(f"{path}: [schemes] is missing")
    rules: dict[tuple[str, str], Rule] = {}
    labels: dict[str, str] = {}
    for scheme, body in schemes.items():
        if scheme not in SCHEMES:
            raise ConfigError(f"{path}: schemes.{scheme}: unknown scheme; known: {', '.join(SCHEMES)}")
        labels[scheme] = str(body.get("label", scheme))
        for level, t in body.items():
            if level == "label":
                continue
            where = f"{path}: schemes.{scheme}.{level}"
            if level not in LEVELS:
                raise ConfigError(f"{where}: unknown hospital level; known: {', '.join(LEVELS)}")
            unknown = set(t) - {"deductible_fen", "cap_fen", "b_selfpay_first_permille", "bands"}
            if unknown:
                raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
            raw_bands = t.get("bands")
            if not isinstance(raw_bands, list) or not raw_bands:
                raise ConfigError(f"{where}.bands: needs at least one band")
            bands = []
            prev = 0
            for i, rb in enumerate(raw_bands):
                bw = f"{where}.bands[{i}]"
                ratio = _int(f"{bw}.ratio_permille", rb.get("ratio_permille"), 0, 1000)
                upto = rb.get("upto_fen")
                last = i == len(raw_bands) - 1
                if last and upto is not None:
                    raise ConfigError(f"{bw}: the last band must have no upto_fen")
                if not last:
                    upto = _int(f"{bw}.upto_fen", upto, prev + 1)
                    prev = upto
                bands.append(Band(upto, ratio))
            rules[(scheme, level)] = Rule(
                scheme, level,
                deductible_fen=_int(f"{where}.deductible_fen", t.get("deductible_fen")),
                cap_fen=_int(f"{where}.cap_fen", t.get("cap_fen")),
                b_selfpay_first_permille=_int(f"{where}.b_selfpay_first_permille", t.get("b_selfpay_first_permille"), 0, 1000),
                bands=tuple(bands))
    for scheme in SCHEMES:
        for level in LEVELS:
            if (scheme, level) not in rules:
                raise ConfigError(f"{path}: schemes.{scheme}.{level}: missing")
    return Policy(rules, labels, path)


def load_policy(path: str | Path | None = None) -> Policy:
    p = Path(path) if path else DEFAULT_POLICY_PATH
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the insurance policy: {exc}") from None
    return parse_policy(text, str(p))
