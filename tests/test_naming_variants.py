"""The variant-character table of the naming rule (standards/naming_variants.py) and the reading it feeds
(standards/naming_match.py): every listed form of every forbidden term is caught, every exempt phrase in
traditional characters stays exempt, and the fast reading of plain names is the general one."""

from __future__ import annotations

import random
import unicodedata

import pytest

from standards.naming import EXEMPT_PHRASES, FORBIDDEN_TERMS, forbidden_spans, name_check
from standards.naming_match import _general_reading, _plain_reading, forbidden_matches, reading
from standards.naming_variants import VARIANTS

FORMS: dict[str, list[str]] = {}
for _variant, _char in VARIANTS.items():
    FORMS.setdefault(_char, []).append(_variant)


def _term_variants() -> list[tuple[str, str]]:
    """(term, the term with one character replaced by one of its forms) for every form of every character."""
    cases = []
    for term in FORBIDDEN_TERMS:
        for index, char in enumerate(term.casefold()):
            for form in FORMS.get(char, []):
                cases.append((term, term[:index] + form + term[index + 1 :]))
    return cases


@pytest.mark.parametrize(("term", "written"), _term_variants())
def test_every_form_of_every_character_of_a_forbidden_term_is_caught(term, written):
    matches = forbidden_matches(f"上海市{written}企业信用数据集")
    assert [(match.text, reading(match.term).text) for match in matches][:1] == [
        (written, reading(term).text)
    ]


@pytest.mark.parametrize("term", FORBIDDEN_TERMS)
def test_each_forbidden_term_in_traditional_characters_is_caught(term):
    written = "".join(FORMS.get(char, [char])[0] for char in term)
    name = f"上海市{written}企业信用数据集"
    verdict = name_check(name, product_form="dataset", spatial_coverage=["310000"])
    assert "naming.forbidden_term" in [v.code for v in verdict.violations]


@pytest.mark.parametrize("phrase", EXEMPT_PHRASES)
@pytest.mark.parametrize("choice", [0, -1])
def test_exempt_phrases_in_traditional_characters_stay_exempt(phrase, choice):
    written = "".join(FORMS.get(char, [char])[choice] for char in phrase)
    assert forbidden_spans(f"上海市{written}统计数据集") == []


def test_the_finding_s_characters_and_the_common_traditional_forms_are_listed():
    expected = {
        "惟": "唯", "苐": "第", "冣": "最", "壹": "一", "獨": "独", "極": "极", "頂": "顶", "絕": "绝",
        "國": "国", "級": "级", "網": "网", "選": "选", "對": "对", "無": "无", "權": "权", "進": "进",
        "領": "领", "敵": "敌", "萬": "万", "發": "发", "個": "个", "優": "优", "強": "强", "準": "准",
    }  # fmt: skip
    assert {variant: VARIANTS.get(variant) for variant in expected} == expected


def test_the_table_is_well_formed():
    targets = {char for text in FORBIDDEN_TERMS + EXEMPT_PHRASES for char in text.casefold()}
    for variant, char in VARIANTS.items():
        # a key NFKC or case folding changes would never be looked up
        assert unicodedata.normalize("NFKC", variant) == variant == variant.casefold(), variant
        assert char in targets, (variant, char)  # only the characters the rule matches are mapped
        assert char not in VARIANTS and variant not in targets, variant  # no chains, terms unchanged
        assert unicodedata.category(variant)[0] == "L", variant


PLAIN = list("上海市國家級第一唯惟最冣全網NOTPnotp10%（）()·-—_ 数据集")  # all within the fast path


def test_the_fast_reading_of_plain_text_is_the_general_reading():
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(rng.choice(PLAIN) for _ in range(rng.randint(0, 12)))
        assert reading(text) == _plain_reading(text)
        assert _plain_reading(text) == _general_reading(text), text
