"""The desk pack's front ends (``onestop desk``: the dispatcher's console)."""

from __future__ import annotations

import logging
from pathlib import Path

__all__ = ["community_name", "take_photo"]

log = logging.getLogger(__name__)


def community_name(app) -> str:
    """The community's name (``[desk] site_name``) on the desk's screens and slips, else the site's."""
    return app.site.get("desk", "site_name") or app.site_name


def take_photo(app, stem: str, on_done) -> None:
    """A frame from the ``camera`` device, read in a worker (never on the UI thread) and kept as
    ``desk-photos/<stem>.jpg`` beside the store; ``on_done(file name or None)`` runs on the UI
    thread (None: no camera configured, or it gave no frame; the log says why)."""
    from .. import worker

    url = app.site_services.device("camera")
    folder = Path(app.store_path).parent / "desk-photos"

    def shoot():
        from drivers.errors import OnestopError
        from drivers.registry import open_device

        if not url:
            log.warning("desk photo %s: no camera configured", stem)
            return None
        try:
            cam = open_device(url, "camera")
            try:
                frame = cam.read_frame()
            finally:
                cam.close()
        except (OnestopError, ValueError) as exc:
            log.warning("desk photo %s: camera %s failed: %s", stem, url, exc)
            return None
        if frame is None:
            log.warning("desk photo %s: camera %s gave no frame", stem, url)
            return None
        import cv2

        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{stem}.jpg"
        if not cv2.imwrite(str(path), frame):
            log.warning("desk photo %s: cannot write %s", stem, path)
            return None
        return path.name

    def failed(exc):
        log.error("desk photo %s: %s", stem, exc)
        on_done(None)

    worker.submit(shoot, on_done, failed)


def demo_camera(app) -> None:
    """In ``onestop demo``, with no camera configured: a file camera (``camera+file://``, the
    platform's virtual camera) showing a drawn scene, so the demo's photos go through the real
    camera driver. Nothing happens outside the demo or when a camera is configured."""
    if app.demo_world is None or app.site.devices.get("camera"):
        return
    from PIL import Image, ImageDraw

    scene = Path(app.demo_world.dir) / "desk-camera.png"
    if not scene.exists():
        scene.parent.mkdir(parents=True, exist_ok=True)
        im = Image.new("RGB", (640, 480), (214, 206, 190))           # a wall
        d = ImageDraw.Draw(im)
        d.rectangle((0, 360, 640, 480), fill=(120, 110, 100))          # the floor
        d.rectangle((60, 120, 600, 150), fill=(150, 155, 165))         # a pipe
        d.rectangle((300, 110, 340, 160), fill=(90, 95, 105))          # its joint
        for i in range(6):                                              # dripping
            d.ellipse((312, 175 + i * 30, 328, 195 + i * 30), fill=(60, 120, 200))
        d.ellipse((250, 380, 400, 420), fill=(70, 120, 190))           # a puddle
        im.save(scene)
    app.site.values.setdefault("devices", {})["camera"] = f"camera+file://{scene}"
    log.info("demo: the desk's photos come from the file camera %s", scene)


class Says:
    """A desk screen's message line (its ``message`` property) in the current language:
    :meth:`say` keeps the msgid and its values so that :meth:`retell` shows it again after a change
    of language; the values of the keys in ``TRANSLATED`` are msgids too (an order's state)."""

    TRANSLATED = ("state",)
    _said = None

    def say(self, msgid: str, **kw) -> None:
        self._said = (msgid, kw) if msgid else None
        self.retell()

    def retell(self) -> None:
        from kivy.app import App

        app = App.get_running_app()
        if self._said is None:
            self.message = ""
            return
        msgid, kw = self._said
        self.message = app.t(msgid, **{k: app.t(v) if k in self.TRANSLATED else v for k, v in kw.items()})
