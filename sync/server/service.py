"""Server operations on a storage backend, free of HTTP: enrolment, authentication, ingest, pull.

Ingest runs one transaction per batch. It takes the ``events`` counter first (a row lock on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so batches apply one after the other and the global
event sequence has no gaps. A ``command_id`` already stored returns its stored result (no time
window); a command carrying another device's ID refuses the whole batch before anything is
written.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from pos.ids import utcnow_iso

from .. import protocol as P
from ..errors import AuthError, Refused, Replayed, ResolveError
from .commands import (COLUMNS, CommandInvalid, ForeignId, dumps, norm_time, registry, resource_key,
                       validate)
from .db import OverlapError
from .limits import MAX_DEVICE_TIME, MetaInvalid, check_device_meta

__all__ = ["AuthError", "Refused", "Credentials", "issue_enrol_code", "enrol", "revoke", "verify", "claim_nonce",
           "authenticate", "ingest", "push", "pull", "read_events", "validate_batch", "prune_nonces", "resolve_conflict",
           "ResolveError", "ADMIN_DEVICE", "Replayed", "replayed_push", "ENROL_RETRY_S"]

log = logging.getLogger(__name__)


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def issue_enrol_code(backend, ttl_s: int = 86400) -> str:
    code = "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(3))
    now = time.time()
    with backend.tx() as cur:
        cur.execute("INSERT INTO enrol_codes (code, created_at, expires_at) VALUES (?, ?, ?)",
                    (code, utcnow_iso(now), utcnow_iso(now + ttl_s)))
    log.info("enrolment code issued (expires in %ss)", ttl_s)
    return code


#: how long a spent code still answers a retry from the same device (its first answer was lost)
ENROL_RETRY_S = 600


def enrol(backend, code: str, device_id: str, name: str = "") -> str:
    """Spend a one-time code; returns the device's new secret. A retry with the same code and
    device_id gets the same secret back, within :data:`ENROL_RETRY_S` and until the device has
    made its first signed request: a lost answer does not burn the code."""
    if not (isinstance(device_id, str) and 2 <= len(device_id) <= 32 and device_id.isascii()
            and device_id.isalnum()):
        raise Refused(422, "device_id must be 2-32 letters or digits")
    if not (isinstance(code, str) and 0 < len(code) <= 64):
        raise AuthError(401, "enrolment code unknown, used or expired")
    if not isinstance(name, str) or len(name) > 80 or not name.isprintable():
        raise Refused(422, "name must be at most 80 printable characters")
    now_ts = time.time()
    now = utcnow_iso(now_ts)
    code = code.strip().upper()
    secret = secrets.token_hex(32)
    with backend.tx() as cur:
        cur.execute("UPDATE enrol_codes SET used_at = ?, used_by = ? WHERE code = ? AND used_at IS NULL "
                    "AND expires_at > ?", (now, device_id, code, now))
        if cur.rowcount != 1:
            again = cur.execute(
                "SELECT d.secret FROM enrol_codes c JOIN devices d ON d.device_id = c.used_by "
                "WHERE c.code = ? AND c.used_by = ? AND c.used_at > ? AND (d.last_seen IS NULL OR d.last_seen < c.used_at) "
                "AND d.revoked_at IS NULL", (code, device_id, utcnow_iso(now_ts - ENROL_RETRY_S))).fetchone()
            if again is None:
                raise AuthError(401, "enrolment code unknown, used or expired")
            log.info("device %s enrolment retried (same code): same secret", device_id)
            return again[0]
        row = cur.execute("SELECT revoked_at FROM devices WHERE device_id = ?", (device_id,)).fetchone()
        if row and row[0]:
            raise AuthError(403, "device revoked")
        if row:
            cur.execute("UPDATE devices SET secret = ?, name = ? WHERE device_id = ?", (secret, name, device_id))
        else:
            cur.execute("INSERT INTO devices (device_id, secret, name, enrolled_at) VALUES (?, ?, ?, ?)",
                        (device_id, secret, name, now))
    log.info("device %s enrolled", device_id)
    return secret


def revoke(backend, device_id: str) -> bool:
    with backend.tx() as cur:
        cur.execute("UPDATE devices SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL",
                    (utcnow_iso(), device_id))
        return cur.rowcount == 1


@dataclass(frozen=True)
class Credentials:
    """A request whose signature checked out; its nonce is spent by :func:`claim_nonce`."""
    device_id: str
    nonce: str
    at: float


def verify(backend, headers, method: str, path_qs: str, body: bytes, now: float | None = None) -> Credentials:
    """Check the HMAC signature, the timestamp window and revocation (reads only)."""
    now = time.time() if now is None else now
    device_id, ts, nonce, sig = (headers.get(h) for h in (P.H_DEVICE, P.H_TS, P.H_NONCE, P.H_SIG))
    if not (device_id and ts and nonce and sig) or len(nonce) > 64 or len(device_id) > 32:
        raise AuthError(401, "missing credentials")
    try:
        skew = abs(float(ts) - now)
    except ValueError:
        raise AuthError(401, "bad timestamp") from None
    if not skew <= P.TIMESTAMP_WINDOW:             # NaN compares false both ways: refused too
        raise AuthError(401, "timestamp outside the window (check the clock)")
    rows = backend.query("SELECT secret, revoked_at FROM devices WHERE device_id = ?", (device_id,))
    row = rows[0] if rows else None
    if row is None:
        raise AuthError(401, "unknown device")
    want = P.sign(row[0], method, path_qs, ts, nonce, body)
    if not hmac.compare_digest(want, sig):
        raise AuthError(401, "bad signature")
    if row[1]:
        raise AuthError(403, "device revoked")
    return Credentials(device_id, nonce, now)


NONCE_SQL = "INSERT INTO nonces (device_id, nonce, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"


def claim_nonce(cur, cred: Credentials) -> None:
    """Spend the request's nonce inside the caller's transaction: a replay is refused (401) and what the
    transaction wrote is rolled back with it. Two requests with one nonce: the second waits for the
    first to commit, then finds the nonce taken."""
    if cur.send(NONCE_SQL, (cred.device_id, cred.nonce, cred.at)).rowcount != 1:
        raise AuthError(401, "replayed request")


def authenticate(backend, headers, method: str, path_qs: str, body: bytes, now: float | None = None) -> str:
    """:func:`verify` and spend the nonce in a transaction of its own. Returns the device_id."""
    cred = verify(backend, headers, method, path_qs, body, now)
    with backend.tx() as cur:
        claim_nonce(cur, cred)
    return cred.device_id


def prune_nonces(backend, now: float | None = None) -> None:
    now = time.time() if now is None else now
    with backend.tx() as cur:
        cur.execute("DELETE FROM nonces WHERE seen_at < ?", (now - 2 * P.TIMESTAMP_WINDOW,))


# -- push ---------------------------------------------------------------------------------------
def _batch_shape(body) -> None:
    if not isinstance(body, dict) or not isinstance(body.get("commands"), list):
        raise Refused(422, "body must be an object with a 'commands' list")
    if len(body["commands"]) > P.MAX_BATCH:
        raise Refused(413, f"batch too large: {len(body['commands'])} commands, at most {P.MAX_BATCH}")


def validate_batch(body, device_id: str) -> tuple[list[dict], dict]:
    """Shape, size, kinds, ownership. Raises :class:`Refused`; nothing touches the database."""
    _batch_shape(body)
    cmds = body["commands"]
    try:
        meta = check_device_meta(body.get("device"))
    except MetaInvalid as exc:
        raise Refused(422, str(exc)) from None
    handlers = registry().handlers
    out = []
    for i, c in enumerate(cmds):
        if not isinstance(c, dict):
            raise Refused(422, f"command {i}: must be an object")
        get = c.get
        cid, dev, seq, created, kind, payload = (get("command_id"), get("device_id"), get("device_seq"),
                                                 get("created_at"), get("kind"), get("payload"))
        if not (isinstance(cid, str) and 8 <= len(cid) <= 64):
            raise Refused(422, f"command {i}: command_id must be a string of 8-64 characters")
        if dev != device_id:
            raise Refused(403, f"command {cid}: device_id {dev!r} is not the authenticated device {device_id}")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0 or seq >= 2**62:
            raise Refused(422, f"command {cid}: device_seq must be a non-negative integer")
        if not isinstance(kind, str) or kind not in handlers:
            raise Refused(422, f"command {cid}: unknown kind {str(kind)[:40]!r}")
        if isinstance(payload, str):
            try:
                payload = json.loads(payload)
            except ValueError:
                raise Refused(422, f"command {cid}: payload is not JSON") from None
        try:
            created = norm_time(created) if isinstance(created, str) else None
            if created is None:
                raise CommandInvalid("created_at must be an ISO 8601 time")
            payload = validate(kind, payload, device_id)
        except ForeignId as exc:
            raise Refused(403, f"command {cid}: {exc}") from None
        except CommandInvalid as exc:
            raise Refused(422, f"command {cid}: {exc}") from None
        out.append({"command_id": cid, "device_id": dev, "device_seq": seq, "created_at": created,
                    "kind": kind, "payload": payload})
    return out, meta


class Ctx:
    """What handlers see while a batch applies: the cursor, what exists already (prefetched once per
    batch, then kept up to date in memory: batches are serialised by the counter lock) and the rows
    to bulk-insert at the end (:meth:`defer`, :meth:`flush`). The batch's ``commands`` rows are
    streamed as they are made (:meth:`write_command`), so the database stores them while the next
    commands are applied; :meth:`flush` ends that stream, so a handler that runs SQL calls it first.
    Use it as a context manager: leaving with an error abandons an open stream.

    ``seen[lookup]``: keys of a pack's ``LOOKUPS`` that exist; :meth:`claim` and :meth:`release`:
    generic resource claims under the one exclusion rule (the database's constraint backs it), and
    :meth:`cancel`."""

    def __init__(self, cur, device_id: str, now: str):
        self.cur, self.device_id, self.now = cur, device_id, now
        self.seen: dict[str, set] = {name: set() for name in registry().lookups}
        self.claims: dict[str, list[list]] = {}         # resource -> [[start, end, holder], ...] (live)
        self._rows: dict[str, list] = {}
        self._stream = ExitStack()
        self._write = None

    def __enter__(self) -> "Ctx":
        return self

    def __exit__(self, *exc) -> None:
        self._stream.__exit__(*exc)

    def write_command(self, row: tuple) -> None:
        if self._write is None:
            self._write = self._stream.enter_context(self.cur.copy_stream("commands", COMMAND_COLUMNS))
        self._write(row)

    # -- generic resource claims -----------------------------------------------------------------
    def claim(self, resource: str, holder: str, start: str, command_id: str, end: str | None = None) -> str | None:
        """Claim ``resource`` for ``holder`` over ``[start, end)`` (``end`` None = open-ended). Returns None
        when granted, or who holds it (the refusal is queued in ``claim_conflicts`` for the IT page)."""
        claims = self.claims.setdefault(resource, [])
        clash = [c for c in claims if (c[1] is None or c[1] > start) and (end is None or end > c[0])]
        if clash:
            held_by = clash[-1][2]
            self.defer("claim_conflicts", (command_id, resource, holder, self.device_id, start, held_by, command_id,
                                           self.now, None, None))
            return held_by
        claims.append([start, end, holder])
        self.defer("resource_claims", (command_id, resource, resource_key(resource), holder, self.device_id, start,
                                       end, "live", command_id))
        return None

    def release(self, resource: str, holder: str, at: str) -> bool:
        """End ``holder``'s open claim of ``resource`` at ``at``; False when it held none."""
        self.flush()
        self.cur.execute("UPDATE resource_claims SET end_at = ? WHERE resource_key = ? AND resource = ? AND holder = ? "
                         "AND state = 'live' AND end_at IS NULL AND start_at < ?",
                         (at, resource_key(resource), resource, holder, at))
        if not self.cur.rowcount:
            return False
        for c in self.claims.get(resource, []):
            if c[2] == holder and c[1] is None and c[0] < at:
                c[1] = at
        return True

    def cancel(self, resource: str, holder: str) -> bool:
        """Cancel ``holder``'s live claims of ``resource`` (kept, state 'cancelled': they no longer count
        under the exclusion rule); False when it held none."""
        self.flush()
        self.cur.execute("UPDATE resource_claims SET state = 'cancelled' WHERE resource_key = ? AND resource = ? "
                         "AND holder = ? AND state = 'live'", (resource_key(resource), resource, holder))
        if not self.cur.rowcount:
            return False
        self.claims[resource] = [c for c in self.claims.get(resource, []) if c[2] != holder]
        return True

    # -- prefetch --------------------------------------------------------------------------------
    @staticmethod
    def wanted(cmds: list, now: str) -> dict:
        """What a batch refers to (each kind's ``prefetch``: keys of a lookup, or resources it claims)
        and the earliest claim start (older claims that have ended cannot clash). Works on commands
        not validated yet (skipping what it cannot read), so the lookups can start before validation ends."""
        reg = registry()
        want: dict = {name: set() for name in reg.lookups}
        want.update(claims=set(), earliest=None)
        for c in cmds:
            try:
                fn = reg.prefetch.get(c["kind"])
                if fn is None:
                    continue
                payload = c["payload"]
                if isinstance(payload, str):
                    payload = json.loads(payload)
                what, key = fn(payload)
                if what == "claims":
                    key, at = key
                    start = norm_time(at) if at else now
                    if want["earliest"] is None or start < want["earliest"]:
                        want["earliest"] = start
            except Exception:           # malformed: validation refuses the batch
                continue
            if isinstance(key, str) and what in want:
                want[what].add(key)
        return want

    def send_lookups(self, want: dict) -> list:
        """Send the lookups of :meth:`wanted` (inside a pipeline they run while validation goes on)."""
        cur, sent = self.cur, []
        for name, (table, column) in registry().lookups.items():
            if want.get(name):
                sent.append((name, cur.lookup(table, column, column, sorted(want[name]))))
        if want["claims"]:
            sent.append(("claims", cur.lookup("resource_claims", "resource, start_at, end_at, holder", "resource_key",
                                              sorted({resource_key(r) for r in want["claims"]}),
                                              "AND state = 'live' AND (end_at IS NULL OR end_at > ?)",
                                              [want["earliest"]], order="start_at")))
        return sent

    def absorb(self, sent: list) -> None:
        """Read the rows of :meth:`send_lookups` into what handlers see."""
        for what, pending in sent:
            rows = pending.fetchall()
            if what == "claims":
                for resource, start, end, holder in rows:       # by key: another resource may share the hash
                    self.claims.setdefault(resource, []).append([_ts(start), _ts(end), holder])
            else:
                self.seen[what].update(r[0] for r in rows)

    def prefetch(self, cmds: list[dict], fetched: dict | None = None) -> None:
        """Look up what ``cmds`` (validated) refer to, less what ``fetched`` (a :meth:`wanted` already sent
        and absorbed) covered. For a valid batch that is everything: this is the safety net."""
        want = self.wanted(cmds, self.now)
        if fetched is not None:
            for name in registry().lookups:
                want[name] -= fetched[name]
            if want["claims"] and (fetched["earliest"] is None or want["earliest"] < fetched["earliest"]):
                for resource in want["claims"]:           # claims that ended earlier are missing: again
                    self.claims.pop(resource, None)
            else:
                want["claims"] -= fetched["claims"]
        self.absorb(self.send_lookups(want))

    def defer(self, table: str, row: tuple) -> None:
        self._rows.setdefault(table, []).append(row)

    def flush(self) -> None:
        if self._write is not None:
            self._write = None
            self._stream.close()
        for table, rows in self._rows.items():
            self.cur.copy_rows(table, registry().columns[table], rows)
        self._rows = {}


def _ts(value):
    if value is None or isinstance(value, str):
        return value
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


COMMAND_COLUMNS = ("command_id", "device_id", "device_seq", "created_at", "received_at", "kind", "payload", "status",
                   "result", "seq", "event_kind", "event_payload")
EVENT_COLUMNS = ("seq", "kind", "payload", "device_id", "command_id", "server_time")


def ingest(backend, device_id: str, cmds: list[dict], meta: dict, device_time: str | None = None,
           cred: Credentials | None = None) -> dict:
    """Apply a validated batch (:func:`validate_batch`) in one transaction; with ``cred``, its nonce is
    spent in that transaction."""
    return _apply(backend, device_id, cmds, lambda: (cmds, meta), device_time, cred)


def push(backend, device_id: str, body, device_time: str | None = None, cred: Credentials | None = None) -> dict:
    """Validate and apply a push body (parsed JSON). The size and shape of the batch are checked first;
    the commands are validated inside the transaction, while PostgreSQL already spends the nonce,
    takes the counter lock and looks up what the batch refers to (a pipeline), so the two overlap.
    A refused batch rolls back: nothing is stored."""
    _batch_shape(body)
    return _apply(backend, device_id, body["commands"], lambda: validate_batch(body, device_id), device_time, cred)


def _apply(backend, device_id: str, raw: list, validated, device_time: str | None, cred: Credentials | None) -> dict:
    handlers = registry().handlers
    now_ts = time.time()
    now = utcnow_iso(now_ts)
    skew = None
    if device_time and len(device_time) > MAX_DEVICE_TIME:
        device_time = None
    if device_time:
        try:
            dt = datetime.fromisoformat(device_time.replace("Z", "+00:00"))
            skew = round(dt.timestamp() - now_ts, 3)
        except (ValueError, OverflowError):
            device_time = skew = None
    ids = {c.get("command_id") for c in raw if isinstance(c, dict) and isinstance(c.get("command_id"), str)}
    fetched = Ctx.wanted(raw, now)
    results, events = [], []
    with backend.tx() as cur, Ctx(cur, device_id, now) as ctx:
        with cur.pipeline():
            nonce = cur.send(NONCE_SQL, (cred.device_id, cred.nonce, cred.at)) if cred is not None else None
            # the counter's row lock, held to commit: batches apply one after the other, gapless
            counter = cur.send("UPDATE counters SET value = value + 0 WHERE name = 'events' RETURNING value")
            found = cur.lookup("commands", "command_id, device_id, status, result", "command_id", sorted(ids))
            lookups = ctx.send_lookups(fetched)
            cmds, meta = validated()                # Python, while the database works
        if nonce is not None and nonce.rowcount != 1:
            raise Replayed(401, "replayed request")
        head = seq = counter.fetchone()[0]
        stored = {}
        for cid, dev, status, result in found.fetchall():
            if dev != device_id:
                raise Refused(403, f"command {cid} belongs to another device")
            stored[cid] = (status, json.loads(result))
        ctx.absorb(lookups)
        missing = [c for c in cmds if c["command_id"] not in stored]
        if any(c["command_id"] not in ids for c in cmds):       # not for a valid batch: the safety net
            stored.update(_stored(cur, device_id, [c["command_id"] for c in cmds]))
            missing = [c for c in cmds if c["command_id"] not in stored]
        ctx.prefetch(missing, fetched)
        for c in cmds:
            cid = c["command_id"]
            if cid in stored:
                status, result = stored[cid]
                results.append({"command_id": cid, "status": status, "result": result, "replayed": True})
                continue
            payload = c["payload"]
            status, result, evs = handlers[c["kind"]].apply(ctx, c)
            seqs = []
            first = (None, None, None)
            for kind, ev_payload in evs:
                seq += 1
                seqs.append(seq)
                # NULL payload: the command's own (pull reads it from the command row)
                text = None if ev_payload is payload else dumps(ev_payload)
                if len(seqs) == 1:
                    first = (seq, kind, text)           # the command row carries its first event
                else:
                    events.append((seq, kind, text, device_id, cid, now))
            if seqs:
                result = {**result, "seqs": seqs}
            stored[cid] = (status, result)
            result_text = f'{{"seqs":[{seqs[0]}]}}' if len(result) == 1 and len(seqs) == 1 else dumps(result)
            ctx.write_command((cid, device_id, c["device_seq"], c["created_at"], now, c["kind"], dumps(payload),
                               status, result_text, *first))
            results.append({"command_id": cid, "status": status, "result": result, "replayed": False})
        ctx.flush()
        if events:
            cur.copy_rows("events", EVENT_COLUMNS, events)
        qd = meta.get("queue_depth")
        health = meta.get("health")
        if seq != head:
            cur.execute("UPDATE counters SET value = ? WHERE name = 'events'", (seq,))
        cur.execute("UPDATE devices SET last_seen = ?, last_device_time = ?, skew_s = ?, queue_depth = ?, "
                    "health = ? WHERE device_id = ?",
                    (now, device_time, skew, qd, dumps(health) if health is not None else None, device_id))
    out = {"results": results, "server_time": now, "head": seq}
    if skew is not None and abs(skew) > P.SKEW_WARN_S:
        log.warning("device %s clock is %+.0f s off the server's", device_id, skew)
        out["warnings"] = [f"clock_skew:{skew:+.0f}s"]
    return out


def replayed_push(backend, device_id: str, body) -> dict:
    """The answer to an identical copy of a push that committed (same nonce, same signature, same
    body): its commands' stored results, nothing applied again. :class:`Replayed` if any command is
    not stored (then it was not that push)."""
    if not isinstance(body, dict) or not isinstance(body.get("commands"), list):
        raise Replayed(401, "replayed request")
    ids = [c.get("command_id") for c in body["commands"] if isinstance(c, dict)]
    if len(ids) != len(body["commands"]) or not all(isinstance(i, str) for i in ids):
        raise Replayed(401, "replayed request")
    with backend.tx() as cur:
        stored = _stored(cur, device_id, ids) if ids else {}
        head = event_head(cur)
    if set(ids) - set(stored):
        raise Replayed(401, "replayed request")
    results = [{"command_id": i, "status": stored[i][0], "result": stored[i][1], "replayed": True} for i in ids]
    return {"results": results, "server_time": utcnow_iso(), "head": head}


def _stored(cur, device_id: str, ids: list) -> dict:
    stored = {}
    for cid, dev, status, result in cur.lookup("commands", "command_id, device_id, status, result", "command_id",
                                               sorted(set(ids))).fetchall():
        if dev != device_id:
            raise Refused(403, f"command {cid} belongs to another device")
        stored[cid] = (status, json.loads(result))
    return stored


#: the global log: each pushed command's first event in its own row (``commands.seq``), the others in ``events``
#: (payload NULL = the command's payload, in both); the two sets of numbers are disjoint and together gapless
EVENT_LOG = (
    "SELECT seq, kind, payload, server_time FROM ("
    "SELECT e.seq AS seq, e.kind AS kind, coalesce(e.payload, c.payload) AS payload, e.server_time AS server_time "
    "FROM events e LEFT JOIN commands c ON e.payload IS NULL AND c.command_id = e.command_id "
    "WHERE e.seq > ? ORDER BY e.seq LIMIT ?) AS logged "
    "UNION ALL "
    "SELECT seq, kind, payload, server_time FROM ("
    "SELECT seq, event_kind AS kind, coalesce(event_payload, payload) AS payload, received_at AS server_time "
    "FROM commands "
    "WHERE seq > ? ORDER BY seq LIMIT ?) AS own "
    "ORDER BY seq LIMIT ?")


def read_events(cur, after: int, limit: int) -> list[tuple]:
    """``(seq, kind, payload text, server_time)`` after ``after``, in order, at most ``limit``."""
    return cur.execute(EVENT_LOG, (after, limit, after, limit, limit)).fetchall()


def event_head(cur) -> int:
    """The last sequence number handed out (the head of the log)."""
    return cur.execute("SELECT value FROM counters WHERE name = 'events'").fetchone()[0]


def _pulled(cur, device_id: str, seq: int) -> None:
    """The device was seen now and has the log up to ``seq`` (for the IT page)."""
    cur.execute("UPDATE devices SET last_seen = ?, last_seq_pulled = ? WHERE device_id = ?",
                (utcnow_iso(), seq, device_id))


def _pull_page(backend, device_id: str, after: int, limit: int, cred: Credentials | None) -> tuple[list, int, int]:
    """The events after ``after`` (at most ``limit``) up to the head, the next cursor and the head.
    The head is read first: batches commit in sequence order (the counter row stays locked to
    commit), so every event up to it is committed and the page is fixed; a later one that a read
    after it sees is left for the next pull."""
    limit = max(1, min(limit, P.PULL_LIMIT))
    with backend.tx() as cur:
        head = _pull_begin(cur, cred)
        rows = [r for r in read_events(cur, after, limit) if r[0] <= head] if after < head else []
        nxt = rows[-1][0] if rows else after
        _pulled(cur, device_id, nxt)
    return rows, nxt, head


def _pull_begin(cur, cred: Credentials | None) -> int:
    """A pull's first trip to the database: its nonce spent, its commit relaxed (a pull writes only
    the nonce and the device's last-seen row; a database crash may lose them, which reopens the
    replay window of a read and nothing else), the head read. One round trip on PostgreSQL."""
    with cur.pipeline():
        cur.relaxed()
        nonce = cur.send(NONCE_SQL, (cred.device_id, cred.nonce, cred.at)) if cred is not None else None
        head = cur.send("SELECT value FROM counters WHERE name = 'events'")
    if nonce is not None and nonce.rowcount != 1:
        raise AuthError(401, "replayed request")
    return head.fetchone()[0]


def pull(backend, device_id: str, after: int, limit: int, cred: Credentials | None = None) -> dict:
    rows, nxt, head = _pull_page(backend, device_id, after, limit, cred)
    events = [{"seq": s, "kind": k, "payload": json.loads(p), "server_time": t} for s, k, p, t in rows]
    return {"events": events, "next_after": nxt, "head": head, "more": nxt < head}


def _page_json(rows: list) -> str:
    enc = json.dumps
    return ",".join(f'{{"seq":{s},"kind":{enc(k)},"payload":{p},"server_time":{enc(t)}}}' for s, k, p, t in rows)


def pull_json(backend, device_id: str, after: int, limit: int, cred: Credentials | None = None) -> bytes:
    """:func:`pull`'s answer as the response body. Each payload is stored as JSON text the server
    wrote itself (``dumps``), so it is put into the body as it is, not decoded and encoded again;
    and the page's text is kept (``backend.pages``) for the next kiosk asking for the same window,
    which then costs no read of the log at all: the pull is the nonce, the head and the last-seen
    row (docs/performance.md, "Sync server")."""
    limit = max(1, min(limit, P.PULL_LIMIT))
    pages = backend.pages
    with backend.tx() as cur:
        head = _pull_begin(cur, cred)
        page = None if after >= head else pages.get((after, limit)) or pages.get((after, limit, head))
        if page is None:
            rows = [r for r in read_events(cur, after, limit) if r[0] <= head] if after < head else []
            page = (_page_json(rows), rows[-1][0] if rows else after)
            if rows:
                pages.put((after, limit) if len(rows) == limit else (after, limit, head), page)
        events, nxt = page
        _pulled(cur, device_id, nxt)
    return (f'{{"events":[{events}],"next_after":{nxt},"head":{head},'
            f'"more":{"true" if nxt < head else "false"}}}').encode()


#: the events of some kinds up to a sequence number, from both halves of the log (see EVENT_LOG), in one read
def _events_of(kinds: list[str]) -> str:
    marks = ", ".join("?" for _ in kinds)
    return ("SELECT e.seq, e.kind, coalesce(e.payload, c.payload) FROM events e "
            "LEFT JOIN commands c ON e.payload IS NULL AND c.command_id = e.command_id "
            f"WHERE e.kind IN ({marks}) AND e.seq <= ? "
            "UNION ALL "
            f"SELECT seq, event_kind, coalesce(event_payload, payload) FROM commands WHERE event_kind IN ({marks}) "
            "AND seq <= ?")


def snapshot(backend, device_id: str, cred: Credentials | None = None) -> dict:
    """What a new kiosk needs instead of the whole log: for every projection whose state is made by the
    last event of some kinds per key (``Projection.latest_by``: the hospital's beds, admissions,
    notices, charges and settlements), those events as of ``as_of`` in log order,
    the event counter read first. Batches commit in sequence order (the counter row stays locked to
    commit), so every event up to ``as_of`` is committed and visible to the reads after it, on
    SQLite and on PostgreSQL's READ COMMITTED alike; the kiosk then pulls after ``as_of``."""
    latest_by = registry().snapshot
    with backend.tx() as cur:
        if cred is not None:
            claim_nonce(cur, cred)
        as_of = event_head(cur)
        last: dict[tuple[str, str], tuple[int, dict]] = {}        # (kind, key) -> its last event
        kinds = sorted(latest_by)
        rows = cur.execute(_events_of(kinds), (*kinds, as_of, *kinds, as_of)).fetchall() if kinds else []
        for seq, kind, payload in rows:
            p = json.loads(payload)
            key = p.get(latest_by[kind])
            if key is not None and ((kind, key) not in last or last[(kind, key)][0] < seq):
                last[(kind, key)] = (seq, p)
        out = sorted(({"seq": seq, "kind": kind, "payload": p} for (kind, _k), (seq, p) in last.items()),
                     key=lambda e: e["seq"])             # applied in log order, as a replay would
        _pulled(cur, device_id, as_of)
    return {"as_of": as_of, "head": as_of, "latest": out}


# -- the conflict queue (claims refused because the resource was taken) --------------------------
#: who records the IT page's commands; enrol() only takes letters and digits, so no kiosk can be it
ADMIN_DEVICE = "@admin"


def _text(value, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ResolveError(422, "invalid", f"{name} must be a string")
    value = value.strip()
    if len(value) > limit:
        raise ResolveError(422, "too_long", f"{name} is longer than {limit} characters", limit=limit)
    return value


def _resource_type(resource: str):
    return registry().resources[resource.partition(":")[0]]


def resolve_conflict(backend, conflict_id: str, action: str, by: str, reason: str = "", fields: dict | None = None,
                     request_id: str | None = None) -> dict:
    """Someone on the IT page resolves one entry of the conflict queue: ``assign`` the refused holder
    another resource, free from now on (named by ``fields``, as the resource's pack reads a form:
    for a hospital bed ``ward_code`` and ``bed_no``), or ``dismiss`` the entry with a reason.

    One transaction under the event counter lock (so it is ordered with pushed claims): the
    conflict row gets ``resolved_at`` and ``resolution`` (nothing is deleted), an assignment adds a
    claim (the exclusion constraint still guards it), and the event log gets the resource's
    ``changed`` event (for an assignment) and its ``resolved_kind`` event, which kiosks pull. The
    request itself is kept in the command log (the resource type's ``command_kind``); ``request_id``
    makes a repeated submit return the stored result instead of acting twice.
    """
    by = _text(by, "by", 80)
    reason = _text(reason, "reason", 200)
    fields = fields or {}
    if action not in ("assign", "dismiss"):
        raise ResolveError(422, "invalid", "action must be 'assign' or 'dismiss'")
    if not by:
        raise ResolveError(422, "by_required", "say who resolves it (by)")
    if action == "dismiss" and not reason:
        raise ResolveError(422, "reason_required", "a dismissal needs a reason")
    if request_id is not None and not (isinstance(request_id, str) and 8 <= len(request_id) <= 64):
        raise ResolveError(422, "invalid", "request_id must be a string of 8-64 characters")
    if not isinstance(conflict_id, str) or not conflict_id or len(conflict_id) > 64:
        raise ResolveError(404, "not_found", "no such conflict")
    request_id = request_id or secrets.token_hex(16)
    now = utcnow_iso()
    with backend.tx() as cur:
        head = backend.lock_counter(cur, "events", 0) - 1
        done = cur.execute("SELECT device_id, result FROM commands WHERE command_id = ?", (request_id,)).fetchone()
        if done:
            if done[0] != ADMIN_DEVICE:
                raise ResolveError(409, "invalid", "request_id already used")
            return {**json.loads(done[1]), "replayed": True}
        row = cur.execute("SELECT resource, holder, resolved_at FROM claim_conflicts WHERE conflict_id = ?",
                          (conflict_id,)).fetchone()
        if row is None:
            raise ResolveError(404, "not_found", "no such conflict")
        old, holder, resolved_at = row
        rt = _resource_type(old)
        new = None
        if action == "assign":
            try:
                new = rt.from_form({k: _text(v, k, 100) if isinstance(v, str) else v for k, v in fields.items()})
            except ValueError as exc:
                raise ResolveError(422, "too_long", str(exc), limit=100) from None
            if not new:
                raise ResolveError(422, rt.codes["required"], "an assignment needs the resource to assign")
        if resolved_at:
            raise ResolveError(409, "already_resolved", "this conflict is already resolved")
        resolution = {"action": action, "by": by}
        if reason:
            resolution["reason"] = reason
        if new:
            resolution[rt.label] = rt.name(new)
        events = []
        if new:
            taken, has = rt.codes["taken"], rt.codes["has"]
            p_res, p_hold = rt.params["resource"], rt.params["holder"]
            held = cur.execute("SELECT holder FROM resource_claims WHERE resource_key = ? AND resource = ? "
                               "AND state = 'live' AND (end_at IS NULL OR end_at > ?) ORDER BY start_at",
                               (resource_key(new), new, now)).fetchall()
            if held:
                raise ResolveError(409, taken, f"{new} is taken by {held[-1][0]}",
                                   **{p_res: rt.name(new), "held_by": held[-1][0]})
            prefix = old.partition(":")[0] + ":"
            mine = cur.execute("SELECT resource FROM resource_claims WHERE holder = ? AND state = 'live' "
                               "AND (end_at IS NULL OR end_at > ?)", (holder, now)).fetchall()
            mine = [r[0] for r in mine if r[0].startswith(prefix)]
            if mine:
                raise ResolveError(409, has, f"{holder} already holds {mine[0]}",
                                   **{p_res: rt.name(mine[0]), p_hold: holder})
            try:
                cur.copy_rows("resource_claims", COLUMNS["resource_claims"],
                              [(request_id, new, resource_key(new), holder, ADMIN_DEVICE, now, None, "live",
                                request_id)])
            except OverlapError:          # a claim starting later than now: still refused, by the constraint
                raise ResolveError(409, taken, f"{new} is taken", **{p_res: rt.name(new), "held_by": "?"}) from None
            events.append(rt.changed(new, holder, "occupied", now))
        events.append((rt.resolved_kind, {"conflict_id": conflict_id, rt.label: rt.name(old), rt.holder: holder,
                                          **resolution}))
        cur.execute("UPDATE claim_conflicts SET resolved_at = ?, resolution = ? WHERE conflict_id = ? "
                    "AND resolved_at IS NULL", (now, dumps(resolution), conflict_id))
        seqs = list(range(head + 1, head + 1 + len(events)))
        cur.copy_rows("events", EVENT_COLUMNS,
                      [(n, kind, dumps(p), ADMIN_DEVICE, request_id, now) for n, (kind, p) in zip(seqs, events)])
        result = {"conflict_id": conflict_id, rt.holder: holder, **resolution, "seqs": seqs}
        request = {"conflict_id": conflict_id, "action": action, "by": by, "reason": reason,
                   **{k: v for k, v in fields.items() if isinstance(v, str) and k not in ("action", "by", "reason",
                                                                                        "request_id", "token")}}
        cur.copy_rows("commands", COMMAND_COLUMNS, [(request_id, ADMIN_DEVICE, 0, now, now, rt.command_kind,
                                                     dumps(request), "applied", dumps(result), None, None, None)])
        cur.execute("UPDATE counters SET value = ? WHERE name = 'events'", (seqs[-1],))
    log.info("conflict %s (%s on %s) resolved by %s: %s", conflict_id, holder, old, by,
             f"assigned {new}" if new else f"dismissed ({reason})")
    return {**result, "replayed": False}


def today_bounds(tz: str) -> tuple[str, str]:
    from zoneinfo import ZoneInfo
    z = ZoneInfo(tz)
    start = datetime.now(z).replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)
    f = "%Y-%m-%dT%H:%M:%S.%fZ"
    return start.astimezone(timezone.utc).strftime(f), end.astimezone(timezone.utc).strftime(f)
