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
from datetime import datetime, timedelta, timezone

from pos.ids import utcnow_iso

from .. import protocol as P
from .commands import COLUMNS, HANDLERS, PREFETCH, CommandInvalid, ForeignId, dumps, norm_time, validate

__all__ = ["AuthError", "Refused", "issue_enrol_code", "enrol", "revoke", "authenticate", "ingest", "pull",
           "validate_batch", "prune_nonces"]

log = logging.getLogger(__name__)


class AuthError(Exception):
    """401 (unknown, forged, replayed, expired) or 403 (revoked)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Refused(Exception):
    """A batch refused as a whole: nothing stored."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def issue_enrol_code(backend, ttl_s: int = 86400) -> str:
    code = "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(3))
    now = time.time()
    with backend.tx() as cur:
        cur.execute("INSERT INTO enrol_codes (code, created_at, expires_at) VALUES (?, ?, ?)",
                    (code, utcnow_iso(now), utcnow_iso(now + ttl_s)))
    log.info("enrolment code issued (expires in %ss)", ttl_s)
    return code


def enrol(backend, code: str, device_id: str, name: str = "") -> str:
    """Spend a one-time code; returns the device's new secret."""
    if not (isinstance(device_id, str) and 2 <= len(device_id) <= 32 and device_id.isalnum()):
        raise Refused(422, "device_id must be 2-32 letters or digits")
    now = utcnow_iso()
    secret = secrets.token_hex(32)
    with backend.tx() as cur:
        cur.execute("UPDATE enrol_codes SET used_at = ?, used_by = ? WHERE code = ? AND used_at IS NULL "
                    "AND expires_at > ?", (now, device_id, str(code).strip().upper(), now))
        if cur.rowcount != 1:
            raise AuthError(401, "enrolment code unknown, used or expired")
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


def authenticate(backend, headers, method: str, path_qs: str, body: bytes, now: float | None = None) -> str:
    """Check the HMAC signature, the timestamp window and the nonce. Returns the device_id."""
    now = time.time() if now is None else now
    device_id, ts, nonce, sig = (headers.get(h) for h in (P.H_DEVICE, P.H_TS, P.H_NONCE, P.H_SIG))
    if not (device_id and ts and nonce and sig) or len(nonce) > 64 or len(device_id) > 32:
        raise AuthError(401, "missing credentials")
    try:
        skew = abs(float(ts) - now)
    except ValueError:
        raise AuthError(401, "bad timestamp") from None
    if skew > P.TIMESTAMP_WINDOW:
        raise AuthError(401, "timestamp outside the window (check the clock)")
    with backend.tx() as cur:
        row = cur.execute("SELECT secret, revoked_at FROM devices WHERE device_id = ?", (device_id,)).fetchone()
        if row is None:
            raise AuthError(401, "unknown device")
        want = P.sign(row[0], method, path_qs, ts, nonce, body)
        if not hmac.compare_digest(want, sig):
            raise AuthError(401, "bad signature")
        if row[1]:
            raise AuthError(403, "device revoked")
        cur.execute("INSERT INTO nonces (device_id, nonce, seen_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (device_id, nonce, now))
        if cur.rowcount != 1:
            raise AuthError(401, "replayed request")
    return device_id


def prune_nonces(backend, now: float | None = None) -> None:
    now = time.time() if now is None else now
    with backend.tx() as cur:
        cur.execute("DELETE FROM nonces WHERE seen_at < ?", (now - 2 * P.TIMESTAMP_WINDOW,))


# -- push ---------------------------------------------------------------------------------------
def validate_batch(body, device_id: str) -> tuple[list[dict], dict]:
    """Shape, size, kinds, ownership. Raises :class:`Refused`; nothing touches the database."""
    if not isinstance(body, dict) or not isinstance(body.get("commands"), list):
        raise Refused(422, "body must be an object with a 'commands' list")
    cmds = body["commands"]
    if len(cmds) > P.MAX_BATCH:
        raise Refused(413, f"batch too large: {len(cmds)} commands, at most {P.MAX_BATCH}")
    meta = body.get("device") or {}
    if not isinstance(meta, dict):
        raise Refused(422, "'device' must be an object")
    out = []
    for i, c in enumerate(cmds):
        if not isinstance(c, dict):
            raise Refused(422, f"command {i}: must be an object")
        cid, dev, seq, created, kind, payload = (c.get(k) for k in
                                                 ("command_id", "device_id", "device_seq", "created_at", "kind",
                                                  "payload"))
        if not (isinstance(cid, str) and 8 <= len(cid) <= 64):
            raise Refused(422, f"command {i}: command_id must be a string of 8-64 characters")
        if dev != device_id:
            raise Refused(403, f"command {cid}: device_id {dev!r} is not the authenticated device {device_id}")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0 or seq >= 2**62:
            raise Refused(422, f"command {cid}: device_seq must be a non-negative integer")
        if not isinstance(kind, str) or kind not in HANDLERS:
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
    to bulk-insert at the end (:meth:`defer`, :meth:`flush`)."""

    def __init__(self, cur, device_id: str, now: str):
        self.cur, self.device_id, self.now = cur, device_id, now
        self.admissions: set[str] = set()
        self.entries: set[str] = set()
        self.claims: dict[str, list[list]] = {}
        self._rows: dict[str, list] = {}

    def prefetch(self, cmds: list[dict]) -> None:
        want: dict[str, list] = {"admissions": [], "entries": [], "beds": []}
        for c in cmds:
            spec = PREFETCH.get(c["kind"])
            if spec:
                want[spec[0]].append(spec[1](c["payload"]))
        for chunk in _chunks(sorted(set(want["admissions"]))):
            where, params = self.cur.where_in("admission_id", chunk)
            self.admissions.update(r[0] for r in self.cur.execute(
                f"SELECT admission_id FROM admissions WHERE {where}", params).fetchall())
        for chunk in _chunks(sorted(set(want["entries"]))):
            where, params = self.cur.where_in("entry_id", chunk)
            self.entries.update(r[0] for r in self.cur.execute(
                f"SELECT entry_id FROM ledger WHERE {where}", params).fetchall())
        for chunk in _chunks(sorted(set(want["beds"]))):
            where, params = self.cur.where_in("bed_id", chunk)
            for bed, start, end, adm in self.cur.execute(
                    f"SELECT bed_id, start_at, end_at, admission_id FROM bed_claims WHERE {where} "
                    "ORDER BY start_at", params).fetchall():
                self.claims.setdefault(bed, []).append([_ts(start), _ts(end), adm])

    def defer(self, table: str, row: tuple) -> None:
        self._rows.setdefault(table, []).append(row)

    def flush(self) -> None:
        for table, rows in self._rows.items():
            self.cur.copy_rows(table, COLUMNS[table], rows)
        self._rows = {}


def _ts(value):
    if value is None or isinstance(value, str):
        return value
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _chunks(seq, n=400):
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def ingest(backend, device_id: str, cmds: list[dict], meta: dict, device_time: str | None = None) -> dict:
    now_ts = time.time()
    now = utcnow_iso(now_ts)
    skew = None
    if device_time:
        try:
            dt = datetime.fromisoformat(device_time.replace("Z", "+00:00"))
            skew = round(dt.timestamp() - now_ts, 3)
        except ValueError:
            skew = None
    results, new_rows, events = [], [], []
    with backend.tx() as cur:
        first = backend.lock_counter(cur, "events", 0)     # takes the counter lock for the whole batch
        seq = first - 1
        stored = {}
        ids = [c["command_id"] for c in cmds]
        for chunk in _chunks(ids):
            where, params = cur.where_in("command_id", chunk)
            for cid, dev, status, result in cur.execute(
                    f"SELECT command_id, device_id, status, result FROM commands WHERE {where}", params).fetchall():
                if dev != device_id:
                    raise Refused(403, f"command {cid} belongs to another device")
                stored[cid] = (status, json.loads(result))
        ctx = Ctx(cur, device_id, now)
        ctx.prefetch([c for c in cmds if c["command_id"] not in stored])
        for c in cmds:
            cid = c["command_id"]
            if cid in stored:
                status, result = stored[cid]
                results.append({"command_id": cid, "status": status, "result": result, "replayed": True})
                continue
            status, result, evs = HANDLERS[c["kind"]].apply(ctx, c)
            seqs = []
            for kind, payload in evs:
                seq += 1
                seqs.append(seq)
                # the command's own payload is not stored twice: pull joins it back
                events.append((seq, kind, None if payload is c["payload"] else dumps(payload), device_id, cid, now))
            if seqs:
                result = {**result, "seqs": seqs}
            stored[cid] = (status, result)
            result_text = f'{{"seqs":[{seqs[0]}]}}' if len(result) == 1 and len(seqs) == 1 else dumps(result)
            new_rows.append((cid, device_id, c["device_seq"], c["created_at"], now, c["kind"], dumps(c["payload"]),
                             status, result_text))
            results.append({"command_id": cid, "status": status, "result": result, "replayed": False})
        ctx.flush()
        cur.copy_rows("commands", ("command_id", "device_id", "device_seq", "created_at", "received_at", "kind",
                                   "payload", "status", "result"), new_rows)
        if events:
            cur.copy_rows("events", ("seq", "kind", "payload", "device_id", "command_id", "server_time"), events)
            cur.execute("UPDATE counters SET value = ? WHERE name = 'events'", (seq,))
        qd = meta.get("queue_depth")
        health = meta.get("health")
        cur.execute("UPDATE devices SET last_seen = ?, last_device_time = ?, skew_s = ?, queue_depth = ?, "
                    "health = ? WHERE device_id = ?",
                    (now, device_time, skew, qd if isinstance(qd, int) and not isinstance(qd, bool) else None,
                     dumps(health)[:4000] if health is not None else None, device_id))
    out = {"results": results, "server_time": now, "head": seq}
    if skew is not None and abs(skew) > P.SKEW_WARN_S:
        log.warning("device %s clock is %+.0f s off the server's", device_id, skew)
        out["warnings"] = [f"clock_skew:{skew:+.0f}s"]
    return out


def pull(backend, device_id: str, after: int, limit: int) -> dict:
    limit = max(1, min(limit, P.PULL_LIMIT))
    with backend.tx() as cur:
        rows = cur.execute(
            "SELECT e.seq, e.kind, coalesce(e.payload, c.payload), e.server_time FROM events e "
            "LEFT JOIN commands c ON e.payload IS NULL AND c.command_id = e.command_id "
            "WHERE e.seq > ? ORDER BY e.seq LIMIT ?", (after, limit)).fetchall()
        head = cur.execute("SELECT value FROM counters WHERE name = 'events'").fetchone()[0]
        cur.execute("UPDATE devices SET last_seen = ?, last_seq_pulled = ? WHERE device_id = ?",
                    (utcnow_iso(), rows[-1][0] if rows else after, device_id))
    events = [{"seq": s, "kind": k, "payload": json.loads(p), "server_time": t} for s, k, p, t in rows]
    nxt = events[-1]["seq"] if events else after
    return {"events": events, "next_after": nxt, "head": head, "more": nxt < head}


def today_bounds(tz: str) -> tuple[str, str]:
    from zoneinfo import ZoneInfo
    z = ZoneInfo(tz)
    start = datetime.now(z).replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)
    f = "%Y-%m-%dT%H:%M:%S.%fZ"
    return start.astimezone(timezone.utc).strftime(f), end.astimezone(timezone.utc).strftime(f)
