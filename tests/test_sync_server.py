"""The central server through its HTTP API, on SQLite and on PostgreSQL: enrolment, signed
requests, idempotent push, gapless pull, bed conflicts, and clear 4xx for bad input."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from sync import protocol as P
from sync.client import SyncClient, get_state
from sync.errors import BadRequest, Unauthorized
from sync.server.commands import CLAIM_COLUMNS, resource_key
from tests.sync_support import (ADMIN_TOKEN, ThreadServer, admin_code, db_url, emit_workload, kiosk_events,  # noqa: F401
                          new_kiosk, server_commands, server_events)


@pytest.fixture
def server(db_url):
    s = ThreadServer(db_url)
    yield s
    s.stop()


def signed(store, method, path, body=b"", ts=None, nonce=None, secret=None):
    ts = ts or f"{time.time():.3f}"
    nonce = nonce or P.new_nonce()
    secret = secret or get_state(store, "secret")
    return {P.H_DEVICE: store.device_id, P.H_TS: ts, P.H_NONCE: nonce,
            P.H_SIG: P.sign(secret, method, path, ts, nonce, body), "Content-Type": "application/json"}


def push_raw(server, store, body: bytes, **kw):
    return httpx.post(server.url + "/v1/push", content=body, headers=signed(store, "POST", "/v1/push", body, **kw))


def batch(store, limit=100):
    return json.dumps({"commands": [{k: c[k] for k in ("command_id", "device_id", "device_seq", "created_at", "kind",
                                                       "payload")} for c in store.outbox_pending(limit)]}).encode()


def count_rows(server, table):
    with server.backend.tx() as cur:
        return cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_push_pull_roundtrip_is_gapless_and_idempotent(server, tmp_path):
    a = new_kiosk(tmp_path, "KA", server.url)
    b = new_kiosk(tmp_path, "KB", server.url)
    emit_workload(a, 40, beds=["1", "2", "3"])
    emit_workload(b, 40, beds=["7", "8", "9"])
    ca, cb = SyncClient(a, batch=7), SyncClient(b, batch=9)
    ca.sync_once()
    cb.sync_once()
    ca.sync_once()
    assert a.outbox_depth() == b.outbox_depth() == 0
    cmds = server_commands(server.backend)
    assert len(cmds) == 80
    events = server_events(server.backend)
    assert [e[0] for e in events] == list(range(1, len(events) + 1))       # gapless
    assert kiosk_events(a) == events == kiosk_events(b)
    # every command pushed again: the stored results come back, nothing new is stored
    body = json.dumps({"commands": [
        {"command_id": r[0], "device_id": "KA", "device_seq": r[1], "created_at": r[2], "kind": r[3],
         "payload": json.loads(r[4])}
        for r in a.conn.execute("SELECT command_id, device_seq, created_at, kind, payload FROM outbox")]}).encode()
    r = push_raw(server, a, body)
    assert r.status_code == 200
    res = r.json()["results"]
    assert len(res) == 40 and all(x["replayed"] for x in res)
    stored = {x[0]: json.loads(x[1]) for x in a.conn.execute("SELECT command_id, result FROM outbox")}
    assert all(stored[x["command_id"]]["result"] == x["result"] for x in res)
    assert len(server_commands(server.backend)) == 80
    assert server_events(server.backend) == events


def test_the_kiosk_prunes_old_pulled_events_but_keeps_what_it_applied(server, tmp_path):
    """A kiosk's copy of the log is pruned past both limits (events behind the cursor and days);
    the cursor, the bed cache built from the pruned events and later pulls are unaffected."""
    a = new_kiosk(tmp_path, "KA", server.url)
    b = new_kiosk(tmp_path, "KB", server.url)
    emit_workload(a, 40, beds=["1", "2", "3"])
    SyncClient(a).sync_once()
    events = server_events(server.backend)
    assert len(events) > 12
    fresh = SyncClient(b, keep_events=10, keep_days=30)      # all events are minutes old: none pruned
    fresh.pull_all()
    assert kiosk_events(b) == events
    beds = b.conn.execute("SELECT * FROM hosp_pulled_beds ORDER BY bed_id").fetchall()
    assert beds
    b.conn.execute("UPDATE sync_state SET value = '0' WHERE key = 'cursor'")
    b.conn.execute("DELETE FROM sync_events")
    b.conn.execute("DELETE FROM hosp_pulled_beds")
    old = SyncClient(b, keep_events=10, keep_days=0)         # every event counts as old: keep 10
    assert old.pull_once(limit=5)                            # 5 applied: nothing 10 behind yet
    assert len(kiosk_events(b)) == 5
    old.pull_all()
    cursor = old.cursor()
    assert cursor == events[-1][0]
    assert kiosk_events(b) == [e for e in events if e[0] > cursor - 10]
    assert b.conn.execute("SELECT * FROM hosp_pulled_beds ORDER BY bed_id").fetchall() == beds
    emit_workload(a, 5, beds=["4"])                          # and pulling goes on from the cursor
    SyncClient(a).sync_once()
    old.pull_all()
    assert [e[0] for e in kiosk_events(b)] == [s for s in range(1, old.cursor() + 1)][-10:]


def test_a_new_kiosk_facing_a_long_log_starts_from_a_snapshot(server, tmp_path):
    """More events wait than a new kiosk would keep: it takes the server's snapshot (every bed as of
    a sequence number) after the first page, and its state equals a kiosk that replayed the log."""
    a = new_kiosk(tmp_path, "KA", server.url)
    emit_workload(a, 60, beds=["1", "2", "3", "4"])
    SyncClient(a).sync_once()                                # KA replayed everything
    head = server_events(server.backend)[-1][0]
    b = new_kiosk(tmp_path, "KB", server.url)
    nb = SyncClient(b, keep_events=10, page=5)
    assert nb.pull_all() == 2 + 1                            # first page, snapshot, the (empty) rest
    assert nb.cursor() == head
    assert kiosk_events(b) == []                             # nothing replayed up to as_of
    beds = "SELECT bed_id, inpatient_no, state, at FROM hosp_pulled_beds ORDER BY bed_id"
    assert b.conn.execute(beds).fetchall() == a.conn.execute(beds).fetchall()
    assert any(r[2] == "occupied" for r in b.conn.execute(beds).fetchall())
    for table in ("hosp_pulled_admissions", "hosp_pulled_charges"):     # every projection, not only beds
        rows = f"SELECT * FROM {table} ORDER BY 1"
        assert b.conn.execute(rows).fetchall() == a.conn.execute(rows).fetchall()
        assert b.conn.execute(rows).fetchall()
    emit_workload(a, 6, beds=["5"])                          # and pulls go on after the snapshot
    SyncClient(a).sync_once()
    nb.pull_all()
    assert kiosk_events(b) == [e for e in server_events(server.backend) if e[0] > head]
    assert b.conn.execute(beds).fetchall() == a.conn.execute(beds).fetchall()


def test_second_bed_claim_goes_to_the_conflict_queue(server, tmp_path):
    a = new_kiosk(tmp_path, "KA", server.url)
    b = new_kiosk(tmp_path, "KB", server.url)
    for store in (a, b):          # both offline, both give bed W3/12 to their own patient
        with store.transaction() as tx:
            tx.emit("hospital.bed.assigned", {"inpatient_no": f"{store.device_id}-000001", "ward_code": "W3",
                                              "bed_no": "12", "at": "2026-11-28T08:00:00Z"})
    SyncClient(a).sync_once()
    SyncClient(b).sync_once()
    ra = json.loads(a.conn.execute("SELECT state, result FROM outbox").fetchone()[1])
    sb, rb = b.conn.execute("SELECT state, result FROM outbox").fetchone()
    assert ra["status"] == "applied"
    assert sb == "rejected" and json.loads(rb)["result"]["reason"] == "bed_taken"
    assert json.loads(rb)["result"]["held_by"] == "KA-000001"
    with server.backend.tx() as cur:
        conflicts = cur.execute("SELECT bed_id, admission_id, held_by FROM bed_conflicts").fetchall()
    assert conflicts == [("W3/12", "KB-000001", "KA-000001")]
    SyncClient(a).sync_once()
    assert a.conn.execute("SELECT inpatient_no FROM hosp_pulled_beds WHERE bed_id = 'W3/12'").fetchone()[0] == "KA-000001"
    # after discharge the bed is free again and can be claimed
    with a.transaction() as tx:
        tx.emit("hospital.discharged", {"inpatient_no": "KA-000001", "ward_code": "W3", "bed_no": "12",
                                        "at": "2026-11-28T10:00:00Z"})
    with b.transaction() as tx:
        tx.emit("hospital.bed.assigned", {"inpatient_no": "KB-000001", "ward_code": "W3", "bed_no": "12",
                                          "at": "2026-11-28T10:30:00Z"})
    SyncClient(a).sync_once()
    SyncClient(b).sync_once()
    last = json.loads(b.conn.execute("SELECT result FROM outbox ORDER BY device_seq DESC").fetchone()[0])
    assert last["status"] == "applied"


def test_ledger_is_append_only(server):
    with pytest.raises(Exception):
        with server.backend.tx() as cur:
            cur.execute("INSERT INTO ledger (entry_id, admission_id, entry_kind, amount_fen, device_id, created_at, "
                        "command_id) VALUES ('X-1', 'A', 'deposit', 5, 'X', 'now', 'c')")
            cur.execute("UPDATE ledger SET amount_fen = 6")
    assert count_rows(server, "ledger") == 0


def test_enrolment_code_is_one_time_and_forged_replayed_revoked_are_refused(server, tmp_path):
    a = new_kiosk(tmp_path, "KA", server.url)
    code = admin_code(server.url)
    first = httpx.post(server.url + "/v1/enrol", json={"code": code, "device_id": "KX"})
    assert first.status_code == 200
    # the answer was lost: the same code from the same device gets the same secret, another device nothing
    again = httpx.post(server.url + "/v1/enrol", json={"code": code, "device_id": "KX"})
    assert again.status_code == 200 and again.json()["secret"] == first.json()["secret"]
    assert httpx.post(server.url + "/v1/enrol", json={"code": code, "device_id": "KY"}).status_code == 401
    assert httpx.post(server.url + "/v1/admin/enrol-codes").status_code == 401
    assert httpx.post(server.url + "/v1/admin/enrol-codes",
                      headers={"Authorization": "Bearer wrong"}).status_code == 401
    emit_workload(a, 4)
    body = batch(a)
    # forged: signed with a wrong secret
    assert push_raw(server, a, body, secret="0" * 64).status_code == 401
    # replayed: the same nonce twice. A copy of a push that committed gets its stored results (a network
    # duplicate is not a credentials problem) and applies nothing again; a pull's nonce is spent for good.
    headers = signed(a, "POST", "/v1/push", body)
    first = httpx.post(server.url + "/v1/push", content=body, headers=headers)
    assert first.status_code == 200 and not any(x["replayed"] for x in first.json()["results"])
    stored = {t: count_rows(server, t) for t in ("commands", "events", "ledger")}
    r = httpx.post(server.url + "/v1/push", content=body, headers=headers)
    assert r.status_code == 200 and all(x["replayed"] for x in r.json()["results"])
    assert [x["result"] for x in r.json()["results"]] == [x["result"] for x in first.json()["results"]]
    assert {t: count_rows(server, t) for t in stored} == stored
    pull = signed(a, "GET", "/v1/events?after=0&limit=5")
    assert httpx.get(server.url + "/v1/events?after=0&limit=5", headers=pull).status_code == 200
    r = httpx.get(server.url + "/v1/events?after=0&limit=5", headers=pull)
    assert r.status_code == 401 and "replayed" in r.json()["detail"]
    # a spent nonce on a push with a command that was not in it is still refused as a replay
    other = json.dumps({"commands": [dict(json.loads(body)["commands"][0], command_id="not-stored-0001")]}).encode()
    h = dict(headers, **{P.H_SIG: P.sign(get_state(a, "secret"), "POST", "/v1/push", headers[P.H_TS],
                                         headers[P.H_NONCE], other)})
    assert httpx.post(server.url + "/v1/push", content=other, headers=h).status_code == 401
    # stale timestamp
    assert push_raw(server, a, body, ts=f"{time.time() - 3600:.3f}").status_code == 401
    # tampered body under a valid signature
    h = signed(a, "POST", "/v1/push", body)
    assert httpx.post(server.url + "/v1/push", content=body.replace(b"W3", b"W4"), headers=h).status_code == 401
    # revoked
    r = httpx.post(server.url + "/v1/admin/devices/KA/revoke", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert r.status_code == 200
    assert push_raw(server, a, body).status_code == 403
    with pytest.raises(Unauthorized):
        SyncClient(a).sync_once()


def test_bad_input_gets_a_clear_4xx_and_nothing_is_stored(server, tmp_path):
    a = new_kiosk(tmp_path, "KA", server.url)
    new_kiosk(tmp_path, "KB", server.url)
    emit_workload(a, 8)
    good = json.loads(batch(a))
    before = {t: count_rows(server, t) for t in ("commands", "events", "ledger", "admissions")}

    def variant(mutate):
        b = json.loads(json.dumps(good))
        mutate(b)
        return json.dumps(b).encode()

    cases = [
        (b"{not json", 400),
        (b"[]", 422),
        (variant(lambda b: b["commands"][3].update(kind="hospital.teleport")), 422),
        (variant(lambda b: b["commands"][5]["payload"].update(amount_fen="12.5")), 422),
        (variant(lambda b: b["commands"][2].update(device_id="KB")), 403),
        # a deposit under KB's receipt numbers, pushed by KA
        (variant(lambda b: b["commands"][1]["payload"].update(entry_no="KB-E1")), 403),
        (variant(lambda b: b["commands"][0]["payload"].update(inpatient_no="KB-000001")), 403),
        (variant(lambda b: b["commands"].extend([b["commands"][0]] * P.MAX_BATCH)), 413),
        (b"x" * (P.MAX_BODY + 10), 413),
    ]
    for body, status in cases:
        r = push_raw(server, a, body)
        assert r.status_code == status, (body[:80], r.text)
        assert r.json()["error"] and r.json()["detail"]
    assert {t: count_rows(server, t) for t in before} == before
    with pytest.raises(BadRequest):
        with a.transaction() as tx:
            tx.emit("hospital.teleport", {})
        SyncClient(a).push_all()
    assert httpx.get(server.url + "/v1/health").status_code == 200


def test_rate_limit_gives_429(db_url, tmp_path):
    s = ThreadServer(db_url, rate=1.0, burst=3)
    try:
        a = new_kiosk(tmp_path, "KA", s.url)
        codes = [httpx.get(s.url + "/v1/events?after=0&limit=5",
                           headers=signed(a, "GET", "/v1/events?after=0&limit=5")).status_code for _ in range(8)]
        assert codes[:3] == [200, 200, 200] and 429 in codes
    finally:
        s.stop()


def test_clock_skew_is_stored_and_warned(server, tmp_path):
    a = new_kiosk(tmp_path, "KA", server.url)
    emit_workload(a, 1)
    body = batch(a)
    h = signed(a, "POST", "/v1/push", body)
    h[P.H_DEVICE_TIME] = "2026-01-01T00:00:00Z"
    r = httpx.post(server.url + "/v1/push", content=body, headers=h)
    assert r.status_code == 200 and r.json()["warnings"][0].startswith("clock_skew")
    with server.backend.tx() as cur:
        skew, seen = cur.execute("SELECT skew_s, last_device_time FROM devices WHERE device_id = 'KA'").fetchone()
    assert skew < -P.SKEW_WARN_S and seen == "2026-01-01T00:00:00Z"


def admin_resolve(server, conflict_id, token=ADMIN_TOKEN, **body):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{server.url}/v1/admin/conflicts/{conflict_id}/resolve", json=body, headers=headers)


def claim(store, no, bed, at="2026-11-28T08:00:00Z"):
    with store.transaction() as tx:
        tx.emit("hospital.bed.assigned", {"inpatient_no": no, "ward_code": "W3", "bed_no": bed, "at": at})


def test_nurse_resolves_bed_conflicts_and_kiosks_pull_the_resolution(server, tmp_path):
    from sync.server.db import OverlapError
    a = new_kiosk(tmp_path, "KA", server.url)
    b = new_kiosk(tmp_path, "KB", server.url)
    claim(a, "KA-000001", "12")
    claim(a, "KA-000002", "14")
    claim(b, "KB-000001", "12")          # both offline: W3/12 twice
    claim(b, "KB-000002", "12")
    SyncClient(a).sync_once()
    SyncClient(b).sync_once()
    with server.backend.tx() as cur:
        conflicts = dict(cur.execute("SELECT admission_id, conflict_id FROM bed_conflicts").fetchall())
    assert sorted(conflicts) == ["KB-000001", "KB-000002"]
    first, second = conflicts["KB-000001"], conflicts["KB-000002"]
    head = len(server_events(server.backend))

    # refused: no token, a bed that is taken, no reason, nobody named, no such conflict; nothing written
    assert admin_resolve(server, first, token=None, action="dismiss", by="Li", reason="x").status_code == 401
    assert admin_resolve(server, first, token="wrong", action="dismiss", by="Li", reason="x").status_code == 401
    r = admin_resolve(server, first, action="assign", by="Nurse Li", ward_code="W3", bed_no="14")
    assert r.status_code == 409 and r.json()["error"] == "bed_taken" and "KA-000002" in r.json()["detail"]
    r = admin_resolve(server, first, action="dismiss", by="Nurse Li", reason="  ")
    assert r.status_code == 422 and r.json()["error"] == "reason_required"
    assert admin_resolve(server, first, action="dismiss", by="", reason="x").json()["error"] == "by_required"
    assert admin_resolve(server, first, action="assign", by="Li", ward_code="W3").json()["error"] == "bed_required"
    assert admin_resolve(server, first, action="teleport", by="Li").status_code == 422
    assert admin_resolve(server, "no-such-conflict", action="dismiss", by="Li", reason="x").status_code == 404
    assert len(server_events(server.backend)) == head
    assert {c["conflict_id"] for c in overview_json(server)["conflicts"]} == {first, second}

    # assign KB-000001 to the free W3/15; the same request again returns the stored result
    r = admin_resolve(server, first, action="assign", by="Nurse Li", ward_code="W3", bed_no="15",
                      request_id="req-0000001")
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["bed_id"] == "W3/15" and done["inpatient_no"] == "KB-000001" and not done["replayed"]
    assert done["seqs"] == [head + 1, head + 2]
    again = admin_resolve(server, first, action="assign", by="Nurse Li", ward_code="W3", bed_no="15",
                          request_id="req-0000001").json()
    assert again["replayed"] and again["seqs"] == done["seqs"]
    # W3/15 is now KB-000001's: the other conflict cannot have it, a kiosk claim of it is rejected
    r = admin_resolve(server, second, action="assign", by="Nurse Li", ward_code="W3", bed_no="15")
    assert r.status_code == 409 and "KB-000001" in r.json()["detail"]
    r = admin_resolve(server, second, action="dismiss", by="IT Wang", reason="patient transferred to ward 5")
    assert r.status_code == 200 and r.json()["reason"] == "patient transferred to ward 5"
    r = admin_resolve(server, second, action="dismiss", by="IT Wang", reason="twice")
    assert r.status_code == 409 and r.json()["error"] == "already_resolved"
    claim(a, "KA-000003", "15", at="2026-11-28T23:00:00Z")
    SyncClient(a).sync_once()
    last = json.loads(a.conn.execute("SELECT result FROM outbox ORDER BY device_seq DESC").fetchone()[0])
    assert last["status"] == "rejected" and last["result"]["held_by"] == "KB-000001"
    with pytest.raises(OverlapError):          # the exclusion constraint guards the nurse's claim too
        with server.backend.tx() as cur:
            cur.copy_rows("resource_claims", CLAIM_COLUMNS["resource_claims"],
                          [("x-1", "bed:W3/15", resource_key("bed:W3/15"), "KA-9", "KA", "2030-01-01T00:00:00.000000Z",
                            None, "live", "x-1")])

    # kiosks pull the resolution; nothing was deleted; the request is in the command log
    SyncClient(a).sync_once()
    SyncClient(b).sync_once()
    events = server_events(server.backend)
    assert [e[0] for e in events] == list(range(1, len(events) + 1))
    assert kiosk_events(a) == events == kiosk_events(b)
    resolved = [e[2] for e in events if e[1] == "bed.conflict_resolved"]
    assert [(x["inpatient_no"], x["action"]) for x in resolved] == [("KB-000001", "assign"), ("KB-000002", "dismiss")]
    assert resolved[0]["bed_id"] == "W3/15" and resolved[0]["by"] == "Nurse Li"
    for store in (a, b):
        assert store.conn.execute("SELECT inpatient_no FROM hosp_pulled_beds WHERE bed_id = 'W3/15'").fetchone()[0] \
            == "KB-000001"
    with server.backend.tx() as cur:
        rows = cur.execute("SELECT conflict_id, resolved_at, resolution FROM bed_conflicts").fetchall()
        kinds = [r[0] for r in cur.execute("SELECT status FROM commands WHERE kind = 'admin.bed_conflict.resolved'").fetchall()]
    assert len(rows) == 3 and all(r[1] for r in rows if r[0] in (first, second))     # + KA-000003's
    assert kinds == ["applied", "applied"]
    view = overview_json(server)
    assert [c["admission_id"] for c in view["conflicts"]] == ["KA-000003"]
    assert {c["conflict_id"] for c in view["resolved"]} == {first, second}


def overview_json(server):
    return httpx.get(server.url + "/v1/admin/overview", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()


def test_an_old_database_migrates_and_keeps_its_log_and_claims(db_url, monkeypatch):
    """A database made before m003 and before the site packs (every event an ``events`` row, bed claims
    in their own table, without a hash) is migrated on start: its events still pull in order, its
    claims become generic resource claims and still block their beds."""
    from pos import packs
    from sync.server import schema
    from sync.server.db import open_backend
    from sync.server.service import enrol, ingest, issue_enrol_code, pull, validate_batch
    legacy = ["""CREATE TABLE admissions (admission_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, patient TEXT NOT NULL,
                 ward TEXT NOT NULL DEFAULT '', admitted_at TEXT NOT NULL, discharge_scheduled_at TEXT,
                 discharged_at TEXT, command_id TEXT NOT NULL)""",
              """CREATE TABLE bed_conflicts (conflict_id TEXT PRIMARY KEY, bed_id TEXT NOT NULL,
                 admission_id TEXT NOT NULL, device_id TEXT NOT NULL, start_at TEXT NOT NULL, held_by TEXT NOT NULL,
                 command_id TEXT NOT NULL, created_at TEXT NOT NULL, resolved_at TEXT, resolution TEXT)""",
              """CREATE TABLE bed_claims (claim_id TEXT PRIMARY KEY, bed_id TEXT NOT NULL, admission_id TEXT NOT NULL,
                 device_id TEXT NOT NULL, start_at TEXT NOT NULL, end_at TEXT, command_id TEXT NOT NULL)"""]
    old = {d: [(n, st) for n, st in ms if n == "m001_core"] + [("m002_beds_ledger", legacy)]
           for d, ms in schema.MIGRATIONS.items()}
    monkeypatch.setattr(schema, "MIGRATIONS", old)
    monkeypatch.setattr(packs, "server_migrations", lambda dialect: [])
    backend = open_backend(db_url)
    with backend.tx() as cur:
        cur.execute("INSERT INTO commands (command_id, device_id, device_seq, created_at, received_at, kind, payload, "
                    "status, result) VALUES ('c-000001', 'KA', 1, '2026-11-28T08:00:00.000000Z', "
                    "'2026-11-28T08:00:01.000000Z', 'hospital.bed.assigned', "
                    "'{\"bed_no\":\"12\",\"inpatient_no\":\"KA-000001\",\"ward_code\":\"W3\"}', 'applied', "
                    "'{\"seqs\":[1]}')")
        cur.execute("INSERT INTO events (seq, kind, payload, device_id, command_id, server_time) VALUES "
                    "(1, 'bed.changed', '{\"bed_id\":\"W3/12\",\"inpatient_no\":\"KA-000001\",\"state\":\"occupied\"}', "
                    "'KA', 'c-000001', '2026-11-28T08:00:01.000000Z')")
        cur.execute("INSERT INTO events (seq, kind, payload, device_id, command_id, server_time) VALUES "
                    "(2, 'bed.assigned', NULL, 'KA', 'c-000001', '2026-11-28T08:00:01.000000Z')")
        cur.execute("INSERT INTO bed_claims (claim_id, bed_id, admission_id, device_id, start_at, end_at, command_id) "
                    "VALUES ('c-000001', 'W3/12', 'KA-000001', 'KA', '2026-11-28T08:00:00.000000Z', NULL, 'c-000001')")
        cur.execute("UPDATE counters SET value = 2 WHERE name = 'events'")
    backend.close()
    monkeypatch.undo()
    backend = open_backend(db_url)
    try:
        with backend.tx() as cur:
            dialect = "sqlite" if db_url.startswith("sqlite") else "postgres"
            assert [r[0] for r in cur.execute("SELECT name FROM server_migrations ORDER BY name").fetchall()] == sorted(
                ["m001_core", "m002_beds_ledger", "m003_ingest", "m004_claims"]
                + [name for name, _ in packs.server_migrations(dialect)])      # every installed pack's
            assert {"hospital.m001_tables", "hospital.m002_claims"} <= {n for n, _ in packs.server_migrations(dialect)}
            assert cur.execute("SELECT resource, holder FROM resource_claims").fetchall() == [("bed:W3/12", "KA-000001")]
        enrol(backend, issue_enrol_code(backend), "KB")
        cmds, meta = validate_batch({"commands": [
            {"command_id": f"c-b-{i:06d}", "device_id": "KB", "device_seq": i, "created_at": "2026-11-28T09:00:00Z",
             "kind": "hospital.bed.assigned",
             "payload": {"inpatient_no": f"KB-00000{i}", "ward_code": "W3", "bed_no": bed, "at": "2026-11-28T09:00:00Z"}}
            for i, bed in ((1, "12"), (2, "13"))]}, "KB")
        out = ingest(backend, "KB", cmds, meta)
        assert [(r["status"], r["result"].get("held_by")) for r in out["results"]] == [
            ("rejected", "KA-000001"), ("applied", None)]
        page = pull(backend, "KB", 0, 100)
        assert [e["seq"] for e in page["events"]] == [1, 2, 3, 4] and page["head"] == 4
        assert page["events"][1] == {"seq": 2, "kind": "bed.assigned", "server_time": "2026-11-28T08:00:01.000000Z",
                                     "payload": {"bed_no": "12", "inpatient_no": "KA-000001", "ward_code": "W3"}}
        assert [e["kind"] for e in page["events"][2:]] == ["bed.conflict", "bed.changed"]
        assert pull(backend, "KB", 2, 1)["events"][0]["seq"] == 3
    finally:
        backend.close()


def _command(store, kind, payload, n=1):
    return {"command_id": f"{store.device_id}-hostile-{n:04d}", "device_id": store.device_id, "device_seq": n,
            "created_at": "2026-11-28T08:00:00Z", "kind": kind, "payload": payload}


def test_hostile_health_payloads_keep_the_it_page_up(server, tmp_path):
    """Whatever one device sends as its health or queue depth, /admin and /v1/admin/overview answer
    200 for everyone: malformed metadata is refused with the batch (422, nothing stored), and what
    is stored always reads back."""
    a = new_kiosk(tmp_path, "KA", server.url)
    b = new_kiosk(tmp_path, "KB", server.url)
    SyncClient(b, health=lambda: {"printer": "connected"}).sync_once()
    deposit = _command(a, "hospital.deposit.recorded", {"inpatient_no": "KA-000001", "entry_no": "KA-E1",
                                                        "amount_fen": 100, "method": "cash"})
    hostile = [
        "not an object", ["a", "list"], 12, {"printer": "x" * 5000}, {f"k{i}": "v" for i in range(500)},
        {"printer": {"nested": "object"}}, {"": "empty key"}, {"k" * 100: "long key"}, {"printer": 10**30},
    ]
    before = count_rows(server, "commands")
    for health in hostile:
        body = json.dumps({"device": {"health": health, "queue_depth": 1}, "commands": [deposit]}).encode()
        r = push_raw(server, a, body)
        assert r.status_code == 422 and "health" in r.json()["detail"], (health if len(str(health)) < 80 else "...")
    for qd in (10**30, -1, 2**31, "7", 1.5, True):
        body = json.dumps({"device": {"queue_depth": qd}, "commands": [deposit]}).encode()
        r = push_raw(server, a, body)
        assert r.status_code == 422 and "queue_depth" in r.json()["detail"], qd
    assert count_rows(server, "commands") == before
    # the largest health a device may send is stored whole and shown
    big = {f"device_{i:02d}": "e" * 200 for i in range(32)}
    body = json.dumps({"device": {"health": big, "queue_depth": 2**31 - 1}, "commands": [deposit]}).encode()
    assert push_raw(server, a, body).status_code == 200
    # a row an older server stored cut short (4,000 characters of a longer text) still shows
    with server.backend.tx() as cur:
        cur.execute("UPDATE devices SET health = ? WHERE device_id = 'KB'", (json.dumps(big)[:4000],))
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    api = httpx.get(server.url + "/v1/admin/overview", headers=auth)
    assert api.status_code == 200
    devices = {d["device_id"]: d for d in api.json()["devices"]}
    assert devices["KA"]["health"] == big and devices["KA"]["queue_depth"] == 2**31 - 1
    assert devices["KB"]["health"] == {"?": "unreadable"}
    page = httpx.get(server.url + "/admin?lang=en", headers=auth)
    assert page.status_code == 200 and "device_31: " + "e" * 200 in page.text and "unreadable" in page.text


def test_hostile_text_gets_json_4xx_on_every_endpoint(server, tmp_path):
    """Deeply nested JSON, lone surrogates and NUL characters, on the unauthenticated /v1/enrol and
    on /v1/push: a JSON 4xx, never a plain-text 500, on SQLite and PostgreSQL alike; negative money
    and a NaN timestamp are refused."""
    a = new_kiosk(tmp_path, "KA", server.url)
    deep = b"[" * 100_000 + b"]" * 100_000
    surrogate = b'{"code": "\\ud800", "device_id": "KZ"}'
    for body in (deep, surrogate, b'{"code": "AB", "device_id": "K\\u0000Z"}', b'{"code": "AB", "device_id": "KZ", '
                 b'"name": "lobby\\u0000"}'):
        r = httpx.post(server.url + "/v1/enrol", content=body)
        assert 400 <= r.status_code < 500 and r.json()["error"], (body[:40], r.text[:200])
    before = {t: count_rows(server, t) for t in ("commands", "admissions", "ledger")}
    admission = {"inpatient_no": "KA-000001", "patient_uid": "p", "ward_code": "W\x003"}
    cases = [
        deep,
        json.dumps({"commands": [_command(a, "hospital.admission.registered", admission)]}).encode(),
        json.dumps({"commands": [_command(a, "hospital.admission.registered",
                                          dict(admission, ward_code="W3\ud800"))]}).encode(),
        json.dumps({"commands": [_command(a, "hospital.deposit.recorded", {
            "inpatient_no": "KA-000001", "entry_no": "KA-E1", "amount_fen": -5000, "method": "cash"})]}).encode(),
        json.dumps({"commands": [_command(a, "hospital.refund.paid", {
            "inpatient_no": "KA-000001", "entry_no": "KA-E2", "amount_fen": 0, "method": "cash"})]}).encode(),
    ]
    for body in cases:
        r = push_raw(server, a, body)
        assert 400 <= r.status_code < 500 and r.headers["content-type"] == "application/json", r.text[:200]
        assert r.json()["detail"]
    assert {t: count_rows(server, t) for t in before} == before
    ok = json.dumps({"commands": [_command(a, "hospital.admission.registered", dict(admission, ward_code="W3"))]})
    for ts in ("nan", "NaN", "inf", "-inf"):
        r = push_raw(server, a, ok.encode(), ts=ts)
        assert r.status_code == 401 and "window" in r.json()["detail"], ts
    assert push_raw(server, a, ok.encode()).status_code == 200
    # the IT page's forms too
    r = httpx.post(server.url + "/admin/conflicts/c1/resolve", content=b"action=assign&ward_code=W%003&bed_no=1&by=x",
                   headers={"Authorization": f"Bearer {ADMIN_TOKEN}",
                            "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 422 and r.json()["error"]


def test_help_requests_stay_open_until_acknowledged(server, tmp_path):
    """On SQLite and PostgreSQL: a kiosk's help requests show in the overview until IT acknowledges
    them (the admin API; a second press returns the first answer) or a counter pushes
    help.acknowledged; kiosks pull the acknowledgements."""
    a = new_kiosk(tmp_path, "KA", server.url)
    counter = new_kiosk(tmp_path, "KC", server.url)
    with a.transaction() as tx:
        first = tx.emit("help.requested", {"device": "KA", "screen": "pay", "lang": "en", "at": "2026-11-28T08:00:00Z"})
        second = tx.emit("kiosk.help_requested", {"screen": "identify", "front": "kiosk"})
    SyncClient(a).sync_once()
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def open_ids():
        return [h["request_id"] for h in overview_json(server)["help"]]
    assert open_ids() == [first, second]
    ack = f"{server.url}/v1/admin/help/{first}/acknowledge"
    r = httpx.post(ack, json={"by": "IT Wang"}, headers=auth)
    assert r.status_code == 200 and r.json()["replayed"] is False and r.json()["screen"] == "pay"
    again = httpx.post(ack, json={"by": "IT Li"}, headers=auth)
    assert again.json()["replayed"] is True and again.json()["by"] == "IT Wang"
    assert httpx.post(ack, json={"by": "x"}).status_code == 401
    assert httpx.post(f"{server.url}/v1/admin/help/nope/acknowledge", json={"by": "x"}, headers=auth).status_code == 404
    assert httpx.post(f"{server.url}/v1/admin/help/{second}/acknowledge", json={"by": " "},
                      headers=auth).json()["error"] == "by_required"
    assert open_ids() == [second]
    with counter.transaction() as tx:
        tx.emit("help.acknowledged", {"request_id": second, "by": "cashier Zhao"})
    SyncClient(counter).sync_once()
    assert open_ids() == []
    SyncClient(a).sync_once()
    got = [json.loads(p) for (p,) in a.conn.execute(
        "SELECT payload FROM sync_events WHERE kind = 'help.acknowledged' ORDER BY seq")]
    assert [(g["request_id"], g["by"]) for g in got] == [(first, "IT Wang"), (second, "cashier Zhao")]
    assert kiosk_events(a) == server_events(server.backend)

    # as the counter and the kiosk close requests (by device and the request's time, or the kiosk's
    # own command id when it cancels)
    with a.transaction() as tx:
        third = tx.emit("help.requested", {"device": "KA", "screen": "amount", "lang": "zh-Hans",
                                           "at": "2026-11-28T09:00:00Z"})
        fourth = tx.emit("help.requested", {"device": "KA", "screen": "finish", "lang": "en",
                                            "at": "2026-11-28T09:05:00Z"})
    SyncClient(a).sync_once()
    assert open_ids() == [third, fourth]
    with counter.transaction() as tx:
        tx.emit("help.acknowledged", {"device": "KA", "request_at": "2026-11-28T09:00:00Z", "by": "cashier Zhao",
                                      "at": "2026-11-28T09:01:00Z"})
    SyncClient(counter).sync_once()
    assert open_ids() == [fourth]
    with a.transaction() as tx:
        tx.emit("help.cancelled", {"device": "KA", "request": fourth, "request_at": "2026-11-28T09:05:00Z",
                                   "reason": "cancelled", "at": "2026-11-28T09:06:00Z"})
    SyncClient(a).sync_once()
    assert open_ids() == []


def test_admin_sign_in_tries_are_limited(server):
    """Guessing the admin token on the login form: ten tries, then 429 for a while (even the right one)."""
    login = server.url + "/admin/login?lang=en"
    assert [httpx.post(login, data={"token": f"guess{i}"}).status_code for i in range(10)] == [401] * 10
    r = httpx.post(login, data={"token": ADMIN_TOKEN})
    assert r.status_code == 429 and "Too many tries." in r.text and "set-cookie" not in r.headers
def test_pull_passes_stored_payloads_through_as_the_decoded_pull_gives_them(server, tmp_path):
    """The HTTP pull splices the stored JSON text into its body; what a kiosk parses is exactly the
    page the decoding path (service.pull) builds, non-ASCII names and all."""
    from sync.server import service

    a = new_kiosk(tmp_path, "KA", server.url)
    emit_workload(a, 30, beds=["1", "2"])
    SyncClient(a).sync_once()
    body = service.pull_json(server.backend, "KA", 0, 500)
    assert json.loads(body) == service.pull(server.backend, "KA", 0, 500)
    assert json.loads(service.pull_json(server.backend, "KA", 10, 5)) == service.pull(server.backend, "KA", 10, 5)
    page = json.loads(body)
    assert page["events"] and page["more"] is False and page["next_after"] == page["events"][-1]["seq"]
    r = httpx.get(server.url + "/v1/events?after=0&limit=500", headers=signed(a, "GET", "/v1/events?after=0&limit=500"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    assert r.json()["events"] == page["events"]


def test_kiosks_asking_for_one_window_share_its_page_and_a_partial_page_grows(server, tmp_path):
    """Through HTTP: the second kiosk asking for the window a first one read gets the same events
    from the page cache (no read of the log); a page short of its limit is keyed by the head, so
    after another push the same request gets the new events; a replayed request is still refused
    (the nonce is spent before the cache is looked at)."""
    a, b = new_kiosk(tmp_path, "KA", server.url), new_kiosk(tmp_path, "KB", server.url)
    emit_workload(a, 12, beds=["1", "2"])
    SyncClient(a).sync_once()
    pages = server.backend.pages

    def get(kiosk, path):
        r = httpx.get(server.url + path, headers=signed(kiosk, "GET", path))
        assert r.status_code == 200, r.text
        return r.json()

    first = get(a, "/v1/events?after=0&limit=5")
    hits = pages.hits
    second = get(b, "/v1/events?after=0&limit=5")
    assert second == first and len(first["events"]) == 5 and first["more"] is True
    assert pages.hits == hits + 1
    whole = get(b, "/v1/events?after=0&limit=500")
    assert whole["more"] is False and whole["next_after"] == whole["head"] == whole["events"][-1]["seq"]
    emit_workload(a, 4, beds=["3"], start=12)
    SyncClient(a).sync_once()
    grown = get(b, "/v1/events?after=0&limit=500")
    assert grown["head"] > whole["head"] and grown["events"][:len(whole["events"])] == whole["events"]
    assert grown["next_after"] == grown["head"] and len(grown["events"]) > len(whole["events"])
    path = "/v1/events?after=0&limit=5"
    headers = signed(b, "GET", path)
    assert httpx.get(server.url + path, headers=headers).status_code == 200
    assert httpx.get(server.url + path, headers=headers).status_code == 401
    row = server.backend.query("SELECT last_seq_pulled FROM devices WHERE device_id = 'KB'")[0]
    assert row[0] == first["next_after"]


def test_server_with_two_workers_syncs_and_its_worker_ends_with_it(db_url, tmp_path):
    import os
    from pathlib import Path

    from tests.sync_support import ProcServer

    env = dict(os.environ, ONESTOP_DATA_DIR=str(tmp_path / "data"), ONESTOP_LOG_DIR=str(tmp_path / "logs"))
    srv = ProcServer(db_url, env, "--workers", "2")
    try:
        kids = Path(f"/proc/{srv.proc.pid}/task/{srv.proc.pid}/children").read_text().split()
        assert len(kids) == 1                   # the first process and one forked worker
        a = new_kiosk(tmp_path, "KW", srv.url)
        emit_workload(a, 20, beds=["5"])
        for _ in range(3):
            SyncClient(a).sync_once()
        assert a.outbox_depth() == 0
    finally:
        srv.stop()

    def gone():
        status = Path(f"/proc/{kids[0]}/status")
        return not status.exists() or "State:\tZ" in status.read_text()

    for _ in range(200):                        # it shuts down on its own signal (liveness bound 20 s)
        if gone():
            break
        time.sleep(0.1)
    assert gone()
