"""Item 21: the demo hospital's wards, buildings and fee items have a text per language, each in its
own script (checked against hanzidentifier's character lists, which are not ours); English has no
Chinese characters."""

from __future__ import annotations

import re

import pytest
from hanzidentifier import helpers

from pos.hospital.demo import FEES, NAMES, WARDS, localized

TRAD_ONLY = helpers.TRADITIONAL_CHARACTERS - helpers.SIMPLIFIED_CHARACTERS
SIMP_ONLY = helpers.SIMPLIFIED_CHARACTERS - helpers.TRADITIONAL_CHARACTERS
CJK = re.compile(r"[\u3400-\u9fff\U00020000-\U0002ffff]")

STORED = {"ward": {w[1] for w in WARDS}, "building": {w[2] for w in WARDS}, "fee": {f[1] for f in FEES},
          "spec": {f[2] for f in FEES if f[2]}, "unit": {f[3] for f in FEES}}


@pytest.mark.parametrize("kind", sorted(STORED))
def test_every_demo_text_has_three_languages(kind):
    assert set(NAMES[kind]) == STORED[kind]
    for stored, texts in NAMES[kind].items():
        assert set(texts) == {"zh-Hans", "zh-Hant", "en"}, stored
        assert texts["zh-Hans"] == stored


@pytest.mark.parametrize("kind", sorted(STORED))
def test_each_text_is_in_its_own_script(kind):
    for texts in NAMES[kind].values():
        assert not set(texts["zh-Hans"]) & TRAD_ONLY, texts
        assert not set(texts["zh-Hant"]) & SIMP_ONLY, texts
        assert not CJK.search(texts["en"]), texts


def test_the_traditional_texts_differ_where_the_scripts_do():
    assert localized("ward", "心内科病区", "zh-Hant") == "心內科病區"
    assert localized("fee", "床位费(三人间)", "zh-Hant") == "床位費(三人間)"
    assert localized("ward", "儿科病区", "en") == "Paediatrics ward"
    assert localized("ward", "不在数据里", "en") == "不在数据里"
