"""The role phones by touches: the valet's key tag (printed with a QR code that an independent
decoder, zxing-cpp, reads back), "bring the car" from the butler's phone to the valet, the QR
scanned at return; and the chime (Kivy's SoundLoader, SDL2's audio with its dummy output here)
and the vibration (plyer, skipped where it is missing) when a call comes in."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_AUDIODRIVER", "dummy")      # headless: SDL2 mixes into nothing, but really plays

import pytest  # noqa: E402

from kiosk.i18n import LANGUAGES  # noqa: E402

from drivers.sim.printer import VirtualPrinter, render_doc  # noqa: E402
from tests.club_support import wait_for  # noqa: E402
from tests.test_club_screens import _iso_in, club, screen  # noqa: E402,F401 - the fixtures


@pytest.fixture
def valet_printer(club, artifacts):
    """The valet's printer (a virtual ESC/POS printer on a real socket) on the test box."""
    box, _device = club
    printer = VirtualPrinter(out_dir=artifacts / "club-valet").start()
    box.journal.devices["valet_printer"] = f"escpos+tcp://127.0.0.1:{printer.port}"
    yield printer
    printer.stop()


def test_key_tag_bring_the_car_and_the_qr_at_return_by_touch(club, valet_printer, screen, artifacts):
    import zxingcpp

    from tests.kivy_harness import assert_no_tofu

    box, device = club
    printer = valet_printer
    valet = device("v", "valet", "老张")
    butler = device("b", "butler", "小王", rooms=["8"])
    rid = box.reservations.book_room("8", _iso_in(60), 6, title="王總", regular=True)
    box.arrive(rid, "security")
    ui = screen(valet, "zh-Hans")
    s = ui.app.role_screen
    assert s.valet and s.ids.scan.height > 0
    s.ids.scan.text = "8"                                    # the guests' room, typed on arrival
    ui.tap(ui.find("泊车", s))
    doc = printer.wait_docs(1, 15)[0]
    (tag,) = box.valet.tags()
    assert tag["room"] == "8" and tag["res_id"] == rid and tag["state"] == "parked"
    assert doc.qr_codes == [tag["tag_no"]] and "泊车牌 VALET" in doc.text and "8号包厢" in doc.text
    image = render_doc(doc)
    image.save(artifacts / "club-valet-key-tag.png")
    decoded = [r.text for r in zxingcpp.read_barcodes(image)]
    assert decoded == [tag["tag_no"]]                        # an independent decoder reads the tag
    ui.app.show(butler)                                      # the butler's phone: "bring the car"
    ui.frames(3)
    ui.tap(ui.find("取车", ui.app.role_screen.ids.sends))
    ui.app.show(valet)
    ui.wait(lambda: "取车" in s.calls_text and tag["tag_no"] in s.calls_text, what="the car call on the valet's phone")
    assert valet.sounds >= 1                                  # it sounded on the valet's phone
    ui.screenshot(artifacts, "club-valet-bring-the-car")
    assert_no_tofu(ui.app.root)
    call = valet.current()[0]
    assert (call["kind"], call["to_role"], call["from_role"], call["detail"]) == ("car", "valet", "butler",
                                                                                   {"tags": [tag["tag_no"]]})
    wait_for(lambda: box.valet.tag(tag["tag_no"])["state"] == "requested", what="the tag requested")
    ui.tap(s.ids.ack)                                        # acknowledged like every call
    wait_for(lambda: box.book.get(call["call_id"])["acked_by"] == "老张", what="the valet's ack")
    s.ids.scan.text = decoded[0]                             # the wedge scanner types the QR code, then Enter
    s.ids.scan.dispatch("on_text_validate")
    wait_for(lambda: box.valet.tag(tag["tag_no"])["state"] == "returned", what="the car handed back")
    assert box.valet.tag(tag["tag_no"])["returned_by"] == "老张"
    s.ids.scan.text = decoded[0]                             # scanned twice: a clear refusal on the screen
    s.ids.scan.dispatch("on_text_validate")
    ui.wait(lambda: "当前阶段不能进行这一步" in s.message, what="the refusal on the screen")
    expect = {"zh-Hans": ("泊车", "车已交还", "扫描泊车牌"), "zh-Hant": ("泊車", "車已交還", "掃描泊車牌"),
              "en": ("Park", "Car handed back", "Scan the key tag")}
    for lang in LANGUAGES:
        ui.app.set_language(lang)
        ui.frames(3)
        ui.find(expect[lang][0], s)
        ui.find(expect[lang][1], s)
        assert s.ids.scan.hint_text == expect[lang][2]
        ui.screenshot(artifacts, f"club-valet-{lang}")
        assert_no_tofu(ui.app.root)


def test_a_call_plays_the_chime_through_kivys_soundloader(club, screen):
    from kivy.core.audio import Sound

    box, device = club
    butler = device("b", "butler", "小王", rooms=["8"])
    ui = screen(butler, "en")
    chime = ui.app.chime
    assert isinstance(chime.sound, Sound) and chime.sound.length > 0.3      # the WAV loaded by SoundLoader
    assert chime.plays == 0
    box.raise_call("8", "prompt", "system", detail={"rule": "refill"})
    ui.wait(lambda: chime.plays == 1, what="the chime")
    assert ui.app.role_screen.ringing and chime.sound.state == "play"
    try:
        import plyer  # noqa: F401
    except ImportError:                                       # this desktop has no plyer: skipped, not faked
        assert chime._vibrator is None and chime.vibrations == 0


def test_the_chime_file_is_a_short_wav(tmp_path):
    import wave

    from kiosk.club.screen import chime_wav

    path = chime_wav(tmp_path)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        assert 0.3 < w.getnframes() / w.getframerate() < 0.5
    assert path.stat().st_size < 50_000


def test_the_runner_phone_shows_the_course_and_its_dishes_and_acknowledges_by_touch(club, screen):
    box, device = club
    runner = device("r", "runner", "阿强")
    ui = screen(runner, "zh-Hans")
    s = ui.app.role_screen
    o = box.orders
    order = o.open_order("8", "小王")
    o.add(order, "K301", 1, "小王")
    o.add(order, "K303", 2, "小王")
    box.fire(order, 3, "小王")
    (call,) = box.course_ready(order, 3, "厨师长")
    ui.wait(lambda: "第3道菜好了：清蒸东星斑×1、蒜蓉菜心×2" in s.calls_text, what="the course on the runner's phone")
    assert "8号包厢" in s.calls_text and "可以上菜" in s.calls_text and s.ringing and ui.app.chime.plays >= 1
    ui.tap(s.ids.ack)
    wait_for(lambda: box.book.get(call["call_id"])["acked_by"] == "阿强", what="the runner's ack")
