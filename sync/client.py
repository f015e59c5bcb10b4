"""The kiosk's sync client: push the outbox in order, then pull and apply the server's events.

* :func:`enrol` spends a one-time code and keeps the device secret in the store (``sync_state``).
* :class:`SyncClient` signs every request (see :mod:`sync.protocol`), corrects its signing clock
  from ``X-Onestop-Server-Time``, pushes pending outbox rows in ``device_seq`` order and acks
  them with the server's per-command result, then pulls pages of events after the persisted
  cursor and applies them in one transaction per page: stored in ``sync_events``, and handed to
  the site packs' projections (``pos.packs.Projection``) that declare their kinds.
* :class:`SyncWorker` runs that in a background thread with exponential backoff and full jitter,
  and offers :meth:`SyncWorker.status` (online, offline since, N waiting, last error) for the
  staff screens; it never blocks the caller.
"""

from __future__ import annotations

import json
import logging
import random
import ssl
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

import httpx

from pos.ids import utcnow_iso

from . import protocol as P
from .errors import BadRequest, EnrolmentFailed, ServerUnavailable, SyncError, Unauthorized

__all__ = ["enrol", "SyncClient", "SyncWorker", "SyncStatus", "Backoff", "get_state", "set_state"]

log = logging.getLogger(__name__)


def get_state(store, key: str) -> str | None:
    row = store.conn.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_state(store, key: str, value: str, tx=None) -> None:
    sql = "INSERT INTO sync_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
    if tx is not None:
        tx.execute(sql, (key, value))
    else:
        with store.transaction() as t:
            t.execute(sql, (key, value))


def _http(server_url: str, ca_file: str | None, timeout: float) -> httpx.Client:
    verify = ssl.create_default_context(cafile=ca_file) if ca_file else True
    return httpx.Client(base_url=server_url, timeout=timeout, verify=verify,
                        limits=httpx.Limits(max_keepalive_connections=0), headers={"Connection": "close"})


def enrol(store, server_url: str, code: str, name: str = "", ca_file: str | None = None, timeout: float = 10) -> None:
    """Exchange ``code`` for this device's secret; keep both in the store."""
    try:
        with _http(server_url, ca_file, timeout) as http:
            r = http.post("/v1/enrol", json={"code": code, "device_id": store.device_id, "name": name})
    except httpx.HTTPError as exc:
        raise ServerUnavailable(f"cannot reach {server_url}: {exc}") from exc
    if r.status_code != 200:
        raise EnrolmentFailed(f"enrolment refused ({r.status_code}): {r.text[:200]}")
    with store.transaction() as tx:
        set_state(store, "server_url", server_url.rstrip("/"), tx)
        set_state(store, "secret", r.json()["secret"], tx)
        if ca_file:
            set_state(store, "ca_file", ca_file, tx)
    log.info("enrolled device %s with %s", store.device_id, server_url)


class Backoff:
    """Exponential backoff with full jitter: ``uniform(0, min(cap, base * 2**n))``."""

    def __init__(self, base: float = 0.5, cap: float = 30.0, rng: random.Random | None = None):
        self.base, self.cap, self.rng, self.n = base, cap, rng or random.Random(), 0

    def next(self) -> float:
        delay = self.rng.uniform(0, min(self.cap, self.base * (2 ** self.n)))
        self.n = min(self.n + 1, 30)
        return delay

    def reset(self) -> None:
        self.n = 0


class Projections:
    """The active site packs' client projections (``pos.packs.Projection``): which pulled event kinds
    each applies, resolved once."""

    def __init__(self):
        from pos import packs

        self.by_kind: dict[str, list] = {}
        self.resets = []
        for pr in packs.projections():
            fn = packs.resolve(pr.apply)
            for kind in pr.events:
                self.by_kind.setdefault(kind, []).append(fn)
            if pr.latest_by and pr.reset:
                self.resets.append(packs.resolve(pr.reset))

    def apply(self, tx, kind: str, payload: dict, seq: int) -> None:
        for fn in self.by_kind.get(kind, ()):
            fn(tx, kind, payload, seq)


class SyncClient:
    def __init__(self, store, server_url: str | None = None, ca_file: str | None = None, timeout: float = 10,
                 batch: int = 200, health: Callable[[], dict] | None = None, keep_events: int = 50_000,
                 keep_days: float = 30, page: int = 500):
        self.store = store
        #: pulled events older than both limits are pruned from the kiosk's copy of the log
        self.keep_events, self.keep_days = keep_events, keep_days
        self.page = page                #: events per pull request
        self.server_url = (server_url or get_state(store, "server_url") or "").rstrip("/")
        self.secret = get_state(store, "secret")
        if not self.server_url:
            raise SyncError("no server URL: set sync.server_url or run `onestop enrol`")
        if not self.secret:
            raise Unauthorized("this kiosk is not enrolled: run `onestop enrol CODE --server URL`")
        self.ca_file = ca_file or get_state(store, "ca_file")
        self.timeout, self.batch = timeout, batch
        self.health = health or (lambda: {})
        self.offset = 0.0           # server clock - local clock, learnt from responses
        self.auth = P.SigningAuth(store.device_id, self.secret, lambda: time.time() + self.offset)
        self._http: httpx.Client | None = None
        self.projections = Projections()

    @staticmethod
    def options(config) -> dict:
        """The client's settings from a site configuration's ``[sync]`` section."""
        return {key: config.get("sync", key) for key in ("batch", "keep_events", "keep_days")}

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    # -- transport -------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: bytes = b"") -> httpx.Response:
        headers = {P.H_DEVICE_TIME: utcnow_iso(), "Content-Type": "application/json"}
        t0 = time.time()
        try:
            if self._http is None:      # one client (the CA bundle loads once); one connection per request
                self._http = _http(self.server_url, self.ca_file, self.timeout)
            r = self._http.request(method, path, content=body if method == "POST" else None, headers=headers,
                                   auth=self.auth)
        except httpx.HTTPError as exc:
            raise ServerUnavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        st = r.headers.get(P.H_SERVER_TIME)
        if st:
            try:
                self.offset = float(st) - (t0 + time.time()) / 2
            except ValueError:
                pass
        if r.status_code == 200:
            return r
        detail = r.text[:300]
        if r.status_code in (401, 403) and "revoked" in detail:
            raise Unauthorized(f"this kiosk was revoked by the server: {detail}")
        if r.status_code == 401:
            raise Unauthorized(f"server refused the credentials (401): {detail}")
        if r.status_code in (429, 502, 503, 504) or r.status_code >= 500:
            raise ServerUnavailable(f"server busy or down ({r.status_code}): {detail}")
        raise BadRequest(f"server refused {method} {path} ({r.status_code}): {detail}")

    # -- push ------------------------------------------------------------------------------------
    def push_once(self) -> int:
        """Push one batch of pending commands; returns how many were acknowledged (0 = nothing waiting)."""
        pending = self.store.outbox_pending(limit=self.batch)
        if not pending:
            return 0
        cmds = [{k: c[k] for k in ("command_id", "device_id", "device_seq", "created_at", "kind", "payload")}
                for c in pending]
        body = json.dumps({"device": {"queue_depth": max(0, self.store.outbox_depth() - len(cmds)),
                                      "health": self.health()},
                           "commands": cmds}, ensure_ascii=False, separators=(",", ":")).encode()
        r = self._request("POST", "/v1/push", body)
        out = r.json()
        applied = {x["command_id"]: x for x in out["results"] if x["status"] == "applied"}
        rejected = {x["command_id"]: x for x in out["results"] if x["status"] != "applied"}
        if applied:
            self.store.outbox_ack(applied, state="acked")
        if rejected:
            self.store.outbox_ack(rejected, state="rejected")
            for cid, x in rejected.items():
                log.warning("server rejected command %s: %s", cid, x.get("result"))
        for w in out.get("warnings", []):
            log.warning("server warning: %s", w)
        return len(applied) + len(rejected)

    def push_all(self) -> int:
        total = 0
        while True:
            n = self.push_once()
            if n == 0:
                return total
            total += n

    # -- pull ------------------------------------------------------------------------------------
    def cursor(self) -> int:
        return int(get_state(self.store, "cursor") or 0)

    def pull_once(self, limit: int | None = None) -> bool:
        """Pull and apply one page; returns True while more pages wait."""
        limit = limit or self.page
        after = self.cursor()
        page = self._request("GET", f"/v1/events?after={after}&limit={limit}").json()
        events = page["events"]
        with self.store.transaction() as tx:
            for ev in events:
                tx.execute("INSERT OR IGNORE INTO sync_events (seq, kind, payload, server_time) VALUES (?, ?, ?, ?)",
                           (ev["seq"], ev["kind"], json.dumps(ev["payload"], ensure_ascii=False, sort_keys=True),
                            ev["server_time"]))
                self.projections.apply(tx, ev["kind"], ev["payload"], ev["seq"])
            if events:
                set_state(self.store, "cursor", str(page["next_after"]), tx)
                self._prune(tx, int(page["next_after"]))
            set_state(self.store, "head", str(page["head"]), tx)
        return bool(page["more"])

    def _prune(self, tx, cursor: int) -> int:
        """Drop pulled events that are both more than ``keep_events`` behind the cursor and older
        than ``keep_days`` (in the transaction that applies the page, so only applied events go;
        the packs' projections built from them are kept up to date, never rebuilt)."""
        horizon = cursor - self.keep_events
        if horizon <= 0:
            return 0
        cutoff = utcnow_iso(time.time() - self.keep_days * 86400)
        n = tx.execute("DELETE FROM sync_events WHERE seq <= ? AND server_time < ?", (horizon, cutoff)).rowcount
        if n:
            log.info("pruned %d pulled events at or below seq %d older than %s", n, horizon, cutoff)
        return n

    def pull_all(self) -> int:
        """Pull until the cursor reaches the head; returns the number of requests. A new kiosk
        (cursor 0) facing more than ``keep_events`` events takes a snapshot after the first page
        instead of replaying the whole log (it would prune most of it anyway)."""
        fresh, n = self.cursor() == 0, 0
        while True:
            more = self.pull_once()
            n += 1
            if fresh and more and int(get_state(self.store, "head") or 0) - self.cursor() > self.keep_events:
                self.take_snapshot()
                n += 1
            fresh = False
            if not more:
                return n

    def take_snapshot(self) -> int:
        """Replace the pulled state with the server's snapshot (the last event per key of every
        projection that declares ``latest_by``, as of ``as_of``) and move the cursor to ``as_of``, in one
        transaction; pulling goes on after it. Returns ``as_of``."""
        snap = self._request("GET", "/v1/snapshot").json()
        as_of = int(snap["as_of"])
        with self.store.transaction() as tx:
            if as_of < self.cursor():
                raise SyncError(f"server snapshot as of {as_of} is behind this kiosk's cursor {self.cursor()}")
            for reset in self.projections.resets:
                reset(tx)
            for ev in snap["latest"]:
                self.projections.apply(tx, ev["kind"], ev["payload"], ev["seq"])
            tx.execute("DELETE FROM sync_events WHERE seq <= ?", (as_of,))
            set_state(self.store, "cursor", str(as_of), tx)
            set_state(self.store, "head", str(snap["head"]), tx)
        log.info("took the server's snapshot as of seq %d (%d events) instead of replaying the log",
                 as_of, len(snap["latest"]))
        return as_of

    def sync_once(self) -> dict:
        pushed = self.push_all()
        self.pull_all()
        return {"pushed": pushed, "cursor": self.cursor(), "waiting": self.store.outbox_depth()}


@dataclass
class SyncStatus:
    online: bool = False
    offline_since: str | None = None     # UTC ISO
    waiting: int = 0
    last_error: str | None = None
    last_sync: str | None = None
    cursor: int = 0

    def text(self, lang: str = "zh-Hans", tz: str = "Asia/Shanghai") -> str:
        """'offline since HH:MM, N waiting' for the staff screens, in local time."""
        if self.online:
            return {"en": f"online, {self.waiting} waiting", "zh-Hans": f"在线，{self.waiting} 条待传",
                    "zh-Hant": f"線上，{self.waiting} 筆待傳"}.get(lang, f"online, {self.waiting} waiting")
        hhmm = "--:--"
        if self.offline_since:
            hhmm = datetime.fromisoformat(self.offline_since.replace("Z", "+00:00")).astimezone(
                ZoneInfo(tz)).strftime("%H:%M")
        return {"en": f"offline since {hhmm}, {self.waiting} waiting",
                "zh-Hans": f"自 {hhmm} 起离线，{self.waiting} 条待传",
                "zh-Hant": f"自 {hhmm} 起離線，{self.waiting} 筆待傳"}.get(lang, f"offline since {hhmm}")


class SyncWorker:
    """Background sync: ``start()``, ``stop()``, ``nudge()`` (sync now), ``status()`` (a snapshot)."""

    def __init__(self, client_factory: Callable[[], SyncClient], interval: float = 5.0,
                 backoff: Backoff | None = None, store=None):
        self.client_factory = client_factory
        self.interval = interval
        self.backoff = backoff or Backoff()
        self.store = store
        self._status = SyncStatus()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "SyncWorker":
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="onestop-sync", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)

    def nudge(self) -> None:
        self._wake.set()

    def status(self) -> SyncStatus:
        with self._lock:
            s = SyncStatus(**asdict(self._status))
        if self.store is not None:
            try:
                s.waiting = self.store.outbox_depth()
            except Exception:   # the store is busy; keep the last figure
                pass
        return s

    def _set(self, **kw) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self._status, k, v)

    def _run(self) -> None:
        client = None
        while not self._stop.is_set():
            try:
                client = client or self.client_factory()
                out = client.sync_once()
                self.backoff.reset()
                self._set(online=True, offline_since=None, last_error=None, last_sync=utcnow_iso(),
                          waiting=out["waiting"], cursor=out["cursor"])
                delay = self.interval
            except SyncError as exc:
                log.warning("sync failed: %s", exc)
                with self._lock:
                    if self._status.online or self._status.offline_since is None:
                        self._status.offline_since = utcnow_iso()
                    self._status.online = False
                    self._status.last_error = str(exc)[:300]
                delay = self.backoff.next()
                if isinstance(exc, (Unauthorized, BadRequest)):
                    delay = max(delay, self.interval)
            except Exception as exc:  # a bug: keep the thread alive, tell the technician
                log.exception("sync crashed")
                self._set(online=False, last_error=f"{type(exc).__name__}: {exc}"[:300])
                delay = self.backoff.next()
            self._wake.wait(delay)
            self._wake.clear()
