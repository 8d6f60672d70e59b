"""Product descriptor standard v1: schema and semantic rules, normalization, untrusted input, the example."""

from __future__ import annotations

import copy
import json
import random
import string
import time
from pathlib import Path

import jsonschema
import pytest
from stdnum.cn import uscc

from core.exceptions import ValidationFailed
from standards.descriptor import (
    DESCRIPTOR_VERSION,
    descriptor_json_schema,
    descriptor_validate,
)
from standards.regions import region_get, region_is_valid, region_names_for_prefix, region_province
from standards.uscc import uscc_is_valid
from standards.vocabularies import (
    VOCABULARIES,
    vocabularies_as_json,
    vocabulary_codes,
    vocabulary_label,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "docs/examples/product-descriptor.json"


def example() -> dict:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def errors_of(data: object) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        descriptor_validate(data)
    return [(e.field, e.code) for e in caught.value.errors]


def changed(path: str, value: object) -> dict:
    """The example with one field set (`a.b.0`), or removed when value is ..."""
    data = example()
    *parents, last = path.split(".")
    target = data
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    elif value is ...:
        del target[last]
    else:
        target[last] = value
    return data


# --- the example and the schema --------------------------------------------------------------------------


def test_example_is_valid_and_already_normalized():
    assert descriptor_validate(example()) == example()


def test_example_validates_against_published_json_schema_too():
    jsonschema.Draft202012Validator(descriptor_json_schema()).validate(example())


def test_schema_is_a_valid_draft_2020_12_schema_with_id_and_bilingual_titles():
    schema = descriptor_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith("/product-descriptor/1.1")
    assert schema["additionalProperties"] is False
    assert " / " in schema["properties"]["update_frequency"]["title"]
    assert schema["properties"]["update_frequency"]["enum"] == [
        t.code for t in VOCABULARIES["update_frequency"]
    ]


def test_schema_forbids_unknown_fields_in_every_object_but_sample_records():
    def objects(node, path=""):
        if node.get("type") == "object":
            yield path, node
        for name, child in node.get("properties", {}).items():
            yield from objects(child, f"{path}.{name}")
        if isinstance(node.get("items"), dict):
            yield from objects(node["items"], f"{path}[]")

    for path, node in objects(descriptor_json_schema()):
        if path != ".sample.records[]":
            assert node["additionalProperties"] is False, path


def test_schema_copy_cannot_be_mutated_by_callers():
    descriptor_json_schema()["properties"].clear()
    assert "name" in descriptor_json_schema()["properties"]


# --- schema rules: code and field path ------------------------------------------------------------------

SCHEMA_CASES = [
    ("descriptor_version", ..., "descriptor_version", "required"),
    ("descriptor_version", "2.0", "descriptor_version", "invalid_choice"),
    ("name", ..., "name", "required"),
    ("name", "", "name", "min_length"),
    ("name", "数" * 61, "name", "max_length"),
    ("name", 42, "name", "type"),
    ("summary", "太短了", "summary", "min_length"),
    ("provider.phone", "021-12345678", "provider.phone", "unknown_field"),
    ("provider.uscc", ..., "provider.uscc", "required"),
    ("provider.name", "沪", "provider.name", "min_length"),
    ("product_form", "table", "product_form", "invalid_choice"),
    ("industry", "Z", "industry", "invalid_choice"),
    ("keywords", [], "keywords", "min_items"),
    ("keywords", [f"词{i}" for i in range(11)], "keywords", "max_items"),
    ("keywords.2", "超" * 21, "keywords.2", "max_length"),
    ("keywords.1", 7, "keywords.1", "type"),
    ("data_source.type", "scraped", "data_source.type", "invalid_choice"),
    ("data_source.description", ..., "data_source.description", "required"),
    ("spatial_coverage", [], "spatial_coverage", "min_items"),
    ("spatial_coverage", "310000", "spatial_coverage", "type"),
    ("spatial_coverage.0", "31000", "spatial_coverage.0", "format"),
    ("temporal_coverage.start", "2021/01/01", "temporal_coverage.start", "format"),
    ("temporal_coverage.end", ..., "temporal_coverage.end", "required"),
    ("update_frequency", "sometimes", "update_frequency", "invalid_choice"),
    ("delivery_methods", ["api", "api"], "delivery_methods", "unique"),
    ("delivery_methods", [], "delivery_methods", "min_items"),
    ("delivery_methods.0", "email", "delivery_methods.0", "invalid_choice"),
    ("pricing.currency", "USD", "pricing.currency", "invalid_choice"),
    ("pricing.min", -1, "pricing.min", "min_value"),
    ("pricing.max", 10**10 + 1, "pricing.max", "max_value"),
    ("pricing.min", True, "pricing.min", "type"),
    ("pricing.max", "100", "pricing.max", "type"),
    ("usage_restrictions", "限" * 2001, "usage_restrictions", "max_length"),
    (
        "compliance.security_assessment.status",
        "ok",
        "compliance.security_assessment.status",
        "invalid_choice",
    ),
    ("compliance.important_data.involved", "no", "compliance.important_data.involved", "type"),
    ("compliance.personal_information.category", ..., "compliance.personal_information.category", "required"),
    (
        "compliance.authorization.evidence_ref",
        "E" * 201,
        "compliance.authorization.evidence_ref",
        "max_length",
    ),
    ("compliance.audit", {}, "compliance.audit", "unknown_field"),
    ("sample.url", "http://data.example.cn/x.csv", "sample.url", "format"),
    ("sample.records", [{}] * 6, "sample.records", "max_items"),
    ("sample.records.0", [1, 2], "sample.records.0", "type"),
    ("sample.description", ..., "sample.description", "required"),
    ("homepage", "https://example.cn", "homepage", "unknown_field"),
]


@pytest.mark.parametrize(("path", "value", "field", "code"), SCHEMA_CASES)
def test_schema_rule_is_reported_with_stable_code_and_path(path, value, field, code):
    assert (field, code) in errors_of(changed(path, value))


@pytest.mark.parametrize(("path", "value", "field", "code"), SCHEMA_CASES)
def test_every_error_has_both_messages(path, value, field, code):
    with pytest.raises(ValidationFailed) as caught:
        descriptor_validate(changed(path, value))
    for error in caught.value.errors:
        assert error.message and error.message_en
        assert error.message != error.message_en


def test_invalid_choice_message_lists_allowed_values_in_both_languages():
    with pytest.raises(ValidationFailed) as caught:
        descriptor_validate(changed("update_frequency", "sometimes"))
    (error,) = caught.value.errors
    assert error.message.startswith("更新频率必须是以下之一：")
    assert "daily（每日）" in error.message
    assert error.message_en.startswith("update_frequency must be one of: realtime, hourly, daily")


def test_all_errors_are_reported_at_once_and_sorted_by_path():
    data = example()
    data["update_frequency"] = "sometimes"
    data["keywords"] = ["好", 3, "x" * 30]
    data["provider"]["uscc"] = "123"
    data["pricing"]["min"] = 500000
    del data["summary"]
    fields = [field for field, _ in errors_of(data)]
    assert fields == [
        "keywords.1",
        "keywords.2",
        "pricing.max",
        "provider.uscc",
        "summary",
        "update_frequency",
    ]


def test_list_indexes_sort_numerically():
    data = example()
    data["keywords"] = [f"词{i}" for i in range(9)] + [11]
    data["keywords"][2] = 5
    assert [f for f, _ in errors_of(data)] == ["keywords.2", "keywords.9"]


# --- semantic rules --------------------------------------------------------------------------------------


def make_uscc(prefix: str) -> str:
    return prefix + uscc.calc_check_digit(prefix)


GOOD_USCCS = [
    "91310000MA1FL8XK2Y",
    "91110000600037341L",
    make_uscc("91330100MA27XK9T6"),
    make_uscc("12100000400000624"),
    "91310000 MA1FL8XK2Y",
    "91310000-ma1fl8xk2y",
    # letter registration authorities (GB 32100-2015) that python-stdnum refuses: products/standards/uscc.py
    make_uscc("N2310115MA1FL8XK2"),  # agriculture: a village collective economic organisation
    make_uscc("Y1110000MA1FL8XK2"),  # other authorities
    make_uscc("A1100000MA1FL8XK2"),
]
BAD_USCCS = [
    ("91310000MA1FL8XK2", "uscc.length"),
    ("91310000MA1FL8XK2YY", "uscc.length"),
    ("", "uscc.length"),
    ("9131000OMA1FL8XK2Y", "uscc.format"),  # letter O among the first 8 digits
    ("91310000MA1FL8XKIY", "uscc.format"),
    ("91310000MA1FL8XKOY", "uscc.format"),
    ("91310000MA1FL8XKZY", "uscc.format"),
    ("91310000MA1FL8XKSY", "uscc.format"),
    ("91310000MA1FL8XKVY", "uscc.format"),
    ("91310000MA1FL8XK2！", "uscc.format"),
    ("91310000MA1FL8XK2A", "uscc.checksum"),
    ("91110000600037341M", "uscc.checksum"),
    (make_uscc("B1310115MA1FL8XK2"), "uscc.format"),  # B is not an authority code
    (make_uscc("NA310115MA1FL8XK2"), "uscc.format"),  # characters 2–8 are digits after a letter too
    ("N2310115MA1FL8XK2" + ("0" if make_uscc("N2310115MA1FL8XK2")[-1] != "0" else "1"), "uscc.checksum"),
    # character 18 right, characters 9–17 not a GB 11714 organisation code (python-stdnum accepts both)
    (make_uscc("91310000MA1FL8XK3"), "uscc.organisation_code"),
    (make_uscc("91310000MA1FL8XKA"), "uscc.organisation_code"),  # its check character is a digit or X
]


@pytest.mark.parametrize("value", GOOD_USCCS)
def test_valid_uscc_is_accepted_and_compacted(value):
    result = descriptor_validate(changed("provider.uscc", value))
    assert result["provider"]["uscc"] == uscc.compact(value)


@pytest.mark.parametrize(("value", "code"), BAD_USCCS)
def test_invalid_uscc_is_refused_with_the_reason(value, code):
    assert errors_of(changed("provider.uscc", value)) == [("provider.uscc", code)]


def _organisation_code(rng: random.Random, allowed: str) -> str:
    from standards.uscc import organisation_check_character

    body = "".join(rng.choice(allowed) for _ in range(8))
    return body + organisation_check_character(body)


def test_fast_uscc_check_agrees_with_stdnum():
    rng = random.Random(2260)
    allowed = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    anything = string.digits + string.ascii_uppercase + " -"
    for _ in range(20000):
        body = "".join(rng.choice(string.digits) for _ in range(8))
        body += _organisation_code(rng, allowed) if rng.random() < 0.8 else rng.choice(allowed) * 9
        good = make_uscc(body)
        position = rng.randrange(18)
        mutated = good[:position] + rng.choice(anything) + good[position + 1 :]
        for candidate in (good, body + rng.choice(anything), mutated, good[:17], good + "0"):
            assert uscc_is_valid(candidate) == _full_check(candidate), candidate


def _full_check(value: str) -> bool:
    from stdnum.exceptions import ValidationError

    from standards.uscc import uscc_validate

    try:
        uscc_validate(value)
    except ValidationError:
        return False
    return True


def test_the_uscc_check_is_python_stdnums_and_gb_11714s_with_letter_authorities():
    """python-stdnum's verdict, and the organisation code's check, for codes whose authority is a digit; for
    the letter authorities A, N, Y (which python-stdnum refuses) the same check character and GB 11714."""
    from standards.uscc import organisation_check_character

    rng = random.Random(32100)
    allowed = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    organisation_valid = 0
    for _ in range(5000):
        body = rng.choice("123456789") + "".join(rng.choice(string.digits) for _ in range(7))
        body += _organisation_code(rng, allowed) if rng.random() < 0.5 else rng.choice(allowed) * 9
        for candidate in (make_uscc(body), body + rng.choice(allowed)):
            organisation = candidate[16] == organisation_check_character(candidate[8:16])
            organisation_valid += organisation
            assert _full_check(candidate) == (uscc.is_valid(candidate) and organisation), candidate
            lettered = make_uscc(rng.choice("ANY") + candidate[1:17])
            assert _full_check(lettered) == organisation and not uscc.is_valid(lettered)
    assert 2000 < organisation_valid < 8000  # both kinds were tried


@pytest.mark.parametrize(
    ("coverage", "errors"),
    [
        (["100000"], []),
        (["310000", "330100", "310115"], []),  # a district of a known prefecture is accepted
        (["371200"], [("spatial_coverage.0", "region.unknown")]),  # 莱芜市, merged into 济南 in 2019
        (["310000", "999999"], [("spatial_coverage.1", "region.unknown")]),
        (
            ["110228"],
            [("spatial_coverage.0", "region.unknown")],
        ),  # 密云县: Beijing has no county group since 2015
    ],
)
def test_spatial_coverage_codes_must_be_known(coverage, errors):
    data = changed("spatial_coverage", coverage)
    if errors:
        assert errors_of(data) == errors
    else:
        descriptor_validate(data)


def test_region_codes_given_as_numbers_become_strings_and_duplicates_go():
    result = descriptor_validate(changed("spatial_coverage", [310000, " 310000", "330100"]))
    assert result["spatial_coverage"] == ["310000", "330100"]


@pytest.mark.parametrize(
    ("start", "end", "errors"),
    [
        ("2021-01-01", None, []),
        ("2024-02-29", "2024-02-29", []),
        ("2024-02-30", None, [("temporal_coverage.start", "format")]),
        ("2023-02-29", None, [("temporal_coverage.start", "format")]),
        ("2024-01-01", "2024-13-01", [("temporal_coverage.end", "format")]),
        ("2024-06-01", "2024-05-31", [("temporal_coverage.end", "range.order")]),
        ("２０２４-01-01", None, [("temporal_coverage.start", "format")]),
    ],
)
def test_temporal_coverage_dates(start, end, errors):
    data = changed("temporal_coverage", {"start": start, "end": end})
    if errors:
        assert errors_of(data) == errors
    else:
        descriptor_validate(data)


@pytest.mark.parametrize(
    ("pricing", "errors"),
    [
        ({"model": "free", "currency": "CNY", "min": 0, "max": 0}, []),
        ({"model": "per_call", "currency": "CNY", "min": 0.05, "max": 19.99}, []),
        (
            {"model": "per_call", "currency": "CNY", "min": 0.001, "max": 1},
            [("pricing.min", "decimal_places")],
        ),
        (
            {"model": "per_call", "currency": "CNY", "min": 1.005, "max": 2},
            [("pricing.min", "decimal_places")],
        ),
        ({"model": "one_time", "currency": "CNY", "min": 500, "max": 100}, [("pricing.max", "range.order")]),
        ({"model": "free", "currency": "CNY", "min": 0, "max": 10}, [("pricing.max", "pricing.free")]),
        ({"model": "one_time", "currency": "CNY", "min": float("nan"), "max": 1}, [("pricing.min", "type")]),
        (
            {"model": "one_time", "currency": "CNY", "min": 1, "max": float("inf")},
            [("pricing.max", "max_value")],
        ),
        ({"model": "one_time", "currency": "CNY", "min": False, "max": 1}, [("pricing.min", "type")]),
    ],
)
def test_pricing_rules(pricing, errors):
    data = changed("pricing", pricing)
    if errors:
        assert errors_of(data) == errors
    else:
        descriptor_validate(data)


# --- normalization ---------------------------------------------------------------------------------------


def test_normalization_strips_compacts_and_deduplicates_without_touching_the_input():
    data = example()
    data["name"] = "  上海市新能源汽车充电桩运行数据集 "
    data["keywords"] = [" 充电桩", "充电桩", "EV", "ev", "电网负荷 "]
    data["provider"]["uscc"] = " 91310000ma1fl8xk2y "
    data["update_frequency"] = " daily"
    original = copy.deepcopy(data)
    result = descriptor_validate(data)
    assert result["name"] == "上海市新能源汽车充电桩运行数据集"
    assert result["keywords"] == ["充电桩", "EV", "电网负荷"]
    assert result["provider"]["uscc"] == "91310000MA1FL8XK2Y"
    assert result["update_frequency"] == "daily"
    assert data == original
    result["sample"]["records"][0]["pile_id"] = "changed"
    assert data["sample"]["records"][0]["pile_id"] == "SH-PD-00231"


def test_optional_fields_may_be_left_out():
    data = example()
    del data["sample"]
    del data["usage_restrictions"]
    assert descriptor_validate(data) == data


# --- untrusted input -------------------------------------------------------------------------------------


def deep_list(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def deep_dict(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


GARBAGE = [
    None,
    [],
    42,
    3.5,
    True,
    "x" * 10**6,
    b"bytes",
    {},
    [example()],
    deep_list(100_000),
    deep_dict(100_000),
    {"name": deep_list(100_000)},
    {**example(), "keywords": deep_list(5000)},
    {**example(), "product_form": deep_dict(5000)},
    {**example(), "name": "x" * 10**6},
    {**example(), "summary": None},
    {**example(), "provider": ["name", "uscc"]},
    {**example(), "provider": {"name": "沪电", "uscc": 91310000}},
    {**example(), "compliance": {"source_legality": [[[]]]}},
    {**example(), "sample": {"description": "样例", "records": [deep_dict(50)]}},
    {**example(), "sample": {"description": "样例", "records": [{str(i): i for i in range(10**4)}]}},
    {**example(), "temporal_coverage": {"start": 20210101, "end": [None]}},
    {**example(), "spatial_coverage": [None, {}, [], 1.5, True, -1, 10**30]},
    {**example(), 1: "non-string key", (1, 2): "tuple key"},
    {**example(), "pricing": {"model": "free", "currency": "CNY", "min": 10**400, "max": -(10**400)}},
    {**example(), "keywords": list(range(10**5))},
    {**example(), "x" * 10**5: 1},
    {**example(), "sample": {"description": "样例", "records": [[list(range(900))] * 900]}},
    {**example(), "usage_restrictions": [[0] * 900 for _ in range(900)]},
]


@pytest.mark.parametrize("data", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_only_ever_raises_validation_failed(data):
    started = time.perf_counter()
    with pytest.raises(ValidationFailed) as caught:
        descriptor_validate(data)
    assert caught.value.errors
    for error in caught.value.errors:
        assert isinstance(error.field, str) and len(error.field) < 200
        assert error.code and error.message and error.message_en
    assert time.perf_counter() - started < 1.5


def test_huge_lists_and_objects_are_refused_before_the_schema_walks_them():
    assert errors_of({**example(), "keywords": list(range(10**5))}) == [("keywords", "max_items")]
    assert errors_of({**example(), "provider": {str(i): i for i in range(5000)}}) == [
        ("provider", "max_items")
    ]
    assert errors_of({**example(), "summary": [[0] * 900 for _ in range(900)]}) == [("", "too_large")]


def test_non_object_descriptor_is_a_root_type_error():
    assert errors_of([]) == [("", "type")]


def test_unknown_field_path_names_the_field_itself():
    assert errors_of(changed("pricing.discount", 0.1)) == [("pricing.discount", "unknown_field")]


# --- vocabularies and regions ----------------------------------------------------------------------------


def test_vocabularies_have_the_agreed_codes():
    assert vocabulary_codes("product_form") == {"dataset", "api", "report", "model", "application", "service"}
    assert vocabulary_codes("industry") == set("ABCDEFGHIJKLMNOPQRST")
    assert vocabulary_label("industry", "A").zh == "农、林、牧、渔业"
    assert vocabulary_label("industry", "T").zh == "国际组织"
    assert vocabulary_label("delivery_method", "sandbox").zh == "数据沙箱/隐私计算"
    assert vocabulary_label("update_frequency", "nope") is None
    assert vocabulary_label("update_frequency", None) is None
    assert len(vocabulary_codes("compliance_item")) == 6


def test_every_term_has_code_and_both_labels_and_codes_are_unique():
    for name, terms in VOCABULARIES.items():
        codes = [t.code for t in terms]
        assert len(codes) == len(set(codes)), name
        assert all(t.code and t.zh and t.en for t in terms), name


def test_vocabularies_json_shape():
    data = vocabularies_as_json()
    assert data["version"] == DESCRIPTOR_VERSION
    assert set(data["vocabularies"]) == set(VOCABULARIES)
    product_form = data["vocabularies"]["product_form"]
    assert product_form["title"] == {"zh": "产品形态", "en": "Product form"}
    assert product_form["terms"][0] == {"code": "dataset", "zh": "数据集", "en": "Dataset"}
    json.dumps(data)


def test_regions_table():
    provinces = [t for t in VOCABULARIES["region"] if region_get(t.code).level == "province"]
    assert len(provinces) == 34
    assert region_get("710000").name_zh == "台湾省"
    assert region_get("810000").name_zh == "香港特别行政区"
    assert region_get("820000").name_zh == "澳门特别行政区"
    assert region_get("100000").name_zh == "全国"
    assert region_get("371200") is None
    assert region_get("540600").name_zh == "那曲市"
    assert region_province("330106").name_zh == "浙江省"
    assert region_province("100000") is None
    assert region_is_valid("330106") and not region_is_valid("330100 ") and not region_is_valid(330100)


def test_region_names_for_prefix_include_short_forms():
    names = set(region_names_for_prefix())
    assert {"上海市", "上海", "浙江省", "浙江", "杭州市", "杭州", "内蒙古", "广西", "黔西南", "全国"} <= names
    assert "市辖区" not in names
