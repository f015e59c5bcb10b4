"""Harness for settlement cases worked by hand: a Site with the virtual receipt printer and the
virtual ZVT terminal on real sockets, a city's policy tables, the simulated platform (in process,
or behind its HTTP interface on a socket), and a runner that takes one stay through the counter's
own path: register, deposit (cash / card / green channel), charges, pre-settle, settle, refund
(to the cards, then cash) or collect, the settlement list, discharge."""

from __future__ import annotations

import itertools
from contextlib import ExitStack
from dataclasses import dataclass, field

from drivers.sim.printer import VirtualPrinter
from drivers.sim.zvt_terminal import SimTerminal, TcpFrontEnd
from kiosk.launch import demo_config_path
from pos.config import load_config
from pos.counter.desk import CounterDesk
from pos.hospital.gateway import PersonInfo
from pos.hospital.gateway_sim import SimGateway
from pos.hospital.ledger import ledger_balance, ledger_sums
from pos.hospital.policy import CITY_POLICIES, load_policy
from pos.site import Site
from pos.staff import hash_pin
from pos.store import Store

FAST = "timeout=5&ack_timeout=1"
SUPERVISOR_PIN = "864200"
_ids = itertools.count(1)


@dataclass
class Case:
    """One stay. ``charges``: (code, class, price µ¥, qty ×10⁴, cap µ¥ or None, 乙 share ‰ or None).
    ``deposits``: ("cash"|"card", fen) in order; None = green channel with no deposit.
    ``expect``: setlinfo fields (fen) the hand calculation gives; ``refund``/``collect``: fen."""
    name: str
    city: str
    scheme: str
    charges: list
    expect: dict
    refund: int = 0
    collect: int = 0
    deposits: list | None = field(default_factory=list)
    person: dict = field(default_factory=dict)          # PersonInfo extras: retiree, acct_balance_fen, …
    in_stay_refund: int = 0                             # cash refunded during the stay
    reverse_first: bool = False                         # the first deposit is reversed (沖銷) and paid again
    level: str = "tertiary"


class World:
    def __init__(self, tmp_path, city: str, level: str = "tertiary", http: bool = False):
        self.stack = ExitStack()
        self.printer = self.stack.enter_context(VirtualPrinter(out_dir=tmp_path / "printed"))
        self.terminal = SimTerminal(tmp_path / "zvt")
        self.front = TcpFrontEnd(self.terminal).start()
        self.stack.callback(self.front.stop)
        self.policy = load_policy(city)
        self.sim = SimGateway(self.policy, level)
        self.config = load_config(demo_config_path())
        self.config.values["devices"] = {
            "receipt_printer": f"escpos+tcp://127.0.0.1:{self.printer.port}?profile=cn80",
            "payment_terminal": f"{self.front.url}?{FAST}"}
        self.config.values.setdefault("hospital", {}).update(insurance_policy=str(CITY_POLICIES[city]),
                                                             hospital_level=level)
        self.server = None
        gateway = self.sim
        if http:
            from sync.insurance import PlatformGateway, PlatformSimServer

            self.server = PlatformSimServer(self.sim).start()
            self.stack.callback(self.server.stop)
            gateway = PlatformGateway(self.server.url, fixmedins_code="H11010500001", region="110000")
            self.stack.callback(gateway.close)
        self.store = Store(tmp_path / "site.sqlite")
        self.stack.callback(self.store.close)
        self.site = Site(self.config, self.store, gateway=gateway)
        self.desk = CounterDesk(self.site, cashier="收費員01")
        h = self.site.hospital
        h.add_ward("W1", "內科病區", 3, "住院部", [f"{i:02d}" for i in range(1, 40)])
        self.site.cash.open_shift(self.desk.cashier, 2_000_000)        # the drawer's float
        self.config.values.setdefault("staff", {})["supervisor_pin"] = hash_pin(SUPERVISOR_PIN)

    def fee(self, code, cat, cap, prop) -> None:
        self.site.hospital.add_fee_item(code, f"項目{code}", cat, price_cap_uyuan=cap, selfpay_permille=prop)
        if self.server is not None:
            self.server.catalogue[code] = (cat, cap, prop)

    def close(self):
        self.stack.close()


def run(world: World, case: Case) -> dict:
    """The counter's path for one stay; returns what a test checks."""
    d, h = world.desk, world.site.hospital
    n = next(_ids)
    idno = f"11010519800101{n:03d}X"[-18:]
    if case.scheme != "self_pay":
        world.sim.add_member(PersonInfo(f"P{n:06d}", f"病人{n}", idno, case.scheme, **case.person))
    notice = d.record_notice(f"病人{n}", idno, "W1", 100000)
    no = d.register(notice["notice_no"], idno)["inpatient_no"]
    prints = []
    if case.deposits is None:
        d.open_green_channel(no)
    for i, (method, amount) in enumerate(case.deposits or []):
        r = d.deposit_cash(no, amount, amount) if method == "cash" else d.deposit_card(no, amount)
        assert r.ok, r
        if i == 0 and case.reverse_first:
            out = d.reverse_deposit(r.receipt_no, supervisor="護士長王", reason="金額錄錯", supervisor_pin=SUPERVISOR_PIN)
            assert out["status"] == "posted", out
            prints.append(out["print"])
            r2 = d.deposit_cash(no, amount, amount) if method == "cash" else d.deposit_card(no, amount)
            assert r2.ok
    h.assign_bed(no, h.free_beds("W1")[0])
    h.confirm_identity(no, "護士長")
    if case.in_stay_refund:                          # part of the deposit back before the charges use it
        d.refund_cash(no, case.in_stay_refund)
    for code, cat, price, qty, cap, prop in case.charges:
        world.fee(code, cat, cap, prop)
        h.add_charge(no, code, price_uyuan=price, qty_e4=qty)
    h.order_discharge(no, summary="好轉出院", ebill_no="EB-" + no, doctor="主治醫師")
    h.lock_charges(no, "護士長")
    h.schedule_discharge(no, h.today() + "T10:00")
    pre = d.pre_settle(no)
    st = d.settle(no)
    refunded = {"card": 0, "cash": 0}
    if st["refund_fen"]:
        cr = d.refund_card(no, st["refund_fen"])
        refunded["card"] = cr.refunded_fen
        if cr.left_fen:                              # the cards took what they could: the rest in cash
            d.refund_cash(no, cr.left_fen)
            refunded["cash"] = cr.left_fen
    if st["collect_fen"]:
        d.collect_cash(no, st["collect_fen"], st["collect_fen"])
    listing = world.site.documents().settlement_data(no, d.operator)
    out = d.finish_discharge(no)
    a = h.admission(no)
    return {"no": no, "pre": pre, "st": st, "refunded": refunded, "listing": listing, "print": out,
            "balance": ledger_balance(ledger_sums(h.conn, a["id"])), "prints": prints, "state": a["state"]}
