"""Every user-facing string exists in zh-Hans, zh-Hant and en."""

import gettext
import io
import re
from pathlib import Path

import pytest

from drivers import errors as derrors
from kiosk.i18n import LANGUAGES, compile_mo, parse_po, po_path, tr

ROOT = Path(__file__).resolve().parent.parent
_CALL = re.compile(r"""\b(?:app\.t|tr|_)\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def used_msgids() -> set[str]:
    """Literal msgids passed to app.t()/tr()/_() in kv and Python, and the declared msgid tables."""
    found = set()
    files = list((ROOT / "assets" / "kv").rglob("*.kv")) + list((ROOT / "kiosk").rglob("*.py"))
    for f in files:
        for m in _CALL.finditer(f.read_text(encoding="utf-8")):
            found.add(m.group(1) if m.group(1) is not None else m.group(2))
    from kiosk.patient.home import SERVICES
    from kiosk.screens.login import LoginScreen  # noqa: F401 - messages are literals in the module
    from kiosk.screens.shell import ROLE_MSGIDS, STATE_MSGIDS

    found |= set(ROLE_MSGIDS.values()) | set(STATE_MSGIDS.values()) | {m for _, m in SERVICES}
    login_src = (ROOT / "kiosk" / "screens" / "login.py").read_text(encoding="utf-8")
    found |= set(re.findall(r'self\.message = "([^"]+)"', login_src))
    app_src = (ROOT / "kiosk" / "app.py").read_text(encoding="utf-8")
    found |= set(re.findall(r'self\.notice = "([^"]+)"', app_src))
    return {s.replace('\\"', '"') for s in found if s}


def error_messages() -> set[str]:
    """user_message of every error class we raise (the person at the screen reads it)."""
    out = set()
    import pos.errors as perrors

    for mod in (derrors, perrors):
        for name in dir(mod):
            obj = getattr(mod, name)
            if isinstance(obj, type) and issubclass(obj, derrors.OnestopError):
                out.add(obj.user_message)
    return out


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_used_string_is_in_every_catalogue(lang):
    catalogue = parse_po(po_path(lang).read_text(encoding="utf-8"))
    missing = sorted((used_msgids() | error_messages()) - set(catalogue))
    assert not missing, f"{lang} lacks: {missing}"
    empty = sorted(k for k, v in catalogue.items() if k and not v.strip())
    assert not empty, f"{lang} has empty translations: {empty}"


def test_catalogues_have_the_same_msgids():
    keys = [set(parse_po(po_path(lang).read_text(encoding="utf-8"))) for lang in LANGUAGES]
    assert keys[0] == keys[1] == keys[2]


def test_chinese_catalogues_are_really_chinese():
    hans = parse_po(po_path("zh-Hans").read_text(encoding="utf-8"))
    hant = parse_po(po_path("zh-Hant").read_text(encoding="utf-8"))
    assert hans["Admission check-in"] == "入院登记" and hant["Admission check-in"] == "入院登記"
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for k in hans:
        if k and re.search(r"[A-Za-z]{3}", k) and not k.startswith(("Content-", "OK")):
            assert cjk.search(hans[k]) and cjk.search(hant[k]), k


def test_babel_mo_round_trips_through_gettext():
    entries = {"": "Content-Type: text/plain; charset=UTF-8\n", "Back": "返回", "Waiting {n}": "待同步 {n}"}
    t = gettext.GNUTranslations(io.BytesIO(compile_mo(entries)))
    assert t.gettext("Back") == "返回" and t.gettext("Waiting {n}") == "待同步 {n}"
    assert t.gettext("unknown") == "unknown"


def test_tr_fills_placeholders():
    assert tr("Please go to window {window}.", "zh-Hans", window="3") == "请到3号窗口办理。"
    assert tr("Please go to window {window}.", "en", window="3") == "Please go to window 3."
