"""The hospital service: what its aggregates share, and one object for the UI.

``HospitalService(store, policy, gateway)`` holds the store, the policy, the gateway, the clock and
the helpers every aggregate uses (checked transitions, receipts, ledger entries, the admission
lookup). The rules live in the aggregates, each a module of its own:

    svc.wards       pos.hospital.beds        wards, free beds, bed assignment
    svc.admissions  pos.hospital.admissions  notices, identification, registration, wristband
    svc.deposits    pos.hospital.deposits    deposits, the green channel, reminders
    svc.charges     pos.hospital.charges     fee catalogue, charges, the daily list
    svc.discharges  pos.hospital.discharges  discharge and settlement (pos.hospital.discharge)
    svc.green       pos.hospital.green       unidentified patients, merges, chases, the discharge block
    svc.bedside     pos.hospital.bedside     the bedside discharge's flag and session (H-D7)

An aggregate's method is also the service's (``svc.add_charge``). Every command runs in one store
transaction, checks its transition against the workflow tables, and emits its outbox command in
that transaction. Commands that need the server (``events.NEEDS_SERVER``) are refused while
``online()`` is false. Reads for the flows and the counter are in :mod:`pos.hospital.views`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import zoneinfo
from typing import Callable

from pos.ids import utcnow_iso

from ..fsm import Machine
from ..rows import row
from .admissions import Admissions
from .beds import Wards
from .charges import Charges
from .deposits import GREEN_KINDS, Deposits  # noqa: F401 - GREEN_KINDS re-exported
from .discharges import DISCHARGE_FUNCTIONS, REVERSAL_FUNCTIONS, Discharges
from .bedside import Bedside
from .green import Green
from .errors import HospitalNotFound, HospitalTransitionError, IdentityRefused, NeedsServer
from .events import NEEDS_SERVER
from .gateway import InsuranceGateway
from .policy import Policy, load_policy
from .records import Payment

__all__ = ["HospitalService", "TABLES"]

log = logging.getLogger(__name__)

#: workflow entity -> table holding its ``state``
TABLES = {"notice": "hosp_notices", "admission": "hosp_admissions", "green_item": "hosp_green_items",
          "discharge": "hosp_discharges", "receipt": "hosp_receipts", "settlement": "hosp_settlements"}



class HospitalService:
    def __init__(self, store, policy: Policy | None = None, gateway: InsuranceGateway | None = None, *,
                 level: str = "tertiary", low_balance_fen: int = 50000,
                 online: Callable[[], bool] | None = None, tz: str = "Asia/Shanghai",
                 clock: Callable[[], float] = time.time):
        self.store = store
        self.policy = policy or load_policy()
        self.gateway = gateway
        self.level = level
        self.low_balance_fen = low_balance_fen
        self.online = online or (lambda: True)
        self.tz = tz
        self.clock = clock                          # seconds since the epoch (tests pin it)
        self.policy.rule("self_pay", level)          # fail early on a bad level
        self.wards, self.admissions, self.deposits = Wards(self), Admissions(self), Deposits(self)
        self.charges, self.discharges = Charges(self), Discharges(self)
        self.green = Green(self)
        self.bedside = Bedside(self)

    @classmethod
    def from_config(cls, store, config, gateway=None, online=None) -> "HospitalService":
        path = config.get("hospital", "insurance_policy") or None
        return cls(store, load_policy(path), gateway, level=config.get("hospital", "hospital_level"),
                   low_balance_fen=config.get("hospital", "low_balance_fen"), online=online,
                   tz=config.get("site", "timezone"))

    # -- helpers ---------------------------------------------------------------------------
    @property
    def conn(self):
        return self.store.conn

    def now(self) -> str:
        return utcnow_iso(self.clock())

    def today(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), zoneinfo.ZoneInfo(self.tz)).date().isoformat()

    def _need_server(self, kind: str) -> None:
        assert kind in NEEDS_SERVER, kind
        if not self.online():
            raise NeedsServer(f"{kind} needs the server and the device is offline")

    def _identity_not_refused(self, tx, a: dict) -> None:
        """H-A4: a refused person-matches-ID check stops the stay's later steps until confirmed."""
        r = tx.execute("SELECT outcome, reason FROM hosp_identity_checks WHERE admission_id = ? ORDER BY id DESC "
                       "LIMIT 1", (a["id"],)).fetchone()
        if r is not None and r[0] == "refused":
            raise IdentityRefused(f"{a['inpatient_no']}: identity check refused ({r[1]})")

    def _move(self, tx, machine: Machine, entity: str, rec: dict, event: str, code: str | None = None) -> str:
        """Apply one checked transition to ``rec`` (a row with id and state) and log it."""
        new = machine.next(rec["state"], event, code)
        cur = tx.execute(f"UPDATE {TABLES[entity]} SET state = ? WHERE id = ? AND state = ?",
                         (new, rec["id"], rec["state"]))
        if cur.rowcount != 1:
            raise HospitalTransitionError(f"{entity} {rec['id']} changed under us (expected {rec['state']})")
        tx.insert("hosp_transitions", {"entity": entity, "entity_id": rec["id"], "from_state": rec["state"],
                                       "to_state": new, "event": event, "at": self.now()})
        rec["state"] = new
        return new

    def admission(self, key: str, conn=None) -> dict:
        """An admission by inpatient number (or admission uid)."""
        r = row(conn or self.conn, "SELECT * FROM hosp_admissions WHERE inpatient_no = ? OR uid = ?", (key, key))
        if r is None:
            raise HospitalNotFound(f"no admission {key!r}")
        return r

    def _discharge_row(self, conn, admission_id: int) -> dict | None:
        return row(conn, "SELECT * FROM hosp_discharges WHERE admission_id = ?", (admission_id,))

    def _patient(self, conn, patient_id: int) -> dict:
        return row(conn, "SELECT * FROM hosp_patients WHERE id = ?", (patient_id,))

    def _issue_receipt(self, tx, admission_id: int, ledger_id: int, kind: str, amount: int) -> str:
        no = tx.next_number("receipt")
        tx.insert("hosp_receipts", {"receipt_no": no, "admission_id": admission_id, "ledger_id": ledger_id,
                                    "kind": kind, "amount_fen": amount, "state": "issued", "issued_at": self.now()})
        return no

    def _ledger(self, tx, admission_id: int, kind: str, amount: int, pay: Payment | None = None,
                settlement_id: int | None = None) -> tuple[int, str]:
        entry_no = tx.next_number("ledger")
        lid = tx.insert("hosp_ledger", {
            "admission_id": admission_id, "entry_no": entry_no, "kind": kind, "amount_fen": amount,
            "method": pay.method if pay else "", "reference": pay.reference if pay else "",
            "masked_pan": pay.masked_pan if pay else "", "settlement_id": settlement_id, "created_at": self.now()})
        return lid, entry_no

    # -- the aggregates ----------------------------------------------------------------------
    def __getattr__(self, name: str):
        """An aggregate's method, as a method of the service (``svc.add_charge`` is
        ``svc.charges.add_charge``): the UI and the discharge functions see one object."""
        aggregate = self.__dict__.get(_ROUTES.get(name, ""))
        if aggregate is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        method = self.__dict__[name] = getattr(aggregate, name)     # found directly from now on
        return method


#: method name -> the aggregate (attribute of HospitalService) that owns it
_ROUTES = {name: attr for attr, cls in (("wards", Wards), ("admissions", Admissions), ("deposits", Deposits),
                                        ("charges", Charges), ("green", Green),
                                        ("bedside", Bedside))
           for name, value in vars(cls).items() if callable(value) and name != "__init__"}
_ROUTES.update({name: "discharges" for name in DISCHARGE_FUNCTIONS + REVERSAL_FUNCTIONS})
