"""Languages zh-Hans, zh-Hant and en from gettext catalogues.

The catalogues are ``assets/locale/<lang>/LC_MESSAGES/onestop.po`` (msgids in English). They are
compiled to ``.mo`` by Babel in the cache directory (one file per ``.po`` content), and loaded with the
standard :mod:`gettext` machinery. A msgid missing from a catalogue falls back to English and is logged once
(and a test fails on it).
"""

from __future__ import annotations

import gettext
import hashlib
import io
import logging
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from .fonts import cache_dir

log = logging.getLogger(__name__)

__all__ = ["LANGUAGES", "read_catalog", "parse_po", "compile_mo", "translator", "tr", "po_path"]

LANGUAGES = ("zh-Hans", "zh-Hant", "en")
_DIR = {"zh-Hans": "zh_Hans", "zh-Hant": "zh_Hant", "en": "en"}


def po_path(lang: str) -> Path:
    return Path(str(resources.files("assets") / "locale" / _DIR[lang] / "LC_MESSAGES" / "onestop.po"))


def read_catalog(lang: str) -> Catalog:
    """The Babel catalogue of ``lang`` as its ``.po`` file holds it."""
    with open(po_path(lang), "rb") as fh:
        return read_po(fh, locale=_DIR[lang])


def parse_po(text: str) -> dict[str, str]:
    """msgid -> msgstr of the single-form entries of a .po text (read by Babel)."""
    cat = read_po(io.StringIO(text))
    return {m.id: m.string for m in cat if m.id and isinstance(m.id, str)}


def compile_mo(entries: dict[str, str] | Catalog) -> bytes:
    """GNU .mo bytes (what :class:`gettext.GNUTranslations` reads), written by Babel."""
    cat = entries
    if not isinstance(entries, Catalog):
        cat = Catalog(charset="utf-8")
        for k, v in entries.items():
            if k:
                cat.add(k, v)
    buf = io.BytesIO()
    write_mo(buf, cat)
    return buf.getvalue()


def _mo_for(lang: str) -> Path:
    """The compiled catalogue, named by the hash of its ``.po`` (several checkouts share the cache,
    and a stale ``.mo`` from another one must never be read)."""
    po = po_path(lang)
    digest = hashlib.sha256(po.read_bytes()).hexdigest()[:16]
    mo = cache_dir().parent / "locale" / _DIR[lang] / "LC_MESSAGES" / f"onestop-{digest}.mo"
    if not mo.exists():
        mo.parent.mkdir(parents=True, exist_ok=True)
        tmp = mo.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(compile_mo(read_catalog(lang)))
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
