"""Insurance cards over the real PC/SC stack: pcscd + vpcd + our virtual card, read by pyscard.

The stack runs in private namespaces (tests/pcsc_stack.py). Without root it cannot start: the
tests skip with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import json
import subprocess
import threading

import pytest

from tests.pcsc_stack import READER, SOCKET, running_stack, use_private_socket

use_private_socket()       # before any PC/SC call in this process

from tests.conftest import ROOT, onestop_cmd  # noqa: E402
from drivers.errors import CardError, DeviceTimeout  # noqa: E402
from drivers.identity import CardExpired, CardRemoved, UnknownCard, UnreadableCard  # noqa: E402
from drivers.identity_wait import wait_for_identity  # noqa: E402
from drivers.pcsc import CardWatcher, PcscCardReader  # noqa: E402
from drivers.registry import open_device, probe  # noqa: E402
from drivers.url import parse_url  # noqa: E402

pytestmark = pytest.mark.pcsc
CARDS = ROOT / "assets" / "cards"
URL = f"pcsc://{READER}"


stack = pytest.fixture(scope="module", name="stack")(running_stack)


@pytest.fixture
def reader(stack):
    dev = open_device(URL, "card_reader")
    yield dev
    dev.close()
    stack.remove_all()


def profile(tmp_path, text: str):
    p = tmp_path / "card.toml"
    p.write_text(text, encoding="utf-8")
    return p


SSSE_BASE = (CARDS / "ssse_wang.toml").read_text(encoding="utf-8")


def test_ssse_rare_character_name_and_status_words(stack, reader):
    # the profile answers SELECT with 61xx and wrong Le with 6Cxx; the name has U+20000
    stack.insert(CARDS / "ssse_zhang.toml")
    ident = reader.read_identity(timeout=10)
    assert ident.as_json() == {
        "source": "ssc", "name": "张𠀀", "sex": "M", "birth_date": "1949-12-31",
        "id_number": "11010519491231002X", "card_number": "A01234567", "issuer": "330100",
        "valid_until": "2031-06-01",
        "insurance": {"scheme": "CN-SSC", "member_id": "11010519491231002X", "payer": "330100"},
        "token": None,
    }
    assert reader.last_atr and reader.status().detail["last_read"] == "ssc"


def test_ssse_get_response_chunks(stack, reader):
    stack.insert(CARDS / "ssse_wang.toml")        # answers in 8-byte pieces + 61xx
    ident = reader.read_identity(timeout=10)
    assert (ident.name, ident.sex, ident.card_number) == ("王喆", "F", "B76543210")


def test_long_name_continues_in_extension_record(stack, reader, tmp_path):
    long_name = "欧阳娜娜丽莎𠀀𠀁𠀂阿依古丽买买提江"
    assert len(long_name.encode("gb18030")) > 30
    stack.insert(profile(tmp_path, SSSE_BASE.replace('name = "王喆"', f'name = "{long_name}"')))
    assert reader.read_identity(timeout=10).name == long_name


RARE_LONG_NAME = "欧阳䶮𠀀娜丽莎阿依古丽买买提江𠀁"      # 䶮 (U+4DAE, GB 18030 2-byte), 𠀀 (4-byte)


@pytest.mark.parametrize("behaviour", [
    'record_layout = "compact"',               # EF06: 7 physical records; 00 B2 08 04 -> 6A83
    "record_ids = false",                      # numbers only: identifier reads refused (6A81)
])
def test_both_ef06_layouts_with_long_rare_names(stack, reader, tmp_path, behaviour):
    assert len(RARE_LONG_NAME.encode("gb18030")) > 30           # continued in record 4E
    text = SSSE_BASE.replace('name = "王喆"', f'name = "{RARE_LONG_NAME}"').replace(
        "[behaviour]", f"[behaviour]\n{behaviour}")
    stack.insert(profile(tmp_path, text))
    ident = reader.read_identity(timeout=10)
    assert (ident.name, ident.id_number, ident.card_number) == (RARE_LONG_NAME, "440305199001010026", "B76543210")


def test_egk(stack, reader):
    stack.insert(CARDS / "egk_mueller.toml")
    rec = reader.read_identity(timeout=10).as_json()
    assert rec["source"] == "egk" and rec["name"] == "Jürgen Müller-Lüdenscheidt"
    assert rec["insurance"] == {"scheme": "DE-GKV", "member_id": "X110411675", "payer": "108310400"}
    assert (rec["birth_date"], rec["valid_until"], rec["issuer"]) == ("1975-03-21", "2030-12-31", "AOK Bayern")


def test_unknown_card(stack, reader, tmp_path):
    stack.insert(profile(tmp_path, 'kind = "blank"\n'))
    with pytest.raises(UnknownCard):
        reader.read_identity(timeout=10)


@pytest.mark.parametrize("raw, err", [
    ('"EF06:09" = "091E41"', UnreadableCard),                  # truncated TLV
    ('"EF06:09" = "0A02C1C1"', UnreadableCard),                # wrong tag
    ('"EF06:09" = "0904817FB0A1"', UnreadableCard),            # invalid GBK
    ('"EF05:06" = "06042031AA01"', UnreadableCard),            # expiry not BCD
])
def test_garbage_records_give_clear_errors(stack, reader, tmp_path, raw, err):
    stack.insert(profile(tmp_path, SSSE_BASE.replace("[behaviour]", f"[raw]\n{raw}\n\n[behaviour]")))
    with pytest.raises(err) as info:
        reader.read_identity(timeout=10)
    assert info.value.user_message


def test_pin_protected_holder_file(stack, reader, tmp_path):
    stack.insert(profile(tmp_path, SSSE_BASE + 'pin = "123456"\n'))
    with pytest.raises(CardError, match="PIN"):
        reader.read_identity(timeout=10)


@pytest.mark.parametrize("pull_after", [1, 6, 15])
def test_card_pulled_mid_read(stack, reader, pull_after):
    stack.insert(CARDS / "ssse_zhang.toml", pull_after=pull_after)
    with pytest.raises(CardRemoved) as info:
        reader.read_identity(timeout=10)
    assert "insert it again" in info.value.user_message


def test_no_card_times_out(stack, reader):
    with pytest.raises(DeviceTimeout):
        reader.read_identity(timeout=0.5)


def test_insert_and_remove_events(stack):
    seen: list = []
    inserted, removed = threading.Event(), threading.Event()

    def on_event(ev):
        seen.append(ev)
        {"inserted": inserted, "removed": removed}.get(ev.kind, threading.Event()).set()

    with CardWatcher("Virtual PCD 00 00") as w:
        w.subscribe(on_event)
        card = stack.insert(CARDS / "egk_mueller.toml")
        assert inserted.wait(10)
        card.remove()
        assert removed.wait(10)
    kinds = [e.kind for e in seen if e.kind in ("inserted", "removed")]
    assert kinds == ["inserted", "removed"]
    assert seen[[e.kind for e in seen].index("inserted")].atr.startswith(b"\x3b")


def test_wait_for_identity_and_expired(stack, tmp_path):
    stack.insert(profile(tmp_path, SSSE_BASE.replace('expiry = "2029-03-15"', 'expiry = "2020-03-15"')))
    with pytest.raises(CardExpired):
        wait_for_identity([URL], timeout=10)
    stack.remove_all()
    stack.insert(CARDS / "ssse_wang.toml")
    assert wait_for_identity([("card_reader", URL)], timeout=10).name == "王喆"
    stack.remove_all()


def test_probe_and_reader_selection(stack):
    assert probe(URL, "card_reader").as_dict()["reason"] == "ready, no card"
    assert probe("pcsc://NoSuchReader", "card_reader").state.value == "disconnected"
    assert PcscCardReader.__name__ in repr(open_device("pcsc://", "card_reader"))


def test_probing_returns_every_context_to_pcscd(stack):
    """The device monitor probes the reader every few seconds; each probe used to keep its PC/SC
    context (a socket to pcscd), so pcscd ran out of client slots after some minutes."""
    import os

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    probe(URL, "card_reader")
    before = open_fds()
    for _ in range(40):
        assert probe(URL, "card_reader").state.value == "connected"
    assert open_fds() - before < 5


def test_a_released_context_is_not_reopened(stack):
    from drivers.errors import DeviceNotFound

    r = PcscCardReader(parse_url(URL), "card_reader")
    assert r.status().state.value == "connected"
    r.close()
    with pytest.raises(DeviceNotFound, match="released"):
        r.ctx.readers()


def _cli(env, *args, timeout=30):
    env = dict(env, PCSCLITE_CSOCK_NAME=str(SOCKET))
    return subprocess.run(onestop_cmd() + ["card", "read", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_cli_card_read(stack, onestop_env):
    stack.insert(CARDS / "ssse_zhang.toml")
    try:
        r = _cli(onestop_env, "--reader", URL, "--timeout", "10", "--json")
    finally:
        stack.remove_all()
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    assert rec["name"] == "张𠀀" and rec["source"] == "ssc"
    assert list(rec) == ["source", "name", "sex", "birth_date", "id_number", "card_number", "issuer",
                         "valid_until", "insurance", "token"]


def test_cli_timeout_and_unknown(stack, onestop_env, tmp_path):
    r = _cli(onestop_env, "--reader", URL, "--timeout", "0.5", "--json")
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "no card" in r.stderr
    stack.insert(profile(tmp_path, 'kind = "blank"\n'))
    try:
        r = _cli(onestop_env, "--reader", URL, "--timeout", "10", "--json")
    finally:
        stack.remove_all()
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "neither the SSSE nor the eGK" in r.stderr


def test_watcher_blocks_without_polling_and_stop_cancels_it(stack, monkeypatch):
    """The watcher waits in one SCardGetStatusChange with no timeout (no 200 ms poll), and stop()
    wakes it with SCardCancel: the thread ends though its wait has no end of its own."""
    import time

    from smartcard import scard

    calls = []
    real = scard.SCardGetStatusChange

    def counting(ctx, timeout, states):
        calls.append(timeout)
        return real(ctx, timeout, states)

    monkeypatch.setattr(scard, "SCardGetStatusChange", counting)
    w = CardWatcher("Virtual PCD 00 00").start()
    assert w.ready.wait(10)
    time.sleep(1.0)                     # a 200 ms poll would have asked five times by now
    assert len(calls) <= 2 and calls[-1] == scard.INFINITE
    thread = w._thread
    w.stop(timeout=10)
    assert not thread.is_alive()


def test_reader_keeps_one_watcher_and_wakes_on_insertion(stack, reader):
    got = {}

    def wait():
        got["atr"] = reader.wait_for_card(20)

    t = threading.Thread(target=wait)
    t.start()
    card = stack.insert(CARDS / "ssse_wang.toml")
    t.join(20)
    assert got["atr"].startswith(b"\x3b")
    first = reader._watcher
    card.remove()
    stack.wait_empty()
    stack.insert(CARDS / "ssse_wang.toml")
    assert reader.wait_for_card(10).startswith(b"\x3b")
    assert reader._watcher is first and first.running       # it lives as long as the reader
    reader.close()
    assert not first.running


def test_watcher_without_pnp_support_polls_and_still_sees_the_card(stack, monkeypatch):
    """A pcsc-lite without the PnP notification reader (stood for by a name pcscd does not know):
    the watcher falls back to polling and still reports the insertion."""
    import drivers.pcsc.monitor as monitor

    monkeypatch.setattr(monitor, "PNP", "\\\\?PnP?\\NoSuchNotification")
    inserted = threading.Event()
    with CardWatcher("Virtual PCD 00 00", poll_ms=100) as w:
        w.subscribe(lambda ev: inserted.set() if ev.kind == "inserted" else None)
        stack.insert(CARDS / "ssse_wang.toml")
        assert inserted.wait(10)
    stack.remove_all()
