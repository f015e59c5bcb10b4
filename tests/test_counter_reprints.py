"""Counter: reprints from the print journal, marked as copies, by touch; the green-channel list."""

from __future__ import annotations

from kiosk.counter.base import desk

from .counter_support import counter_bench, press, shots  # noqa: F401


def test_reprint_marks_copies_and_green_channel_reminders(counter_bench, artifacts):
    bench = counter_bench
    ui = bench.start(language="zh-Hans")
    store, d = ui.app.store, desk()
    # a cash deposit (receipt + wristband printed) for one patient, a green channel for another
    n1 = d.notices()
    by_name = {n["name"]: n for n in n1}
    a = d.register(by_name["张三"]["notice_no"], "11010119800505001X")
    d.deposit_cash(a["inpatient_no"], 300000, 300000)
    b = d.register(by_name["李堃"]["notice_no"], "330106196208180037")
    bench.receipts.wait_docs(2)
    # green channel opened at the patient page
    ui.app.go("counter_patient", inpatient_no=b["inpatient_no"])
    ui.settle()
    pat = ui.screen()
    ui.wait(lambda: pat.info, what="patient")
    press(ui, "绿色通道", root=pat)
    ui.wait(lambda: pat.info and pat.info["admission"]["green_channel"], timeout=15, what="green channel")
    assert bench.bands.wait_docs(2)
    press(ui, "返回")
    ui.settle()
    press(ui, "绿色通道")
    ui.settle()
    green = ui.screen()
    ui.wait(lambda: getattr(green, "items", None), what="reminders")
    assert [(r["inpatient_no"], r["kind"], r["arrears_fen"]) for r in green.items] == \
        [(b["inpatient_no"], "deposit", 200000)]
    shots(ui, artifacts, "counter-green")
    press(ui, "返回")
    ui.settle()
    # reprint the deposit receipt
    press(ui, "补打")
    ui.settle()
    rep = ui.screen()
    ui.wait(lambda: getattr(rep, "jobs", None), what="journal")
    receipt_job = next(j for j in rep.jobs if j["kind"] == "deposit_receipt")
    before = len(bench.receipt_texts())
    row = next(w for w in rep.ids.rows.children if receipt_job["ref"] in w.children[-1].text)
    from .counter_support import tap

    tap(ui, row.children[0])
    ui.wait(lambda: rep.ids.reasons.children, what="reasons asked")
    assert len(bench.receipt_texts()) == before                  # no copy without a reason
    assert "为什么需要补打" in "".join(w.text for w in rep.walk() if type(w).__name__ == "CounterMessage")
    press(ui, "患者遗失", root=rep)
    ui.wait(lambda: len(bench.receipt_texts()) == before + 1, timeout=15, what="reprint")
    assert [r["payload"]["reason"] for r in store.outbox_pending() if r["kind"] == "print.reprint_requested"] \
        == ["lost"]
    copy = bench.receipt_texts()[-1]
    assert "副本 COPY #1" in copy and receipt_job["ref"] in copy
    ui.wait(lambda: store.conn.execute("SELECT count(*) FROM print_jobs WHERE reprint_of IS NOT NULL AND "
                                       "state = 'printed'").fetchone()[0] == 1, what="reprint recorded")
    jobs = store.conn.execute("SELECT reprint_of, copy_no, state FROM print_jobs WHERE reprint_of IS NOT NULL"
                              ).fetchall()
    assert jobs == [(receipt_job["job_id"], 1, "printed")]
    ui.wait(lambda: any(j["copy_no"] == 1 for j in rep.jobs), what="journal refreshed")
    shots(ui, artifacts, "counter-reprints")


def test_uncertain_jobs_recovered_at_start_shown_and_confirmed(counter_bench, artifacts):
    """A receipt left "printing" by a crash is recovered when the counter starts; the reprints
    screen shows it as "may have printed"; the cashier checks the printer and says it did not
    come out, and only then is the original sent again (no COPY mark). A receipt the printer
    took whole but went silent after is shown the same way."""
    from pos.printing import PrintJournal
    from pos.store import Store

    from .counter_support import tap
    from ._print_samples import RECEIPT, SITE
    from pos.documents import deposit_receipt

    bench = counter_bench
    store = Store(bench.store_path)
    crashed = PrintJournal(store, devices=bench.config.devices)
    job_id = crashed.submit("deposit_receipt", deposit_receipt(SITE, RECEIPT), ref="CRASH-0001")
    crashed._claim(job_id)                         # the process died while sending it
    store.close()
    bench.receipts.silent_after_cut = True         # the next receipt prints, then the printer is mute
    ui = bench.start(language="zh-Hans")
    d = desk()
    assert ui.app.store.conn.execute("SELECT state, uncertain FROM print_jobs WHERE job_id = ?",
                                     (job_id,)).fetchone() == ("failed", 1)      # recovered at start
    by_name = {n["name"]: n for n in d.notices()}
    a = d.register(by_name["张三"]["notice_no"], "11010119800505001X")
    d.deposit_cash(a["inpatient_no"], 300000, 300000)
    bench.receipts.wait_docs(1)
    bench.receipts.wake()
    press(ui, "补打")
    ui.settle()
    rep = ui.screen()
    ui.wait(lambda: len([j for j in getattr(rep, "jobs", []) if j["uncertain"]]) == 2, timeout=20,
            what="two uncertain jobs")
    ui.settle()
    assert rep.message == "Some documents may have printed: check the printer. Reprint gives a marked copy."
    row = next(w for w in rep.ids.rows.children if "CRASH-0001" in w.children[-1].text)
    assert "可能已打印" in row.children[-1].text
    shots(ui, artifacts, "counter-reprints-uncertain")
    before = len(bench.receipt_texts())
    ui.settle()
    row = next(w for w in rep.ids.rows.children if "CRASH-0001" in w.children[-1].text)   # the rows now shown
    tap(ui, row.children[0])                       # 没有打印出来 (did not print): send the original
    ui.wait(lambda: len(bench.receipt_texts()) == before + 1, timeout=15, what=f"original sent again "
            f"({rep.message} {ui.app.store.conn.execute('SELECT state, uncertain, last_error FROM print_jobs WHERE job_id = ?', (job_id,)).fetchone()} {[c.text for c in row.children]})")
    assert "副本" not in bench.receipt_texts()[-1]
    ui.wait(lambda: ui.app.store.conn.execute("SELECT state, uncertain FROM print_jobs WHERE job_id = ?",
                                              (job_id,)).fetchone() == ("printed", 0), what="printed")
