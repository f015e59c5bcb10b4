"""Member cards: principal and bonus apart to the fen, PIN lock, and the fapiao rule."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from pos.club.cards import Balance, MemberCards, split_spend
from pos.club.errors import REASONS, CardLocked, ClubError, FapiaoRefused, InsufficientBalance, WrongPin
from pos.club.fapiao import Payment, bill_fapiao, topup_fapiao
from pos.club.store import apply_pack_migrations, open_club_store
from pos.store import Store


@pytest.fixture
def cards(tmp_path):
    store = open_club_store(tmp_path / "club.sqlite")
    yield MemberCards(store, pin_cost=2 ** 10)
    store.close()


def test_top_up_and_spend_keep_principal_and_bonus_apart(cards):
    cards.issue("M0001", "王總", "246810")
    cards.top_up("M0001", 100000, 20000, staff="小周", ref="T1")          # 充1000送200
    spent = cards.spend("M0001", 110000, "246810", ref="B1")
    assert (spent["principal_fen"], spent["bonus_fen"]) == (100000, 10000)
    assert cards.balance("M0001") == Balance(0, 10000)
    cards.refund(spent["entry_id"])
    assert cards.balance("M0001") == Balance(100000, 20000)
    with pytest.raises(ClubError):
        cards.refund(spent["entry_id"])                                  # once only
    with pytest.raises(InsufficientBalance):
        cards.spend("M0001", 120001, "246810")
    assert cards.balance("M0001") == Balance(100000, 20000)


def test_three_wrong_pins_lock_the_card_and_the_count_survives_a_restart(tmp_path):
    path = tmp_path / "club.sqlite"
    store = open_club_store(path)
    cards = MemberCards(store, pin_cost=2 ** 10)
    cards.issue("M0002", "李小姐", "1357")
    cards.top_up("M0002", 50000)
    with pytest.raises(WrongPin) as e1:
        cards.spend("M0002", 100, "0000")
    assert "2 attempts left" in str(e1.value) and e1.value.user_message == REASONS["wrong_pin"]
    with pytest.raises(WrongPin) as e2:
        cards.spend("M0002", 100, "1111")
    assert e2.value.params == {"left": 1}
    store.close()
    store = open_club_store(path)                                        # the box restarts
    cards = MemberCards(store, pin_cost=2 ** 10)
    with pytest.raises(CardLocked):
        cards.spend("M0002", 100, "2222")
    with pytest.raises(CardLocked):
        cards.spend("M0002", 100, "1357")                                # the right PIN no longer helps
    assert cards.balance("M0002") == Balance(50000, 0)
    assert cards.card("M0002")["locked_at"]
    row = store.conn.execute("SELECT pin_hash FROM club_cards").fetchone()[0]
    assert "1357" not in row and row.startswith("scrypt:")
    cards.unlock("M0002", "刘经理")
    assert cards.spend("M0002", 100, "1357")["principal_fen"] == 100
    store.close()


def test_a_right_pin_resets_the_count(cards):
    cards.issue("M3", "张先生", "9999")
    cards.top_up("M3", 1000)
    for _ in range(2):
        with pytest.raises(WrongPin):
            cards.spend("M3", 1, "0000")
    cards.spend("M3", 1, "9999")
    with pytest.raises(WrongPin):
        cards.spend("M3", 1, "0000")                                      # one wrong again, not locked


def test_money_is_integer_fen(cards):
    cards.issue("M4", "赵女士", "1234")
    with pytest.raises(ClubError):
        cards.top_up("M4", 100.0)
    with pytest.raises(ClubError):
        cards.spend("M4", True, "1234")


def test_split_spend_takes_principal_first():
    assert split_spend(Balance(300, 500), 200) == (200, 0)
    assert split_spend(Balance(300, 500), 700) == (300, 400)
    with pytest.raises(InsufficientBalance):
        split_spend(Balance(300, 500), 801)


# -- fapiao ----------------------------------------------------------------------------

def test_the_member_card_part_is_left_out_of_the_bill_fapiao():
    q = bill_fapiao([Payment("member", 80000), Payment("cash", 8800), Payment("card", 30000)])
    assert (q.amount_fen, q.excluded_fen, q.reason) == (38800, 80000, "fapiao_stored_value")
    q = bill_fapiao([Payment("card", 30000)])
    assert (q.amount_fen, q.excluded_fen, q.reason) == (30000, 0, "")


def test_a_fapiao_for_stored_value_spending_is_refused_with_the_reason():
    with pytest.raises(FapiaoRefused) as e:
        bill_fapiao([Payment("member", 50000), Payment("member", 100)])
    assert e.value.user_message == REASONS["fapiao_stored_value"]
    assert "普票" in e.value.user_message and "member card" in str(e.value)


def test_a_top_up_carries_an_ordinary_fapiao_for_its_principal_only():
    q = topup_fapiao(100000, 20000)
    assert (q.kind, q.amount_fen) == ("pc", 100000)
    with pytest.raises(FapiaoRefused) as e:
        topup_fapiao(100000, kind="bs")
    assert e.value.code == "fapiao_special_topup"


# -- the property ----------------------------------------------------------------------

PIN = "4321"


class CardLedger(RuleBasedStateMachine):
    """Any mix of top-ups, spends (right and wrong PINs), refunds and unlocks: the store's
    balances equal a model kept apart, principal and bonus separately, to the fen."""

    def __init__(self):
        super().__init__()
        self.store = Store(":memory:", device_id="CPROP")
        apply_pack_migrations(self.store, ["pos.club.schema"])
        self.cards = MemberCards(self.store, pin_cost=16)
        self.cards.issue("P1", "王總", PIN)
        self.principal = self.bonus = 0
        self.failures = 0
        self.locked = False
        self.spends: list[tuple[str, int, int]] = []
        self.refunded: set[str] = set()
        self.paid_in = self.bonus_given = self.taken_p = self.taken_b = 0

    def teardown(self):
        self.store.close()

    @rule(principal=st.integers(1, 10 ** 7), bonus=st.integers(0, 2 * 10 ** 6))
    def top_up(self, principal, bonus):
        self.cards.top_up("P1", principal, bonus)
        self.principal += principal
        self.bonus += bonus
        self.paid_in += principal
        self.bonus_given += bonus

    @rule(amount=st.integers(1, 2 * 10 ** 7), right=st.booleans())
    def spend(self, amount, right):
        try:
            got = self.cards.spend("P1", amount, PIN if right else "0000")
        except CardLocked:
            assert self.locked or (not right and self.failures == 2)
            if not right and not self.locked:
                self.locked, self.failures = True, 3
            return
        except WrongPin:
            assert not right and not self.locked
            self.failures += 1
            return
        except InsufficientBalance:
            assert right and amount > self.principal + self.bonus
            self.failures = 0
            return
        assert right and not self.locked
        self.failures = 0
        p = min(amount, self.principal)
        assert (got["principal_fen"], got["bonus_fen"]) == (p, amount - p)
        self.principal -= p
        self.bonus -= amount - p
        self.taken_p += p
        self.taken_b += amount - p
        self.spends.append((got["entry_id"], p, amount - p))

    @precondition(lambda self: any(s[0] not in self.refunded for s in self.spends))
    @rule(data=st.data())
    def refund(self, data):
        entry, p, b = data.draw(st.sampled_from([s for s in self.spends if s[0] not in self.refunded]))
        self.cards.refund(entry)
        self.refunded.add(entry)
        self.principal += p
        self.bonus += b
        self.taken_p -= p
        self.taken_b -= b

    @precondition(lambda self: self.locked)
    @rule()
    def unlock(self):
        self.cards.unlock("P1", "刘经理")
        self.locked, self.failures = False, 0

    @invariant()
    def balances_reconcile(self):
        bal = self.cards.balance("P1")
        assert bal == Balance(self.principal, self.bonus)
        assert bal.principal_fen >= 0 and bal.bonus_fen >= 0
        assert bal.principal_fen == self.paid_in - self.taken_p
        assert bal.bonus_fen == self.bonus_given - self.taken_b
        sums = self.store.conn.execute(
            "SELECT kind, sum(principal_fen), sum(bonus_fen) FROM club_card_entries GROUP BY kind").fetchall()
        by = {k: (p, b) for k, p, b in sums}
        assert by.get("topup", (0, 0)) == (self.paid_in, self.bonus_given)
        assert bool(self.cards.card("P1")["locked_at"]) == self.locked


CardLedger.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None,
                                        suppress_health_check=[HealthCheck.too_slow])
test_card_ledger_reconciles = CardLedger.TestCase


def test_every_club_outbox_payload_matches_its_schema(tmp_path):
    """The payloads the club emits convert to the kinds' msgspec schemas (what the server checks)."""
    import json

    import msgspec

    from pos.club.calls import CallBook
    from pos.club.kinds import KINDS
    from pos.club.reservations import Reservations

    store = open_club_store(tmp_path / "c.sqlite")
    try:
        cards = MemberCards(store, pin_cost=16)
        cards.issue("K1", "王總", "1234")
        cards.top_up("K1", 1000, 200)
        cards.refund(cards.spend("K1", 1100, "1234")["entry_id"])
        book = CallBook(store)
        res = Reservations(store, book)
        rid = res.book_room("8", "2030-01-01T10:00:00.000000Z", 6)
        res.cancel(res.book_room("9", "2030-01-01T10:00:00.000000Z", 2))
        for c in res.arrive(rid):
            book.ack(c["call_id"], "小李", "manager", "d1")
        rows = store.conn.execute("SELECT kind, payload FROM outbox ORDER BY device_seq").fetchall()
        kinds = [k for k, _ in rows]
        from tests.test_club_orders import SERVICE_KINDS    # emitted (and checked) by the service part's tests
        assert set(kinds) == set(KINDS) - {"club.fapiao.issued", "club.bill.paid", "club.day.closed"} - SERVICE_KINDS and kinds.count("club.card.entry") == 3
        for kind, payload in rows:
            msgspec.convert(json.loads(payload), KINDS[kind])
        with pytest.raises(msgspec.ValidationError):
            msgspec.convert({**json.loads(rows[0][1]), "principal_fen": 1.5}, KINDS["club.card.entry"])
    finally:
        store.close()
