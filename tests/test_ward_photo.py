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


LANG_TEXTS = {"zh-Hans": ("确认后，摄像头将为您拍照", "自助机照片", "没有自助机拍摄的照片"),
              "zh-Hant": ("確認後，攝像頭將為您拍照", "自助機照片", "沒有自助機拍攝的照片"),
              "en": ("the camera takes a photo of you", "Kiosk photo", "No photo from the kiosk")}


@pytest.mark.x11
def test_the_kiosk_tells_the_patient_then_its_camera_takes_the_photo_at_check_in(tmp_path, artifacts):
    from PIL import Image

    from kiosk.demo_env import DemoWorld
    from kiosk.launch import demo_config_path
    from pos.config import load_config

    from .kivy_harness import assert_no_tofu, start_app, stop_app
    from .test_kiosk_flows import go_to

    world = DemoWorld(tmp_path / "world")
    config = world.config(load_config(demo_config_path()))
    config.values["devices"]["camera"] = f"camera+file://{face(tmp_path / 'face.png')}"
    ui = start_app("demo", config=config, store_path=str(tmp_path / "kiosk.sqlite"), demo_world=world,
                   language="zh-Hans")
    try:
        ui.tap(ui.screen().ids.svc_admission)
        ui.tap(go_to(ui, "identify").ids.demo_card_1)            # 王喆 puts her ID card on the reader
        scr = go_to(ui, "checkin_confirm")
        for lang, (notice, _t, _n) in LANG_TEXTS.items():       # told before anything is taken
            ui.app.set_language(lang)
            ui.frames(3)
            assert notice in scr.ids.photo_notice.text
            assert_no_tofu(ui.app.root)
        ui.screenshot(artifacts / "checkin-photo", "en")
        ui.app.set_language("zh-Hans")
        ui.tap(scr.ids.confirm)
        go_to(ui, "amount")
        no = ui.app.flow.admission["inpatient_no"]
        jpeg = photos.checkin_photo(ui.app.store, no)
        assert jpeg is not None
        with Image.open(io.BytesIO(jpeg)) as im:
            assert im.format == "JPEG" and max(im.size) == photos.MAX_SIDE
        kinds = [r[0] for r in ui.app.store.conn.execute("SELECT kind FROM outbox ORDER BY device_seq")]
        assert kinds.index("hospital.admission.registered") < kinds.index("hospital.photo.taken")
    finally:
        stop_app(ui)
        world.stop()


@pytest.mark.x11
def test_the_ward_shows_the_kiosk_photo_beside_the_id_facts(tmp_path, artifacts):
    from pos.hospital import demo
    from pos.hospital.gateway_sim import SimGateway
    from pos.hospital.policy import load_policy
    from pos.store import Store

    from .kivy_harness import assert_no_tofu, start_app, stop_app
    from .test_ward_board import arrived, login

    store = Store(tmp_path / "ward.sqlite")
    policy = load_policy()
    gateway = SimGateway(policy, "tertiary")
    svc = HospitalService(store, policy, gateway, level="tertiary", low_balance_fen=50000)
    demo.seed(svc, gateway)
    p0, p2 = arrived(svc, 0), arrived(svc, 2)
    svc.assign_bed(p0, "01")
    svc.assign_bed(p2, "02")
    cam = open_device(f"camera+file://{face(tmp_path / 'face.png')}", "camera")
    try:
        photos.save_checkin_photo(svc, p0, cam.take_photo())   # what the kiosk kept (and sync brings, above)
    finally:
        cam.close()
    store.close()
    ui = start_app("ward", store_path=str(tmp_path / "ward.sqlite"), language="zh-Hans", size=(1280, 800))
    try:
        ui.settle()
        login(ui, "nurse", "N07", "1111")
        ui.wait(lambda: ui.app.sm.current == "ward_board", what="the bed board")
        ui.settle()
        b = ui.screen()
        ui.tap(b.cells["01"])
        ui.tap(b.ids.id_check)
        ui.wait(lambda: ui.app.sm.current == "ward_identity", what="the identity check")
        ui.settle()
        s = ui.screen()
        assert s.photo.endswith(".jpg") and s.ids.photo.texture is not None
        assert tuple(s.ids.photo.texture.size) == (320, 240) and s.ids.photo.opacity == 1
        assert "张三" in s.id_text and s.ids.no_photo.text == ""
        for lang, (_n, title, _none) in LANG_TEXTS.items():
            ui.app.set_language(lang)
            ui.frames(3)
            assert ui.find(title) is not None
            assert_no_tofu(ui.app.root)
            ui.screenshot(artifacts / "ward-photo", lang)
        ui.app.set_language("zh-Hans")
        ui.tap(s.ids.back)
        ui.wait(lambda: ui.app.sm.current == "ward_board", what="the bed board")
        ui.settle()
        ui.tap(b.cells["02"])                                     # no photo for this stay: said so
        ui.tap(b.ids.id_check)
        ui.wait(lambda: ui.app.sm.current == "ward_identity", what="the identity check")
        ui.settle()
        assert s.photo == "" and s.ids.photo.opacity == 0
        assert LANG_TEXTS["zh-Hans"][2] in s.ids.no_photo.text
    finally:
        stop_app(ui)
