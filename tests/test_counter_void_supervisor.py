"""Settling a discharge with deposit receipts not taken back (item 15): where the site's policy
(``hospital.void_receipts_supervisor``) asks for it, the void waits for the supervisor's own PIN;
the message names the receipts and their amount. Driven by touches on the counter."""

from __future__ import annotations

import pytest

from kiosk.i18n import tr

from .counter_support import counter_bench, prepare_discharge, tap, type_into  # noqa: F401
from .test_counter_discharge import open_discharge
from .test_counter_messages import message_label, shown

ASK = ("These deposit receipts are not back: {receipts} ({amount}). Settling voids them: the supervisor enters "
       "their PIN, then tap Settle anyway.")


def settlements(store) -> int:
    return store.conn.execute("SELECT count(*) FROM hosp_settlements").fetchone()[0]


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
def test_voiding_receipts_needs_the_supervisors_own_pin(counter_bench, artifacts, caplog, lang):
    from kiosk.counter.base import desk

    counter_bench.config.values.setdefault("hospital", {})["void_receipts_supervisor"] = True
    ui = counter_bench.start(language=lang)
    store, d = ui.app.store, desk()
    no = prepare_discharge(d, 1)
    d.deposit_cash(no, 70000, 70000)                      # a second receipt, ¥700.00
    receipts = [r["receipt_no"] for r in d.receipts(no)]
    dis = open_discharge(ui, no)
    line = message_label(dis)
    want = tr(ASK, lang, receipts=", ".join(receipts), amount="¥5,700.00")
    tap(ui, dis.ids.settle)                               # first tap: what is voided, named; nothing settled
    ui.wait(lambda: shown(line) == want, what="the receipts named")
    assert dis.need_supervisor and dis.ids.void_pin.get_root_window() is not None
    ui.screenshot(artifacts, f"counter-void-supervisor-{lang}")
    tap(ui, dis.ids.settle)                               # "Settle anyway" without the PIN: still refused
    ui.wait(lambda: not dis.busy, what="idle")
    assert shown(line) == want and dis.stage == "presettle" and settlements(store) == 0
    type_into(ui, dis.ids.void_pin, "1234")               # the cashier's own PIN is not the supervisor's
    tap(ui, dis.ids.settle)
    ui.wait(lambda: shown(line) == tr("Wrong supervisor PIN.", lang), timeout=15, what="wrong PIN")
    assert dis.stage == "presettle" and settlements(store) == 0 and dis.ids.void_pin.text == ""
    type_into(ui, dis.ids.void_pin, "5678")               # the supervisor's PIN (demo)
    tap(ui, dis.ids.settle)
    ui.wait(lambda: dis.stage in ("settled", "balanced"), timeout=15, what="settled")
    assert settlements(store) == 1
    # the log names what was voided and who approved it
    voided = [r.getMessage() for r in caplog.records if "voided" in r.getMessage()]
    assert voided and all(no in voided[0] for no in receipts) and "approved by supervisor supervisor" in voided[0]


def test_without_the_policy_a_confirmation_is_enough(counter_bench):
    from kiosk.counter.base import desk

    ui = counter_bench.start(language="en")
    store, d = ui.app.store, desk()
    no = prepare_discharge(d, 1)
    dis = open_discharge(ui, no)
    tap(ui, dis.ids.settle)
    ui.wait(lambda: dis.error and not dis.busy, what="receipts named")
    assert not dis.need_supervisor and settlements(store) == 0
    tap(ui, dis.ids.settle)
    ui.wait(lambda: dis.stage in ("settled", "balanced"), timeout=15, what="settled")
    assert settlements(store) == 1
