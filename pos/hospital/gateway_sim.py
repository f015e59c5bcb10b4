"""A simulated insurance platform, in process, for the demo and the tests.

It keeps members (by ID number, social-security card number and e-voucher token), the fee
details uploaded per visit, and every settlement by message ID, and it computes the split with
the same policy tables the hospital uses. Faults can be injected: ``fail_next`` (the call fails
before the platform acts) and ``lose_reply_next`` (the platform acts, then the reply is lost),
the two cases the hospital's recovery must handle.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace

from .errors import GatewayRejected, GatewayUnavailable
from .gateway import CERT_EVOUCHER, CERT_ID_NUMBER, CERT_SSC, FeeLine, PersonInfo, SettleResult
from .policy import Insured, Policy, settle_lines

__all__ = ["SimGateway"]


class SimGateway:
    def __init__(self, policy: Policy, level: str = "tertiary"):
        self.policy = policy
        self.level = level
        self.day: str | None = None                       # the platform's date (None = today)
        self.members: dict[str, PersonInfo] = {}          # id_number -> person
        self.cards: dict[str, str] = {}                   # ssc card number -> id_number
        self.tokens: dict[str, str] = {}                  # e-voucher token -> id_number
        self.fees: dict[str, dict[str, FeeLine]] = {}     # visit_no -> ref -> line
        self.settlements: dict[str, SettleResult] = {}    # msg_id -> result
        self.visit_of: dict[str, str] = {}                # msg_id -> visit_no
        self.calls: list[tuple[str, str]] = []            # (transaction, msg_id) for tests
        self.fail_next: set[str] = set()                  # names of calls that fail before acting
        self.lose_reply_next: set[str] = set()            # names of calls whose reply is lost
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # -- members ---------------------------------------------------------------------------
    def add_member(self, person: PersonInfo, *, card_number: str = "", token: str = "") -> None:
        self.members[person.id_number] = person
        if card_number:
            self.cards[card_number] = person.id_number
        if token:
            self.tokens[token] = person.id_number

    def _fault(self, name: str) -> None:
        if name in self.fail_next:
            self.fail_next.discard(name)
            raise GatewayUnavailable(f"simulated: {name} failed before the platform acted")

    def _lost(self, name: str) -> None:
        if name in self.lose_reply_next:
            self.lose_reply_next.discard(name)
            raise GatewayUnavailable(f"simulated: {name} reply lost after the platform acted")

    # -- 1101 --------------------------------------------------------------------------------
    def person_info(self, cert_type: str, cert_no: str, card_sn: str = "") -> PersonInfo:
        self._fault("person_info")
        if cert_type == CERT_EVOUCHER:
            idno = self.tokens.get(cert_no)
        elif cert_type == CERT_ID_NUMBER:
            idno = cert_no if cert_no in self.members else None
        elif cert_type == CERT_SSC:
            if not card_sn:
                raise GatewayRejected("1101: card_sn is required for a social-security card")
            idno = self.cards.get(cert_no)
        else:
            raise GatewayRejected(f"1101: unknown credential type {cert_type!r}")
        if idno is None:
            raise GatewayRejected(f"1101: no insured person for credential {cert_type}")
        return self.members[idno]

    # -- 2301 --------------------------------------------------------------------------------
    def upload_fees(self, msg_id: str, visit_no: str, member_id: str, lines: list[FeeLine]) -> list[dict]:
        """Store the details (by feedetl_sn; a re-upload replaces) and return each line's split."""
        self._fault("upload_fees")
        with self._lock:
            book = self.fees.setdefault(visit_no, {})
            for line in lines:
                book[line.ref] = line
        self.calls.append(("2301", msg_id))
        person = self._person(member_id)
        rule = self.policy.rule(person.scheme if person else "self_pay", self.level)
        out = settle_lines(rule, [fl.line() for fl in lines], person.insured() if person else Insured(), day=self.day)
        return [sp._asdict() for sp in out.lines]

    def _person(self, member_id: str) -> PersonInfo | None:
        return next((p for p in self.members.values() if p.member_id == member_id), None)

    def _compute(self, msg_id: str, visit_no: str, member_id: str, total_fen: int, setl_id: str,
                 acct_used: bool = True, source: str = "platform:2304") -> SettleResult:
        lines = [fl.line() for fl in self.fees.get(visit_no, {}).values()]
        person = self._person(member_id)
        who = person.insured(acct_used) if person else Insured()
        s = self.policy.settle(self.level, lines, who, day=self.day)
        if s.medfee_sumamt != total_fen:
            raise GatewayRejected(f"total {total_fen} does not match the uploaded details {s.medfee_sumamt}")
        return SettleResult(msg_id, setl_id, member_id, s.medfee_sumamt, s.fund_pay_sumamt, s.psn_part_amt,
                            s.setlinfo(), acct_fen=s.acct_pay, cash_fen=s.psn_cash_pay, source=source)

    # -- 2303 / 2304 -------------------------------------------------------------------------
    def pre_settle(self, msg_id: str, visit_no: str, member_id: str, total_fen: int, *,
                   acct_used: bool = True) -> SettleResult:
        self._fault("pre_settle")
        self.calls.append(("2303", msg_id))
        return self._compute(msg_id, visit_no, member_id, total_fen, "", acct_used, "platform:2303")

    def settle(self, msg_id: str, visit_no: str, member_id: str, total_fen: int, *,
               acct_used: bool = True) -> SettleResult:
        self._fault("settle")
        with self._lock:
            if msg_id in self.settlements:            # idempotent: replay the first result
                return self.settlements[msg_id]
            res = self._compute(msg_id, visit_no, member_id, total_fen, f"SETL{next(self._ids):08d}", acct_used)
            self.settlements[msg_id] = res
            self.visit_of[msg_id] = visit_no
            self._book(member_id, res, +1)
        self.calls.append(("2304", msg_id))
        self._lost("settle")
        return res

    def _book(self, member_id: str, res: SettleResult, sign: int) -> None:
        """The year-to-date figures the platform keeps: fund paid, deductible, stays, account."""
        b = res.breakdown
        for idno, p in self.members.items():
            if p.member_id == member_id:
                self.members[idno] = replace(
                    p, pooled_used_fen=p.pooled_used_fen + sign * b.get("hifp_pay", 0),
                    deductible_used_fen=p.deductible_used_fen + sign * b.get("act_pay_dedc", 0),
                    above_cap_used_fen=p.above_cap_used_fen + sign * (b.get("hifob_pay", 0) + b.get("hifmi_pay", 0)),
                    acct_balance_fen=p.acct_balance_fen - sign * res.acct_fen,
                    admissions_this_year=p.admissions_this_year + sign)

    # -- 2305 / 2601 -------------------------------------------------------------------------
    def cancel_settlement(self, msg_id: str, original_msg_id: str) -> None:
        self._fault("cancel_settlement")
        with self._lock:
            res = self.settlements.get(original_msg_id)
            if res is None:
                raise GatewayRejected(f"2601: no settlement with message ID {original_msg_id}")
            if not res.cancelled:
                self.settlements[original_msg_id] = replace(res, cancelled=True)
                self._book(res.member_id, res, -1)
        self.calls.append(("2601", msg_id))

    def query(self, original_msg_id: str) -> SettleResult | None:
        self._fault("query")
        return self.settlements.get(original_msg_id)
