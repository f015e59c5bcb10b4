"""A virtual camera: frames from image files or a video file (through ``cv2.VideoCapture``).

An image is shown like a camera pointed at a still code: the same frame on every read. A folder
plays its images in name order; a video plays once (``loop`` replays it). Used by
``camera+file://`` for the demo, technicians and tests.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["FileCamera", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


class FileCamera:
    def __init__(self, path: str | Path, loop: bool = False):
        import cv2
        self.path = Path(path)
        self.loop = loop
        self._images: list = []
        self._cap = None
        self._i = 0
        if self.path.is_dir():
            files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            self._images = [cv2.imread(str(p)) for p in files]
        elif self.path.suffix.lower() in IMAGE_SUFFIXES:
            self._images = [cv2.imread(str(self.path))]
        else:
            self._cap = cv2.VideoCapture(str(self.path))
            if not self._cap.isOpened():
                raise FileNotFoundError(f"cannot open video {self.path}")
        if not self._cap and (not self._images or any(img is None for img in self._images)):
            raise FileNotFoundError(f"no readable image at {self.path}")

    def read(self):
        """The next frame (a numpy BGR array), or None when a video has ended."""
        if self._cap is not None:
            ok, frame = self._cap.read()
            if not ok and self.loop:
                import cv2
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._cap.read()
            return frame if ok else None
        frame = self._images[self._i % len(self._images)]
        if self._i + 1 < len(self._images) or self.loop:
            self._i += 1
        return frame

    def release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
