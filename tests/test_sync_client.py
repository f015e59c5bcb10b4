"""The kiosk side: the background worker (never blocks, reports 'offline since HH:MM, N waiting'),
backoff with jitter, and the CLI end to end over TLS with a self-signed certificate."""

from __future__ import annotations

import datetime
import ipaddress
import random
import ssl
import subprocess
import sys
import time

import httpx
import pytest

from sync.client import Backoff, SyncClient, SyncStatus, SyncWorker, set_state
from tests.faultproxy import FaultProxy
from tests.sync_support import ROOT, ProcServer, ThreadServer, emit_workload, kiosk_events, new_kiosk, server_events


def test_backoff_grows_to_the_cap_with_jitter():
    b = Backoff(base=0.5, cap=8, rng=random.Random(3))
    delays = [b.next() for _ in range(12)]
    assert all(0 <= d <= min(8, 0.5 * 2 ** i) for i, d in enumerate(delays))
    assert len(set(delays)) == 12 and max(delays[6:]) > 2
    b.reset()
    assert b.next() <= 0.5


def test_status_text_in_three_languages():
    s = SyncStatus(online=False, offline_since="2026-11-28T06:05:00Z", waiting=7)
    assert s.text("en") == "offline since 14:05, 7 waiting"
    assert s.text("zh-Hans") == "自 14:05 起离线，7 条待传"
    assert s.text("zh-Hant") == "自 14:05 起離線，7 筆待傳"
    assert SyncStatus(online=True, waiting=0).text("en") == "online, 0 waiting"


def test_worker_goes_offline_then_drains_when_the_network_heals(tmp_path):
    server = ThreadServer(f"sqlite:///{tmp_path / 'server.sqlite'}")
    proxy = FaultProxy(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), weights={"drop_request": 1}).start()
    store = new_kiosk(tmp_path, "KW", server.url)
    set_state(store, "server_url", proxy.url)
    emit_workload(store, 30)
    worker = SyncWorker(lambda: SyncClient(store, timeout=2), interval=0.05,
                        backoff=Backoff(0.01, 0.05, random.Random(0)), store=store)
    try:
        t0 = time.monotonic()
        worker.start()
        assert time.monotonic() - t0 < 1.0          # start() returns at once: the UI thread is never held
        deadline = time.monotonic() + 20
        while worker.status().offline_since is None and time.monotonic() < deadline:
            time.sleep(0.02)
        st = worker.status()
        assert not st.online and st.waiting == 30 and st.last_error
        assert "offline since" in st.text("en") and "30 waiting" in st.text("en")
        proxy.heal()
        worker.nudge()
        while (worker.status().waiting or not worker.status().online) and time.monotonic() < deadline:
            time.sleep(0.02)
        st = worker.status()
        assert st.online and st.waiting == 0 and st.offline_since is None
        worker.stop()
        assert kiosk_events(store) == server_events(server.backend)
    finally:
        worker.stop()
        proxy.stop()
        server.stop()


def _self_signed(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "onestop test server")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def run_cli(env, *args, timeout=60):
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_cli_enrol_and_sync_over_tls(tmp_path, onestop_env):
    cert, key = _self_signed(tmp_path)
    db = f"sqlite:///{tmp_path / 'server.sqlite'}"
    server = ProcServer(db, onestop_env, "--tls-cert", cert, "--tls-key", key)
    try:
        assert server.url.startswith("https://")
        with pytest.raises(httpx.ConnectError):             # the system CAs do not know our certificate
            httpx.get(server.url + "/v1/health")
        assert httpx.get(server.url + "/v1/health", verify=ssl.create_default_context(cafile=cert)).status_code == 200
        code = run_cli(onestop_env, "server", "enrol-code", "--db", db)
        assert code.returncode == 0, code.stderr
        code = code.stdout.strip()
        ok = run_cli(onestop_env, "enrol", code, "--server", server.url, "--ca-file", cert)
        assert ok.returncode == 0, ok.stderr
        from pos.store import Store
        store = Store(onestop_env["ONESTOP_STORE"])
        emit_workload(store, 12)
        store.close()
        out = run_cli(onestop_env, "sync", "--once")
        assert out.returncode == 0, out.stderr
        assert "pushed 12" in out.stdout and "0 waiting" in out.stdout
        device = Store(onestop_env["ONESTOP_STORE"]).device_id
        rev = run_cli(onestop_env, "server", "revoke", device, "--db", db)
        assert rev.returncode == 0, rev.stderr
        refused = run_cli(onestop_env, "sync", "--once")
        assert refused.returncode == 2 and "revoked" in refused.stderr
    finally:
        server.stop()


def test_enrol_with_a_bad_code_is_refused_clearly(tmp_path):
    from pos.store import Store
    from sync.client import enrol
    from sync.errors import EnrolmentFailed
    server = ThreadServer(f"sqlite:///{tmp_path / 'server.sqlite'}")
    try:
        store = Store(tmp_path / "k.sqlite", device_id="KBAD")
        with pytest.raises(EnrolmentFailed) as exc:
            enrol(store, server.url, "AAAA-BBBB-CCCC")
        assert "401" in str(exc.value) and exc.value.user_message
        with pytest.raises(Exception):
            SyncClient(store)            # not enrolled: no secret kept
    finally:
        server.stop()


def test_sync_error_messages_are_in_every_catalogue():
    from kiosk.i18n import LANGUAGES, parse_po, po_path
    from sync import errors
    msgs = {getattr(errors, n).user_message for n in errors.__all__}
    for lang in LANGUAGES:
        catalogue = parse_po(po_path(lang).read_text(encoding="utf-8"))
        assert msgs <= set(catalogue), (lang, msgs - set(catalogue))
        assert all(catalogue[m].strip() for m in msgs)


class _Copying(httpx.HTTPTransport):
    """A network that delivers each POST twice (``copies=2``) and answers with the last copy's
    response, or delivers it once and loses the answer (``lose_answer``)."""

    def __init__(self, copies: int = 2, lose_answer: bool = False):
        super().__init__()
        self.copies, self.lose_answer = copies, lose_answer

    def handle_request(self, request):
        for _ in range(self.copies if request.method == "POST" else 1):
            request.read()
            response = super().handle_request(request)
            response.read()
        if self.lose_answer:
            raise httpx.ReadError("connection lost before the answer", request=request)
        return response


def test_a_duplicated_push_and_a_lost_enrolment_answer_are_no_credentials_problem(tmp_path, monkeypatch):
    """A push the network delivers twice is answered with the stored results (the kiosk acks its
    commands, nothing is applied twice); an enrolment whose answer was lost can be retried with the
    same code."""
    import sync.client as client_mod
    from pos.store import Store
    from sync.errors import ServerUnavailable
    from tests.sync_support import admin_code
    server = ThreadServer(f"sqlite:///{tmp_path / 'server.sqlite'}")
    try:
        store = Store(tmp_path / "KDUP.sqlite", device_id="KDUP")
        code = admin_code(server.url)
        real_http = client_mod._http

        def lossy(url, ca_file, timeout):
            c = real_http(url, ca_file, timeout)
            c._transport = _Copying(copies=1, lose_answer=True)
            return c
        monkeypatch.setattr(client_mod, "_http", lossy)
        with pytest.raises(ServerUnavailable):
            client_mod.enrol(store, server.url, code)
        monkeypatch.setattr(client_mod, "_http", real_http)
        client_mod.enrol(store, server.url, code)           # the same code again: accepted

        emit_workload(store, 6)
        client = SyncClient(store)
        client._http = httpx.Client(base_url=server.url, transport=_Copying(copies=2))
        assert client.push_all() == 6
        assert store.outbox_depth() == 0
        with server.backend.tx() as cur:
            assert cur.execute("SELECT count(*) FROM commands WHERE device_id = 'KDUP'").fetchone()[0] == 6
        client.pull_all()
        assert kiosk_events(store) == server_events(server.backend)
    finally:
        server.stop()


def test_signing_auth_matches_the_documented_signature_by_an_independent_hmac():
    """SigningAuth (the httpx.Auth the client uses) signs METHOD \\n PATH?QUERY \\n TIMESTAMP \\n NONCE \\n
    sha256(body) hex, as docs/sync.md says: recomputed here with the cryptography package's HMAC
    and hashes (not our code), for a push with a body and a pull with a query."""
    from cryptography.hazmat.primitives import hashes, hmac as chmac

    from sync import protocol as P
    secret = "5" * 64
    auth = P.SigningAuth("KSIGN", secret, clock=lambda: 1796000000.25)
    for method, url, body in (("POST", "http://s/v1/push", b'{"commands":[]}'),
                              ("GET", "http://s/v1/events?after=12&limit=500", b"")):
        request = httpx.Request(method, url, content=body or None)
        signed = next(auth.auth_flow(request))
        h = signed.headers
        assert h[P.H_DEVICE] == "KSIGN" and h[P.H_TS] == "1796000000.250" and len(h[P.H_NONCE]) == 32
        digest = hashes.Hash(hashes.SHA256())
        digest.update(body)
        path_qs = url.removeprefix("http://s")
        text = "\n".join([method, path_qs, h[P.H_TS], h[P.H_NONCE], digest.finalize().hex()]).encode()
        mac = chmac.HMAC(secret.encode(), hashes.SHA256())
        mac.update(text)
        assert h[P.H_SIG] == mac.finalize().hex()
