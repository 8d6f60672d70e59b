"""Security finding 7: the naming rule read a name code point by code point, so inner spaces and
punctuation (第 一, 全 网, TOP-1, No·1), variant characters (惟一, 苐一, 冣全, 第壹) and unassigned
code points got past it, and inner spaces made a copy of a name look new. Every case here failed
before names were normalised (standards/naming_match.py)."""

from __future__ import annotations

import pytest

from standards.demand import title_errors
from standards.naming import EXEMPT_PHRASES, FORBIDDEN_TERMS, forbidden_spans, name_check, name_normalize

# (name, product form, the term as the name shows it)
BYPASSES = [
    ("上海市第 一企业信用数据集", "dataset", "第 一"),
    ("上海市全 网企业工商信息数据集", "dataset", "全 网"),
    ("杭州市TOP-1物流时效指数", "report", "TOP-1"),
    ("杭州市No·1物流时效指数", "report", "No·1"),
    ("杭州市ＴＯＰ－１物流时效指数", "report", "ＴＯＰ－１"),
    ("上海市惟一企业信用数据集", "dataset", "惟一"),
    ("上海市苐一企业信用数据集", "dataset", "苐一"),
    ("上海市冣全企业工商信息数据集", "dataset", "冣全"),
    ("上海市第壹企业信用数据集", "dataset", "第壹"),
    ("國家級企业信用评价数据接口", "api", "國家級"),
    ("上海市獨家充电桩运行数据集", "dataset", "獨家"),
    ("上海市頂級商圈客流数据集", "dataset", "頂級"),
    ("上海市絕對准确企业数据集", "dataset", "絕對"),
    ("上海市極致充电桩运行数据集", "dataset", "極致"),
    ("上海市全網企业工商信息数据集", "dataset", "全網"),
    ("上海市首選充电桩运行数据集", "dataset", "首選"),
    ("上海市第（一）企业信用数据集", "dataset", "第（一"),  # the term ends where 一 does
    ("上海市100 %准确企业数据集", "dataset", "100 %"),
    ("上海市第—企业信用数据集", "dataset", "第—"),  # an em dash drawn where 一 belongs
    ("上海市全\u200b网企业工商信息数据集", "dataset", "全\u200b网"),  # a zero-width space
]


@pytest.mark.parametrize(("name", "form", "shown"), BYPASSES)
def test_a_hidden_forbidden_term_is_caught_and_shown_as_written(name, form, shown):
    verdict = name_check(name, product_form=form, spatial_coverage=["310000", "330100"])
    found = [v for v in verdict.violations if v.code == "naming.forbidden_term"]
    assert len(found) == 1, verdict.violations
    assert f"“{shown}" in found[0].message and f"“{shown}" in found[0].message_en
    assert not verdict.compliant


# 最 alone is a term: the terms with 最 in them were caught already.
@pytest.mark.parametrize("term", [t for t in FORBIDDEN_TERMS if len(t) > 1 and "最" not in t])
@pytest.mark.parametrize("separator", [" ", "·", "-", "_", "（", "\u3000", "、"])
def test_each_forbidden_term_is_caught_with_separators_inside(term, separator):
    name = f"上海市{separator.join(term)}企业信用数据集"
    verdict = name_check(name, product_form="dataset", spatial_coverage=["310000"])
    assert "naming.forbidden_term" in [v.code for v in verdict.violations]


def test_spans_are_in_the_text_as_written():
    text = "上海市第 一、全 网 ＮＯ．１数据"
    assert forbidden_spans(text) == [(3, 6, "第 一"), (7, 10, "全 网"), (11, 15, "ＮＯ．１")]


def test_one_term_written_two_ways_is_reported_once():
    verdict = name_check("上海市第 一和第壹企业数据集", product_form="dataset", spatial_coverage=["310000"])
    found = [v for v in verdict.violations if v.code == "naming.forbidden_term"]
    assert len(found) == 1 and "“第 一（即第一）”" in found[0].message


def _spaced_after_term(phrase: str) -> str:
    term = max((t for t in FORBIDDEN_TERMS if phrase.startswith(t)), key=len)
    return f"{term} {phrase[len(term) :]}"


@pytest.mark.parametrize("phrase", EXEMPT_PHRASES)
def test_exempt_phrases_stay_exempt_with_spaces_inside(phrase):
    assert forbidden_spans(f"上海市{_spaced_after_term(phrase)}数据集") == []


@pytest.mark.parametrize(
    ("name", "coverage"),
    [
        ("上海市最低 工资标准数据集", ["310000"]),
        ("江苏省第一 产业增加值数据", ["320000"]),
        ("全国国家级 自然保护区边界数据集", ["100000"]),
        ("上海市企业唯一 标识查询接口", ["310000"]),
    ],
)
def test_names_with_spaced_exempt_phrases_are_compliant(name, coverage):
    form = "api" if name.endswith("接口") else "dataset"
    verdict = name_check(name, product_form=form, spatial_coverage=coverage)
    assert verdict.violations == ()


# Code points that stay what they are whatever Unicode version a node's Python knows.
UNREADABLE = [
    ("\U0002ffff", "U+2FFFF"),  # a noncharacter (never assigned), inside the range N2 took for CJK
    ("\ufdd0", "U+FDD0"),  # a noncharacter
    ("\ue000", "U+E000"),  # private use
    ("\U000f0000", "U+F0000"),  # supplementary private use
    ("\ud800", "U+D800"),  # a lone surrogate
]


@pytest.mark.parametrize(("chars", "shown"), UNREADABLE)
def test_unassigned_private_and_surrogate_code_points_break_n2(chars, shown):
    name = f"上海市充电桩{chars}运行数据集"
    verdict = name_check(name, product_form="dataset", spatial_coverage=["310000"])
    found = [v for v in verdict.violations if v.code == "naming.characters"]
    assert len(found) == 1 and found[0].rule == "N2"
    assert shown in found[0].message and shown in found[0].message_en
    assert "unassigned" in found[0].message_en
    assert not verdict.compliant
    assert verdict.suggestion == "上海市充电桩运行数据集"


def test_other_bad_characters_are_reported_beside_unassigned_ones():
    name = "上海市充电桩🚗\ue000运行数据集"
    verdict = name_check(name, product_form="dataset", spatial_coverage=["310000"])
    found = [v for v in verdict.violations if v.code == "naming.characters"]
    assert len(found) == 2
    assert "U+1F697" in found[0].message_en and "U+E000" in found[1].message_en


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("全 网充电桩数据采购", "全 网"),
        ("采购惟一的充电桩数据", "惟一"),
        ("充电桩数据采购ＮＯ．１", "ＮＯ．１"),
        ("充电桩数据采购ТОР1", "ТОР1"),  # Cyrillic letters drawn like Latin ones
    ],
)
def test_demand_titles_meet_the_same_reading(title, shown):
    errors = title_errors(title)
    assert [(e.field, e.code) for e in errors] == [("title", "naming.forbidden_term")]
    assert shown in errors[0].message and shown in errors[0].message_en


@pytest.mark.parametrize(("chars", "shown"), UNREADABLE)
def test_demand_titles_refuse_unassigned_code_points(chars, shown):
    errors = title_errors(f"充电桩数据{chars}采购")
    assert [(e.field, e.code) for e in errors] == [("title", "naming.characters")]
    assert shown in errors[0].message_en


def test_demand_title_exemptions_still_hold():
    assert title_errors("最低 工资标准数据采购") == []


@pytest.mark.parametrize(
    ("name", "twin"),
    [
        ("上海市 充电桩 数据集", "上海市充电桩数据集"),
        ("上海市充电桩-运行数据集", "上海市充电桩运行数据集"),
        ("上海市充电桩·运行_数据集", "上海市充电桩运行 数据集"),
        ("重庆市物流园区车辆进出数据 API", "重庆市物流园区车辆进出数据API"),
    ],
)
def test_duplicates_ignore_inner_spaces_and_separators(name, twin):
    assert name_normalize(name) == name_normalize(twin)
    form = "api" if name.endswith("API") else "dataset"
    verdict = name_check(
        name, product_form=form, spatial_coverage=["310000", "500000"], taken_names={name_normalize(twin)}
    )
    assert [v.code for v in verdict.violations] == ["naming.duplicate"]


def _create(api, descriptor):
    return api.post("/api/v1/products/", {"descriptor": descriptor}, format="json")


def _error_codes(response, field):
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    return [e["code"] for e in error["errors"] if e["field"] == field]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["上海市第 一新能源汽车充电桩数据集", "上海市冣全新能源汽车充电桩数据集"])
def test_the_api_refuses_a_product_named_with_a_hidden_term(alice_api, example_descriptor, name):
    example_descriptor["name"] = name
    assert "naming.forbidden_term" in _error_codes(_create(alice_api, example_descriptor), "descriptor.name")


@pytest.mark.django_db
def test_the_api_refuses_a_product_named_with_an_unassigned_code_point(alice_api, example_descriptor):
    example_descriptor["name"] = "上海市新能源汽车\U0002ffff充电桩运行数据集"
    assert "naming.characters" in _error_codes(_create(alice_api, example_descriptor), "descriptor.name")


@pytest.mark.django_db
def test_the_api_refuses_a_name_that_differs_only_by_spaces(alice_api, example_descriptor):
    assert _create(alice_api, example_descriptor).status_code == 201
    example_descriptor["name"] = "上海市 新能源汽车 充电桩运行数据集"
    assert _error_codes(_create(alice_api, example_descriptor), "descriptor.name") == ["naming.duplicate"]
