"""The IT page's interface section: connection state, last message, the queue on hold or in error
(flagged after the timeout), and a resend that applies a message once its mapping is fixed."""

from __future__ import annotations

import socket
import time
from dataclasses import replace

import httpx
import pytest

from sync.server.his import LABELS
from tests.his_support import a05, adt, code, mllp_send
from tests.sync_support import ADMIN_TOKEN, ThreadServer, db_url  # noqa: F401  (fixture)

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def site(db_url):  # noqa: F811
    from sync.server import open_backend
    from sync.server.his import HisInterface
    backend = open_backend(db_url)
    iface = HisInterface(backend).start()
    server = ThreadServer(db_url, his=iface)
    yield server, iface
    server.stop()
    iface.stop()
    backend.close()


def page(url: str, lang: str = "en") -> str:
    r = httpx.get(f"{url}/admin?lang={lang}", headers=AUTH)
    assert r.status_code == 200
    return r.text


def test_the_page_shows_the_interface_its_queue_and_resends(site):
    server, iface = site
    html = page(server.url)
    assert "Interfaces (HIS)" in html and f"mllp://127.0.0.1:{iface.port}" in html and "none" in html
    assert code(mllp_send(iface.port, a05("Q1", "ZY26001", ward="NK9"))[0]) == "AE"     # unknown ward
    assert code(mllp_send(iface.port, adt("Q2", "A01", "ZY26002"))[0]) == "AA"          # held: no A05
    html = page(server.url)
    assert 'data-control="Q1"' in html and "unknown ward" in html
    assert 'data-control="Q2"' in html and "waiting for its predecessor" in html
    assert "ADT^A01 Q2 AA" in html                                                      # the last message
    iface.m = replace(iface.m, hold_timeout_s=0.0)
    assert "waiting too long" in page(server.url)                                       # flagged
    iface.m = replace(iface.m, wards={**iface.m.wards, "NK9": "PEDS"})                  # the mapping is fixed
    r = httpx.post(f"{server.url}/admin/interfaces/his/in/Q1/resend?lang=en", headers=AUTH, follow_redirects=False)
    assert r.status_code == 303
    html = page(server.url)
    assert 'data-control="Q1"' not in html
    with iface.backend.tx() as cur:
        assert cur.execute("SELECT status FROM his_inbound WHERE control_id = 'Q1'").fetchone()[0] == "applied"
        assert cur.execute("SELECT ward FROM his_visits WHERE visit = 'ZY26001'").fetchone()[0] == "PEDS"
    for lang in ("zh-Hans", "zh-Hant"):
        assert LABELS[lang]["title"] in page(server.url, lang)


def test_the_three_languages_have_the_same_words():
    assert set(LABELS["zh-Hans"]) == set(LABELS["zh-Hant"]) == set(LABELS["en"])


def test_onestop_server_runs_the_interface(tmp_path, onestop_env):
    """``onestop server --his-listen``: the real process takes HL7 over MLLP and its IT page shows it."""
    from tests.sync_support import ProcServer, free_port
    port = free_port()
    server = ProcServer(f"sqlite:///{tmp_path / 'server.sqlite'}", onestop_env, "--his-listen", f"127.0.0.1:{port}")
    try:
        for _ in range(200):                # the HIS port opens just after the HTTP one
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        assert code(mllp_send(port, a05("P1", "ZY26001"))[0]) == "AA"
        html = page(server.url)
        assert "ADT^A05 P1 AA" in html
    finally:
        server.stop()


def test_the_fhir_facade_takes_its_own_token_and_says_what_it_serves(db_url):  # noqa: F811
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement
    server = ThreadServer(db_url, fhir_token="fhir-read-token")
    try:
        url = f"{server.url}/fhir/Encounter/ZY1/$everything"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
        r = httpx.get(url, headers={"Authorization": "Bearer fhir-read-token"})
        assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"       # let in: no such stay
        assert httpx.post(f"{server.url}/v1/admin/enrol-codes",
                          headers={"Authorization": "Bearer fhir-read-token"}).status_code == 401   # read only
        cs = CapabilityStatement.model_validate_json(httpx.get(f"{server.url}/fhir/metadata").content)
        assert cs.fhirVersion == "4.0.1"
        assert sorted(r.type for r in cs.rest[0].resource) == sorted(
            ["Patient", "Encounter", "Coverage", "Account", "ChargeItem", "Invoice", "PaymentReconciliation"])
    finally:
        server.stop()


def test_an_outbound_message_the_his_refuses_is_in_error_on_the_page(site, tmp_path):
    from tests.his_support import HisListener, check_in
    server, iface = site
    his = HisListener(answer="AE")
    iface.endpoint = ("127.0.0.1", his.port)
    try:
        mllp_send(iface.port, a05("R1", "ZY26001"))
        check_in(iface.backend, "ZY26001")
        from pos.ids import utcnow_iso
        from sync.server import service
        kind = "hospital.deposit.recorded"
        p = service.validate(kind, {"inpatient_no": "ZYKT-000001", "entry_no": "KT-E1", "amount_fen": 100000,
                                    "method": "cash", "at": utcnow_iso()}, "KT")
        service.ingest(iface.backend, "KT", [{"command_id": "KT-C00000002", "device_id": "KT", "device_seq": 2,
                                              "created_at": utcnow_iso(), "kind": kind, "payload": p}], {})
        assert iface.pump() == {"sent": 0, "failed": 1}
        html = page(server.url)
        assert "HIS answered AE" in html and "DFT^P03" in html
        assert "DFT^P03 OS" in html and " error · " in html                     # the last message sent
        assert len(his.received) == 1
    finally:
        his.close()
