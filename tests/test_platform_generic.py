"""The platform knows no site: in its modules (the store, the site composition root, the pack
contract and claims, the sync protocol and client, the server core, the app shell, the drivers) the
words of the hospital appear only in comments and docstrings that name the hospital pack as an
example. Code that needs them belongs in a site pack (docs/architecture.md)."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: whole words (and identifiers such as ``bed_id``, ``sync_beds``): "absorbed" and "forward" are not beds and wards
WORDS = re.compile(r"hosp|(?<![a-z])beds?(?![a-z])|(?<![a-z])wards?(?![a-z])|admission|patient", re.I)
EXAMPLE = re.compile(r"hospital|e\.g\.|example|such as|like a", re.I)

PLATFORM = [
    *sorted((ROOT / "pos" / "store").glob("*.py")),
    ROOT / "pos" / "site.py", ROOT / "pos" / "packs.py", ROOT / "pos" / "claims.py", ROOT / "pos" / "errors.py",
    ROOT / "pos" / "fsm.py", ROOT / "pos" / "money.py", ROOT / "pos" / "rows.py",
    ROOT / "sync" / "protocol.py", ROOT / "sync" / "client.py", ROOT / "sync" / "errors.py",
    # the whole server: core, routes, the IT page, its labels, the HL7 v2 engine and the FHIR facade
    *sorted((ROOT / "sync" / "server").rglob("*.py")),
    ROOT / "kiosk" / "app.py",
    *sorted((ROOT / "drivers").rglob("*.py")),
]


def site_words(path: Path) -> list[str]:
    """Lines where a site word appears outside a comment or docstring that names the pack as an example."""
    src = path.read_text(encoding="utf-8")
    bad = []
    prev = None
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        text = tok.string
        if WORDS.search(text):
            is_doc = tok.type == tokenize.STRING and prev in (None, tokenize.INDENT, tokenize.NEWLINE, tokenize.NL,
                                                             tokenize.DEDENT)
            if not ((tok.type == tokenize.COMMENT or is_doc) and EXAMPLE.search(text)):
                bad.append(f"{path.relative_to(ROOT)}:{tok.start[0]}: {text.strip()[:100]}")
        if tok.type not in (tokenize.COMMENT, tokenize.NL):
            prev = tok.type
    return bad


def test_platform_modules_name_no_site():
    assert all(p.exists() for p in PLATFORM)
    bad = [line for p in PLATFORM for line in site_words(p)]
    assert not bad, "site words in platform code:\n" + "\n".join(bad)


def test_the_server_holds_no_other_site_code():
    """Every module of sync/server is checked: the hospital's HL7 v2 mapping and its FHIR resources
    are the pack's (``Pack.interfaces``, ``Pack.fhir``), the server keeps only the generic engines."""
    server = set(sorted((ROOT / "sync" / "server").rglob("*.py")))
    assert server <= set(PLATFORM)
    assert {ROOT / "sync" / "server" / "his.py", ROOT / "sync" / "server" / "routes" / "fhir.py"} <= server
    assert not (ROOT / "sync" / "server" / "fhir.py").exists()
    from pos.hospital.pack import PACK
    assert PACK.interfaces == {"hl7v2": "pos.hospital.his_interface"} and PACK.fhir == "pos.hospital.fhir_view"


def test_the_check_catches_site_code(tmp_path):
    """It finds a site word in code, and in a comment that does not name the pack as an example."""
    f = tmp_path / "x.py"
    f.write_text('"""A module."""\nBEDS = 1\n# the ward\nx = "admission"\n# e.g. the hospital pack\n', encoding="utf-8")
    global ROOT
    old, ROOT = ROOT, tmp_path
    try:
        found = site_words(f)
    finally:
        ROOT = old
    assert [line.split(":")[1] for line in found] == ["2", "3", "4"]


def hospital_tables() -> set[str]:
    """The names of the hospital pack's store tables, from a store migrated to the newest schema
    (the national insurance platform's own field names, such as ``hosp_appr_flag``, are not ours)."""
    from pos.store import Store
    store = Store(":memory:", device_id="KTABLES")
    try:
        return {r[0] for r in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name LIKE 'hosp%'")}
    finally:
        store.close()


def test_the_hospital_tables_have_one_owner():
    """Only the hospital pack writes SQL over its ``hosp_*`` tables (services, views, search, schema):
    the flows, the counter, the screens, sync and the rest of pos go through it."""
    hospital = ROOT / "pos" / "hospital"
    outside = [p for folder in ("pos", "kiosk", "sync", "drivers") for p in sorted((ROOT / folder).rglob("*.py"))
               if hospital not in p.parents]
    tables = hospital_tables()
    assert {"hosp_admissions", "hosp_charges", "hosp_ledger"} <= tables
    bad = [f"{p.relative_to(ROOT)}:{n}" for p in outside
           for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
           if any(t in tables for t in re.findall(r"\bhosp_\w+", line))]
    assert not bad, bad


def test_the_it_page_of_a_site_without_the_hospital_shows_none_of_it(tmp_path):
    """The IT page's hospital part (today's admissions, patients, the bed queue, its words) comes
    from the hospital pack: a server running only the test pack renders the page, and the overview
    API, without any of it."""
    import httpx

    from pos import packs

    from .sync_support import ADMIN_TOKEN, ThreadServer
    packs.enable(["tests.sitepack_demo.pack:PACK"])
    try:
        server = ThreadServer(f"sqlite:///{tmp_path / 'server.sqlite'}")
        try:
            auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            api = httpx.get(server.url + "/v1/admin/overview", headers=auth).json()
            assert api["conflicts"] == [] and api["resolved"] == [] and "admissions" not in api
            page = httpx.get(server.url + "/admin?lang=en", headers=auth)
            assert page.status_code == 200 and 'id="devices"' in page.text
            assert "Admissions" not in page.text and "Bed" not in page.text and 'id="conflicts"' in page.text
            assert httpx.get(server.url + "/admin/conflicts/nope?lang=en", headers=auth,
                             follow_redirects=False).status_code in (302, 303)
        finally:
            server.stop()
    finally:
        packs.enable(None)


def test_a_site_without_the_hospital_serves_no_fhir_resources_and_runs_no_hl7_engine(tmp_path):
    """The FHIR facade and the HL7 v2 engine take their site part from the active packs: a server
    running only the test pack answers the facade's metadata with no resource type and a read with
    a FHIR OperationOutcome 404 (parsed by fhir.resources), and there is no HL7 v2 hooks module."""
    import httpx
    import pytest
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement
    from fhir.resources.R4B.operationoutcome import OperationOutcome

    from pos import packs
    from sync.server import his

    from .sync_support import ADMIN_TOKEN, ThreadServer
    packs.enable(["tests.sitepack_demo.pack:PACK"])
    try:
        with pytest.raises(LookupError, match="hl7v2"):
            his.hooks()
        server = ThreadServer(f"sqlite:///{tmp_path / 'server.sqlite'}")
        try:
            auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            meta = CapabilityStatement.model_validate_json(httpx.get(server.url + "/fhir/metadata").content)
            assert meta.rest[0].resource is None or meta.rest[0].resource == []
            r = httpx.get(server.url + "/fhir/Encounter/ZY1/$everything", headers=auth)
            assert r.status_code == 404 and r.headers["content-type"].startswith("application/fhir+json")
            assert OperationOutcome.model_validate_json(r.content).issue[0].code == "not-found"
            assert httpx.get(server.url + "/fhir/Patient/x", headers=auth).status_code == 404
        finally:
            server.stop()
    finally:
        packs.enable(None)
    assert his.hooks().__name__ == "pos.hospital.his_interface"        # every installed pack again


def test_the_interface_section_speaks_the_packs_words():
    """The HL7 v2 engine's IT-page words are generic; the hospital pack's hooks name a visit its way."""
    from pos import packs
    from sync.server import his
    assert his.labels("zh-Hans")["visit"] == "住院号" and his.labels("zh-Hant")["visit"] == "住院號"
    assert his.LABELS["zh-Hans"]["visit"] == "就诊号" and his.labels("xx") == his.labels("zh-Hans")
    packs.enable(["tests.sitepack_demo.pack:PACK"])
    try:
        assert his.labels("zh-Hant") == his.LABELS["zh-Hant"]
    finally:
        packs.enable(None)
