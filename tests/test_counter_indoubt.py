"""Counter: the queue of card payments in doubt and the supervisor's resolution, by touch. The
in-doubt attempt comes from the payment journal's own recovery against the virtual terminal (sent,
then the register stopped before it knew where the terminal stood)."""

from __future__ import annotations

from kiosk.counter.base import desk
from pos.hospital import demo
from pos.payments.service import terminal_key

from .counter_support import counter_bench, press, shots, type_into  # noqa: F401


def in_doubt_deposit(d, no: str, amount: int) -> str:
    url = d.terminal_url
    j = d.site.payments.journal
    row = j.create_intent(kind="sale", amount_fen=amount, purpose="deposit", account=no, terminal=terminal_key(url),
                          terminal_url=url)
    j.transition(row["attempt_id"], "sent")
    d.site.payments.recover(url)          # asks the terminal: position unknown -> a supervisor decides
    return row["attempt_id"]


def test_supervisor_resolves_payments_in_doubt(counter_bench, artifacts):
    bench = counter_bench
    ui = bench.start(language="en")
    store, d = ui.app.store, desk()
    no = demo.admit_demo_patient(d.hospital, 0, days=1)
    charged = in_doubt_deposit(d, no, 120000)
    assert [r["attempt_id"] for r in d.in_doubt()] == [charged]
    press(ui, "Payments in doubt")
    ui.settle()
    scr = ui.screen()
    ui.wait(lambda: getattr(scr, "rows", None), what="queue")
    assert no in "".join(w.text for w in scr.ids.rows.walk() if hasattr(w, "text"))
    shots(ui, artifacts, "counter-indoubt")
    line = [w for w in scr.walk() if type(w).__name__ == "CounterMessage"][0]
    assert "UTC" not in "".join(w.text for w in scr.ids.rows.walk() if hasattr(w, "text"))
    assert "Check the terminal's printout" in "".join(w.text for w in scr.ids.rows.walk() if hasattr(w, "text"))
    press(ui, "Not charged", root=scr)                     # no supervisor PIN: refused
    ui.wait(lambda: scr.error, what="supervisor required")
    assert "The supervisor must enter their PIN." in line.text
    type_into(ui, scr.ids.supervisor, "1111")              # a wrong PIN: refused
    press(ui, "Charged", root=scr)
    ui.wait(lambda: "Wrong supervisor PIN." in line.text, what="wrong PIN")
    assert d.in_doubt() != [] and not scr.pending
    type_into(ui, scr.ids.supervisor, "5678")              # the supervisor's own PIN (demo)
    said = []
    scr.bind(message=lambda _w, m: said.append(m))
    press(ui, "Charged", root=scr)
    ui.wait(lambda: scr.pending, what="confirmation asked")
    assert f"Book ¥1,200.00 for {no} as charged? Tap Confirm." in line.text
    assert d.in_doubt() != []                              # nothing booked before Confirm
    ui.tap(scr.ids.confirm)
    ui.wait(lambda: scr.rows == [] and not scr.busy, timeout=15, what=f"queue emptied ({scr.message})")
    assert "Booked as charged." in said and "Booked as charged." in line.text
    q = store.conn.execute("SELECT resolution, resolved_by FROM payment_supervisor_queue").fetchall()
    assert q == [("charged", "supervisor")]
    assert store.conn.execute("SELECT state FROM payment_attempts WHERE attempt_id = ?", (charged,)).fetchone() == \
        ("posted",)
    # the supervisor's "charged" booked the deposit in the hospital ledger (the poster)
    assert store.conn.execute("SELECT method, amount_fen FROM hosp_ledger l JOIN hosp_admissions a ON "
                              "a.id = l.admission_id WHERE a.inpatient_no = ? AND kind = 'deposit' ORDER BY l.id",
                              (no,)).fetchall()[-1] == ("card", 120000)
    assert bench.charges() == []        # the terminal never charged it (the supervisor's call)
    shots(ui, artifacts, "counter-indoubt-resolved")
