"""`onestop demo ward --autoplay DIR`: the nurse station plays a stay by itself (bed by wristband
scan, the ID check, charges, the doctor's order, the review and lock, the scheduled discharge, the
day's lists printed) on the simulated devices, and writes every step as a PNG."""

import sqlite3
import subprocess

import pytest
from PIL import Image

from .conftest import onestop_cmd

pytestmark = pytest.mark.x11


def test_the_ward_autoplay_completes_a_stay(onestop_env, artifacts):
    out = artifacts / "autoplay-ward"
    for old in out.glob("*.png"):
        old.unlink()
    r = subprocess.run(onestop_cmd() + ["demo", "ward", "--size", "1280x800", "--autoplay", str(out)],
                       env=onestop_env, capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stderr[-3000:]
    names = sorted(p.name for p in out.glob("*.png"))
    for step in ("ward-login", "ward-board", "ward-bed-given", "ward-identity", "ward-charges", "ward-order",
                 "ward-scheduled", "ward-daily-lists", "printed-ward-lists"):
        assert any(step in n for n in names), f"no picture of {step}: {names}"
    for p in out.glob("*.png"):
        assert Image.open(p).size[0] > 100
    db = sqlite3.connect(onestop_env["ONESTOP_STORE"])
    (no, bed), = db.execute("SELECT inpatient_no, bed_id FROM hosp_admissions WHERE state != 'discharged'").fetchall()
    assert bed is not None
    assert db.execute("SELECT d.state FROM hosp_discharges d JOIN hosp_admissions a ON a.id = d.admission_id "
                      "WHERE a.inpatient_no = ?", (no,)).fetchone() == ("scheduled",)
    kinds = [k for k, in db.execute("SELECT kind FROM outbox ORDER BY device_seq")]
    for kind in ("hospital.bed.assigned", "hospital.identity.confirmed", "hospital.charge.added",
                 "hospital.discharge.ordered", "hospital.charges.locked", "hospital.discharge.scheduled",
                 "hospital.daily_list.printed"):
        assert kind in kinds, kind
