"""The central server's HL7 v2 interface engine: HL7 v2.5 over MLLP (:mod:`sync.mllp`), both ways,
for the pack that declares ``Pack.interfaces["hl7v2"]`` (the hooks module: its mapping, how a
message plans into commands and what goes back; e.g. the hospital pack's ``pos.hospital.his_interface``).

Inbound: each frame is parsed and planned by the pack's hooks, its commands are applied as the
device ``@his`` through the server's one ingest path (one transaction, so kiosks pull them like
any other event), and the ACK is stored by MSH-10: a repeat gets the same ACK, the same MSH-10
with another body is refused (AR). A message whose predecessor has not arrived is held (ACK AA, "held") and applied when a message of its visit applies; held
longer than ``hold_timeout_s`` it shows as flagged on the IT page. Refusals (AE/AR) apply nothing.

Outbound: :meth:`HisInterface.pump` has the hooks follow the command log (in the hospital's example,
deposits, refunds, settlements), queues one message each (``his_outbound``) and
delivers the queue in order to the configured HIS endpoint, retrying with back-off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone

from pos import packs
from pos.ids import utcnow_iso

from .. import mllp
from . import service

__all__ = ["HisInterface", "DEVICE", "from_options", "hooks"]

log = logging.getLogger(__name__)

DEVICE = "@his"
_CHARSETS = {"": "utf-8", "UNICODE UTF-8": "utf-8", "GB 18030-2000": "gb18030", "ASCII": "ascii"}


def _command_base(control: str) -> str:
    """The command IDs of a message's commands begin with this (``-0``, ``-1``, ...): derived from
    MSH-10, so a message applied before a crash and sent again replays its stored results."""
    return "his-" + hashlib.sha256(control.encode()).hexdigest()[:32] + "-"


def hooks(protocol: str = "hl7v2"):
    """The hooks module of the first active pack that declares an interface of ``protocol``."""
    for pack in packs.active():
        if protocol in pack.interfaces:
            return packs.resolve(pack.interfaces[protocol])
    raise LookupError(f"no active pack declares a {protocol} interface")


def _sha(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


class HisInterface:
    def __init__(self, backend, mapping=None, host: str = "127.0.0.1", port: int = 0,
                 his_endpoint: tuple[str, int] | None = None, retry_s: float = 30.0):
        self.backend = backend
        self.h = hooks()
        self.m = mapping or self.h.load_mapping()
        self.endpoint = his_endpoint
        self.retry_s = retry_s
        self.server = mllp.MllpServer(self.handle, self.oversize, host, port, max_bytes=self.m.max_bytes)
        self._lock = threading.Lock()           # one message at a time, in arrival order
        self._stop = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "HisInterface":
        self.server.start()
        log.info("HIS interface %s listening on %s:%s (MLLP)", self.m.name, self.server.host, self.server.port)
        return self

    def stop(self) -> None:
        self._stop.set()
        self.server.stop()

    def run_pump(self, interval_s: float = 5.0) -> "HisInterface":
        """Deliver the outbound queue every ``interval_s`` in a thread (the server process)."""
        def loop():
            while not self._stop.wait(interval_s):
                try:
                    self.pump()
                except Exception:               # the database is down: next round
                    log.exception("HIS %s: outbound pump failed", self.m.name)
        threading.Thread(target=loop, name=f"his-pump:{self.m.name}", daemon=True).start()
        return self

    @property
    def port(self) -> int:
        return self.server.port

    # -- inbound ---------------------------------------------------------------------------------
    def _ack(self, code: str, control: str, event: str = "", reason: str = "", segment: str = "") -> str:
        return self.h.ack(self.m, code, control, f"ACK{int(time.time() * 1e6)}", event, reason, segment)

    def oversize(self, head: bytes) -> bytes:
        control, event = "", ""
        try:
            msg = self.h.parse(head.decode("utf-8", "replace").split("\r", 1)[0])
            control, event = self.h.component(msg, "MSH", 10), self.h.component(msg, "MSH", 9, 2)
        except self.h.Refused:
            pass
        reason = f"message larger than {self.m.max_bytes} bytes: refused, nothing applied"
        # (the head is the first bytes of the frame: its MSH segment reads like any other)
        log.warning("HIS %s: %s (MSH-10 %r)", self.m.name, reason, control)
        return self._ack("AR", control, event, reason, "MSH").encode()

    def handle(self, raw: bytes) -> bytes:
        with self._lock:
            try:
                return self._handle(raw).encode("utf-8")
            except Exception as exc:            # the database, a bug: AE, nothing stored; the HIS resends
                log.exception("HIS %s: message failed", self.m.name)
                control, event = self._head_of(raw)
                return self._ack("AE", control, event, f"server error, resend later: {type(exc).__name__}").encode()

    def _head_of(self, raw: bytes) -> tuple[str, str]:
        """MSH-10 and the trigger event of a message refused as a whole, when its MSH still reads."""
        try:
            msh = self.h.parse(raw.split(b"\r", 1)[0].decode("utf-8", "replace"))
            return self.h.component(msh, "MSH", 10).strip()[:64], self.h.component(msh, "MSH", 9, 2).strip()[:8]
        except self.h.Refused:
            return "", ""

    def _decode(self, raw: bytes) -> str:
        first = raw.split(b"\r", 1)[0]
        try:
            charset = self.h.component(self.h.parse(first.decode("ascii", "replace")), "MSH", 18).strip().upper()
        except self.h.Refused:
            charset = ""
        try:
            return raw.decode(_CHARSETS.get(charset, "utf-8"))
        except (UnicodeDecodeError, LookupError):
            raise self.h.Refused("AR", f"message is not valid {charset or 'UTF-8'}", "MSH") from None

    def _handle(self, raw: bytes) -> str:
        now = utcnow_iso()
        try:
            text = self._decode(raw)
            msg = self.h.parse(text)
            control, code, event = self.h.header(msg)
        except self.h.Refused as r:
            control, event = self._head_of(raw)
            log.warning("HIS %s: refused %s %r: %s", self.m.name, r.code, control, r.reason)
            return self._ack(r.code, control, event, r.reason, r.segment)
        body = str(msg)
        sha = _sha(body)
        with self.backend.tx() as cur:
            stored = cur.execute("SELECT body_sha, ack FROM his_inbound WHERE control_id = ?", (control,)).fetchone()
        if stored:
            if stored[0] == sha:
                return stored[1]
            reason = f"MSH-10 {control} was used already for another message: refused"
            log.warning("HIS %s: %s", self.m.name, reason)
            return self._ack("AR", control, event, reason, "MSH")
        for visit in self.link():
            self._release_held(visit)
        return self._process(control, f"{code}^{event}", event, msg, body, sha, now)

    def _record(self, control, typ, visit, body, sha, status, code, text, reason, now, applied=False, cur=None):
        if cur is None:
            with self.backend.tx() as cur:
                return self._record(control, typ, visit, body, sha, status, code, text, reason, now, applied, cur)
        if True:
            cur.execute("INSERT INTO his_inbound (control_id, interface, msg_type, visit, body_sha, body, status, "
                        "ack_code, ack, reason, received_at, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (control_id) DO UPDATE SET visit = excluded.visit, status = excluded.status, "
                        "ack_code = excluded.ack_code, ack = excluded.ack, reason = excluded.reason, "
                        "applied_at = excluded.applied_at",       # a resend from the IT page: the row is kept
                        (control, self.m.name, typ, visit, sha, body, status, code, text, reason, now,
                         now if applied else None))

    def _process(self, control, typ, event, msg, body, sha, now) -> str:
        try:
            with self.backend.tx() as cur:
                p = self.h.plan(cur, msg, self.m, now, _command_base(control))
        except self.h.Refused as r:
            text = self._ack(r.code, control, event, r.reason, r.segment)
            self._record(control, typ, "", body, sha, "rejected" if r.code == "AR" else "error", r.code, text,
                         r.reason, now)
            log.warning("HIS %s: %s %s refused %s: %s", self.m.name, typ, control, r.code, r.reason)
            return text
        except self.h.Held as h:
            text = self._ack("AA", control, event, f"held: {h.reason}")
            self._record(control, typ, h.visit, body, sha, "held", "AA", text, h.reason, now)
            log.info("HIS %s: %s %s held: %s", self.m.name, typ, control, h.reason)
            return text
        text = self._ack("AA", control, event)
        status, reason = self._apply(p, control, lambda cur: self._record(
            control, typ, p.visit, body, sha, "applied", "AA", text, "", now, applied=True, cur=cur))
        if status != "applied":
            text = self._ack("AE", control, event, reason)
            self._record(control, typ, p.visit, body, sha, "error", "AE", text, reason, now)
            return text
        if p.visit:
            self._release_held(p.visit)
        return text

    def _apply(self, p, control: str, record=None) -> tuple[str, str]:
        """Apply the plan's commands (one ingest transaction); then, in one more, the visit and
        ``record(cur)`` (the message log row)."""
        base = _command_base(control)
        now = utcnow_iso()
        cmds = []
        for i, (kind, payload) in enumerate(p.commands):
            cmds.append({"command_id": f"{base}{i}", "device_id": DEVICE, "device_seq": 0, "created_at": now,
                         "kind": kind, "payload": service.validate(kind, payload, DEVICE)})
        out = service.ingest(self.backend, DEVICE, cmds, {})
        bad = [r for r in out["results"] if r["status"] != "applied"]
        if bad:
            return "error", "; ".join(json.dumps(r["result"], ensure_ascii=False) for r in bad)[:250]
        with self.backend.tx() as cur:
            self.h.applied(cur, p, now)
            if record is not None:
                record(cur)
        return "applied", ""

    def _release_held(self, visit: str) -> None:
        """Apply what waited for ``visit``'s predecessor, in arrival order, while something applies."""
        progress = True
        while progress:
            progress = False
            with self.backend.tx() as cur:
                held = cur.execute("SELECT control_id, msg_type, body, reason FROM his_inbound WHERE status = 'held' "
                                   "AND visit = ? ORDER BY received_at, control_id", (visit,)).fetchall()
            for control, typ, body, was in held:
                msg = self.h.parse(body)
                now = utcnow_iso()
                try:
                    with self.backend.tx() as cur:
                        p = self.h.plan(cur, msg, self.m, now, _command_base(control))
                except self.h.Held as h:
                    if h.reason != was:             # waits for the next step now (the check-in, say)
                        self._set(control, "held", h.reason)
                    continue
                except self.h.Refused as r:
                    self._set(control, "error", r.reason)
                    continue
                status, reason = self._apply(p, control)
                self._set(control, "applied" if status == "applied" else "error", reason)
                progress = progress or status == "applied"

    def _set(self, control: str, status: str, reason: str) -> None:
        with self.backend.tx() as cur:
            cur.execute("UPDATE his_inbound SET status = ?, reason = ?, applied_at = ? WHERE control_id = ?",
                        (status, reason, utcnow_iso() if status == "applied" else None, control))
        log.info("HIS %s: held %s now %s %s", self.m.name, control, status, reason)

    def resend_inbound(self, control: str) -> str:
        """The IT page's retry of a held or failed inbound message (after fixing the mapping, say)."""
        with self._lock:
            with self.backend.tx() as cur:
                r = cur.execute("SELECT body, msg_type, status FROM his_inbound WHERE control_id = ?",
                                (control,)).fetchone()
            if r is None or r[2] not in ("held", "error"):
                return "nothing to retry"
            msg = self.h.parse(r[0])
            text = self._process(control, r[1], r[1].split("^")[1], msg, r[0], _sha(r[0]), utcnow_iso())
            return self.h.parse(text).segment("MSA")[1][0]

    # -- following the command log (visits linked, e.g. a hospital check-in), and the outbound queue ------
    def _cursor(self, cur, name: str) -> int:
        r = cur.execute("SELECT value FROM his_state WHERE name = ?", (name,)).fetchone()
        return r[0] if r else 0

    def _set_cursor(self, cur, name: str, value: int) -> None:
        if cur.execute("UPDATE his_state SET value = ? WHERE name = ?", (value, name)).rowcount == 0:
            cur.execute("INSERT INTO his_state (name, value) VALUES (?, ?)", (name, value))

    def link(self) -> list:
        """Have the pack's hooks follow the command log: what they build for the other system is queued.
        Returns the visits linked now (what waited for them can apply; e.g. a hospital check-in for
        an HIS notice). The caller holds the interface's lock."""
        with self.backend.tx() as cur:
            after = self._cursor(cur, "outbound")
            now = utcnow_iso()
            last, linked, queue = self.h.follow(cur, self.m, after, now)
            for control, seq, typ, vno, text in queue:
                cur.execute("INSERT INTO his_outbound (control_id, interface, source_seq, msg_type, visit, body, "
                            "status, attempts, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?)",
                            (control, self.m.name, seq, typ, vno, text, now, now))
            if last != after:
                self._set_cursor(cur, "outbound", last)
        return linked

    def pump(self, now: float | None = None) -> dict:
        """Queue what is new and deliver what is due, in order; stops at the first delivery that fails
        (a message to the HIS is never overtaken by a later one)."""
        with self._lock:
            for visit in self.link():
                self._release_held(visit)
        sent = failed = 0
        if self.endpoint is None:
            return {"sent": 0, "failed": 0}
        now_iso = utcnow_iso(now)
        with self.backend.tx() as cur:
            due = cur.execute("SELECT control_id, body, attempts FROM his_outbound WHERE status = 'queued' "
                              "ORDER BY source_seq").fetchall()
        for control, body, attempts in due:
            with self.backend.tx() as cur:
                next_at = cur.execute("SELECT next_at FROM his_outbound WHERE control_id = ?",
                                      (control,)).fetchone()[0]
            if str(next_at) > now_iso:
                break
            try:
                reply = mllp.send_sync(*self.endpoint, body.encode("utf-8"), timeout=10).decode("utf-8", "replace")
                msa = self.h.parse(reply).segment("MSA")
                code = str(msa[1])
            except (mllp.MllpError, self.h.Refused, KeyError, IndexError) as exc:
                delay = min(self.retry_s * 2 ** attempts, 3600)
                nxt = (datetime.now(timezone.utc) + timedelta(seconds=delay)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                with self.backend.tx() as cur:
                    cur.execute("UPDATE his_outbound SET attempts = attempts + 1, next_at = ?, last_error = ? "
                                "WHERE control_id = ?", (nxt, str(exc)[:250], control))
                log.warning("HIS %s: %s not delivered (%s), retry in %.0f s", self.m.name, control, exc, delay)
                failed += 1
                break
            status = "sent" if code in ("AA", "CA") else "error"
            with self.backend.tx() as cur:
                cur.execute("UPDATE his_outbound SET status = ?, attempts = attempts + 1, ack = ?, sent_at = ?, "
                            "last_error = ? WHERE control_id = ?",
                            (status, reply, utcnow_iso(), "" if status == "sent" else f"HIS answered {code}", control))
            if status == "sent":
                sent += 1
            else:
                failed += 1
                log.warning("HIS %s: %s answered %s", self.m.name, control, code)
        return {"sent": sent, "failed": failed}

    def resend_outbound(self, control: str) -> bool:
        with self.backend.tx() as cur:
            return cur.execute("UPDATE his_outbound SET status = 'queued', next_at = ? WHERE control_id = ? "
                               "AND status IN ('error', 'queued')", (utcnow_iso(), control)).rowcount == 1

    # -- the IT page -----------------------------------------------------------------------------
    def status(self) -> dict:
        st = self.server.stats
        cutoff = (datetime.now(timezone.utc) - timedelta(seconds=self.m.hold_timeout_s)).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
        with self.backend.tx() as cur:
            last = cur.execute("SELECT control_id, msg_type, status, ack_code, received_at FROM his_inbound "
                               "ORDER BY received_at DESC LIMIT 1").fetchone()
            queue = cur.execute("SELECT control_id, msg_type, visit, status, reason, received_at FROM his_inbound "
                                "WHERE status IN ('held', 'error') ORDER BY received_at LIMIT 100").fetchall()
            out = cur.execute("SELECT control_id, msg_type, visit, status, attempts, last_error, created_at FROM "
                              "his_outbound WHERE status != 'sent' ORDER BY source_seq LIMIT 100").fetchall()
            sent = cur.execute("SELECT control_id, msg_type, sent_at, status FROM his_outbound WHERE sent_at IS NOT "
                               "NULL ORDER BY sent_at DESC LIMIT 1").fetchone()
        return {
            "name": self.m.name, "listen": f"{self.server.host}:{self.server.port}",
            "connections": st.connections, "accepted": st.accepted, "frames": st.frames,
            "dropped_partial": st.dropped_partial, "oversized": st.oversized,
            "endpoint": "%s:%s" % self.endpoint if self.endpoint else "",
            "last_in": dict(zip(("control_id", "msg_type", "status", "ack", "at"), last)) if last else None,
            "last_out": {"control_id": sent[0], "msg_type": sent[1], "at": sent[2],
                         "ack": "AA" if sent[3] == "sent" else sent[3]} if sent else None,
            "inbound": [dict(zip(("control_id", "msg_type", "visit", "status", "reason", "at"), r),
                             flagged=r[3] == "held" and str(r[5]) < cutoff) for r in queue],
            "outbound": [dict(zip(("control_id", "msg_type", "visit", "status", "attempts", "error", "at"), r))
                         for r in out],
        }


def from_options(backend, listen: str, mapping: str | None = None, endpoint: str | None = None,
                 tz: str = "Asia/Shanghai") -> HisInterface:
    """The interface ``onestop server --his-listen HOST:PORT [--his-mapping TOML] [--his-endpoint HOST:PORT]``
    runs, started, with its outbound pump."""
    def hostport(text: str) -> tuple[str, int]:
        host, _, port = text.rpartition(":")
        return host or "127.0.0.1", int(port)
    host, port = hostport(listen)
    iface = HisInterface(backend, hooks().load_mapping(mapping, tz=tz), host, port,
                         hostport(endpoint) if endpoint else None)
    return iface.start().run_pump()


# -- the IT page's part: a context function and its words (the template is _interfaces.html) ----------
LABELS = {
    "zh-Hans": {"title": "接口（HIS）", "state": "连接", "listening": "监听中", "peers": "已连接 {n} 个", "off": "未启用",
                "last_in": "最近收到", "last_out": "最近发出", "queue": "暂存或出错的消息", "control_id": "消息号",
                "type": "类型", "visit": "就诊号", "status": "状态", "reason": "原因", "at": "时间",
                "resend": "重发", "held": "等待前序消息", "flagged": "等待超时", "error": "出错", "queued": "待发送",
                "direction_in": "收", "direction_out": "发", "dropped": "中途断开 {n} 次", "none": "无"},
    "zh-Hant": {"title": "介面（HIS）", "state": "連線", "listening": "監聽中", "peers": "已連線 {n} 個", "off": "未啟用",
                "last_in": "最近收到", "last_out": "最近發出", "queue": "暫存或出錯的訊息", "control_id": "訊息號",
                "type": "類型", "visit": "就診號", "status": "狀態", "reason": "原因", "at": "時間",
                "resend": "重發", "held": "等待前序訊息", "flagged": "等待逾時", "error": "出錯", "queued": "待發送",
                "direction_in": "收", "direction_out": "發", "dropped": "中途斷開 {n} 次", "none": "無"},
    "en": {"title": "Interfaces (HIS)", "state": "Connection", "listening": "listening", "peers": "{n} connected",
           "off": "not configured", "last_in": "Last received", "last_out": "Last sent",
           "queue": "Messages on hold or in error", "control_id": "Control ID", "type": "Type", "visit": "Visit",
           "status": "Status", "reason": "Reason", "at": "Time", "resend": "Resend",
           "held": "waiting for its predecessor",
           "flagged": "waiting too long", "error": "error", "queued": "queued", "direction_in": "in",
           "direction_out": "out", "dropped": "{n} dropped mid-message", "none": "none"},
}


def page_context(settings) -> dict:
    """``{"interfaces": [status, ...]}`` for the IT page (empty when the server runs no HIS interface)."""
    iface = getattr(settings, "his", None)
    if iface is None:
        return {"interfaces": []}
    try:
        return {"interfaces": [iface.status()]}
    except Exception:                       # the page still shows when the interface's tables are unreadable
        log.exception("HIS status failed")
        return {"interfaces": []}


def labels(lang: str) -> dict:
    """The section's words, with the hooks' own ``LABELS`` over them (the pack's name for a visit, say)."""
    lang = lang if lang in LABELS else "zh-Hans"
    try:
        own = getattr(hooks(), "LABELS", {})
    except LookupError:
        own = {}
    return {**LABELS[lang], **own.get(lang, {})}
