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
