"""A kiosk's help request reaches the counter through the central server, and the cashier's
acknowledgement closes it for everyone (issue 20 item 9); the counter's recent activity is
readable, with ID numbers masked (item 17). Real server (SQLite), real sync clients, touches."""

import pytest

from kiosk.i18n import tr
from pos.counter.activity import mask_ids, open_help_requests
from sync.client import SyncClient

from .kivy_harness import start_app, stop_app
from .sync_support import ThreadServer, new_kiosk
from .test_kiosk_journeys import text_of
from .test_staff_ui import enter_pin


@pytest.fixture
def server(tmp_path):
    srv = ThreadServer(f"sqlite:///{tmp_path / 'central.sqlite'}")
    yield srv
    srv.stop()


def test_mask_ids():
    assert mask_ids("440305199001010026 / 11010119800505001X") == "4403**********0026 / 1101**********001X"
    assert mask_ids("ZY2026000001 and 123456789012345") == "ZY2026000001 and 1234*******2345"


def test_help_request_reaches_the_counter_and_is_acknowledged(tmp_path, server):
    # the patient taps "help" at the kiosk
    kstore = new_kiosk(tmp_path, "KLOBBY1", server.url)
    kpath = kstore.path
    kstore.close()
    ui = start_app("kiosk", store_path=kpath, language="zh-Hant")
    try:
        ui.tap(ui.app.root.ids.help_button)
        ui.wait(lambda: ui.app.help_command, what="help recorded")
    finally:
        stop_app(ui)
    from pos.store import Store

    kstore = Store(kpath, device_id="KLOBBY1")
    kiosk_sync = SyncClient(kstore, server.url)
    kiosk_sync.push_all()
    # the cashier's counter pulls it
    cstore = new_kiosk(tmp_path, "CCOUNTER1", server.url)
    SyncClient(cstore, server.url).pull_all()
    assert [r["device"] for r in open_help_requests(cstore.conn)] == ["KLOBBY1"]
    cpath = cstore.path
    cstore.close()
    ui = start_app("counter", store_path=cpath, language="zh-Hans")
    try:
        enter_pin(ui, "1234")
        ui.wait(lambda: ui.app.sm.current == "counter_home", what="counter home")
        ui.settle()
        home = ui.screen()
        ui.wait(lambda: home.ids.help_requests.children, timeout=15, what="help request row")
        row = home.ids.help_requests.children[0]
        label = [w for w in row.children if not hasattr(w, "on_release")][0]
        assert text_of(label).startswith("自助机 KLOBBY1 呼叫协助（home）")
        ack = [w for w in row.children if hasattr(w, "on_release")][0]
        assert text_of(ack) == tr("Acknowledge", "zh-Hans")
        ui.tap(ack)
        ui.wait(lambda: not home.ids.help_requests.children, timeout=15, what="request closed")
        assert home.message.startswith("Help request of kiosk"), (home.message, home.msg_kw)
        from .kivy_harness import all_widgets
        print("DBG4", [(type(w).__name__, w.text) for w in all_widgets(home) if type(w).__name__ == "CounterMessage"])
        ui.find("已响应自助机 KLOBBY1 的呼叫，请前往该自助机。")      # the message line
        acks = [r for r in ui.app.store.outbox_pending() if r["kind"] == "help.acknowledged"]
        assert acks and acks[0]["payload"]["device"] == "KLOBBY1" and acks[0]["payload"]["by"].startswith("cashier@")
        SyncClient(ui.app.store, server.url).push_all()
        # the activity list is readable: no raw kinds or payload dumps
        ui.wait(lambda: any("自助机 KLOBBY1" in text_of(w) for w in home.ids.activity.children), timeout=15,
                what="activity line")
        assert not any("help." in text_of(w) or "=" in text_of(w) for w in home.ids.activity.children)
    finally:
        stop_app(ui)
    kiosk_sync.pull_all()                # every device now sees it closed
    assert open_help_requests(kstore.conn) == []
    kstore.close()


def test_activity_masks_id_numbers(tmp_path):
    ui = start_app("counter", store_path=str(tmp_path / "c.sqlite"), language="en")
    try:
        with ui.app.store.transaction() as tx:
            tx.emit("hospital.patient.identified", {"name": "王喆 440305199001010026", "patient_uid": "u"})
            tx.emit("hospital.deposit.recorded", {"inpatient_no": "ZY26-000001", "amount_fen": 500000,
                                                  "entry_no": "E1"})
        enter_pin(ui, "1234")
        ui.wait(lambda: ui.app.sm.current == "counter_home", what="counter home")
        home = ui.screen()
        ui.wait(lambda: len(home.ids.activity.children) >= 2, timeout=15, what="activity")
        texts = [text_of(w) for w in home.ids.activity.children]
        assert any(t.endswith("Deposit ¥5,000.00 for ZY26-000001") for t in texts), texts
        assert any("4403**********0026" in t for t in texts) and not any("440305199001010026" in t for t in texts)
    finally:
        stop_app(ui)
