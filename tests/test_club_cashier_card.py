"""The club's member card on the real PC/SC stack (pcscd + vpcd + our virtual card): the UID read
with GET DATA ``FF CA 00 00 00`` is the card number; the PIN and the lock are the cashier's."""

from __future__ import annotations

import pytest

from tests.pcsc_stack import READER, running_stack, use_private_socket

use_private_socket()       # before any PC/SC call in this process

from tests.conftest import ROOT  # noqa: E402
from drivers.errors import DeviceTimeout  # noqa: E402
from drivers.identity import UnreadableCard  # noqa: E402
from kiosk.club.cashier_card import GET_UID, MemberCardReader  # noqa: E402

pytestmark = pytest.mark.pcsc
CARD = ROOT / "assets" / "cards" / "club_member_wang.toml"

stack = pytest.fixture(scope="module", name="stack")(running_stack)


@pytest.fixture
def reader(stack):
    r = MemberCardReader(READER)
    yield r
    r.close()
    stack.remove_all()


def test_get_uid_is_the_pcsc_part3_pseudo_apdu():
    # PC/SC Part 3 §3.2.2.1.3, Get Data: CLA FF, INS CA, P1 00 (UID), P2 00, Le 00 (full length)
    assert GET_UID == bytes([0xFF, 0xCA, 0x00, 0x00, 0x00])


def test_the_member_card_uid_is_read_through_pcscd_and_its_atr_is_a_part3_storage_card(stack, reader):
    from smartcard.ATR import ATR

    stack.insert(CARD)
    assert reader.read(timeout=10) == "E3B0C442"
    atr = reader.ctx.atr(READER)
    parsed = ATR(list(atr))                                   # pyscard's own ATR parser
    assert parsed.checksumOK
    hist = bytes(parsed.getHistoricalBytes())
    # PC/SC Part 3 §3.1.3.2.3: 80 4F 0C, RID A0 00 00 03 06, SS 03 (ISO 14443 A, part 3), NN 00 01 (MIFARE 1K)
    assert hist[:3] == bytes.fromhex("804F0C") and hist[3:8] == bytes.fromhex("A000000306")
    assert hist[8] == 0x03 and hist[9:11] == bytes.fromhex("0001")


def test_a_card_without_a_uid_is_refused_and_no_card_times_out(stack, reader, tmp_path):
    with pytest.raises(DeviceTimeout):
        reader.read(timeout=0.5)
    p = tmp_path / "blank.toml"
    p.write_text('kind = "blank"\n', encoding="utf-8")
    stack.insert(p)
    with pytest.raises(UnreadableCard) as e:
        reader.read(timeout=10)
    assert "not a member card" in e.value.user_message


def test_read_card_then_pin_on_the_cashier_then_lock_after_three(stack, reader, tmp_path):
    from pos.club.cards import MemberCards
    from pos.club.errors import CardLocked, WrongPin
    from pos.club.store import open_club_store

    store = open_club_store(tmp_path / "c.sqlite")
    try:
        cards = MemberCards(store)
        stack.insert(CARD)
        uid = reader.read(timeout=10)
        cards.issue(uid, "王总", "2468")
        cards.top_up(uid, 100000, 20000)
        assert cards.spend(uid, 30000, "2468", ref="B1")["principal_fen"] == 30000
        for _ in range(2):
            with pytest.raises(WrongPin):
                cards.spend(uid, 100, "1111", ref="B1")
        with pytest.raises(CardLocked):
            cards.spend(uid, 100, "1111", ref="B1")
        assert cards.card(reader.read(timeout=10))["locked_at"]
        assert cards.balance(uid).principal_fen == 70000 and cards.balance(uid).bonus_fen == 20000
    finally:
        store.close()
