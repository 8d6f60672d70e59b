"""Naming rule v1: N1–N7 on real-looking product names, and the suggestion always being compliant."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from core.exceptions import ValidationFailed
from standards.naming import (
    FORBIDDEN_TERMS,
    FORM_WORDS,
    name_check,
    name_normalize,
    naming_rules_as_json,
)
from standards.vocabularies import vocabulary_codes

EXAMPLE = Path(__file__).resolve().parents[1] / "docs/examples/product-descriptor.json"

GOOD_NAMES = [
    ("上海市新能源汽车充电桩运行数据集", "dataset", ["310000"]),
    ("浙江省企业信用评价数据接口", "api", ["330000"]),
    ("杭州市二手房成交价格指数", "report", ["330100"]),
    ("深圳市跨境电商物流时效分析报告", "report", ["440300"]),
    ("广东省中小企业信贷风险评估模型", "model", ["440000"]),
    ("北京市公共交通客流监测平台", "application", ["110000"]),
    ("全国工商企业登记信息查询接口", "api", ["100000"]),
    ("贵州省气象灾害预警数据服务", "service", ["520000"]),
    ("上海市最低工资标准数据集", "dataset", ["310000"]),  # 最低工资 is a legal term, not a boast
    ("江苏省第一产业增加值数据", "dataset", ["320000"]),
    ("成都市商圈客流数据集（2024年版）", "dataset", ["510100"]),
    ("上海浦东新区企业ESG评级数据集", "dataset", ["310115"]),
    ("吉林省粮食产量数据库", "dataset", ["220000"]),
    ("重庆市物流园区车辆进出数据 API", "api", ["500000"]),
    ("上海市徐汇区人口热力数据集", "dataset", ["310104"]),  # a city prefix for a district's data
    ("浙江省杭州市企业信用评价数据接口", "api", ["330100"]),
]


@pytest.mark.parametrize(("name", "form", "coverage"), GOOD_NAMES)
def test_good_names_are_compliant_without_warnings(name, form, coverage):
    verdict = name_check(name, product_form=form, spatial_coverage=coverage)
    assert verdict.compliant, verdict.violations
    assert verdict.violations == ()
    assert verdict.suggestion is None


BAD_NAMES = [
    ("上海市最全企业工商信息数据集", "dataset", ["310000"], "naming.forbidden_term"),
    ("上海市最新企业工商信息数据集", "dataset", ["310000"], "naming.forbidden_term"),
    ("浙江省第一企业信用评价数据接口", "api", ["330000"], "naming.forbidden_term"),
    ("国家级企业信用评价数据接口", "api", ["100000"], "naming.forbidden_term"),
    ("全国唯一企业信用数据集", "dataset", ["100000"], "naming.forbidden_term"),
    ("上海市独家充电桩运行数据集", "dataset", ["310000"], "naming.forbidden_term"),
    ("上海市顶级商圈客流数据集", "dataset", ["310000"], "naming.forbidden_term"),
    ("上海市100%准确企业数据集", "dataset", ["310000"], "naming.forbidden_term"),
    ("上海市１００％准确企业数据集", "dataset", ["310000"], "naming.forbidden_term"),
    ("杭州市NO.1物流时效指数", "report", ["330100"], "naming.forbidden_term"),
    ("杭州市ｔｏｐ1物流时效指数", "report", ["330100"], "naming.forbidden_term"),
    ("上海市企业信用分析报告", "dataset", ["310000"], "naming.form_word"),
    ("上海市企业信用评价", "dataset", ["310000"], "naming.form_word"),
    ("浙江省企业信用评价数据集", "api", ["330000"], "naming.form_word"),
    ("浙江省企业信用评价接口", "report", ["330000"], "naming.form_word"),
    ("数据集", "dataset", ["310000"], "naming.length"),
    ("上海数据集", "dataset", ["310000"], "naming.length"),
    ("上海市" + "企业信用" * 10 + "数据集", "dataset", ["310000"], "naming.length"),
    ("上海市数据集", "dataset", ["310000"], "naming.content"),
    ("上海市充电桩🚗运行数据集", "dataset", ["310000"], "naming.characters"),
    ("上海市充电桩\u0007运行数据集", "dataset", ["310000"], "naming.characters"),
    ("上海市充电桩运行数据集！", "dataset", ["310000"], "naming.characters"),
    ("上海市《充电桩》运行数据集", "dataset", ["310000"], "naming.characters"),
    (" 上海市充电桩运行数据集", "dataset", ["310000"], "naming.characters"),
    ("上海市充电桩运行数据集 ", "dataset", ["310000"], "naming.characters"),
    ("北京市新能源汽车充电桩运行数据集", "dataset", ["310000"], "naming.region_mismatch"),
    ("北京新能源汽车充电桩运行数据集", "dataset", ["310000"], "naming.region_mismatch"),
    ("浙江省企业信用评价数据接口", "api", ["320000", "310000"], "naming.region_mismatch"),
    ("全国企业信用评价数据接口", "api", ["310000"], "naming.region_mismatch"),  # 全国 needs 100000
]


@pytest.mark.parametrize(("name", "form", "coverage", "code"), BAD_NAMES)
def test_bad_names_break_the_rule(name, form, coverage, code):
    verdict = name_check(name, product_form=form, spatial_coverage=coverage)
    assert code in [v.code for v in verdict.violations]
    assert not verdict.compliant


def test_every_forbidden_term_found_is_reported():
    verdict = name_check("上海市最全最新独家企业数据集", product_form="dataset", spatial_coverage=["310000"])
    terms = [v.message_en for v in verdict.violations if v.code == "naming.forbidden_term"]
    assert len(terms) == 3
    assert verdict.suggestion == "上海市企业数据集"


@pytest.mark.parametrize("term", FORBIDDEN_TERMS)
def test_each_forbidden_term_is_caught(term):
    verdict = name_check(f"上海市{term}企业信用数据集", product_form="dataset", spatial_coverage=["310000"])
    assert "naming.forbidden_term" in [v.code for v in verdict.violations]


def test_missing_subject_is_a_warning_only():
    verdict = name_check("新能源汽车充电桩运行数据集", product_form="dataset", spatial_coverage=["310000"])
    assert verdict.compliant
    assert [(v.rule, v.code, v.severity) for v in verdict.violations] == [("N6", "naming.subject", "warning")]
    assert verdict.suggestion == "上海市新能源汽车充电桩运行数据集"


def test_provider_short_name_is_a_subject():
    verdict = name_check(
        "沪电智联充电桩运行数据集",
        product_form="dataset",
        spatial_coverage=["310000"],
        provider_short_names=["沪电智联"],
    )
    assert verdict.violations == ()


def test_region_within_coverage_is_fine_and_district_names_are_not_cities():
    assert name_check("杭州市物流时效指数", product_form="report", spatial_coverage=["330000"]).compliant
    # 朝阳区 (Beijing) must not be read as 朝阳市 (Liaoning).
    verdict = name_check("朝阳区商圈客流数据集", product_form="dataset", spatial_coverage=["110000"])
    assert "naming.region_mismatch" not in [v.code for v in verdict.violations]


def test_duplicates_compare_normalized():
    taken = {name_normalize("上海市充电桩运行数据集")}
    for name in ("上海市充电桩运行数据集", "上海市充电桩运行数据集", "上海市充电桩运行 数据集"):
        if name == "上海市充电桩运行 数据集":
            taken_here = {name_normalize("上海市充电桩运行  数据集")}
        else:
            taken_here = taken
        verdict = name_check(
            name, product_form="dataset", spatial_coverage=["310000"], taken_names=taken_here
        )
        assert [v.code for v in verdict.violations] == ["naming.duplicate"]
    verdict = name_check(
        "上海市充电桩运行数据集", product_form="dataset", spatial_coverage=["310000"], taken_names=taken
    )
    assert verdict.suggestion == "上海市充电桩运行数据集（二）"


def test_name_normalize():
    assert name_normalize("  上海市ＡＰＩ  数据\t接口 ") == "上海市api数据接口"
    assert name_normalize("上海市 充电桩·运行-数据集（二）") == "上海市充电桩运行数据集二"
    assert name_normalize("國家級 No.1 数据") == "国家级no1数据"


@pytest.mark.parametrize(
    ("name", "form", "coverage", "suggestion"),
    [
        ("上海市企业信用分析报告", "dataset", ["310000"], "上海市企业信用数据集"),
        ("上海市企业信用数据", "api", ["310000"], "上海市企业信用数据接口"),
        ("北京市交通出行数据集", "dataset", ["310000"], "上海市交通出行数据集"),
        ("全国最全企业工商信息数据集", "dataset", ["100000"], "全国企业工商信息数据集"),
        ("企业信用评价", "dataset", ["330100"], "杭州市企业信用评价数据集"),
        ("浦东新区企业ESG评级数据集", "dataset", ["310115"], "上海市浦东新区企业ESG评级数据集"),
    ],
)
def test_suggestions_for_common_mistakes(name, form, coverage, suggestion):
    assert name_check(name, product_form=form, spatial_coverage=coverage).suggestion == suggestion


def test_no_suggestion_when_nothing_can_be_derived():
    assert name_check("数据集", product_form="dataset", spatial_coverage=["310000"]).suggestion is None


FRAGMENTS = [
    "上海市", "浙江", "北京市", "杭州", "全国", "最全", "第一", "国家级", "独家", "100%", "ＮＯ．１",
    "企业信用", "新能源汽车", "充电桩", "运行", "客流", "ESG", "评级", "数据集", "数据", "接口", "API",
    "报告", "指数", "模型", "平台", "服务", "解决方案", "（2024年版）", "🚗", "!", " ", "\t", "《", "》",
    "x" * 30, "・", "最低工资",
]  # fmt: skip


def test_suggestion_always_passes_its_own_check():
    rng = random.Random(4754)
    forms = sorted(vocabulary_codes("product_form"))
    coverages = [[], ["310000"], ["330100"], ["100000"], ["310115"], ["110000", "310000"], ["500200"]]
    suggested = 0
    for _ in range(3000):
        name = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 6)))
        form = rng.choice(forms)
        coverage = rng.choice(coverages)
        taken = {name_normalize(name)} if rng.random() < 0.2 else set()
        verdict = name_check(name, product_form=form, spatial_coverage=coverage, taken_names=taken)
        if verdict.suggestion is not None:
            suggested += 1
            again = name_check(
                verdict.suggestion, product_form=form, spatial_coverage=coverage, taken_names=taken
            )
            assert again.compliant, (name, verdict.suggestion, again.violations)
    assert suggested > 1000


def test_form_words_belong_to_one_form_only():
    words = [word for words in FORM_WORDS.values() for word in words]
    assert len(words) == len(set(words))
    assert set(FORM_WORDS) == vocabulary_codes("product_form")


@pytest.mark.parametrize("name", [None, 42, 3.5, ["上海市数据集"], {"name": "x"}, b"bytes"])
def test_a_name_that_is_not_a_string_is_refused(name):
    with pytest.raises(ValidationFailed) as caught:
        name_check(name, product_form="dataset")
    assert [(e.field, e.code) for e in caught.value.errors] == [("name", "type")]


@pytest.mark.parametrize("form", ["table", "", None, 3])
def test_unknown_product_form_is_refused(form):
    with pytest.raises(ValidationFailed) as caught:
        name_check("上海市充电桩运行数据集", product_form=form)
    assert [(e.field, e.code) for e in caught.value.errors] == [("product_form", "invalid_choice")]


def test_huge_and_odd_inputs_give_a_verdict():
    verdict = name_check("x" * 10**6, product_form="dataset", spatial_coverage=["310000"])
    assert [v.code for v in verdict.violations] == ["naming.length"]
    verdict = name_check(
        "上海市充电桩运行数据集",
        product_form="dataset",
        spatial_coverage=[None, 310000, "999999", ["310000"]],  # type: ignore[list-item]
        provider_short_names="沪电",  # type: ignore[arg-type]
        taken_names=None,  # type: ignore[arg-type]
    )
    assert verdict.compliant


def test_rules_json_lists_n1_to_n7():
    rules = naming_rules_as_json()
    assert [r["rule"] for r in rules["rules"]] == ["N1", "N2", "N3", "N4", "N5", "N6", "N6", "N7"]
    assert rules["form_words"]["dataset"][0] == "数据集"
    json.dumps(rules)


def test_example_descriptor_name_is_compliant_without_warnings():
    descriptor = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    verdict = name_check(
        descriptor["name"],
        product_form=descriptor["product_form"],
        spatial_coverage=descriptor["spatial_coverage"],
    )
    assert verdict.compliant and verdict.violations == ()
