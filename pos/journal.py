"""An intent -> call -> recover journal for any call to the outside world that may take money or
issue a document: a card payment, an insurance settlement, later a fapiao.

The pattern (docs/payments.md has it for card payments):

1. **intent**: a row in the journal's table, committed before the call; the table's partial
   unique index says which calls may not run side by side (one per card terminal);
2. **sent**: committed, and flushed to the disk, *before the first byte* of the call, with what
   recovery needs to tell whether the call happened (the terminal's last trace number, the
   platform's last settlement number);
3. the call; progress on the way (the terminal waits for the card) is recorded but not flushed;
4. the outcome, and what follows from it (the deposit booked), flushed as one;
5. at start and before the next call, every row still in an active state is **recovered**: the
   other side is asked what happened, and the row ends as it says, or goes to a person.

:meth:`IntentJournal.attempt` runs steps 3-5 for a call that has no progress of its own (an
insurance settlement, a fapiao request): the call, then ``record`` of its result; a call that
may have reached the other side (``in_doubt`` errors) is handed to ``resolve`` at once, a refused
one to ``fail``. :meth:`IntentJournal.recover` is step 5 over every unfinished row. A pack keeps
its own table, state names, event log and outbox payloads (``JournalSpec.log_event``,
``JournalSpec.payload``, ``also``); the journal keeps the order of the commits.

Every state change writes the row, a row in the events table and an outbox command
``<prefix>.<state>`` in one transaction, the command after those of the domain change made with
it (``also``: a booked deposit comes before the payment's ``posted``). Which of those commits are flushed to the disk is the
spec's ``lazy`` set: a state in it is committed with ``durable=False`` (see
:meth:`pos.store.Store.transaction`). That is safe because a power cut loses only a *suffix* of
the commits: a lost lazy state leaves the row in the state before it, which recovery already
treats as "the call may have happened" (waiting for the card is recovered like sent) or as "it
did not" (a lost intent was never sent), and a lost approval is found again on the terminal.
What must be flushed before the call is flushed by the commit of ``sent``; a normal card payment
thus makes two durable commits (sent; posted, which also flushes the approval before it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from .errors import InvalidTransition, NotFound
from .ids import utcnow_iso
from .store import Store, Tx

__all__ = ["JournalSpec", "IntentJournal"]

log = logging.getLogger(__name__)

R = TypeVar("R")
#: ``also(tx, row)``: the domain change committed with a state change; a dict it returns is added
#: to the outbox payload
Also = Callable[[Tx, dict], "dict | None"]


@dataclass(frozen=True)
class JournalSpec:
    """What one journal is: its tables, its state machine and which commits need not be flushed."""

    table: str                                   # one row per intent
    key: str                                     # its primary key column
    events: str                                  # (key, at, from_state, to_state, detail) rows
    prefix: str                                  # outbox command kinds: <prefix>.<state>
    transitions: dict[str, tuple[str, ...]]
    active: tuple[str, ...]                      # unfinished: recovered before the next call
    lazy: frozenset[str] = frozenset()           # states committed without a flush
    emit_fields: tuple[str, ...] = ()            # row columns carried in the outbox payload
    clean: Callable[[dict], dict] = field(default=lambda fields: fields)   # filters written fields
    #: writes one state change to the pack's own log instead of the ``events`` table:
    #: ``log_event(tx, row, from_state, to_state, at, detail)``
    log_event: Callable[[Tx, dict, str | None, str, str, str | None], None] | None = None
    #: the outbox payload of ``<prefix>.<state>`` from the row (default: ``emit_fields`` and the
    #: state); what ``also`` returns (a dict) is added to it
    payload: Callable[[dict, str], dict] | None = None
    updated_at: str | None = "updated_at"        # the column stamped on every change (None: none)
    #: the states whose change is an outbox command (None: every state); a pack whose other
    #: devices need only the end (a fapiao issued) names just that
    outbox: frozenset[str] | None = None
    error: type[Exception] = InvalidTransition   # raised for a transition the machine refuses

    @property
    def active_sql(self) -> str:
        """``state IN ('a', 'b')`` spelt out: SQLite uses a partial index only for a query that
        repeats its WHERE term, and a list of bound parameters does not."""
        return "state IN ({})".format(", ".join(f"'{s}'" for s in self.active))

    @property
    def final(self) -> tuple[str, ...]:
        return tuple(s for s, nxt in self.transitions.items() if not nxt)


class IntentJournal:
    def __init__(self, store: Store, spec: JournalSpec, now: Callable[[], str] = utcnow_iso):
        self.store = store
        self.spec = spec
        self.now = now

    # -- reads ---------------------------------------------------------------------------
    def get(self, key: str) -> dict:
        sp = self.spec
        cur = self.store.conn.execute(f"SELECT * FROM {sp.table} WHERE {sp.key} = ?", (key,))
        row = cur.fetchone()
        if row is None:
            raise NotFound(f"no {sp.prefix} {key}")
        return dict(zip([c[0] for c in cur.description], row))

    def rows(self, where: str = "1", params=()) -> list[dict]:
        # unary + keeps the sort from choosing a created_at index over the WHERE clause's one
        cur = self.store.conn.execute(
            f"SELECT * FROM {self.spec.table} WHERE {where} ORDER BY +created_at, +{self.spec.key}", params)
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]

    def unfinished(self, where: str = "", params=()) -> list[dict]:
        """Rows in an active state (optionally narrowed by ``where``), oldest first."""
        return self.rows(self.spec.active_sql + (f" AND {where}" if where else ""), params)

    def events(self, key: str) -> list[tuple[str | None, str]]:
        """(from_state, to_state) of one row, in order (the ``events`` table)."""
        sp = self.spec
        return [tuple(r) for r in self.store.conn.execute(
            f"SELECT from_state, to_state FROM {sp.events} WHERE {sp.key} = ? ORDER BY id", (key,))]

    # -- writes --------------------------------------------------------------------------
    def emit(self, tx: Tx, row: dict, state: str, extra: dict | None = None) -> None:
        if self.spec.outbox is not None and state not in self.spec.outbox:
            return
        if self.spec.payload is not None:
            payload = self.spec.payload(row, state)
        else:
            payload = {k: row.get(k) for k in self.spec.emit_fields}
            payload["state"] = state
        tx.emit(f"{self.spec.prefix}.{state}", {**payload, **(extra or {})})

    def durable(self, state: str) -> bool:
        return state not in self.spec.lazy

    def _log(self, tx: Tx, row: dict, frm: str | None, to: str, at: str, detail: str | None) -> None:
        sp = self.spec
        if sp.log_event is not None:
            sp.log_event(tx, row, frm, to, at, detail)
        else:
            tx.insert(sp.events, {sp.key: row[sp.key], "at": at, "from_state": frm, "to_state": to,
                                  "detail": detail})

    def begin(self, row: dict | Callable[[Tx], dict], also: Also | None = None) -> dict:
        """Record a new intent: ``row`` holds its key, its first state and created_at, or is a
        function that builds it inside the transaction (after the checks it makes there)."""
        sp = self.spec
        # a row built in the transaction is flushed: its first state is not known before
        with self.store.transaction(durable=callable(row) or self.durable(row["state"])) as tx:
            if callable(row):
                row = row(tx)
            state = row["state"]
            if state not in sp.transitions:
                raise sp.error(f"{sp.prefix}: unknown first state {state!r}")
            rowid = tx.insert(sp.table, row)
            row.setdefault(sp.key, rowid)              # a table keyed by its INTEGER PRIMARY KEY
            self._log(tx, row, None, state, row["created_at"], None)
            self.emit(tx, row, state, also(tx, row) if also is not None else None)
        return row

    def transition(self, key, to: str, fields: dict | None = None, *,
                   also: Also | None = None, detail: str | None = None) -> dict:
        """Move one row to ``to`` (refused unless the state machine allows it), with its logged
        change and outbox command, and ``also(tx, row)`` in the same transaction."""
        sp = self.spec
        fields = sp.clean(fields or {})
        with self.store.transaction(durable=self.durable(to)) as tx:
            row = self.get(key)
            frm = row["state"]
            if to not in sp.transitions[frm]:
                raise sp.error(f"{sp.prefix} {key}: {frm} -> {to} is not allowed")
            now = self.now()
            row.update(fields)
            row["state"] = to
            stamp = {sp.updated_at: now} if sp.updated_at else {}
            row.update(stamp)
            sets = ", ".join(f'"{k}" = ?' for k in (*fields, "state", *stamp))
            cur = tx.execute(f"UPDATE {sp.table} SET {sets} WHERE {sp.key} = ? AND state = ?",
                             (*fields.values(), to, *stamp.values(), key, frm))
            if cur.rowcount != 1:
                raise sp.error(f"{sp.prefix} {key} changed under us (expected {frm})")
            self._log(tx, row, frm, to, now, detail)
            self.emit(tx, row, to, also(tx, row) if also is not None else None)
        log.info("%s %s %s: %s -> %s%s", sp.prefix, key, row.get("kind", ""), frm, to,
                 f" ({detail})" if detail else "")
        return row

    # -- the call and its recovery ------------------------------------------------------
    def attempt(self, key, call: Callable[[dict], R], *, record: Callable[[dict, R], object],
                resolve: Callable[[dict], str], fail: Callable[[dict, BaseException], object],
                in_doubt: tuple[type[BaseException], ...] = (),
                refused: tuple[type[BaseException], ...] = ()) -> dict:
        """Steps 3-5 for the intent ``key`` (already committed by :meth:`begin`): ``call(row)``,
        then ``record(row, result)``, which makes the row's next state with what follows from it.

        An ``in_doubt`` error (a timeout, a lost reply: the other side may have acted) is handed to
        ``resolve(row)`` at once, which asks the other side and ends the row; unless it answers
        ``'completed'`` the error is raised again. A ``refused`` error (the other side said no and
        did nothing) is ``fail(row, error)``, then raised. Anything else (a crash) leaves the row
        active for :meth:`recover`. Returns the row as it is at the end."""
        row = self.get(key)
        try:
            result = call(row)
        except in_doubt as exc:
            log.warning("%s %s in doubt after the call: %s", self.spec.prefix, key, exc)
            if resolve(self.get(key)) != "completed":
                raise
            return self.get(key)
        except refused as exc:
            fail(row, exc)
            raise
        record(row, result)
        return self.get(key)

    def recover(self, resolve: Callable[[dict], str], *, where: str = "", params=(),
                unavailable: tuple[type[BaseException], ...] = ()) -> dict:
        """Step 5: ``resolve(row)`` for every unfinished row, oldest first. Returns key -> what
        ``resolve`` answered, or ``'in_doubt'`` when the other side could not be asked
        (``unavailable``; the row stays active for the next recovery)."""
        out = {}
        for row in self.unfinished(where, params):
            try:
                out[row[self.spec.key]] = resolve(row)
            except unavailable as exc:
                log.warning("%s %s still in doubt: %s", self.spec.prefix, row[self.spec.key], exc)
                out[row[self.spec.key]] = "in_doubt"
        return out
