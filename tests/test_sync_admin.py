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
from tests.sync_support import ADMIN_TOKEN, ThreadServer, new_kiosk

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


def test_admin_page_shows_kiosks_today_and_conflicts(tmp_path, browser, artifacts):
    from selenium.webdriver.common.by import By
    server = ThreadServer(f"sqlite:///{tmp_path / 'server.sqlite'}")
    try:
        a = new_kiosk(tmp_path, "KLOBBY", server.url)
        b = new_kiosk(tmp_path, "KWARD3", server.url)
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
        browser.get(f"{server.url}/admin?token={ADMIN_TOKEN}&lang=zh-Hans")
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
        browser.get(f"{server.url}/admin?token={ADMIN_TOKEN}&lang=en")
        assert "Bed conflict queue" in browser.page_source
    finally:
        server.stop()
