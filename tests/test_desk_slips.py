"""The dispatch slip: routed by category to the team, round-robin within it or the dispatcher's
choice, printed as ESC/POS through the print journal onto the virtual printer over a real socket;
the QR code is read back off the rendered paper by zxing-cpp (a decoder we did not write)."""

from __future__ import annotations

import pytest

from drivers.sim.printer import VirtualPrinter, render_doc, scan_codes
from pos.desk.service import DeskError, DeskService
from pos.desk.slips import slip_qr
from pos.printing import PrintJournal


@pytest.fixture
def vp(artifacts):
    with VirtualPrinter(out_dir=artifacts / "desk-slips") as p:
        yield p


def test_round_robin_then_choice_and_the_slip_prints_with_a_readable_qr(store, vp, artifacts):
    desk = DeskService(store)
    journal = PrintJournal(store, devices={"receipt_printer": f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80"})
    nos = [desk.receive("hotline", unit=f"5-{i:04d}", party="李雷", description="卫生间漏水", by="d1")
           for i in range(4)]
    for no in nos:
        desk.classify(no, "repair.plumbing", by="d1")
    with pytest.raises(DeskError) as e:
        desk.print_dispatch_slip(journal, nos[0])
    assert e.value.code == "dispatch_first"
    got = [desk.dispatch(no, by="d1")["assignee"] for no in nos[:3]]
    assert got == ["li", "wang", "zhao"]                       # the team's members in turn
    with pytest.raises(DeskError) as e:
        desk.dispatch(nos[3], by="d1", assignee="chen")        # not in the plumbing team
    assert e.value.code == "not_in_team"
    assert desk.dispatch(nos[3], by="d1", assignee="wang")["mode"] == "choice"
    for lang in ("zh-Hans", "zh-Hant", "en"):
        out = desk.print_dispatch_slip(journal, nos[1], lang=lang, site_name="阳光花园")
        assert out.ok, out.technician
    docs = vp.wait_docs(3)
    assert [d.qr_codes for d in docs] == [[slip_qr(nos[1])]] * 3
    hans, hant, en = (d.text for d in docs)
    assert "派工单" in hans and "水管漏水" in hans and "wang" in hans and nos[1] in hans
    assert "派工單" in hant and "Dispatch slip" in en and "Plumbing and leaks" in en
    img = render_doc(docs[0])
    img.save(artifacts / "desk-dispatch-slip.png")
    assert [t for _, t in scan_codes(img)] == [slip_qr(nos[1])]
    jobs = journal.journal(10)
    assert {j["kind"] for j in jobs} == {"desk_dispatch_slip"} and all(j["state"] == "printed" for j in jobs)


def test_complaint_box_slips_are_printed_blank_and_keyed_in_once_maybe_anonymously(store, vp, artifacts):
    from pos.desk.slips import slip_code

    desk = DeskService(store)
    journal = PrintJournal(store, devices={"receipt_printer": f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80"})
    outs = desk.print_complaint_slips(journal, 2, site_name="阳光花园")
    assert all(o.ok for o in outs)
    docs = vp.wait_docs(2)
    codes = [d.qr_codes[0] for d in docs]
    assert len(set(codes)) == 2 and all(c.startswith("onestop:desk:slip:KTEST-") for c in codes)
    img = render_doc(docs[0])
    img.save(artifacts / "desk-complaint-slip.png")
    scanned = [t for _, t in scan_codes(img)][0]               # what the desk's scanner reads off the paper
    assert scanned == codes[0] == slip_code(codes[0].rsplit(":", 1)[1])
    no = desk.receive_slip(scanned, "保安夜里不在岗", by="d1")
    o = desk.order(no)
    assert (o["channel"], o["party"], o["source_ref"]) == ("complaint_box", "", codes[0].rsplit(":", 1)[1])
    with pytest.raises(DeskError) as e:
        desk.receive_slip(scanned, "保安夜里不在岗", by="d1")
    assert e.value.code == "slip_already_keyed"
    with pytest.raises(DeskError) as e:
        desk.receive_slip("onestop:desk:KTEST-000001", "x", by="d1")
    assert e.value.code == "not_a_slip"
    named = desk.receive_slip(codes[1], "垃圾桶满了", party="陈女士", unit="2-0301", by="d1")
    assert desk.order(named)["party_role"] == "owner"
