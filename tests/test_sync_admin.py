"""The IT staff page (/admin) in headless Debian Chromium driven by Selenium: kiosks with last-seen,
queue depth, clock skew and health; today's admissions, discharges and deposits; the bed conflict
queue. A screenshot goes to the artifacts folder."""

from __future__ import annotations

import json
import shutil
import tempfile
import time

import httpx
import pytest

from pos.ids import utcnow_iso
from sync.client import SyncClient
from tests.sync_support import ADMIN_TOKEN, ThreadServer, kiosk_events, new_kiosk, server_events

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def browser():
    if not (shutil.which(CHROMIUM) and shutil.which(DRIVER)):
        pytest.skip("Debian chromium / chromium-driver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    profile = tempfile.mkdtemp(prefix="onestop-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1280,1000"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def lobby_and_ward(tmp_path):
    """A server (SQLite) and two enrolled kiosks, KLOBBY and KWARD3."""
    server = ThreadServer(f"sqlite:///{tmp_path / 'server.sqlite'}")
    try:
        yield server, new_kiosk(tmp_path, "KLOBBY", server.url), new_kiosk(tmp_path, "KWARD3", server.url)
    finally:
        server.stop()


def submit(browser, element):
    """Click a button or link that loads a new page, and wait until that page has loaded (a click
    returns before the navigation, so a lookup right after it can meet the old page or none)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    old = browser.find_element(By.TAG_NAME, "html")
    element.click()
    wait = WebDriverWait(browser, 30)
    wait.until(EC.staleness_of(old))
    wait.until(lambda b: b.execute_script("return document.readyState") == "complete")


def login(browser, server, lang="zh-Hans"):
    """Sign in on the login page, as IT staff do: the token goes in a form, never in a URL."""
    from selenium.webdriver.common.by import By
    browser.get(f"{server.url}/admin?lang={lang}")
    browser.find_element(By.CSS_SELECTOR, "form#login input[name=token]").send_keys(ADMIN_TOKEN)
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form#login button[type=submit]"))
    browser.find_element(By.ID, "devices")


def test_admin_page_shows_kiosks_today_and_conflicts(lobby_and_ward, browser, artifacts):
    from selenium.webdriver.common.by import By
    server, a, b = lobby_and_ward
    now = utcnow_iso()
    with a.transaction() as tx:
        tx.emit("hospital.admission.registered", {"inpatient_no": "KLOBBY-000001", "patient_uid": "p-1",
                                                  "ward_code": "W3", "at": now})
        tx.emit("hospital.deposit.recorded", {"inpatient_no": "KLOBBY-000001", "entry_no": "KLOBBY-E1",
                                              "receipt_no": "KLOBBY-R1", "amount_fen": 300_000, "method": "cash",
                                              "at": now})
        tx.emit("hospital.bed.assigned", {"inpatient_no": "KLOBBY-000001", "ward_code": "W3", "bed_no": "12",
                                          "at": now})
    with b.transaction() as tx:
        tx.emit("hospital.admission.registered", {"inpatient_no": "KWARD3-000001", "patient_uid": "p-2",
                                                  "ward_code": "W3", "at": now})
        tx.emit("hospital.bed.assigned", {"inpatient_no": "KWARD3-000001", "ward_code": "W3", "bed_no": "12",
                                          "at": now})
        tx.emit("hospital.discharged", {"inpatient_no": "KLOBBY-000001", "at": now})
        tx.emit("hospital.deposit.recorded", {"inpatient_no": "KWARD3-000001", "entry_no": "KWARD3-E1",
                                              "receipt_no": "KWARD3-R1", "amount_fen": 50_050, "method": "card",
                                              "at": now})
    SyncClient(a, health=lambda: {"printer": "connected", "card_reader": "error: no card"}).sync_once()
    SyncClient(b, health=lambda: {"printer": "paper out"}).sync_once()
    api = httpx.get(server.url + "/v1/admin/overview", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()
    assert api["deposits"] == {"count": 2, "total_fen": 350_050}
    assert [c["bed_id"] for c in api["conflicts"]] == ["W3/12"]

    assert httpx.get(server.url + "/admin").status_code == 401
    login(browser, server)
    rows = browser.find_elements(By.CSS_SELECTOR, "#devices tr.device")
    assert [r.get_attribute("data-device") for r in rows] == ["KLOBBY", "KWARD3"]
    assert "card_reader: error: no card" in rows[0].text and "printer: paper out" in rows[1].text
    assert browser.find_element(By.CSS_SELECTOR, "#admissions-count b").text == "2"
    assert browser.find_element(By.CSS_SELECTOR, "#discharges-count b").text == "1"
    assert browser.find_element(By.CSS_SELECTOR, "#deposits-total b").text == "¥3,500.50"
    conflict = browser.find_element(By.CSS_SELECTOR, "#conflicts tr.conflict").text
    assert "W3/12" in conflict and "KWARD3-000001" in conflict and "KLOBBY-000001" in conflict
    assert "床位冲突" in browser.page_source
    shot = artifacts / "sync_admin.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    browser.get(f"{server.url}/admin?lang=en")
    assert "Bed conflict queue" in browser.page_source


def test_nurse_resolves_conflicts_on_the_admin_page(lobby_and_ward, browser, artifacts):
    """Real clicks: a bed that is taken is refused on the page, a free one is assigned, the other entry
    is dismissed with a reason; the kiosks pull both resolutions."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    server, a, b = lobby_and_ward
    now = utcnow_iso()
    with a.transaction() as tx:
        tx.emit("hospital.bed.assigned", {"inpatient_no": "KLOBBY-000001", "ward_code": "W3", "bed_no": "12",
                                          "at": now})
    with b.transaction() as tx:
        for no in ("KWARD3-000001", "KWARD3-000002"):
            tx.emit("hospital.bed.assigned", {"inpatient_no": no, "ward_code": "W3", "bed_no": "12", "at": now})
    SyncClient(a).sync_once()
    SyncClient(b).sync_once()
    wait = WebDriverWait(browser, 20)
    login(browser, server)

    def open_conflict(lang, admission):
        browser.get(f"{server.url}/admin?lang={lang}")
        row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#conflicts tr.conflict")
                   if admission in r.text)
        submit(browser, row.find_element(By.CSS_SELECTOR, "a.resolve"))
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "form#assign")))

    def fill(form, **values):
        for name, value in values.items():
            box = browser.find_element(By.CSS_SELECTOR, f"form#{form} input[name={name}]")
            box.clear()
            box.send_keys(value)
        submit(browser, browser.find_element(By.CSS_SELECTOR, f"form#{form} button[type=submit]"))

    open_conflict("zh-Hans", "KWARD3-000001")
    assert "处理床位冲突" in browser.title and "KWARD3-000001" in browser.find_element(By.ID, "conflict").text
    fill("assign", bed_no="12", by="护士 李")             # W3/12 is KLOBBY-000001's: refused, shown
    error = wait.until(EC.presence_of_element_located((By.ID, "error")))
    assert error.text == "床位 W3/12 已被 KLOBBY-000001 占用。"
    assert browser.find_element(By.CSS_SELECTOR, "form#assign input[name=by]").get_attribute("value") == "护士 李"
    browser.save_screenshot(str(artifacts / "sync_admin_resolve.png"))
    fill("assign", bed_no="15")
    notice = wait.until(EC.presence_of_element_located((By.ID, "notice")))
    assert notice.text == "已处理：KWARD3-000001（改分配至 W3/15）。"
    refresh = browser.find_element(By.CSS_SELECTOR, "meta[http-equiv=refresh]").get_attribute("content")
    assert "url=/admin?" in refresh and "resolved" not in refresh      # the notice is shown once
    assert [r.get_attribute("data-conflict") for r in browser.find_elements(By.CSS_SELECTOR, "#resolved tr.resolved")]
    assert [r.text.split()[1] for r in browser.find_elements(By.CSS_SELECTOR, "#conflicts tr.conflict")] == [
        "KWARD3-000002"]

    open_conflict("en", "KWARD3-000002")
    assert browser.title == "Resolve a bed conflict"
    fill("dismiss", reason="admission cancelled at the desk", by="IT Wang")
    notice = wait.until(EC.presence_of_element_located((By.ID, "notice")))
    assert notice.text == "Resolved: KWARD3-000002 (dismissed: admission cancelled at the desk)."
    assert not browser.find_elements(By.CSS_SELECTOR, "#conflicts tr.conflict")
    browser.get(f"{server.url}/admin?lang=zh-Hant")
    resolved = browser.find_element(By.ID, "resolved").text
    assert "最近已處理" in browser.page_source and "改分配至 W3/15" in resolved and "IT Wang" in resolved

    SyncClient(a).sync_once()
    SyncClient(b).sync_once()
    assert kiosk_events(a) == server_events(server.backend) == kiosk_events(b)
    assert b.conn.execute("SELECT inpatient_no FROM hosp_pulled_beds WHERE bed_id = 'W3/15'").fetchone()[0] == \
        "KWARD3-000001"
    got = [json.loads(p) for (p,) in b.conn.execute(
        "SELECT payload FROM sync_events WHERE kind = 'bed.conflict_resolved' ORDER BY seq")]
    assert [(x["inpatient_no"], x["action"], x["by"]) for x in got] == [
        ("KWARD3-000001", "assign", "护士 李"), ("KWARD3-000002", "dismiss", "IT Wang")]


def test_admin_labels_exist_in_every_language():
    from sync.server.admin import LABELS
    assert set(LABELS) == {"en", "zh-Hans", "zh-Hant"}
    assert LABELS["zh-Hans"].keys() == LABELS["en"].keys() == LABELS["zh-Hant"].keys()
    assert all(v.strip() for labels in LABELS.values() for v in labels.values())


def _no_overflow(browser) -> tuple[int, int]:
    return browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")


def test_it_page_login_names_status_enrol_revoke_help_and_phone_layout(tmp_path, browser, artifacts):
    """What IT staff meet on the page: a login page (401) in their language, then a session cookie
    (HttpOnly, SameSite=Strict; the token in no URL); kiosks by their enrolled name with a status;
    patients by name with a masked ID; a one-time code issued by a button and used by a kiosk; a
    kiosk revoked by a button; a help request shown until acknowledged, which the kiosk then pulls;
    and, at 390 px wide, no page wider than the phone."""
    from selenium.webdriver.common.by import By
    from sync.client import enrol
    from sync.errors import Unauthorized
    from pos.store import Store
    server = ThreadServer(f"sqlite:///{tmp_path / 'server.sqlite'}")
    try:
        # the 401 page is the login page, in the browser's language or the one asked for
        for lang, words in (("zh-Hans", "请用管理员令牌登录"), ("zh-Hant", "請以管理員權杖登入"), ("en", "Sign in with")):
            r = httpx.get(f"{server.url}/admin?lang={lang}")
            assert r.status_code == 401 and words in r.text and 'name="token"' in r.text
        r = httpx.get(f"{server.url}/admin", headers={"Accept-Language": "zh-TW,zh;q=0.8"})
        assert r.status_code == 401 and "請以管理員權杖登入" in r.text
        assert httpx.get(f"{server.url}/admin?token={ADMIN_TOKEN}").status_code == 401     # not in URLs any more

        browser.get(f"{server.url}/admin?lang=en")
        browser.find_element(By.CSS_SELECTOR, "form#login input[name=token]").send_keys("wrong")
        submit(browser, browser.find_element(By.CSS_SELECTOR, "form#login button"))
        assert browser.find_element(By.ID, "error").text == "That token is not right."
        login(browser, server, "en")
        cookie = browser.get_cookie("onestop_admin")
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
        assert ADMIN_TOKEN not in browser.current_url and ADMIN_TOKEN not in browser.page_source

        # a code from the enrol button enrols a kiosk, whose name then shows
        submit(browser, browser.find_element(By.CSS_SELECTOR, "form#enrol button"))
        text = browser.find_element(By.ID, "code").text
        import re
        code = re.search(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b", text).group(0)
        assert text.startswith(f"One-time code {code}: valid for 24 hours")
        assert not browser.find_elements(By.CSS_SELECTOR, "meta[http-equiv=refresh]")   # the code does not vanish
        lobby = Store(tmp_path / "KLOBBY.sqlite", device_id="KLOBBY")
        enrol(lobby, server.url, code, name="Ward 3 lobby")
        ward = Store(tmp_path / "KWARD.sqlite", device_id="KWARD")
        enrol(ward, server.url, httpx.post(server.url + "/v1/admin/enrol-codes",
                                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()["code"],
              name="护士站")
        now = utcnow_iso()
        with lobby.transaction() as tx:
            tx.emit("hospital.patient.identified", {"patient_uid": "p-1", "name": "王小明", "sex": "M",
                                                    "birth_date": "1980-01-01",
                                                    "identity": {"source": "cnid", "id_number": "110101198001011234"}})
            tx.emit("hospital.admission.registered", {"inpatient_no": "KLOBBY-000001", "patient_uid": "p-1",
                                                      "ward_code": "W3", "at": now})
            tx.emit("help.requested", {"device": "KLOBBY", "screen": "checkin_amount", "lang": "zh-Hans", "at": now})
        SyncClient(lobby, health=lambda: {"printer": "connected", "card_reader": "error: no card"}).sync_once()

        browser.get(f"{server.url}/admin?lang=en")
        rows = {r.get_attribute("data-device"): r for r in browser.find_elements(By.CSS_SELECTOR, "#devices tr.device")}
        assert rows["KLOBBY"].find_element(By.CSS_SELECTOR, ".name").text.startswith("Ward 3 lobby")
        assert rows["KLOBBY"].find_element(By.CSS_SELECTOR, ".status").text == "needs attention"
        assert rows["KWARD"].find_element(By.CSS_SELECTOR, ".status").text == "enrolled, not seen yet"
        assert rows["KWARD"].find_element(By.CSS_SELECTOR, ".health").text == "not reported"
        admission = browser.find_element(By.CSS_SELECTOR, "#admissions tr.admission")
        assert admission.find_element(By.CSS_SELECTOR, ".patient").text == "王小明"
        assert admission.find_element(By.CSS_SELECTOR, ".id-no").text == "110101********1234"
        assert "p-1" not in browser.find_element(By.ID, "admissions").text
        assert "110101198001011234" not in browser.page_source

        # help: shown with the kiosk's name and screen until acknowledged; the kiosk pulls the answer
        help_row = browser.find_element(By.CSS_SELECTOR, "#help tr.help")
        assert "Ward 3 lobby" in help_row.text and "checkin_amount" in help_row.text
        browser.set_window_size(390, 844)
        for page in ("/admin?lang=zh-Hans", "/admin?lang=en"):
            browser.get(server.url + page)
            width, inner = _no_overflow(browser)
            assert width <= inner, (page, width, inner)
        browser.save_screenshot(str(artifacts / "sync_admin_phone.png"))
        help_row = browser.find_element(By.CSS_SELECTOR, "#help tr.help")
        help_row.find_element(By.CSS_SELECTOR, "input[name=by]").send_keys("IT 张")
        submit(browser, help_row.find_element(By.CSS_SELECTOR, "button"))
        assert browser.find_element(By.ID, "notice").text == "Help request from Ward 3 lobby acknowledged."
        assert not browser.find_elements(By.CSS_SELECTOR, "#help tr.help")
        SyncClient(lobby).sync_once()
        acks = [json.loads(p) for (p,) in lobby.conn.execute(
            "SELECT payload FROM sync_events WHERE kind = 'help.acknowledged'")]
        assert [(a["device"], a["screen"], a["by"]) for a in acks] == [("KLOBBY", "checkin_amount", "IT 张")]

        # revoke, after a confirmation page; the kiosk is refused from then on
        browser.set_window_size(1280, 1000)
        browser.get(f"{server.url}/admin?lang=zh-Hant")
        row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#devices tr.device")
                   if r.get_attribute("data-device") == "KWARD")
        submit(browser, row.find_element(By.CSS_SELECTOR, "a.revoke"))
        assert browser.find_element(By.CSS_SELECTOR, "form#revoke h2").text == "撤銷 护士站？"
        browser.set_window_size(390, 844)
        width, inner = _no_overflow(browser)
        assert width <= inner
        submit(browser, browser.find_element(By.CSS_SELECTOR, "form#revoke button"))
        assert browser.find_element(By.ID, "notice").text == "护士站 已撤銷。"
        row = next(r for r in browser.find_elements(By.CSS_SELECTOR, "#devices tr.device")
                   if r.get_attribute("data-device") == "KWARD")
        assert row.get_attribute("data-status") == "revoked" and not row.find_elements(By.CSS_SELECTOR, "a.revoke")
        with pytest.raises(Unauthorized):
            SyncClient(ward).sync_once()

        submit(browser, browser.find_element(By.ID, "logout"))
        assert browser.find_element(By.CSS_SELECTOR, "form#login")
        width, inner = _no_overflow(browser)               # still 390 px wide: the login page fits too
        assert width <= inner and inner <= 400, (width, inner)
        browser.get(f"{server.url}/admin?lang=en")
        assert browser.find_elements(By.CSS_SELECTOR, "form#login") and not browser.find_elements(By.ID, "devices")
    finally:
        server.stop()


def test_it_page_words_are_in_the_right_script():
    """No Traditional-only character in the zh-Hans labels and no Simplified-only one in zh-Hant,
    judged by an independent library (hanzidentifier, on CC-CEDICT's character lists)."""
    import hanzidentifier as h
    from sync.server.admin import LABELS
    assert h.identify("病區") == h.TRADITIONAL and h.identify("病区") == h.SIMPLIFIED   # the judge can say no
    wrong = [(lang, k, v) for lang, refused in (("zh-Hans", (h.TRADITIONAL, h.MIXED)),
                                               ("zh-Hant", (h.SIMPLIFIED, h.MIXED)))
             for k, v in LABELS[lang].items() if h.identify(v) in refused]
    assert wrong == []


def test_device_status_summary_is_what_the_it_page_takes():
    """What a kiosk sends as health (DeviceStatus.summary per role) fits the server's bounds, and the
    page's status follows it: connected and busy are well, anything else needs attention."""
    from drivers.status import DeviceStatus
    from sync.server.admin import device_status
    from sync.server.limits import check_device_meta
    health = {"receipt_printer": DeviceStatus.error("paper out " + "x" * 500).summary(),
              "payment_terminal": DeviceStatus.busy("payment running").summary(),
              "card_reader": DeviceStatus.connected().summary()}
    assert health == {"receipt_printer": "error: paper out " + "x" * 183, "payment_terminal": "busy",
                      "card_reader": "connected"}
    assert check_device_meta({"health": health, "queue_depth": 0})["health"] == health
    seen = {"revoked_at": None, "last_seen": utcnow_iso()}
    assert device_status(dict(seen, health=health), 300, time.time()) == "attention"
    del health["receipt_printer"]
    assert device_status(dict(seen, health=health), 300, time.time()) == "ok"
    assert device_status(dict(seen, health=health), 300, time.time() + 301) == "offline"
