"""The kiosk's check-in photo: taken by the platform camera driver (the simulated camera, frames from
an image file), kept beside the kiosk's store (0600) and queued with the outbox, carried by the
real server (SQLite and PostgreSQL) to the ward station, which writes it beside its own store and
shows it. The JPEG is read back with Pillow (a decoder our code did not write)."""

from __future__ import annotations

import io
import os
import stat

import pytest

from drivers.registry import open_device
from pos.hospital import photos
from pos.hospital.errors import BadInput
from pos.hospital.records import IdentityRecord, Payment
from pos.hospital.service import HospitalService
from sync.client import SyncClient

from .sync_support import ThreadServer, db_url, new_kiosk  # noqa: F401 - fixture


@pytest.fixture
def server(db_url):  # noqa: F811
    s = ThreadServer(db_url)
    yield s
    s.stop()


def face(path) -> str:
    """A 1280x960 test picture: a grey background and a light disc (what the sim camera shows)."""
    import cv2
    import numpy as np

    img = np.full((960, 1280, 3), 90, np.uint8)
    cv2.circle(img, (640, 430), 260, (200, 210, 230), -1)
    cv2.rectangle(img, (520, 360), (560, 400), (40, 40, 40), -1)
    cv2.rectangle(img, (720, 360), (760, 400), (40, 40, 40), -1)
    cv2.imwrite(str(path), img)
    return str(path)


def checked_in(svc) -> str:
    svc.add_ward("W3", "心内科", 5, beds=["11", "12"])
    notice = svc.record_notice(patient_name="王喆", id_number="440305199001010026", ward_code="W3",
                               suggested_deposit_fen=100000)
    no = svc.register_admission(notice["notice_no"], IdentityRecord("cn_id", "王喆", "440305199001010026",
                                                                    scheme="self_pay"))["inpatient_no"]
    svc.record_deposit(no, Payment(100000))
    return no


def test_the_checkin_photo_goes_from_the_kiosk_camera_to_the_ward(server, tmp_path):
    from PIL import Image

    k_store, w_store = new_kiosk(tmp_path / "k", "KK", server.url), new_kiosk(tmp_path / "w", "WS", server.url)
    kiosk = HospitalService(k_store)
    no = checked_in(kiosk)
    cam = open_device(f"camera+file://{face(tmp_path / 'face.png')}", "camera")
    try:
        jpeg = cam.take_photo()
    finally:
        cam.close()
    with Image.open(io.BytesIO(jpeg)) as im:
        assert im.format == "JPEG" and im.size == (320, 240)
        assert im.getpixel((160, 110))[0] > 150 and im.getpixel((5, 5))[0] < 120     # the disc, the background
    kept = photos.save_checkin_photo(kiosk, no, jpeg)
    path = photos.photos_dir(k_store) / kept["file"]
    assert path.read_bytes() == jpeg and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert photos.checkin_photo(w_store, no) is None                   # the ward has not pulled yet

    SyncClient(k_store).sync_once()
    SyncClient(w_store).sync_once()
    assert photos.checkin_photo(w_store, no) == jpeg                   # beside the ward's own store
    ward_file = photos.photo_path(w_store, no)
    assert ward_file.startswith(str(photos.photos_dir(w_store))) and stat.S_IMODE(os.stat(ward_file).st_mode) == 0o600
    SyncClient(w_store).sync_once()                                    # a pull again changes nothing
    assert photos.checkin_photo(w_store, no) == jpeg
    # a damaged file is not shown as the patient's face
    with open(ward_file, "r+b") as f:
        f.seek(200)
        f.write(b"\x00\x00\x00")
    assert photos.checkin_photo(w_store, no) is None


def test_a_photo_that_is_not_a_small_jpeg_is_refused_and_nothing_is_queued(store):
    svc = HospitalService(store)
    no = checked_in(svc)
    queued = store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    for bad in (b"GIF89a....", b"\xff\xd8\xff" + b"x" * photos.MAX_JPEG + b"\xff\xd9"):
        with pytest.raises(BadInput):
            photos.save_checkin_photo(svc, no, bad)
    assert store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == queued
    assert photos.checkin_photo(store, no) is None
