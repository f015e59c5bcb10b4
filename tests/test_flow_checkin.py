"""The kiosk check-in flow, without a screen, against the simulators over their real transports:
the ID card on the SAM_V module (pty), the ZVT terminal (TCP) and the printers (TCP)."""

import pytest

from drivers.identity_wait import wait_for_identity
from kiosk.demo_env import DemoWorld, demo_cards
from kiosk.launch import demo_config_path
from pos.config import load_config
from pos.errors import InvalidTransition
from pos.flows.checkin import CheckinFlow, DepositLimits
from pos.hospital.demo import seed
from pos.site import Site
from pos.store import Store


@pytest.fixture
def world(tmp_path):
    w = DemoWorld(tmp_path / "world")
    yield w
    w.stop()


@pytest.fixture
def site(world, tmp_path):
    store = Store(tmp_path / "kiosk.sqlite", device_id="KDEMO")
    s = Site(world.config(load_config(demo_config_path())), store)
    seed(s.hospital, s.gateway)
    yield s
    store.close()


def read_card(world, site, card):
    world.place_card(card)
    return wait_for_identity([("id_reader", site.device("id_reader"))], timeout=10)


def test_full_check_in(world, site):
    card = demo_cards()[1]  # 王喆, resident scheme, suggested deposit 5,000.00
    flow = CheckinFlow(site, operator_id=site.store.device_id)
    ident = read_card(world, site, card)
    assert flow.identified(ident) == "confirm"
    assert flow.notice["suggested_deposit_fen"] == 500000
    adm = flow.confirm()
    assert adm["inpatient_no"].startswith("ZYKDEMO-")
    assert flow.amount_fen == 500000
    assert flow.adjust(+2) == 520000 and flow.adjust(-1) == 510000
    statuses = []
    out = flow.pay(on_status=statuses.append)
    assert out.public_status == "approved" and flow.state == "printing"
    assert statuses, "the terminal's live status reached the caller"
    # the terminal charged exactly what onestop booked
    charged = [e for e in world.terminal_sim.ledger.entries() if e.get("kind") == "sale"]
    assert [e["amount_fen"] for e in charged] == [510000]
    acct = site.hospital.account(adm["inpatient_no"])
    assert acct["deposit_fen"] == 510000
    result = flow.print_documents()
    assert flow.state == "directions" and result.print_problems == []
    receipt_docs = world.receipt_printer.wait_docs(2)
    text = "\n".join(receipt_docs[0].texts) if hasattr(receipt_docs[0], "texts") else str(receipt_docs[0])
    assert result.receipt_no in text and "王喆" in text and "伍仟壹佰元整" in text
    band = world.label_printer.wait_docs(1)[0]
    assert adm["inpatient_no"] in str(band)


def test_no_notice_sends_to_the_counter(world, site):
    card = dict(demo_cards()[0], name="路人甲", id_number="110101199003070011", birth_date="1990-03-07")
    flow = CheckinFlow(site, operator_id="K1")
    assert flow.identified(read_card(world, site, card)) == "no_notice"
    with pytest.raises(InvalidTransition):
        flow.confirm()


def test_declined_card_can_be_retried_and_is_never_charged(world, site):
    flow = CheckinFlow(site, operator_id="K1")
    flow.identified(read_card(world, site, demo_cards()[2]))
    flow.confirm()
    world.terminal_sim.script.push({"action": "decline"})
    flow.pay()
    assert flow.state == "declined" and "declined" in flow.problem
    assert [e for e in world.terminal_sim.ledger.entries() if e.get("kind") == "sale" and e.get("result") == "approved"] == []
    flow.pay()
    assert flow.state == "printing"


def test_deposit_limits():
    lim = DepositLimits.around(300000)
    assert (lim.min_fen, lim.max_fen, lim.step_fen) == (150000, 900000, 10000)
    assert DepositLimits.around(5000).min_fen == 10000


def test_a_cancelled_check_in_resumes_at_the_deposit(world, site):
    card = demo_cards()[0]
    first = CheckinFlow(site, operator_id="K1")
    first.identified(read_card(world, site, card))
    adm = first.confirm()            # registered, then the patient walked away before paying
    again = CheckinFlow(site, operator_id="K1")
    assert again.identified(read_card(world, site, card)) == "amount"
    assert again.admission["inpatient_no"] == adm["inpatient_no"] and again.amount_fen == 300000
    again.pay()
    assert again.state == "printing"


def test_terminal_unreachable_sends_to_the_window_and_charges_nothing(world, site):
    flow = CheckinFlow(site, operator_id="K1")
    flow.identified(read_card(world, site, demo_cards()[1]))
    flow.confirm()
    world.terminal.stop()
    flow.pay()
    assert flow.state == "device_fault" and flow.problem == "Please go to window {window}."
    assert world.terminal_sim.ledger.entries() == []
    assert site.hospital.account(flow.admission["inpatient_no"])["deposit_fen"] == 0


def test_paper_out_keeps_the_receipt_in_the_journal_and_says_where_to_collect(world, site):
    flow = CheckinFlow(site, operator_id="K1")
    flow.identified(read_card(world, site, demo_cards()[1]))
    flow.confirm()
    flow.pay()
    world.receipt_printer.set_state(paper_out=True)
    result = flow.print_documents()
    assert flow.state == "directions"
    assert "Please collect your receipt at window 3." in result.print_problems
    failed = site.printing.journal(state="failed")
    assert [j["kind"] for j in failed] and all(j["role"] == "receipt_printer" for j in failed)
    world.receipt_printer.set_state(paper_out=False)
    for job in failed:
        assert site.printing.retry(job["job_id"]).ok
    assert result.receipt_no in str(world.receipt_printer.wait_docs(1)[0])


def test_cash_is_recorded_and_the_drawer_skipped_while_the_printer_is_busy(site):
    """A long print job holds the receipt printer: cash taken meanwhile is recorded at once and
    the drawer stays shut (the cashier opens it by key) instead of waiting behind the job."""
    import threading

    from pos.printing import printer_lock

    lock = printer_lock(site.device("receipt_printer"))
    lock.acquire()
    try:
        site.cash.open_shift("cashier", 0)
        took = []
        t = threading.Thread(target=lambda: took.append(site.cash.take("cashier", 10000, 10000, account="ZY-1")))
        t.start()
        t.join(10)
        assert took and not took[0].drawer_opened
        assert site.store.conn.execute("SELECT amount_fen FROM cash_movements").fetchall() == [(10000,)]
    finally:
        lock.release()
    assert site.cash.take("cashier", 500, 500, account="ZY-1").drawer_opened   # free again: it opens


def test_receipt_and_wristband_print_at_the_same_time(world, site):
    """The wristband printer answers its status query only while the receipt printer has a job
    open (or after 10 s): printed one after the other, the two jobs would never overlap."""
    import threading

    overlapped = threading.Event()
    band, receipts = world.label_printer, world.receipt_printer
    real_status = band._zpl_status

    def gated_status():
        for _ in range(1000):
            if receipts._conns:
                overlapped.set()
                break
            threading.Event().wait(0.01)
        return real_status()

    band._zpl_status = gated_status
    # as the kiosk does after its first frame (kiosk/warmup.py): a cold first receipt's imports can
    # take longer than the label printer's status wait, which would make the band uncertain
    from kiosk.warmup import warm_printing
    warm_printing(site.config)
    flow = CheckinFlow(site, operator_id=site.store.device_id)
    flow.identified(read_card(world, site, demo_cards()[1]))
    flow.confirm()
    flow.pay()
    result = flow.print_documents()
    assert result.print_problems == [] and [o.ok for o in result.prints] == [True, True, True]
    assert overlapped.is_set()
    assert len(receipts.wait_docs(2)) == 2 and len(band.wait_docs(1)) == 1
