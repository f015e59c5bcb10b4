"""A card going into the PC/SC reader reaches the kiosk screen: pcscd + vpcd + our virtual SSSE
card (in private namespaces), read by the identify screen through pyscard, then the person's name
and the card kind are on the next screen."""


import pytest

from tests.pcsc_stack import READER, running_stack, use_private_socket

use_private_socket()       # before any PC/SC call in this process

from kiosk.demo_env import DemoWorld  # noqa: E402
from kiosk.launch import demo_config_path  # noqa: E402
from pos.config import load_config  # noqa: E402

from .conftest import ROOT  # noqa: E402
from .kivy_harness import assert_no_tofu, start_app, stop_app  # noqa: E402

pytestmark = pytest.mark.pcsc


stack = pytest.fixture(scope="module", name="stack")(running_stack)


@pytest.mark.parametrize("lang", ["zh-Hans", "en"])
def test_card_in_shows_name_and_card_kind(stack, tmp_path, artifacts, lang):
    world = DemoWorld(tmp_path / "world")
    cfg = world.config(load_config(demo_config_path()))
    cfg.values["devices"]["card_reader"] = f"pcsc://{READER}"
    ui = start_app("demo", config=cfg, store_path=str(tmp_path / "k.sqlite"), demo_world=world, language=lang)
    try:
        ui.tap(ui.screen().ids.svc_admission)
        ui.wait(lambda: ui.app.sm.current == "identify" and not ui.app.sm.transition.is_active, what="identify")
        stack.insert(ROOT / "assets" / "cards" / "ssse_wang.toml")
        ui.wait(lambda: ui.app.sm.current == "checkin_confirm" and not ui.app.sm.transition.is_active,
                timeout=30, what="the confirm screen after the card went in")
        ui.frames(3)
        scr = ui.screen()
        assert "王喆" in ui.find("王喆").text
        kind = {"zh-Hans": "社保卡", "en": "Social security card"}[lang]
        assert kind in scr.ids.card_kind.children[0].text
        assert_no_tofu(ui.app.root)
        ui.screenshot(artifacts, f"kiosk-card-in-{lang}")
    finally:
        stop_app(ui)
        world.stop()
        stack.remove_all()
