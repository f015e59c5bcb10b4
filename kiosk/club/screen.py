"""The role screens: one small screen per role (a phone or a tablet) with the calls for it and one
large button that acknowledges the most urgent call. A butler's screen also sends the butler's
calls for its room (can serve, wine, clear, coming to pay, room ready, help) and ticks the room's
preparation checklist; every other role can call for help. A new call, or one sounded again,
flashes the screen until it is acknowledged, plays a short chime (Kivy's SoundLoader, a WAV made
once in the cache folder) and vibrates the phone (plyer, where it is there: on a desktop or the
box it is skipped with a log line). The valet's screen also takes the key tag's QR code (a
keyboard-wedge scanner types it into the scan field): park a car, or hand one back.

The screen reads everything from its :class:`kiosk.club.device.ClubDevice` (which keeps the
board and the box link) and refreshes on the Kivy clock when the device reports a change.
"""

from __future__ import annotations

import logging
import math
import struct
import wave
from importlib import resources
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.metrics import mm
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition, Screen, ScreenManager

from kiosk.fonts import cache_dir, font_set
from kiosk.i18n import LANGUAGES, tr

__all__ = ["RoleApp", "RoleScreen", "Chime", "chime_wav", "KIND_MSGIDS", "ROLE_MSGIDS", "ITEM_MSGIDS",
           "PROMPT_MSGIDS", "SENDS"]

log = logging.getLogger(__name__)

ROLE_MSGIDS = {
    "security": "Security", "greeter": "Greeter", "butler": "Butler", "sommelier": "Sommelier",
    "runner": "Runner", "cashier": "Cashier", "manager": "Manager", "system": "System",
    "valet": "Valet", "kitchen": "Kitchen",
}
KIND_MSGIDS = {
    "arrival": "Guests arrived", "room_ready": "Room ready", "can_serve": "Can serve", "wine": "Wine",
    "clear": "Clear the dishes", "pay": "Coming to pay", "help": "Help", "prep": "Prepare the room",
    "prep_missing": "Room not prepared", "prompt": "Service reminder", "car": "Bring the car",
}
PROMPT_MSGIDS = {
    "refill": "Offer to refill the glasses", "ashtray": "Change the ashtray (at three butts)",
    "plates": "Change the plates (a third full)", "basket": "Change the dirty-ware basket (half full)",
}
ITEM_MSGIDS = {
    "covers": "Table and covers", "tv_ac": "TV and air conditioning", "fruit": "Fruit plate from the bar",
    "towels": "Hot towels", "tableware": "Tableware for the service station",
}
STATE_MSGIDS = {"resounded": "Sounded again", "no_ack": "Nobody answered", "nobody_on_shift": "Nobody on shift"}
#: role -> the calls its screen can send
SENDS = {"butler": ("can_serve", "wine", "clear", "pay", "room_ready", "help", "car")}

_kv_loaded = False


def chime_wav(folder: Path | None = None) -> Path:
    """The call chime: two short tones (E6 then A5, 0.35 s, 16 kHz mono 16-bit, about 11 kB),
    written once with the standard ``wave`` module into the cache folder."""
    path = Path(folder or cache_dir()) / "club-chime-v1.wav"
    if path.exists():
        return path
    rate, frames = 16000, []
    for freq, start, length in ((1318.5, 0.0, 0.16), (880.0, 0.17, 0.18)):
        n0, n = int(start * rate), int(length * rate)
        frames += [0] * (n0 - len(frames))
        for i in range(n):
            fade = min(1.0, i / 160, (n - i) / 400)           # no click at either end
            frames.append(int(12000 * fade * math.sin(2 * math.pi * freq * i / rate)))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack(f"<{len(frames)}h", *frames))
    tmp.replace(path)
    return path


class Chime:
    """What a call sounds like on a phone: the chime through Kivy's SoundLoader, and a vibration
    through plyer where there is one. Either may be missing (no audio device, a desktop): that is
    said once in the log and the screen still turns red."""

    def __init__(self, vibrate_s: float = 0.4):
        from kivy.core.audio import SoundLoader

        self.vibrate_s = vibrate_s
        self.plays = 0
        self.vibrations = 0
        self.sound = SoundLoader.load(str(chime_wav()))
        if self.sound is None or not self.sound.length:
            log.warning("club phone: no audio output for the chime (%s); calls flash the screen only",
                        type(self.sound).__name__ if self.sound is not None else "no audio provider")
        try:
            from plyer import vibrator
            self._vibrator = vibrator
        except Exception as exc:                    # noqa: BLE001 - plyer missing or no backend here
            self._vibrator = None
            log.info("club phone: no vibration on this device (%s); skipped", exc)

    def ring(self) -> None:
        """On the UI thread: a new call, or one sounded again."""
        if self.sound is not None and self.sound.length:
            self.sound.stop()
            self.sound.play()
            self.plays += 1
        if self._vibrator is not None:
            try:
                self._vibrator.vibrate(self.vibrate_s)
                self.vibrations += 1
            except Exception as exc:                # noqa: BLE001 - a desktop's plyer has no vibrator
                log.info("club phone: vibration not available here (%s); skipped", exc)
                self._vibrator = None


def _load_kv() -> None:
    global _kv_loaded
    if _kv_loaded:
        return
    for name in ("base.kv", "club/role.kv"):
        path = resources.files("assets").joinpath("kv", *name.split("/"))
        Builder.load_string(path.read_text(encoding="utf-8"), filename=name)
    _kv_loaded = True


class RoleScreen(Screen):
    header = StringProperty("")
    status = StringProperty("")
    calls_text = StringProperty("")
    ack_text = StringProperty("")
    top_call_id = StringProperty("")
    ringing = BooleanProperty(False)
    message = StringProperty("")
    valet = BooleanProperty(False)
    scanned = StringProperty("")

    def refresh(self, *_):
        app = App.get_running_app()
        dev = app.device
        t = app.tr
        role = t(ROLE_MSGIDS[dev.role])
        rooms = "、".join(dev.rooms)
        self.header = app.fx(f"{role} · {dev.staff}" + (f" · {t('Room {room}', room=rooms)}" if rooms else ""))
        if dev.bus.refused:
            self.status = app.fx(t("The club's broker refused this phone: check its user and password"))
        elif not dev.bus.connected.is_set():
            self.status = app.fx(t("Offline: reconnecting…"))
        elif not dev.box_online:
            self.status = app.fx(t("The club box is not answering"))
        else:
            self.status = app.fx(t("Online"))
            away = dev.offline_phones() if dev.role == "manager" else []
            if away:
                self.status = app.fx(t("Online") + " · " + t("Phones offline: {names}", names="、".join(away)))
        calls = dev.current()
        self.top_call_id = calls[0]["call_id"] if calls else ""
        if not calls:
            self.ringing = False
        self.calls_text = app.fx("\n".join(self.describe(c) for c in calls[:4]) if calls else t("No calls"))
        self.ack_text = app.fx(t("Acknowledge") + (f"\n{self.describe(calls[0], short=True)}" if calls else ""))
        self.message = app.fx(t(dev.message) if dev.message else "")
        self.valet = dev.role == "valet"
        self._buttons(app, dev)

    def describe(self, call: dict, short: bool = False) -> str:
        app = App.get_running_app()
        t = app.tr
        parts = [t("Room {room}", room=call["room"]), t(KIND_MSGIDS[call["kind"]])]
        if short:
            return " · ".join(parts)
        d = call["detail"]
        if call["kind"] == "arrival" and d.get("greeting"):
            parts.append(t("{n} guests", n=d.get("guests", 0)))
            parts.append(t(d["greeting"], **d.get("greeting_params", {})))
            if d.get("requests"):
                parts.append(d["requests"])
        elif call["kind"] == "prompt":
            parts.append(t(PROMPT_MSGIDS[d["rule"]]))
        elif call["kind"] == "wine" and d.get("task") == "prepare":
            parts.append(t("Decant or chill ahead: {wines}", wines=", ".join(d.get("wines", []))))
        elif call["kind"] == "prep_missing":
            parts.append(t("Missing: {items}", items=", ".join(t(ITEM_MSGIDS[i]) for i in d.get("missing", []))))
        elif call["kind"] == "can_serve" and d.get("course"):
            parts.append(t("Course {n} is ready: {dishes}", n=d["course"], dishes="、".join(d.get("dishes", []))))
        elif call["kind"] == "car":
            parts.append(t("Key tags: {tags}", tags=call["text"]) if d.get("tags") else t("No key tag on record"))
        else:
            parts.append(t("From {role}", role=t(ROLE_MSGIDS.get(call["from_role"], "System"))))
        if call["state"] == "escalated":
            parts.append(t(STATE_MSGIDS.get(call["escalation_reason"] or "no_ack", "Nobody answered")))
        elif call["state"] == "resounded":
            parts.append(t(STATE_MSGIDS["resounded"]))
        return " · ".join(p for p in parts if p)

    def _buttons(self, app, dev) -> None:
        sends = self.ids.sends
        want = SENDS.get(dev.role, ("help",))
        ordering = dev.role == "butler" and app.sm.has_screen("order")    # the butler takes the room's order
        if [getattr(b, "kind", None) for b in sends.children[::-1]] != list(want) + ["order"] * ordering \
                or app.lang != getattr(sends, "lang", ""):
            sends.clear_widgets()
            for kind in want:
                b = Factory.SecondaryButton(text=app.fx(app.tr(KIND_MSGIDS[kind])), font_size=24 * app.scale)
                b.kind = kind
                b.bind(on_release=lambda btn: self.send(btn.kind))
                sends.add_widget(b)
            if ordering:
                b = Factory.OButton(text=app.fx(app.tr("Order")), font_size=24 * app.scale)
                b.kind = "order"
                b.bind(on_release=lambda _btn: self.open_order())
                sends.add_widget(b)
            sends.lang = app.lang
        ticks = self.ids.ticks
        ticks.clear_widgets()
        for task in dev.tasks()[:1]:
            res_id = task["detail"]["res_id"]
            for it in task["detail"]["items"]:
                if it["ticked_by"] or (res_id, it["item"]) in dev.board.pending_ticks:
                    continue
                b = Factory.SecondaryButton(text=app.fx(f"{app.tr(ITEM_MSGIDS[it['item']])} ×{it['qty']}"),
                                            font_size=24 * app.scale)
                b.item, b.res_id = it["item"], res_id
                b.bind(on_release=lambda btn: self.tick(btn.res_id, btn.item))
                ticks.add_widget(b)

    # -- touches ------------------------------------------------------------------------
    def acknowledge(self) -> None:
        if self.top_call_id:
            App.get_running_app().device.acknowledge(self.top_call_id)
            self.ringing = False
            self.refresh()

    def open_order(self) -> None:
        app = App.get_running_app()
        app.sm.current = "order"
        app.sm.get_screen("order").refresh()

    def send(self, kind: str) -> None:
        dev = App.get_running_app().device
        room = dev.rooms[0] if dev.rooms else "lobby"
        dev.call(kind, room)
        self.refresh()

    def tick(self, res_id: str, item: str) -> None:
        App.get_running_app().device.tick(res_id, item)
        self.refresh()

    def valet_scan(self, op: str) -> None:
        """The valet's scan field: ``park`` (a reservation number or a room) or ``return`` (the
        key tag's QR code, typed by the wedge scanner, Enter sends it)."""
        app = App.get_running_app()
        dev = app.device
        code = self.ids.scan.text.strip()
        if not code:
            return
        from pos.club.ids import ulid

        body = {"op": op, "staff": dev.staff, "device": dev.device, "request": ulid()}   # sent twice: done once
        if op == "park":
            body.update({"room": code} if len(code) <= 4 else {"res_id": code})
        else:
            body["code"] = code
        dev.message = ""
        dev.bus.publish(dev.topics.inbox("valet"), body, response_topic=dev.topics.reply(dev.device))
        log.info("club valet %s: %s %s sent", dev.device, op, code)
        self.ids.scan.text = ""
        self.scanned = app.tr("Sent: {code}", code=code)
        self.refresh()


class RoleApp(App):
    """One role's screen on a phone or a tablet, for one :class:`~kiosk.club.device.ClubDevice`."""

    lang = StringProperty("zh-Hans")
    font = StringProperty("")
    scale = NumericProperty(1.0)
    touch_min = NumericProperty(0)

    def __init__(self, device, language: str = "zh-Hans", **kwargs):
        super().__init__(**kwargs)
        self.device = device
        self.set_language(language)
        self.title = f"onestop club - {device.role}"
        self.chime = None                         # made in build(): Kivy's audio wants the app
        self._refresh = Clock.create_trigger(self._refresh_now)
        device.on_change = self._changed

    def show(self, device) -> None:
        """Show another device's screen (the demo walks through the roles on one window)."""
        self.device.on_change = None
        self.device = device
        device.on_change = self._changed
        self.role_screen.ringing = False
        self.role_screen.refresh()

    def set_language(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}")
        self.font = font_set(lang).primary
        self.lang = lang
        if getattr(self, "sm", None) is not None:
            self._refresh()

    def tr(self, msgid: str, **kw) -> str:
        return tr(msgid, self.lang, **kw)

    def t(self, msgid: str, _lang: str | None = None, **kw) -> str:
        return font_set(self.lang).markup(tr(msgid, self.lang, **kw))

    def fx(self, text: str, _lang: str | None = None) -> str:
        return font_set(self.lang).markup(text or "")

    def build(self):
        _load_kv()
        self.sm = ScreenManager(transition=NoTransition())
        self.chime = Chime()
        self.role_screen = RoleScreen(name="role")
        self.sm.add_widget(self.role_screen)
        if self.device.role == "butler" and self.device.rooms:
            from .order_phone import PhoneOrderScreen

            self.sm.add_widget(PhoneOrderScreen(name="order"))
        self._rescale(Window, Window.size)
        Window.bind(size=self._rescale)
        self._status_ev = Clock.schedule_interval(lambda _dt: self._refresh(), 1.0)   # connection status
        self.role_screen.refresh()
        return self.sm

    def on_stop(self):
        self._status_ev.cancel()
        self._refresh.cancel()
        Window.unbind(size=self._rescale)
        self.device.on_change = None

    def _rescale(self, _win, size):
        w, h = size
        self.scale = max(0.5, min(1.5, min(w, h) / 720.0))     # a phone's short side is the unit
        self.touch_min = mm(15)

    def _changed(self, sound: bool) -> None:          # network thread
        if sound:
            Clock.schedule_once(self._ring)
        self._refresh()

    def _ring(self, *_):
        self.role_screen.ringing = True
        if self.chime is not None:
            self.chime.ring()

    def _refresh_now(self, *_):
        if App.get_running_app() is self:
            self.role_screen.refresh()
            if self.sm.current == "order":
                self.sm.current_screen.refresh()
