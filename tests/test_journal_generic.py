"""The generic intent -> call -> recover journal (pos.journal) fits fapiao issuing as it stands:
a spec over the club pack's own ``club_fapiao_requests`` table, driven against the simulated
e-invoice provider on a real HTTP server through the club's provider client. The club module is not
changed (it keeps its own code today); this shows the journal's API serves it: the intent committed
before the submit, a lost reply resolved by submitting the same order number again ("duplicate" =
it arrived), the status poll as recovery, and the issued fapiao's outbox command in the same
transaction as its state, once."""

from __future__ import annotations

import time

import pytest

from kiosk.club.einvoice import ProviderClient
from pos.club.fapiao import Payment, bill_fapiao
from pos.club.ids import ulid
from pos.club.store import open_club_store
from pos.ids import utcnow_iso
from pos.journal import IntentJournal, JournalSpec

from .test_club_einvoice import provider  # noqa: F401 - the simulated provider on a real server

SPEC = JournalSpec(
    table="club_fapiao_requests", key="order_no", events="fapiao_events", prefix="club.fapiao",
    transitions={"intent": ("submitted", "in_doubt", "failed"), "in_doubt": ("submitted", "in_doubt", "failed"),
                 "submitted": ("issued", "failed", "in_doubt"), "issued": (), "failed": ()},
    active=("intent", "in_doubt", "submitted"),
    payload=lambda row, state: {k: row[k] for k in ("order_no", "purpose", "ref", "kind", "amount_fen", "invoice_no")},
    outbox=frozenset({"issued"}),                     # other devices need only the fapiao issued
)


class NoAnswer(Exception):
    pass


class Rejected(Exception):
    pass


@pytest.fixture
def club(tmp_path):
    store = open_club_store(tmp_path / "c.sqlite")
    with store.transaction() as tx:                  # the journal's event log, the spec's own table
        tx.execute("CREATE TABLE fapiao_events (id INTEGER PRIMARY KEY, order_no TEXT NOT NULL, at TEXT NOT NULL, "
                   "from_state TEXT, to_state TEXT NOT NULL, detail TEXT)")
    yield store
    store.close()


def request(journal: IntentJournal, bill_ref: str, fen: int, buyer: str) -> dict:
    quote = bill_fapiao([Payment("cash", fen)], "pc")

    def intent(tx) -> dict:                          # built in the transaction that commits it
        now = utcnow_iso()
        return {"order_no": ulid(), "purpose": "bill", "ref": bill_ref, "kind": quote.kind,
                "amount_fen": quote.amount_fen, "excluded_fen": quote.excluded_fen, "buyer_name": buyer,
                "buyer_tax_no": "", "state": "intent", "created_at": now, "updated_at": now}

    return journal.begin(intent)


def submit(client: ProviderClient):
    def call(row: dict) -> str:
        event, reason = client.submit(row)
        if event == "no_answer":
            raise NoAnswer("no answer from the provider")
        if event == "rejected":
            raise Rejected(reason)
        return event
    return call


def submitted(journal: IntentJournal):
    return lambda row, event: journal.transition(row["order_no"], "submitted", detail=event)


def failed(journal: IntentJournal):
    return lambda row, exc: journal.transition(row["order_no"], "failed", {"reason": str(exc)})


def resolver(journal: IntentJournal, client: ProviderClient):
    """Recovery: an intent or a request in doubt is submitted again with the same order number;
    a submitted one is polled."""
    def resolve(row: dict) -> str:
        key = row["order_no"]
        if row["state"] in ("intent", "in_doubt"):
            event, reason = client.submit(row)
            if event in ("accepted", "duplicate"):
                journal.transition(key, "submitted", detail=event)
                return "completed"
            journal.transition(key, "failed" if event == "rejected" else "in_doubt", {"reason": reason})
            return journal.get(key)["state"]
        answer = client.query(key)
        if answer is None or answer[0] == "issuing":
            return "submitted"
        event, details = answer
        journal.transition(key, {"issued": "issued", "failed": "failed"}.get(event, "in_doubt"), details)
        return journal.get(key)["state"]
    return resolve


def test_a_lost_submit_reply_is_resolved_by_the_same_order_number_and_issued_once(club, provider):  # noqa: F811
    sim, url = provider
    journal, client = IntentJournal(club, SPEC), ProviderClient(url, timeout=0.5)
    try:
        row = request(journal, "B-0042", 38800, "李女士")
        assert journal.get(row["order_no"])["state"] == "intent"          # committed before the call
        sim.slow_next = True                                               # stored there, the reply too late
        resolve = resolver(journal, client)

        def later(r: dict) -> str:                                         # no asking now: recovery will
            journal.transition(r["order_no"], "in_doubt")
            return "in_doubt"

        with pytest.raises(NoAnswer):
            journal.attempt(row["order_no"], submit(client), record=submitted(journal), resolve=later,
                            fail=failed(journal), in_doubt=(NoAnswer,), refused=(Rejected,))
        assert journal.get(row["order_no"])["state"] == "in_doubt" and row["order_no"] in sim.orders
        time.sleep(sim.slow_seconds)
        assert journal.recover(resolve, unavailable=(NoAnswer,)) == {row["order_no"]: "completed"}   # duplicate
        for _ in range(6):                                                 # the status poll
            if not journal.unfinished():
                break
            journal.recover(resolve)
        assert journal.get(row["order_no"])["state"] == "issued"
        assert sim.submits == 2 and len(sim.issued()) == 1                 # submitted twice, issued once
        assert journal.events(row["order_no"]) == [(None, "intent"), ("intent", "in_doubt"),
                                                   ("in_doubt", "submitted"), ("submitted", "issued")]
        kinds = [k for (k,) in club.conn.execute("SELECT kind FROM outbox ORDER BY device_seq")]
        assert kinds == ["club.fapiao.issued"]
    finally:
        client.close()


def test_a_refused_request_fails_and_a_crash_before_the_call_is_submitted_on_recovery(club, provider):  # noqa: F811
    sim, url = provider
    journal, client = IntentJournal(club, SPEC), ProviderClient(url, timeout=2.0)
    try:
        resolve = resolver(journal, client)
        bad = request(journal, "B-0043", 10000, "错误抬头有限公司")

        def crash(row):
            raise KeyboardInterrupt("power cut before the submit")

        with pytest.raises(KeyboardInterrupt):                             # nothing left: still an intent
            journal.attempt(bad["order_no"], crash, record=None, resolve=resolve, fail=None)
        assert journal.unfinished()[0]["state"] == "intent" and sim.submits == 0
        for _ in range(6):
            if not journal.unfinished():
                break
            journal.recover(resolve)
        got = journal.get(bad["order_no"])
        assert got["state"] == "failed" and got["reason"] and not sim.issued()
        ok = request(journal, "B-0044", 10000, "王先生")
        journal.attempt(ok["order_no"], submit(client), record=submitted(journal), resolve=resolve,
                        fail=failed(journal), in_doubt=(NoAnswer,), refused=(Rejected,))
        assert journal.get(ok["order_no"])["state"] == "submitted" and sim.submits == 2
    finally:
        client.close()
