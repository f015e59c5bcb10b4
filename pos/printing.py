"""The print journal: no print is ever lost, and none prints twice without saying so.

Every job is written to ``print_jobs`` (state ``queued``) before a byte goes to the printer, then
moves ``queued -> printing -> printed | failed`` in its own transactions, each with an outbox
event (``print.queued``, ``print.printed``, ``print.failed``).

* A failed job (paper out, cover open, offline, unreachable) stays in the journal; :meth:`retry`
  prints it again once the printer is back. The person at the screen gets a plain message
  (``user_message``: "Please collect your receipt at window 3.") and the technician a log line.
* :meth:`reprint` never re-sends a job silently: it makes a new job that points at the original
  (``reprint_of``) and whose layout carries the 副本 COPY banner.
* A job found in ``printing`` after a crash may or may not be on paper: :meth:`recover` marks it
  ``failed`` and ``uncertain``, and :meth:`retry` refuses it - only a marked reprint can follow.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

from drivers.errors import DeviceBusy, DeviceError, PrinterError
from drivers.registry import open_device

from .documents.layout import mark_copy
from .errors import InvalidTransition, NotFound
from .ids import utcnow_iso, uuid7

__all__ = ["PrintJournal", "PrintOutcome", "USER_MESSAGES", "JOB_STATES", "printer_lock", "printer_turn"]

log = logging.getLogger(__name__)

JOB_STATES = ("queued", "printing", "printed", "failed")

#: message ids shown to the person (translated in the catalogues); {window} is site.counter_window
USER_MESSAGES = {
    "printed_receipt_printer": "Please take your receipt.",
    "printed_label_printer": "Please take your wristband.",
    "failed_receipt_printer": "Please collect your receipt at window {window}.",
    "failed_label_printer": "Please collect your wristband at window {window}.",
}


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def printer_lock(url: str) -> threading.Lock:
    """The lock for one printer address: jobs (and drawer kicks) in this process take turns on it,
    so two jobs never open one printer at once (a double tap on Reprint interleaved their bytes
    on a serial printer and each read the other's status reply)."""
    with _locks_guard:
        return _locks.setdefault(url, threading.Lock())


@contextlib.contextmanager
def printer_turn(url: str, timeout: float | None = None):
    """Hold the printer at ``url`` for one use, from opening it to closing it. With ``timeout``,
    give up after that many seconds with :class:`DeviceBusy` (the printer is busy with a job)."""
    lock = printer_lock(url)
    if not lock.acquire(timeout=-1 if timeout is None else timeout):
        raise DeviceBusy(f"{url}: the printer is busy with a print job")
    try:
        yield
    finally:
        lock.release()


@dataclass(frozen=True)
class PrintOutcome:
    job_id: str
    state: str
    user_message: str          # English msgid, already formatted with the window number
    technician: str = ""       # one line for the log / diagnostics screen
    nbytes: int = 0

    @property
    def ok(self) -> bool:
        return self.state == "printed"


class PrintJournal:
    def __init__(self, store, *, window: str = "1", devices: dict[str, str] | None = None,
                 opener: Callable[[str, str], Any] = open_device):
        """``devices`` maps a role to its printer URL (from the config); ``opener`` opens a URL."""
        self.store = store
        self.window = window
        self.devices = dict(devices or {})
        self.opener = opener

    @classmethod
    def from_config(cls, store, config) -> "PrintJournal":
        return cls(store, window=str(config.get("site", "counter_window")), devices=config.devices)

    # -- reading ----------------------------------------------------------------------
    def get(self, job_id: str) -> dict:
        row = self.store.conn.execute("SELECT * FROM print_jobs WHERE job_id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFound(f"no print job {job_id}")
        cols = [d[0] for d in self.store.conn.execute("SELECT * FROM print_jobs LIMIT 0").description]
        job = dict(zip(cols, row))
        job["layout"] = json.loads(job["layout"])
        return job

    def find(self, prefix: str) -> dict:
        """A job by its ID or a unique prefix of it (what a technician types)."""
        rows = self.store.conn.execute("SELECT job_id FROM print_jobs WHERE job_id LIKE ? LIMIT 2",
                                       (prefix + "%",)).fetchall()
        if len(rows) != 1:
            raise NotFound(f"no print job {prefix}" if not rows else f"{prefix} matches several jobs; give more of it")
        return self.get(rows[0][0])

    def journal(self, limit: int = 50, state: str | None = None) -> list[dict]:
        sql = ("SELECT job_id, created_at, kind, ref, role, printer_url, state, attempts, reprint_of, copy_no, "
               "uncertain, last_error, printed_at FROM print_jobs")
        params: list = []
        if state:
            sql += " WHERE state = ?"
            params.append(state)
        sql += " ORDER BY created_at DESC, job_id DESC LIMIT ?"
        params.append(limit)
        cur = self.store.conn.execute(sql, params)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def pending(self) -> list[dict]:
        """Jobs that have not printed and can be retried (oldest first)."""
        return list(reversed([j for j in self.journal(1000) if j["state"] in ("queued", "failed")
                              and not j["uncertain"]]))

    def copies_printed(self, job_id: str) -> int:
        return self.store.conn.execute(
            "SELECT count(*) FROM print_jobs WHERE (job_id = ? OR reprint_of = ?) AND state = 'printed'",
            (job_id, job_id)).fetchone()[0]

    # -- writing ----------------------------------------------------------------------
    def submit(self, kind: str, layout, role: str = "receipt_printer", printer_url: str | None = None,
               ref: str = "", *, reprint_of: str | None = None, copy_no: int = 0) -> str:
        """Record a job (state queued) and return its ID. Nothing is sent yet."""
        with self.store.transaction() as tx:
            return self._record(tx, kind, layout, role, printer_url, ref, reprint_of, copy_no)

    def _record(self, tx, kind, layout, role, printer_url, ref, reprint_of, copy_no) -> str:
        layout = layout.to_dict() if hasattr(layout, "to_dict") else layout
        url = printer_url if printer_url is not None else self.devices.get(role, "")
        job_id, now = str(uuid7()), utcnow_iso()
        tx.insert("print_jobs", {"job_id": job_id, "created_at": now, "updated_at": now, "kind": kind,
                                 "ref": ref, "role": role, "printer_url": url,
                                 "layout": json.dumps(layout, ensure_ascii=False), "state": "queued",
                                 "reprint_of": reprint_of, "copy_no": copy_no})
        tx.emit("print.queued", {"job_id": job_id, "kind": kind, "ref": ref, "role": role,
                                 "reprint_of": reprint_of, "copy_no": copy_no})
        return job_id

    def print(self, kind: str, layout, role: str = "receipt_printer", printer_url: str | None = None,
              ref: str = "", printer=None) -> PrintOutcome:
        """Submit and send at once (the usual path)."""
        return self.run(self.submit(kind, layout, role, printer_url, ref), printer)

    def run(self, job_id: str, printer=None) -> PrintOutcome:
        """Send a queued (or retryable failed) job. ``printer`` is an open device, or None to
        open the job's URL. Never raises for a printer fault: the outcome says what happened."""
        job = self._claim(job_id)
        if not job["printer_url"] and printer is None:
            return self._fail(job, "no printer configured for " + job["role"])
        own = printer is None
        with printer_turn(job["printer_url"]) if own else contextlib.nullcontext():  # one job at a time
            try:
                if own:
                    printer = self.opener(job["printer_url"], job["role"])
                result = printer.print_layout(job["layout"])
            except DeviceError as exc:
                return self._fail(job, f"{type(exc).__name__}: {exc}", partial=isinstance(exc, PrinterError)
                                  and "during the job" in str(exc))
            except Exception as exc:  # noqa: BLE001 - a driver bug: bytes may have gone out, so never resend silently
                log.exception("print job %s: unexpected error from %s", job_id, job["printer_url"])
                return self._fail(job, f"internal error: {type(exc).__name__}: {exc}", uncertain=True)
            finally:
                if own and printer is not None:
                    try:
                        printer.close()
                    except Exception:  # noqa: BLE001 - closing a broken link must not hide the outcome
                        log.debug("closing %s failed", job["printer_url"], exc_info=True)
        now = utcnow_iso()
        with self.store.transaction() as tx:
            tx.execute("UPDATE print_jobs SET state = 'printed', printed_at = ?, updated_at = ?, nbytes = ?, "
                       "last_error = NULL WHERE job_id = ?", (now, now, result.get("bytes"), job_id))
            tx.emit("print.printed", {"job_id": job_id, "kind": job["kind"], "ref": job["ref"],
                                      "role": job["role"], "reprint_of": job["reprint_of"],
                                      "copy_no": job["copy_no"], "printed_at": now})
        tech = f"print job {job_id} ({job['kind']} {job['ref']}) printed on {job['printer_url'] or 'device'}"
        if result.get("near_end"):
            tech += "; paper near end"
        log.info(tech)
        return PrintOutcome(job_id, "printed", USER_MESSAGES.get(f"printed_{job['role']}", "Please take your receipt."),
                            tech, int(result.get("bytes") or 0))

    def retry(self, job_id: str, printer=None) -> PrintOutcome:
        job = self.get(job_id)
        if job["state"] == "printed":
            raise InvalidTransition(f"print job {job_id} already printed; use reprint for a marked copy")
        if job["uncertain"]:
            raise InvalidTransition(f"print job {job_id} was interrupted and may have printed; "
                                    "check the printer, then use reprint for a marked copy")
        return self.run(job_id, printer)

    def reprint(self, job_id: str, printer=None, printer_url: str | None = None) -> PrintOutcome:
        """A marked copy (副本 COPY #n) of any job in the journal, as a new job."""
        job = self.get(job_id)
        original = job["reprint_of"] or job["job_id"]
        orig = self.get(original)
        with self.store.transaction() as tx:    # two reprints at once still get two numbers
            copy_no = tx.execute("SELECT coalesce(max(copy_no), 0) FROM print_jobs WHERE reprint_of = ?",
                                 (original,)).fetchone()[0] + 1
            new_id = self._record(tx, orig["kind"], mark_copy(orig["layout"], copy_no), orig["role"],
                                  printer_url if printer_url is not None else orig["printer_url"], orig["ref"],
                                  original, copy_no)
        log.info("print job %s: reprint #%d of %s requested", new_id, copy_no, original)
        return self.run(new_id, printer)

    def recover(self) -> list[str]:
        """At start-up: jobs caught in ``printing`` by a crash become failed + uncertain."""
        rows = [r[0] for r in self.store.conn.execute("SELECT job_id FROM print_jobs WHERE state = 'printing'")]
        for job_id in rows:
            with self.store.transaction() as tx:
                tx.execute("UPDATE print_jobs SET state = 'failed', uncertain = 1, updated_at = ?, "
                           "last_error = 'interrupted while sending; may have printed' WHERE job_id = ?",
                           (utcnow_iso(), job_id))
                tx.emit("print.failed", {"job_id": job_id, "reason": "interrupted", "uncertain": True})
            log.warning("print job %s was interrupted while sending; it may have printed - reprint as a copy", job_id)
        return rows

    # -- internals --------------------------------------------------------------------
    def _claim(self, job_id: str) -> dict:
        with self.store.transaction() as tx:
            cur = tx.execute("UPDATE print_jobs SET state = 'printing', attempts = attempts + 1, updated_at = ? "
                             "WHERE job_id = ? AND state IN ('queued', 'failed') AND uncertain = 0",
                             (utcnow_iso(), job_id))
            if cur.rowcount != 1:
                row = tx.execute("SELECT state, uncertain FROM print_jobs WHERE job_id = ?", (job_id,)).fetchone()
                if row is None:
                    raise NotFound(f"no print job {job_id}")
                raise InvalidTransition(f"print job {job_id} is {row[0]}{' (uncertain)' if row[1] else ''}; "
                                        "it cannot be sent again (use reprint)")
        return self.get(job_id)

    def _fail(self, job: dict, reason: str, partial: bool = False, uncertain: bool = False) -> PrintOutcome:
        with self.store.transaction() as tx:
            tx.execute("UPDATE print_jobs SET state = 'failed', last_error = ?, updated_at = ?, uncertain = ? "
                       "WHERE job_id = ?", (reason, utcnow_iso(), int(uncertain), job["job_id"]))
            tx.emit("print.failed", {"job_id": job["job_id"], "kind": job["kind"], "ref": job["ref"],
                                     "reason": reason, "partial": partial, "uncertain": uncertain})
        tech = (f"print job {job['job_id']} ({job['kind']} {job['ref']}) failed on "
                f"{job['printer_url'] or 'no printer'}: {reason}; kept in the journal for retry")
        log.warning(tech)
        msg = USER_MESSAGES.get(f"failed_{job['role']}", USER_MESSAGES["failed_receipt_printer"])
        return PrintOutcome(job["job_id"], "failed", msg.format(window=self.window), tech)
