"""CJK fonts for the screens, with our own fallback for rare name characters.

* Kivy's SDL2 text provider opens only face 0 of a ``.ttc``; face 0 of Debian's Noto Sans CJK is
  Japanese. So the Simplified (SC, face 2) and Traditional (TC, face 3) faces are extracted once
  into the cache directory with fontTools (the SIL OFL allows it).
* Kivy has no automatic font fallback. Characters the primary face lacks (GB 18030 rare name
  characters such as 𠀀 in CJK Extension B) are wrapped in ``[font=...]`` markup runs pointing at
  a face that has them (BabelStone Han, HanaMin A/B). Coverage is read from each font's cmap with
  fontTools and cached as a bitmap, so start-up does not parse 16 MB fonts.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

__all__ = ["FontSet", "font_set", "escape_markup", "covered", "cache_dir", "FALLBACKS", "NOTO_TTC"]

NOTO_TTC = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
NOTO_FACES = {"SC": 2, "TC": 3}
#: fallback faces, tried in order, for characters the primary face lacks
FALLBACKS = [
    "/usr/share/fonts/truetype/babelstone/BabelStoneHan.ttf",
    "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",
    "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",
]
LANG_FACE = {"zh-Hans": "SC", "zh-Hant": "TC", "en": "SC"}

_lock = threading.Lock()


def cache_dir() -> Path:
    d = Path(os.environ.get("ONESTOP_CACHE_DIR") or platformdirs.user_cache_dir("onestop", appauthor=False)) / "fonts"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _coverage_path(font: str) -> Path:
    st = os.stat(font)
    return cache_dir() / f"{Path(font).stem}-{st.st_size}-{int(st.st_mtime)}.cov"


def _write_coverage(font: str, cmap: dict) -> None:
    bits = bytearray(0x110000 // 8)
    for cp in cmap:
        if cp < 0x110000:
            bits[cp >> 3] |= 1 << (cp & 7)
    tmp = _coverage_path(font).with_suffix(".tmp")
    tmp.write_bytes(bytes(bits))
    os.replace(tmp, _coverage_path(font))


@lru_cache(maxsize=None)
def coverage(font: str) -> bytes:
    """A bitmap of the code points ``font`` has a glyph for (cached on disk)."""
    path = _coverage_path(font)
    if not path.exists():
        from fontTools.ttLib import TTFont

        _write_coverage(font, TTFont(font, lazy=True).getBestCmap())
    return path.read_bytes()


def covered(font: str, ch: str) -> bool:
    cp = ord(ch)
    bits = coverage(font)
    return bool(bits[cp >> 3] & (1 << (cp & 7)))


def extract_face(face: str) -> str:
    """Path of the extracted Noto Sans CJK ``SC``/``TC`` face (extracting it on first use)."""
    out = cache_dir() / f"NotoSansCJK{face}-Regular.otf"
    if out.exists():
        return str(out)
    with _lock:
        if out.exists():
            return str(out)
        from fontTools.ttLib import TTCollection

        log.info("extracting Noto Sans CJK %s from %s (first start only)", face, NOTO_TTC)
        coll = TTCollection(NOTO_TTC)
        font = coll.fonts[NOTO_FACES[face]]
        tmp = out.with_suffix(".tmp")
        font.save(str(tmp))
        os.replace(tmp, out)
        _write_coverage(str(out), font.getBestCmap())
    return str(out)


def escape_markup(text: str) -> str:
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")


class FontSet:
    """The primary face for a language plus the fallback chain."""

    def __init__(self, primary: str, fallbacks: list[str]):
        self.primary = primary
        self.fallbacks = [f for f in fallbacks if os.path.exists(f)]

    def face_for(self, ch: str) -> str | None:
        """The font that draws ``ch``: the primary if it can, else the first fallback that can."""
        if ch in "\n\t " or covered(self.primary, ch):
            return self.primary
        for f in self.fallbacks:
            if covered(f, ch):
                return f
        return None

    def missing(self, text: str) -> list[str]:
        """Characters no font in the set can draw (they would render as boxes)."""
        return sorted({ch for ch in text if self.face_for(ch) is None})

    def markup(self, text: str) -> str:
        """Escaped Kivy markup drawing ``text`` with the primary face and fallback runs."""
        out: list[str] = []
        run_font, run = self.primary, []

        def flush():
            if not run:
                return
            s = escape_markup("".join(run))
            out.append(s if run_font == self.primary else f"[font={run_font}]{s}[/font]")

        for ch in text:
            face = self.face_for(ch) or self.primary
            if face != run_font:
                flush()
                run_font, run = face, []
            run.append(ch)
        flush()
        return "".join(out)


@lru_cache(maxsize=None)
def font_set(language: str) -> FontSet:
    return FontSet(extract_face(LANG_FACE.get(language, "SC")), FALLBACKS)
