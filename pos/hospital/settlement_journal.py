"""The insurance settlement on the platform's generic journal (:mod:`pos.journal`).

A settlement is a row of ``hosp_settlements`` keyed by its settlement number; its states are the
:data:`pos.hospital.workflows.SETTLEMENT` machine's, every change is logged in ``hosp_transitions``
(with the machine's event name, as every other hospital entity) and emitted as
``hospital.settlement.<state>``. Every commit is flushed: the intent (with the message ID the
platform is asked about on recovery) before the platform is called, the record with the ledger's
settle entry and the receipts taken back as one.
"""

from __future__ import annotations

from pos.journal import IntentJournal, JournalSpec

from .errors import HospitalTransitionError
from .workflows import SETTLEMENT

__all__ = ["SPEC", "journal"]

#: state -> the event of SETTLEMENT that leads from it to each next state
_EVENTS = {(src, dst): ev for (src, ev), dst in SETTLEMENT.table.items()}


def _log(tx, row: dict, frm: str | None, to: str, at: str, detail: str | None) -> None:
    sid = row.get("id") or tx.execute("SELECT id FROM hosp_settlements WHERE settlement_no = ?",
                                      (row["settlement_no"],)).fetchone()[0]
    tx.insert("hosp_transitions", {"entity": "settlement", "entity_id": sid, "from_state": frm, "to_state": to,
                                   "event": _EVENTS.get((frm, to), "create"), "at": at})


SPEC = JournalSpec(
    table="hosp_settlements", key="settlement_no", events="hosp_transitions", prefix="hospital.settlement",
    transitions={s: tuple(sorted({dst for (src, _), dst in SETTLEMENT.table.items() if src == s}))
                 for s in SETTLEMENT.states},
    active=("intent", "cancelling"),                 # left in doubt: the platform is asked on recovery
    log_event=_log,
    payload=lambda row, state: {"settlement_no": row["settlement_no"], "msg_id": row["msg_id"]},
    updated_at=None,
    error=HospitalTransitionError,
)


def journal(svc) -> IntentJournal:
    """The settlement journal of one hospital service (its clock stamps the changes)."""
    return IntentJournal(svc.store, SPEC, now=svc.now)
