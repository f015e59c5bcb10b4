"""The two-copy archive: an order closed at the desk reaches the real server (SQLite and PostgreSQL),
which queues it; the server's own task (the desk pack's ``server_tasks``) stores the office copy as PDF/A-3b with its SHA-256 and queues the
owner's copy, printed with a QR code of the number and hash and then filed. No PDF/A validator
(veraPDF) is installable here (no Debian or PyPI package), so the PDF/A claims are checked with
pikepdf, a library we did not write: the XMP identification (pdfaid part 3, conformance B), an
output intent, every font embedded, the history attached as an associated file."""

from __future__ import annotations

import hashlib
import io
import json
import time

import pikepdf
import pytest

from drivers.sim.printer import VirtualPrinter
from pos.desk.archive import intact, record_owner_copy, render_pending
from pos.desk.service import DeskService
from pos.desk.slips import copy_qr, owner_copy_slip
from pos.printing import PrintJournal
from sync.client import SyncClient

from .sync_support import ThreadServer, db_url, new_kiosk  # noqa: F401 - fixture


@pytest.fixture
def server(db_url):  # noqa: F811
    s = ThreadServer(db_url, task_interval=0.2)     # the packs' server tasks every 0.2 s
    yield s
    s.stop()


def sql_one(b, text, params):
    with b.tx() as cur:
        return cur.execute(text, params).fetchone()


def fonts(pdf):
    for page in pdf.pages:
        res = page.obj.get("/Resources")
        for _, font in (res.get("/Font") or {}).items():
            yield font


def test_a_closed_order_is_archived_as_pdfa_with_its_hash_and_the_owner_copy_is_tracked(server, tmp_path, artifacts):
    store = new_kiosk(tmp_path, "DA", server.url)
    desk = DeskService(store)
    no = desk.receive("hotline", unit="3-1201", party="王芳", party_role="owner", description="卫生间水管漏水", by="d1")
    desk.classify(no, "repair.plumbing", by="d1")
    desk.dispatch(no, by="d1")
    desk.start(no, by="li")
    desk.complete(no, by="li", note="更换阀门", photos=["a.jpg"], cause_code="wear")
    desk.qc(no, by="sup", passed=True)
    desk.open_follow_up(no, by="d1")
    open_no = desk.receive("hotline", unit="3-1202", description="门禁坏了", by="d1")
    desk.follow_up(no, by="d1", rating="satisfied", comment="很快")
    SyncClient(store).sync_once()
    b = server.backend
    deadline = time.monotonic() + 60
    while sql_one(b, "SELECT state FROM desk_archive WHERE order_no = ?", (no,)) != ("stored",):
        assert time.monotonic() < deadline, "the server did not render the closed order"
        time.sleep(0.1)                                        # the server's task renders it by itself
    assert render_pending(b) == []                             # nothing left queued
    with b.tx() as cur:
        sha, pdf, owner = cur.execute("SELECT sha256, pdf, owner_state FROM desk_archive WHERE order_no = ?",
                                      (no,)).fetchone()
        assert cur.execute("SELECT count(*) FROM desk_archive WHERE order_no = ?", (open_no,)).fetchone() == (0,)
    pdf = bytes(pdf)
    (artifacts / "desk-archive.pdf").write_bytes(pdf)
    assert owner == "queued" and intact(pdf, sha) and sha == hashlib.sha256(pdf).hexdigest()
    assert not intact(pdf[:-10] + b"0" * 10, sha)              # a changed copy fails the check

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        with doc.open_metadata() as meta:
            assert meta.pdfa_status == "3B"
        assert doc.Root.OutputIntents[0].S == "/GTS_PDFA1"
        seen = 0
        for font in fonts(doc):
            for f in ([font] + list(font.get("/DescendantFonts") or [])):
                fd = f.get("/FontDescriptor")
                if fd is not None:
                    seen += 1
                    assert any(k in fd for k in ("/FontFile", "/FontFile2", "/FontFile3")), f.get("/BaseFont")
        assert seen >= 1
        att = doc.attachments["history.json"]
        history = json.loads(att.get_file().read_bytes())
        assert [s["event"] for s in history["steps"]] == ["classified", "dispatched", "started", "completed",
                                                         "qc_passed", "follow_up_opened", "followed_up"]
        assert doc.Root.AF[0].AFRelationship == "/Source"

    with VirtualPrinter() as vp:                                  # the owner's copy at the desk's printer
        journal = PrintJournal(store, devices={"receipt_printer": f"escpos+tcp://127.0.0.1:{vp.port}?profile=cn80"})
        out = journal.print("desk_owner_copy", owner_copy_slip(desk.order(no), sha, "2026-12-07T10:00:00Z"), ref=no)
        assert out.ok
        doc = vp.wait_docs(1)[0]
        assert doc.qr_codes == [copy_qr(no, sha)] and "业主存档联" in doc.text
    record_owner_copy(b, no, "printed", who="王芳")
    with pytest.raises(ValueError):
        record_owner_copy(b, no, "printed")
    record_owner_copy(b, no, "filed")
    with b.tx() as cur:
        assert cur.execute("SELECT owner_state, owner_received_by FROM desk_archive WHERE order_no = ?",
                           (no,)).fetchone() == ("filed", "王芳")
