"""Languages zh-Hans, zh-Hant and en from gettext catalogues.

The catalogues are ``assets/locale/<lang>/LC_MESSAGES/onestop.po`` (msgids in English). They are
compiled to ``.mo`` in the cache directory when the ``.po`` is newer, and loaded with the standard
:mod:`gettext` machinery. A msgid missing from a catalogue falls back to English and is logged once
(and a test fails on it).
"""

from __future__ import annotations

import ast
import gettext
import hashlib
import logging
import os
import struct
from functools import lru_cache
from importlib import resources
from pathlib import Path

from .fonts import cache_dir

log = logging.getLogger(__name__)

__all__ = ["LANGUAGES", "parse_po", "compile_mo", "translator", "tr", "po_path"]

LANGUAGES = ("zh-Hans", "zh-Hant", "en")
_DIR = {"zh-Hans": "zh_Hans", "zh-Hant": "zh_Hant", "en": "en"}


def po_path(lang: str) -> Path:
    return Path(str(resources.files("assets") / "locale" / _DIR[lang] / "LC_MESSAGES" / "onestop.po"))


def parse_po(text: str) -> dict[str, str]:
    """msgid -> msgstr for a .po file (single-form entries; ``msgctxt`` is not used here)."""
    entries: dict[str, str] = {}
    msgid = msgstr = None
    field = None

    def done():
        if msgid is not None and msgstr is not None:
            entries[msgid] = msgstr

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            done()
            msgid, msgstr, field = ast.literal_eval(line[6:]), None, "id"
        elif line.startswith("msgstr "):
            msgstr, field = ast.literal_eval(line[7:]), "str"
        elif line.startswith('"'):
            part = ast.literal_eval(line)
            if field == "id":
                msgid += part
            elif field == "str":
                msgstr += part
        else:
            raise ValueError(f"unsupported .po line: {raw!r}")
    done()
    return entries


def compile_mo(entries: dict[str, str]) -> bytes:
    """GNU .mo bytes for the entries (the format :class:`gettext.GNUTranslations` reads)."""
    keys = sorted(entries)
    ids = [k.encode("utf-8") for k in keys]
    strs = [entries[k].encode("utf-8") for k in keys]
    n = len(keys)
    key_start = 7 * 4 + 16 * n
    offsets, blob_ids, blob_strs = [], b"", b""
    for i, s in zip(ids, strs):
        offsets.append((len(i), len(blob_ids), len(s), len(blob_strs)))
        blob_ids += i + b"\0"
        blob_strs += s + b"\0"
    val_start = key_start + len(blob_ids)
    koffsets, voffsets = [], []
    for li, oi, ls, os_ in offsets:
        koffsets += [li, key_start + oi]
        voffsets += [ls, val_start + os_]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, n, 7 * 4, 7 * 4 + n * 8, 0, 0)
    return header + struct.pack(f"{len(koffsets)}i", *koffsets) + struct.pack(f"{len(voffsets)}i", *voffsets) + blob_ids + blob_strs


def _mo_for(lang: str) -> Path:
    po = po_path(lang)
    # the cache is per user, shared by every checkout: the name carries the catalogue's digest,
    # so two checkouts with different catalogues never read each other's compiled file
    digest = hashlib.sha1(po.read_bytes()).hexdigest()[:12]
    mo = cache_dir().parent / "locale" / _DIR[lang] / "LC_MESSAGES" / f"onestop-{digest}.mo"
    if not mo.exists():
        mo.parent.mkdir(parents=True, exist_ok=True)
        tmp = mo.with_suffix(".tmp")
        tmp.write_bytes(compile_mo(parse_po(po.read_text(encoding="utf-8"))))
        os.replace(tmp, mo)
    return mo


class _Logged(gettext.NullTranslations):
    _seen: set = set()

    def gettext(self, message):
        if message not in self._seen:
            self._seen.add(message)
            log.warning("untranslated string: %r", message)
        return message


@lru_cache(maxsize=None)
def translator(lang: str) -> gettext.GNUTranslations:
    if lang not in _DIR:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
    with open(_mo_for(lang), "rb") as fh:
        t = gettext.GNUTranslations(fh)
    t.add_fallback(_Logged())
    return t


def tr(msgid: str, lang: str, **kwargs) -> str:
    """Translate ``msgid`` into ``lang`` and fill ``{placeholders}``."""
    text = translator(lang).gettext(msgid) if msgid else ""
    return text.format(**kwargs) if kwargs else text
