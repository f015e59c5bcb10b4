"""A real kiosk's outbox reaches the central server whole: every kind the kiosk, the counter and
the device journals emit has a server handler, and a full check-in, top-up and discharge (ID card
on the SAM_V module, ZVT payments and refunds, printed documents) syncs with nothing rejected."""

import datetime as dt
import re
from pathlib import Path

from pos.hospital.demo import seed
from pos.site import Site
from sync.client import SyncClient, enrol, set_state
from sync.server.commands import HANDLERS

from .sync_support import ThreadServer, admin_code
from .test_flow_checkin import read_card, world  # noqa: F401 - fixtures
from .test_flow_discharge import check_in, stay

ROOT = Path(__file__).resolve().parent.parent
_LITERAL = re.compile(r"""\.emit\(\s*["']([a-z_.]+)["']""")


def emitted_kinds() -> set[str]:
    kinds = set()
    for folder in ("pos", "kiosk", "sync", "drivers"):
        for f in (ROOT / folder).rglob("*.py"):
            kinds |= set(_LITERAL.findall(f.read_text(encoding="utf-8")))
    from pos.payments.schema import STATES

    kinds |= {f"payment.{s}" for s in STATES}   # the journal emits payment.<state> for each change
    return kinds


def test_every_emitted_kind_has_a_server_handler():
    missing = sorted(emitted_kinds() - set(HANDLERS))
    assert not missing, f"the server would refuse these outbox kinds: {missing}"


def test_a_kiosk_day_syncs_with_nothing_rejected(world, tmp_path):  # noqa: F811
    from kiosk.launch import demo_config_path
    from pos.config import load_config
    from pos.flows.discharge import DischargeFlow
    from pos.store import Store

    server = ThreadServer(f"sqlite:///{tmp_path / 'central.sqlite'}")
    try:
        store = Store(tmp_path / "kiosk.sqlite", device_id="KSYNC")
        enrol(store, server.url, admin_code(server.url))
        set_state(store, "server_url", server.url)
        site = Site(world.config(load_config(demo_config_path())), store)
        seed(site.hospital, site.gateway)
        no = check_in(world, site, 1)
        stay(site, no, "SURG", [("B001", 4500), ("L020", 9800)])
        flow = DischargeFlow(site, operator_id="KSYNC")
        flow.identified(read_card(world, site, __import__("kiosk.demo_env").demo_env.demo_cards()[1]))
        flow.settle()
        flow.balance()
        flow.finish()
        assert store.outbox_depth() > 20
        client = SyncClient(store, server.url)
        client.push_all()
        client.pull_all()
        client.close()
        states = dict(store.conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
        assert states.get("pending", 0) == 0 and states.get("rejected", 0) == 0, states
        kinds = {r[0] for r in store.conn.execute("SELECT kind FROM outbox")}
        assert {"hospital.deposit.recorded", "payment.posted", "print.printed", "hospital.discharged"} <= kinds
    finally:
        server.stop()
