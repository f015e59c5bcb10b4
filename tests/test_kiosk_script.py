"""No character of the wrong script (issue 20 item 21): nothing Traditional-only in the
Simplified UI and paper, nothing Simplified-only in the Traditional UI, apart from names and the
site's own data (patients, wards, fee items carry one text). The character sets are CC-CEDICT's,
from ``hanzidentifier`` (an independent list, not ours)."""

import pytest
from hanzidentifier import helpers

from kiosk.i18n import LANGUAGES, parse_po, po_path
from pos.documents.common import LABELS
from pos.hospital.demo import FEES, PEOPLE, WARDS

from .kivy_harness import _TAG, _unescape, all_widgets
from .test_kiosk_flows import go_to, kiosk  # noqa: F401 - the fixture
from .test_kiosk_journeys import start_checkin

TRAD_ONLY = helpers.TRADITIONAL_CHARACTERS - helpers.SIMPLIFIED_CHARACTERS
SIMP_ONLY = helpers.SIMPLIFIED_CHARACTERS - helpers.TRADITIONAL_CHARACTERS
WRONG = {"zh-Hans": TRAD_ONLY, "zh-Hant": SIMP_ONLY}
#: data with one text for every language: names of people, wards, buildings, fee items
DATA = sorted({p[0] for p in PEOPLE} | {w[1] for w in WARDS} | {w[2] for w in WARDS} | {f[1] for f in FEES}
              | {f[2] for f in FEES}, key=len, reverse=True)


#: each language's name on the language buttons is written in that language
LANGUAGE_NAMES = ("简体中文", "繁體中文")


def wrong_chars(text: str, lang: str, data_ok: bool = False) -> set[str]:
    for name in LANGUAGE_NAMES:
        text = text.replace(name, "")
    if data_ok:
        for name in DATA:
            text = text.replace(name, "")
    return {ch for ch in text if ch in WRONG[lang]}


def test_the_sets_tell_the_scripts_apart():
    assert wrong_chars("病區 棟 床位費 間 護理 臟", "zh-Hans") == set("區棟費間護臟")
    assert wrong_chars("病区 栋 床位费 间 护理 脏", "zh-Hant") == set("区栋费间护脏")
    assert wrong_chars("住院 入院登记", "zh-Hans") == set()


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant"])
def test_catalogues_are_in_their_own_script(lang):
    bad = {k: v for k, v in parse_po(po_path(lang).read_text(encoding="utf-8")).items() if wrong_chars(v, lang)}
    assert not bad, bad


def test_document_labels_are_in_their_own_script():
    for msgid, (hans, hant) in LABELS.items():
        assert not wrong_chars(hans, "zh-Hans"), (msgid, hans)
        assert not wrong_chars(hant, "zh-Hant"), (msgid, hant)


def test_the_traditional_catalogue_says_身分證_throughout():
    hant = parse_po(po_path("zh-Hant").read_text(encoding="utf-8"))
    assert not [v for v in hant.values() if "身份證" in v]
    assert [v for v in hant.values() if "身分證" in v]


def screen_texts(ui) -> str:
    return "\n".join(_unescape(_TAG.sub("", w.text)) for w in all_widgets(ui.app.root)
                     if isinstance(getattr(w, "text", None), str) and w.text)


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant"])
def test_a_check_in_and_its_paper_in_one_script(kiosk, lang):
    start, world = kiosk
    ui = start(language=lang)
    seen = {"home": screen_texts(ui)}
    start_checkin(ui, 1)
    scr = go_to(ui, "checkin_confirm")
    seen["confirm"] = screen_texts(ui)
    ui.tap(scr.ids.confirm)
    scr = go_to(ui, "amount")
    seen["amount"] = screen_texts(ui)
    ui.tap(scr.ids.pay)
    go_to(ui, "finish", timeout=40)
    seen["finish"] = screen_texts(ui)
    no = ui.app.flow.admission["inpatient_no"]
    h = ui.app.site_services.hospital
    for code, price in (("B001", 4500), ("N001", 2800), ("I001", 28000)):
        h.add_charge(no, code, 1000, unit_price_fen=price, service_date=h.today(), department="SURG")
    ui.tap(ui.screen().ids.done)
    go_to(ui, "home")
    ui.tap(ui.screen().ids.svc_daily_list)
    ui.tap(go_to(ui, "identify").ids.demo_card_1)
    scr = go_to(ui, "daily_list")
    seen["daily_list"] = screen_texts(ui)
    ui.tap(scr.ids.print_button)
    docs = world.receipt_printer.wait_docs(3, timeout=20)
    seen.update({f"paper {i}": d.text for i, d in enumerate(docs)})
    seen["wristband"] = str(world.label_printer.wait_docs(1)[0])
    # Simplified: nothing Traditional anywhere, data included (the demo site is a mainland one)
    site = ui.app.site_name                      # the site's own name, one text: data too
    bad = {k: wrong_chars(v.replace(site, "") if lang == "zh-Hant" else v, lang, data_ok=(lang == "zh-Hant"))
           for k, v in seen.items()}
    assert not {k: v for k, v in bad.items() if v}, bad
    assert lang != "zh-Hant" or "病區" in seen["paper 0"] or "預交金" in seen["paper 0"]
