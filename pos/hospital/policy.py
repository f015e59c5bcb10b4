"""Insurance policy as data, and the settlement computed the way the national platform does it.

The engine follows the platform's inpatient settlement step by step; every step's result is a
field named as in the platform's 2304 output ``setlinfo`` (and, per line, the 2301 fee upload's
output), so our figures can be compared field by field with the platform's own:

1. price each line: ``det_item_fee_sumamt = round(pric × cnt)``; the price is integer
   micro-yuan (the platform's 6 decimals of a yuan), the quantity integer ten-thousandths (its 4
   decimals); 1 fen = 10,000 micro-yuan, so ``amount_fen = round(price_uyuan × qty_e4 / 10^8)``;
2. split each line: 丙 (and every line of an uninsured patient) is ``fulamt_ownpay_amt``; a
   price above the line's price cap (限價, ``pric_uplmt_amt``) gives ``overlmt_amt =
   round((pric − cap) × cnt)``; of the rest a 乙 line pays ``preselfpay_amt = round(rest ×
   selfpay_prop)`` first; what is left is ``inscp_scp_amt``. Rounded per line, as 2301 does;
3. ``inscp_scp_amt`` = sum over the lines (政策範圍內);
4. ``act_pay_dedc``: the deductible by the region's rule - ``per_admission`` (a later admission
   in the same year pays ``later_admission_permille`` of it, e.g. half) or ``annual`` (what the
   year has already paid is taken off);
5. the ratio by scheme, hospital level, band and retiree status: bands cut the in-policy amount
   (``band_basis = "inscp"``, measured from 0) or the amount above the deductible
   (``"above_deductible"``), each segment rounded on its own;
6. ``hifp_pay`` = the bands' sum, at most the room left under the annual cap
   (cap − what the fund already paid this year);
7. the in-policy amount the cap cut off goes to the fund above the cap (``hifob_pay`` for
   employees' 大額, ``hifmi_pay`` for residents' 大病) at its own ratio and annual limit;
8. ``acct_pay``: the personal account (個人賬戶) pays the personal parts the region allows
   (``account_pays``), at most its balance;
9. ``psn_cash_pay`` = ``medfee_sumamt − fund_pay_sumamt − acct_pay``;
10. refund or collect ``psn_cash_pay`` against the net deposits (done by the caller,
    :func:`deposit_due`).

Rounding (the only rule): half away from zero, to the fen, in integers
(:func:`pos.money.mul_div_round`). ``pool_prop_selfpay`` is the ratio (permille) of the
band the stay's in-policy amount ends in.

Each figure of a v2 table carries its public ``source`` and the date it is ``from`` (and
optionally ``until``); a settlement on a day no figure covers is refused. Version 1 tables (the
demo's ``assets/config/insurance.toml``) are read too: integer figures, an annual deductible.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Iterable, NamedTuple

from pos.errors import ConfigError

from ..money import mul_div_round

__all__ = ["SCHEMES", "LEVELS", "CATEGORIES", "SETL_FIELDS", "Figure", "Band", "Rule", "Policy", "Split",
           "Line", "Insured", "LineSplit", "Setl", "settle_lines", "deposit_due", "line_amount_fen",
           "load_policy", "parse_policy", "fmt_price_uyuan", "fmt_qty_e4", "DEFAULT_POLICY_PATH", "CITY_POLICIES", "split"]

SCHEMES = ("employee", "resident", "rural", "self_pay")
LEVELS = ("primary", "secondary", "tertiary")
CATEGORIES = ("甲", "乙", "丙")
DEFAULT_POLICY_PATH = Path(__file__).resolve().parents[2] / "assets" / "config" / "insurance.toml"
CITY_POLICIES = {name: DEFAULT_POLICY_PATH.with_name(f"insurance-{name}.toml") for name in ("beijing", "shanghai")}
ACCOUNT_PARTS = ("inscp", "preselfpay", "overlmt", "fulamt")
ABOVE_CAP_FUNDS = ("hifob_pay", "hifmi_pay")
#: micro-yuan per fen and ten-thousandths per unit: amount_fen = price_uyuan * qty_e4 / SCALE
SCALE = 10_000 * 10_000

#: the setlinfo fields the engine fills (2304 output names), in the platform's order
SETL_FIELDS = ("medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
               "dedc_std", "act_pay_dedc", "hifp_pay", "pool_prop_selfpay", "cvlserv_pay", "hifes_pay",
               "hifmi_pay", "hifob_pay", "maf_pay", "oth_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay",
               "psn_cash_pay", "balc")


@dataclass(frozen=True)
class Figure:
    value: int
    source: str
    valid_from: str = "2000-01-01"       # ISO date, inclusive
    valid_until: str | None = None       # exclusive

    def valid_on(self, day: str) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day < self.valid_until)


@dataclass(frozen=True)
class Figures:
    """One policy figure over time: the entry valid on the settlement day wins."""
    name: str
    entries: tuple[Figure, ...]

    def at(self, day: str | None) -> int:
        if day is None:
            day = dt.date.today().isoformat()
        for f in self.entries:
            if f.valid_on(day):
                return f.value
        raise ConfigError(f"policy figure {self.name} has no value valid on {day}")

    def source(self, day: str | None = None) -> str:
        day = day or dt.date.today().isoformat()
        return next((f.source for f in self.entries if f.valid_on(day)), "")


def _const(name: str, v: int, source: str) -> Figures:
    return Figures(name, (Figure(v, source),))


@dataclass(frozen=True)
class Band:
    upto_fen: int | None                 # upper end of the segment; None = no end
    ratio: Figures                       # permille paid by the pooled fund
    ratio_retiree: Figures | None = None

    @property
    def ratio_permille(self) -> int:     # today's value (v1 callers)
        return self.ratio.at(None)


@dataclass(frozen=True)
class Rule:
    scheme: str
    level: str
    deductible: Figures                  # 起付標準 (dedc_std)
    cap: Figures                         # annual maximum the pooled fund pays
    b_selfpay_first: Figures             # 乙: permille the patient pays first (a line's own prop wins)
    bands: tuple[Band, ...]
    deductible_rule: str = "annual"      # annual | per_admission
    later_admission: Figures | None = None     # per_admission: permille of the deductible from the 2nd stay
    deductible_retiree: Figures | None = None
    band_basis: str = "above_deductible"  # above_deductible | inscp
    above_cap_fund: str = "hifob_pay"
    above_cap_ratio: Figures | None = None
    above_cap_ratio_retiree: Figures | None = None
    above_cap_limit: Figures | None = None
    account_pays: tuple[str, ...] = ()
    insured: bool = True

    # v1 names, today's values
    @property
    def deductible_fen(self) -> int:
        return self.deductible.at(None)

    @property
    def cap_fen(self) -> int:
        return self.cap.at(None)

    @property
    def b_selfpay_first_permille(self) -> int:
        return self.b_selfpay_first.at(None)


class Line(NamedTuple):
    """One fee line as uploaded in 2301 (a plain tuple: the engine also takes rows in this order)."""
    ref: str
    category: str                        # 甲 / 乙 / 丙
    price_uyuan: int                     # pric, micro-yuan
    qty_e4: int                          # cnt, ten-thousandths (negative: a reversal)
    cap_uyuan: int | None = None         # pric_uplmt_amt (限價), micro-yuan
    selfpay_permille: int | None = None  # selfpay_prop of a 乙 line; None = the region's default
    amount_fen: int | None = None        # det_item_fee_sumamt; None = priced here

    @classmethod
    def from_fen(cls, ref: str, category: str, amount_fen: int) -> "Line":
        """A line known only by its amount (quantity 1 at that price)."""
        return cls(ref, category, amount_fen * 10_000, 10_000, amount_fen=amount_fen)


@dataclass(frozen=True)
class Insured:
    """What the platform knows of the person for this settlement."""
    scheme: str = "self_pay"
    retiree: bool = False
    admissions_before: int = 0           # inpatient stays settled earlier this year
    deductible_paid_fen: int = 0         # deductible paid this year (annual rule)
    fund_paid_fen: int = 0               # what the pooled fund already paid this year
    above_cap_paid_fen: int = 0          # what the fund above the cap already paid this year
    acct_balance_fen: int = 0            # personal account balance (balc before)
    use_account: bool = True             # acct_used_flag


class LineSplit(NamedTuple):
    ref: str
    det_item_fee_sumamt: int
    fulamt_ownpay_amt: int
    overlmt_amt: int
    preselfpay_amt: int
    inscp_scp_amt: int


@dataclass(frozen=True)
class Setl:
    """The settlement, step by step; field names are the platform's setlinfo names (fen)."""
    medfee_sumamt: int
    fulamt_ownpay_amt: int
    overlmt_selfpay: int
    preselfpay_amt: int
    inscp_scp_amt: int
    dedc_std: int
    act_pay_dedc: int
    hifp_pay: int
    pool_prop_selfpay: int               # permille
    cvlserv_pay: int
    hifes_pay: int
    hifmi_pay: int
    hifob_pay: int
    maf_pay: int
    oth_pay: int
    fund_pay_sumamt: int
    psn_part_amt: int
    acct_pay: int
    psn_cash_pay: int
    balc: int
    pool_raw_fen: int = 0                # what the bands gave before the cap (ours, not setlinfo)
    cap_room_fen: int = 0                # room left under the cap before this stay (ours)
    totals: dict = field(default_factory=dict)       # 甲/乙/丙 amounts
    lines: tuple[LineSplit, ...] = ()

    def setlinfo(self) -> dict:
        return {k: getattr(self, k) for k in SETL_FIELDS}

    @classmethod
    def from_setlinfo(cls, d: dict) -> "Setl":
        """The platform's figures (its setlinfo, in fen) as a :class:`Setl`."""
        missing = [k for k in SETL_FIELDS if k not in d]
        if missing:
            raise ValueError(f"setlinfo without {', '.join(missing)}")
        return cls(**{k: int(d[k]) for k in SETL_FIELDS})

    # the names the rest of the hospital used before (kept for callers and tests)
    total_fen = property(attrgetter("medfee_sumamt"))
    pooled_fen = property(attrgetter("fund_pay_sumamt"))
    selfpay_fen = property(attrgetter("psn_part_amt"))
    acct_fen = property(attrgetter("acct_pay"))
    cash_fen = property(attrgetter("psn_cash_pay"))
    c_fen = property(attrgetter("fulamt_ownpay_amt"))
    b_first_fen = property(attrgetter("preselfpay_amt"))
    eligible_fen = property(attrgetter("inscp_scp_amt"))
    deductible_fen = property(attrgetter("act_pay_dedc"))

    @property
    def a_fen(self) -> int:
        return self.totals.get("甲", 0)

    @property
    def b_fen(self) -> int:
        return self.totals.get("乙", 0)

    @property
    def copay_fen(self) -> int:
        return self.inscp_scp_amt - self.act_pay_dedc - self.pool_raw_fen

    @property
    def over_cap_fen(self) -> int:
        return self.pool_raw_fen - self.hifp_pay

    def as_dict(self) -> dict:
        d = self.setlinfo()
        d.update(total_fen=self.total_fen, pooled_fen=self.pooled_fen, selfpay_fen=self.selfpay_fen,
                 acct_fen=self.acct_pay, cash_fen=self.psn_cash_pay, deductible_fen=self.act_pay_dedc,
                 over_cap_fen=self.over_cap_fen, totals=dict(self.totals))
        return d


Split = Setl       # the old name


def line_amount_fen(price_uyuan: int, qty_e4: int) -> int:
    """``det_item_fee_sumamt``: price × quantity, rounded half away from zero to the fen."""
    return mul_div_round(price_uyuan, qty_e4, SCALE)


def _round(a: int, n: int, d: int) -> int:
    """:func:`mul_div_round` without its type checks, for the per-line loop (integers from the store)."""
    p = a * n
    return (p + d // 2) // d if p >= 0 else -((-p + d // 2) // d)


def settle_lines(rule: Rule, lines: Iterable, who: Insured, *, day: str | None = None,
                 keep_lines: bool = True) -> Setl:
    """Steps 1-9 for one stay (see the module's docstring). ``lines`` are :class:`Line` or rows in
    its order (ref, class, price µ¥, qty ×10⁴, cap µ¥, 乙 share ‰, amount fen, …); ``keep_lines``
    False skips the per-line results (the totals are the same)."""
    day = day or dt.date.today().isoformat()
    insured = rule.insured
    b_default = rule.b_selfpay_first.at(day) if insured else 0
    totals = {"甲": 0, "乙": 0, "丙": 0}
    fulamt = overlmt = pre = inscp = 0
    splits = []
    keep = splits.append
    for ref, cat, price, qty, cap, prop, amount, *_ in lines:
        if amount is None:
            amount = mul_div_round(price, qty, SCALE)
        try:
            totals[cat] += amount
        except KeyError:
            raise ValueError(f"line {ref}: unknown category {cat!r}") from None
        if not insured or cat == "丙":
            fulamt += amount
            if keep_lines:
                keep(LineSplit(ref, amount, amount, 0, 0, 0))
            continue
        over = _round(price - cap, qty, SCALE) if cap is not None and price is not None and price > cap else 0
        rest = amount - over
        if prop is None:
            prop = b_default if cat == "乙" else 0
        p = _round(rest, prop, 1000) if prop else 0
        overlmt += over
        pre += p
        inscp += rest - p
        if keep_lines:
            keep(LineSplit(ref, amount, 0, over, p, rest - p))
    splits = tuple(splits)
    total = totals["甲"] + totals["乙"] + totals["丙"]
    if min(who.fund_paid_fen, who.deductible_paid_fen, who.admissions_before, who.acct_balance_fen,
           who.above_cap_paid_fen) < 0:
        raise ValueError(f"negative year-to-date figures: {who}")
    if not rule.insured:
        return Setl(total, fulamt, overlmt, pre, inscp, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, total, 0, total,
                    who.acct_balance_fen, totals=totals, lines=splits)
    # 4. deductible
    std_f = rule.deductible_retiree if (who.retiree and rule.deductible_retiree) else rule.deductible
    std = std_f.at(day)
    if rule.deductible_rule == "per_admission":
        if who.admissions_before >= 1 and rule.later_admission is not None:
            std = mul_div_round(std, rule.later_admission.at(day), 1000)
        left = std
    else:
        left = max(0, std - who.deductible_paid_fen)
    dedc = max(0, min(inscp, left))
    # 5./6. bands and the cap
    offset = dedc if rule.band_basis == "above_deductible" else 0
    room = max(0, rule.cap.at(day) - who.fund_paid_fen)
    cap_room = room
    low = 0
    raw = hifp = over_base = 0
    prop = 0
    for band in rule.bands:
        ratio_f = band.ratio_retiree if (who.retiree and band.ratio_retiree) else band.ratio
        ratio = ratio_f.at(day)
        lo = max(offset + low, dedc)
        hi = inscp if band.upto_fen is None else min(inscp, offset + band.upto_fen)
        if band.upto_fen is not None:
            low = band.upto_fen
        seg = hi - lo
        if seg <= 0:
            continue
        prop = ratio
        pay = mul_div_round(seg, ratio, 1000)
        raw += pay
        if pay <= room:
            hifp += pay
            room -= pay
        else:
            covered = min(seg, mul_div_round(room, 1000, ratio)) if ratio else seg
            hifp += room
            room = 0
            over_base += seg - covered
    # 7. above the cap
    hifob = hifmi = 0
    if over_base and rule.above_cap_ratio is not None:
        r2f = rule.above_cap_ratio_retiree if (who.retiree and rule.above_cap_ratio_retiree) else rule.above_cap_ratio
        above = mul_div_round(over_base, r2f.at(day), 1000)
        if rule.above_cap_limit is not None:
            above = min(above, max(0, rule.above_cap_limit.at(day) - who.above_cap_paid_fen))
        if rule.above_cap_fund == "hifmi_pay":
            hifmi = above
        else:
            hifob = above
    cvlserv = hifes = maf = oth = 0          # civil-servant, enterprise, assistance funds: not modelled
    fund = hifp + cvlserv + hifes + hifmi + hifob + maf + oth
    psn_part = total - fund
    # 8. personal account
    parts = {"inscp": inscp - fund, "preselfpay": pre, "overlmt": overlmt, "fulamt": fulamt}
    acct = 0
    if who.use_account and rule.account_pays:
        acct = max(0, min(who.acct_balance_fen, sum(parts[p] for p in rule.account_pays), psn_part))
    cash = psn_part - acct
    return Setl(total, fulamt, overlmt, pre, inscp, std, dedc, hifp, prop, cvlserv, hifes, hifmi, hifob, maf, oth,
                fund, psn_part, acct, cash, who.acct_balance_fen - acct, pool_raw_fen=raw, cap_room_fen=cap_room,
                totals=totals, lines=splits)


def fmt_price_uyuan(uyuan: int) -> str:
    """A platform price as printed: yuan with 2 decimals, more when the price has them
    (``333333`` -> ``'0.333333'``, ``45000000`` -> ``'45.00'``)."""
    sign = "-" if uyuan < 0 else ""
    y, frac = divmod(abs(uyuan), 1_000_000)
    f = f"{frac:06d}".rstrip("0")
    return f"{sign}{y}.{f.ljust(2, '0')}"


def fmt_qty_e4(qty_e4: int) -> str:
    """A platform quantity, exact (``5000`` -> ``'0.5'``, ``25000`` -> ``'2.5'``, ``10000`` -> ``'1'``)."""
    sign = "-" if qty_e4 < 0 else ""
    q, frac = divmod(abs(qty_e4), 10_000)
    f = f"{frac:04d}".rstrip("0")
    return f"{sign}{q}.{f}" if f else f"{sign}{q}"


def deposit_due(net_deposits_fen: int, cash_share_fen: int) -> tuple[int, int]:
    """Step 10: (refund, collect) of the cash share against the net deposits; never both non-zero."""
    due = net_deposits_fen - cash_share_fen
    return max(due, 0), max(-due, 0)


def _self_pay_rule(level: str) -> Rule:
    z = _const("self_pay", 0, "uninsured: the whole bill is out of policy")
    return Rule("self_pay", level, z, z, _const("self_pay", 1000, z.entries[0].source), (Band(None, z),),
                insured=False)


@dataclass(frozen=True)
class Policy:
    rules: dict[tuple[str, str], Rule]
    labels: dict[str, str]
    path: str = "<policy>"
    name: str = ""
    region: str = ""

    def rule(self, scheme: str, level: str) -> Rule:
        if scheme == "self_pay" and level in LEVELS and (scheme, level) not in self.rules:
            return _self_pay_rule(level)
        try:
            return self.rules[(scheme, level)]
        except KeyError:
            raise ConfigError(f"{self.path}: no policy for scheme {scheme!r} at level {level!r}") from None

    def settle(self, level: str, lines: Iterable, who: Insured, *, day: str | None = None,
               keep_lines: bool = True) -> Setl:
        return settle_lines(self.rule(who.scheme, level), lines, who, day=day, keep_lines=keep_lines)

    def split(self, scheme: str, level: str, totals: dict[str, int], *, deductible_used_fen: int = 0,
              pooled_used_fen: int = 0, day: str | None = None) -> Setl:
        """The split of category totals (one line per category), the v1 interface."""
        return split(self.rule(scheme, level), totals, deductible_used_fen=deductible_used_fen,
                     pooled_used_fen=pooled_used_fen, day=day)


def split(rule: Rule, totals: dict[str, int], *, deductible_used_fen: int = 0, pooled_used_fen: int = 0,
          day: str | None = None) -> Setl:
    if any(v < 0 for v in totals.values()) or deductible_used_fen < 0 or pooled_used_fen < 0:
        raise ValueError(f"negative totals or year-to-date figures: {totals}, {deductible_used_fen}, {pooled_used_fen}")
    lines = [Line.from_fen(cat, cat, totals.get(cat, 0)) for cat in CATEGORIES]
    who = Insured(rule.scheme, deductible_paid_fen=deductible_used_fen, fund_paid_fen=pooled_used_fen)
    return settle_lines(rule, lines, who, day=day)


# -- reading the tables ---------------------------------------------------------------------------

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
    if data.get("version") == 2:
        return _parse_v2(data, path)
    if data.get("version") != 1:
        raise ConfigError(f"{path}: version: expected 1 or 2")
    return _parse_v1(data, path)


def _parse_v1(data: dict, path: str) -> Policy:
    schemes = data.get("schemes")
    if not isinstance(schemes, dict):
        raise ConfigError(f"{path}: [schemes] is missing")
    src = f"{path} (illustrative demo table)"
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
                bands.append(Band(upto, _const(f"{bw}.ratio_permille", ratio, src)))
            rules[(scheme, level)] = Rule(
                scheme, level,
                deductible=_const(f"{where}.deductible_fen", _int(f"{where}.deductible_fen", t.get("deductible_fen")), src),
                cap=_const(f"{where}.cap_fen", _int(f"{where}.cap_fen", t.get("cap_fen")), src),
                b_selfpay_first=_const(f"{where}.b_selfpay_first_permille", _int(
                    f"{where}.b_selfpay_first_permille", t.get("b_selfpay_first_permille"), 0, 1000), src),
                bands=tuple(bands), insured=scheme != "self_pay")
    for scheme in SCHEMES:
        for level in LEVELS:
            if (scheme, level) not in rules:
                raise ConfigError(f"{path}: schemes.{scheme}.{level}: missing")
    return Policy(rules, labels, path, name="demo")


_V2_LEVEL_KEYS = {"deductible", "deductible_retiree", "later_admission_permille", "cap", "b_selfpay_first_permille",
                  "bands", "above_cap_ratio_permille", "above_cap_ratio_retiree_permille", "above_cap_limit"}
_V2_SCHEME_KEYS = {"label", "deductible_rule", "band_basis", "above_cap_fund", "account_pays"} | _V2_LEVEL_KEYS


def _date(where: str, v) -> str:
    if isinstance(v, dt.date):
        return v.isoformat()
    try:
        return dt.date.fromisoformat(str(v)).isoformat()
    except ValueError:
        raise ConfigError(f"{where}: expected a date (YYYY-MM-DD), got {v!r}") from None


def _figures(where: str, raw, sources: dict, unit: str, hi: int | None = None) -> Figures:
    """``{ fen|permille = n, source = "KEY §…", from = 2024-01-01, until = … }`` or a list of them."""
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for i, it in enumerate(items):
        w = f"{where}[{i}]" if isinstance(raw, list) else where
        if not isinstance(it, dict):
            raise ConfigError(f"{w}: expected {{ {unit} = …, source = …, from = … }}")
        unknown = set(it) - {unit, "source", "from", "until"}
        if unknown:
            raise ConfigError(f"{w}: unknown key(s) {', '.join(sorted(unknown))}")
        src = it.get("source")
        if not isinstance(src, str) or not src.strip():
            raise ConfigError(f"{w}: every figure needs its public source")
        key = src.split()[0]
        if key not in sources:
            raise ConfigError(f"{w}: source {key!r} is not listed in [sources]")
        if "from" not in it:
            raise ConfigError(f"{w}: every figure needs the date it is valid from")
        out.append(Figure(_int(f"{w}.{unit}", it.get(unit), 0, hi), f"{sources[key]} {src[len(key):].strip()}".strip(),
                          _date(f"{w}.from", it["from"]), _date(f"{w}.until", it["until"]) if "until" in it else None))
    return Figures(where, tuple(out))


def _parse_v2(data: dict, path: str) -> Policy:
    sources = data.get("sources")
    if not isinstance(sources, dict) or not sources:
        raise ConfigError(f"{path}: [sources] is missing (every figure names its public source)")
    schemes = data.get("schemes")
    if not isinstance(schemes, dict):
        raise ConfigError(f"{path}: [schemes] is missing")
    rules: dict[tuple[str, str], Rule] = {}
    labels: dict[str, str] = {}
    for scheme, body in schemes.items():
        if scheme not in SCHEMES or scheme == "self_pay":
            raise ConfigError(f"{path}: schemes.{scheme}: unknown scheme; known: {', '.join(SCHEMES[:-1])}")
        labels[scheme] = str(body.get("label", scheme))
        common = {k: v for k, v in body.items() if k not in LEVELS}
        unknown = set(common) - _V2_SCHEME_KEYS
        if unknown:
            raise ConfigError(f"{path}: schemes.{scheme}: unknown key(s) {', '.join(sorted(unknown))}")
        for level in LEVELS:
            if level not in body:
                continue
            t = dict(common, **body[level])
            where = f"{path}: schemes.{scheme}.{level}"
            unknown = set(body[level]) - _V2_LEVEL_KEYS
            if unknown:
                raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
            for need in ("deductible", "cap", "bands"):
                if need not in t:
                    raise ConfigError(f"{where}: {need} is missing")
            rule_kind = t.get("deductible_rule", "annual")
            if rule_kind not in ("annual", "per_admission"):
                raise ConfigError(f"{where}.deductible_rule: annual or per_admission, got {rule_kind!r}")
            basis = t.get("band_basis", "above_deductible")
            if basis not in ("above_deductible", "inscp"):
                raise ConfigError(f"{where}.band_basis: above_deductible or inscp, got {basis!r}")
            fund = t.get("above_cap_fund", "hifob_pay")
            if fund not in ABOVE_CAP_FUNDS:
                raise ConfigError(f"{where}.above_cap_fund: one of {', '.join(ABOVE_CAP_FUNDS)}")
            acct = tuple(t.get("account_pays", ()))
            if set(acct) - set(ACCOUNT_PARTS):
                raise ConfigError(f"{where}.account_pays: parts are {', '.join(ACCOUNT_PARTS)}")
            bands, prev = [], 0
            raw_bands = t["bands"]
            if not isinstance(raw_bands, list) or not raw_bands:
                raise ConfigError(f"{where}.bands: needs at least one band")
            for i, rb in enumerate(raw_bands):
                bw = f"{where}.bands[{i}]"
                upto = rb.get("upto_fen")
                last = i == len(raw_bands) - 1
                if last and upto is not None:
                    raise ConfigError(f"{bw}: the last band must have no upto_fen")
                if not last:
                    upto = _int(f"{bw}.upto_fen", upto, prev + 1)
                    prev = upto
                bands.append(Band(upto, _figures(f"{bw}.ratio", rb.get("ratio"), sources, "permille", 1000),
                                  _figures(f"{bw}.ratio_retiree", rb["ratio_retiree"], sources, "permille", 1000)
                                  if "ratio_retiree" in rb else None))

            def opt(key, unit, hi=None):
                return _figures(f"{where}.{key}", t[key], sources, unit, hi) if key in t else None

            rules[(scheme, level)] = Rule(
                scheme, level, deductible=_figures(f"{where}.deductible", t["deductible"], sources, "fen"),
                cap=_figures(f"{where}.cap", t["cap"], sources, "fen"),
                b_selfpay_first=opt("b_selfpay_first_permille", "permille", 1000) or _const(
                    f"{where}.b_selfpay_first_permille", 0, "none set"),
                bands=tuple(bands), deductible_rule=rule_kind,
                later_admission=opt("later_admission_permille", "permille", 1000),
                deductible_retiree=opt("deductible_retiree", "fen"), band_basis=basis, above_cap_fund=fund,
                above_cap_ratio=opt("above_cap_ratio_permille", "permille", 1000),
                above_cap_ratio_retiree=opt("above_cap_ratio_retiree_permille", "permille", 1000),
                above_cap_limit=opt("above_cap_limit", "fen"), account_pays=acct)
    if not rules:
        raise ConfigError(f"{path}: no scheme has a table")
    return Policy(rules, labels, path, name=str(data.get("name", "")), region=str(data.get("region", "")))


def load_policy(path: str | Path | None = None) -> Policy:
    p = Path(path) if path else DEFAULT_POLICY_PATH
    if path and str(path) in CITY_POLICIES:
        p = CITY_POLICIES[str(path)]
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the insurance policy: {exc}") from None
    return parse_policy(text, str(p))
