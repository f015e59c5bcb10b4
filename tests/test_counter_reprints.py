"""Counter: reprints from the print journal, marked as copies, by touch; the green-channel list."""

from __future__ import annotations

from kiosk.screens.counter_base import desk

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
