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

Every state change writes the row, a row in the events table and an outbox command
``<prefix>.<state>`` in one transaction. Which of those commits are flushed to the disk is the
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
from typing import Callable

from .errors import InvalidTransition, NotFound
from .ids import utcnow_iso
from .store import Store, Tx

__all__ = ["JournalSpec", "IntentJournal"]

log = logging.getLogger(__name__)


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

    @property
    def active_sql(self) -> str:
        """``state IN ('a', 'b')`` spelt out: SQLite uses a partial index only for a query that
        repeats its WHERE term, and a list of bound parameters does not."""
        return "state IN ({})".format(", ".join(f"'{s}'" for s in self.active))

    @property
    def final(self) -> tuple[str, ...]:
        return tuple(s for s, nxt in self.transitions.items() if not nxt)


class IntentJournal:
    def __init__(self, store: Store, spec: JournalSpec):
        self.store = store
        self.spec = spec

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
        sp = self.spec
        return [tuple(r) for r in self.store.conn.execute(
            f"SELECT from_state, to_state FROM {sp.events} WHERE {sp.key} = ? ORDER BY id", (key,))]

    # -- writes --------------------------------------------------------------------------
    def emit(self, tx: Tx, row: dict, state: str) -> None:
        payload = {k: row.get(k) for k in self.spec.emit_fields}
        payload["state"] = state
        tx.emit(f"{self.spec.prefix}.{state}", payload)

    def durable(self, state: str) -> bool:
        return state not in self.spec.lazy

    def begin(self, row: dict, also: Callable[[Tx, dict], None] | None = None) -> dict:
        """Record a new intent (``row`` holds its key, its first state and created_at)."""
        sp, state = self.spec, row["state"]
        with self.store.transaction(durable=self.durable(state)) as tx:
            tx.insert(sp.table, row)
            tx.insert(sp.events, {sp.key: row[sp.key], "at": row["created_at"], "from_state": None,
                                  "to_state": state, "detail": None})
            self.emit(tx, row, state)
            if also is not None:
                also(tx, row)
        return row

    def transition(self, key: str, to: str, fields: dict | None = None, *,
                   also: Callable[[Tx, dict], None] | None = None, detail: str | None = None) -> dict:
        """Move one row to ``to`` (refused unless the state machine allows it), with its event and
        outbox command, and ``also(tx, row)`` in the same transaction."""
        sp = self.spec
        fields = sp.clean(fields or {})
        with self.store.transaction(durable=self.durable(to)) as tx:
            row = self.get(key)
            frm = row["state"]
            if to not in sp.transitions[frm]:
                raise InvalidTransition(f"{sp.prefix} {key}: {frm} -> {to} is not allowed")
            now = utcnow_iso()
            row.update(fields)
            row["state"], row["updated_at"] = to, now
            sets = ", ".join(f'"{k}" = ?' for k in (*fields, "state", "updated_at"))
            tx.execute(f"UPDATE {sp.table} SET {sets} WHERE {sp.key} = ?", (*fields.values(), to, now, key))
            tx.insert(sp.events, {sp.key: key, "at": now, "from_state": frm, "to_state": to, "detail": detail})
            self.emit(tx, row, to)
            if also is not None:
                also(tx, row)
        log.info("%s %s %s: %s -> %s%s", sp.prefix, key, row.get("kind", ""), frm, to,
                 f" ({detail})" if detail else "")
        return row
