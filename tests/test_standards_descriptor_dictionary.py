"""Product descriptor 1.1: the data dictionary (`fields`) and `classification`, 1.0 descriptors unchanged, the
JSON Schema saying the same as the validator, hostile input refused with ValidationFailed only."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path

import jsonschema
import pytest

from core.exceptions import ValidationFailed
from standards.descriptor import DESCRIPTOR_VERSIONS, descriptor_json_schema, descriptor_validate
from standards.descriptor_schema import MAX_FIELDS
from standards.terminology import term_for

EXAMPLES = Path(__file__).resolve().parents[1] / "docs/examples"


def example_10() -> dict:
    return json.loads((EXAMPLES / "product-descriptor.json").read_text(encoding="utf-8"))


def example() -> dict:
    return json.loads((EXAMPLES / "product-descriptor-1.1.json").read_text(encoding="utf-8"))


def errors_of(data: object) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        descriptor_validate(data)
    for error in caught.value.errors:
        assert error.message and error.message_en and error.message != error.message_en
    return [(e.field, e.code) for e in caught.value.errors]


def with_fields(*fields: dict) -> dict:
    """The 1.1 example with another dictionary, and a sample without records (which would not agree)."""
    return {**example(), "fields": list(fields), "sample": {"description": "样例说明"}}


def field(name: str = "f", **extra: object) -> dict:
    return {"name": name, "label": "字段", "type": "string", **extra}


STATUS_CODES = {"codes": [{"code": "a", "label": "甲"}, {"code": "b", "label": "乙"}]}


# --- versions --------------------------------------------------------------------------------------------


def test_the_11_example_is_valid_and_already_normalized():
    assert descriptor_validate(example()) == example()


def test_a_10_descriptor_is_valid_unchanged():
    assert DESCRIPTOR_VERSIONS == ("1.0", "1.1")
    assert descriptor_validate(example_10()) == example_10()


def test_a_10_descriptor_may_not_carry_the_fields_11_added():
    data = {**example_10(), "fields": example()["fields"], "classification": {"level": "general"}}
    del data["sample"]  # its records lack the dictionary's district, another error
    assert errors_of(data) == [("classification", "unknown_field"), ("fields", "unknown_field")]


def test_a_10_descriptor_may_declare_11_and_need_not_carry_the_new_fields():
    assert descriptor_validate({**example_10(), "descriptor_version": "1.1"})["descriptor_version"] == "1.1"


def test_an_unknown_minor_version_is_refused():
    assert errors_of({**example(), "descriptor_version": "1.2"}) == [("descriptor_version", "invalid_choice")]


# --- the data dictionary ---------------------------------------------------------------------------------


DICTIONARY_CASES = [
    ([field("a"), field("A")], [("fields.1.name", "unique")]),
    ([field("a"), field("b"), field("a")], [("fields.2.name", "unique")]),
    ([field(type="text")], [("fields.0.type", "invalid_choice")]),
    ([field(type="code")], [("fields.0.code_list", "required")]),
    ([field(type="string", code_list=STATUS_CODES)], [("fields.0.code_list", "not_allowed")]),
    ([field(type="code", code_list={})], [("fields.0.code_list", "code_list.choice")]),
    (
        [field(type="code", code_list={**STATUS_CODES, "standard": "GB/T 2260"})],
        [("fields.0.code_list", "code_list.choice")],
    ),
    (
        [
            field(
                type="code", code_list={"codes": [{"code": "a", "label": "甲"}, {"code": "a", "label": "乙"}]}
            )
        ],
        [("fields.0.code_list.codes.1.code", "unique")],
    ),
    ([field(type="code", code_list={"codes": []})], [("fields.0.code_list.codes", "min_items")]),
    ([field(type="code", code_list={"standard": ""})], [("fields.0.code_list.standard", "min_length")]),
    ([field("1st")], [("fields.0.name", "format")]),
    ([field("名称")], [("fields.0.name", "format")]),
    ([field("a" * 65)], [("fields.0.name", "format")]),
    ([field(label="")], [("fields.0.label", "min_length")]),
    ([{"name": "a", "type": "string"}], [("fields.0.label", "required")]),
    ([field(nullable="yes")], [("fields.0.nullable", "type")]),
    ([field(personal_information=1)], [("fields.0.personal_information", "type")]),
    ([field(unit="")], [("fields.0.unit", "min_length")]),
    ([field(width=10)], [("fields.0.width", "unknown_field")]),
    ([], [("fields", "min_items")]),
]


@pytest.mark.parametrize(("fields", "expected"), DICTIONARY_CASES)
def test_dictionary_rule_is_refused_with_its_code_and_path(fields, expected):
    assert errors_of(with_fields(*fields)) == expected


def test_at_most_500_fields():
    fields = [field(f"f{i}") for i in range(MAX_FIELDS)]
    assert len(descriptor_validate(with_fields(*fields))["fields"]) == MAX_FIELDS
    assert errors_of(with_fields(*fields, field("one_more"))) == [("fields", "max_items")]


def test_every_type_of_the_vocabulary_is_accepted():
    types = ["string", "integer", "decimal", "boolean", "date", "datetime", "geo"]
    fields = [field(f"f_{t}", type=t) for t in types] + [field("f_code", type="code", code_list=STATUS_CODES)]
    assert [f["type"] for f in descriptor_validate(with_fields(*fields))["fields"]] == [*types, "code"]


def test_dictionary_strings_are_stripped_without_touching_the_input():
    data = with_fields(
        field(" pile_id ", label=" 编号 ", type="code ", code_list={"standard": " GB/T 2260 "})
    )
    original = copy.deepcopy(data)
    (normalized,) = descriptor_validate(data)["fields"]
    assert normalized == {
        "name": "pile_id",
        "label": "编号",
        "type": "code",
        "code_list": {"standard": "GB/T 2260"},
    }
    assert data == original


def test_classification_level_is_a_code_of_its_vocabulary():
    assert errors_of({**example(), "classification": {"level": "secret"}}) == [
        ("classification.level", "invalid_choice")
    ]
    assert errors_of({**example(), "classification": {}}) == [("classification.level", "required")]
    assert errors_of({**example(), "classification": {"level": "general", "basis": "x"}}) == [
        ("classification.basis", "unknown_field")
    ]


def test_new_vocabulary_codes_link_to_glossary_terms():
    assert term_for("data_level", "general") == "general-data"
    assert term_for("data_level", "important") == "important-data"
    assert term_for("data_level", "core") == "core-data"
    assert term_for("field_type", "geo") == "data-dictionary"


# --- the schema says what the validator says -------------------------------------------------------------


def _schema_valid(data: dict) -> bool:
    return jsonschema.Draft202012Validator(descriptor_json_schema()).is_valid(data)


# What only the validator checks (the schema says it in its descriptions): unique names, unique codes.
SEMANTIC_ONLY = {"unique"}


@pytest.mark.parametrize(("fields", "expected"), DICTIONARY_CASES)
def test_schema_and_validator_agree_on_every_dictionary_case(fields, expected):
    schema_only = all(code in SEMANTIC_ONLY for _, code in expected)
    assert _schema_valid(with_fields(*fields)) is schema_only


def test_schema_accepts_both_examples_and_refuses_11_fields_in_10():
    assert _schema_valid(example()) and _schema_valid(example_10())
    assert not _schema_valid({**example_10(), "classification": {"level": "general"}})
    assert not _schema_valid({**example_10(), "fields": example()["fields"]})


# --- hostile peer payloads -------------------------------------------------------------------------------


HOSTILE = [
    {**example(), "fields": None},
    {**example(), "fields": "pile_id"},
    {**example(), "fields": [None, 1, [], "x"]},
    {**example(), "fields": [field(type="code", code_list=[])]},
    {**example(), "fields": [field(type="code", code_list={"codes": [None, {"code": 1}, {"code": ["a"]}]})]},
    {**example(), "fields": [field(name=["a"]), field(name={"a": 1}), field(name=None)]},
    {**example(), "fields": [field(f"f{i}") for i in range(5000)]},
    {
        **example(),
        "fields": [field(type="code", code_list={"codes": [{"code": "a", "label": "x"}] * 999})] * 30,
    },
    {**example(), "fields": [field("a" * 10**6)]},
    {**example(), "classification": "important"},
    {**example(), "classification": {"level": ["core"]}},
    {**example(), "classification": {"level": None}},
    {**example_10(), "fields": [None] * 10},
    {**example(), "sample": {"description": "样例", "records": [{1: None, (1, 2): [], "status": {"a": 1}}]}},
    {
        **example(),
        "sample": {"description": "样例", "records": [{"slot_start": "9" * 10**5, "rated_kw": 1e400}]},
    },
]


@pytest.mark.parametrize("data", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_dictionary_or_classification_only_raises_validation_failed(data):
    assert errors_of(data)


# --- the sample against the dictionary -------------------------------------------------------------------


def with_record(**values: object) -> dict:
    data = example()
    data["sample"]["records"][1].update(values)
    return data


SAMPLE_CASES = [
    ({"rated_kw": "120"}, "sample.records.1.rated_kw"),  # decimal
    ({"rated_kw": True}, "sample.records.1.rated_kw"),
    ({"rated_kw": float("nan")}, "sample.records.1.rated_kw"),
    ({"slot_start": "2024-03-01"}, "sample.records.1.slot_start"),  # datetime
    ({"slot_start": "2024-02-30T08:00:00+08:00"}, "sample.records.1.slot_start"),
    ({"status": "broken"}, "sample.records.1.status"),  # not in the inline code list
    ({"status": None}, "sample.records.1.status"),  # nullable: false
    ({"pile_id": 231}, "sample.records.1.pile_id"),  # string
    ({"colour": "red"}, "sample.records.1.colour"),  # not in the dictionary
]


@pytest.mark.parametrize(("values", "field"), SAMPLE_CASES)
def test_a_sample_value_contradicting_the_dictionary_is_refused(values, field):
    assert errors_of(with_record(**values)) == [(field, "sample.mismatch")]


def test_a_sample_record_missing_a_field_declared_not_nullable_is_refused():
    data = example()
    del data["sample"]["records"][0]["station"]
    assert errors_of(data) == [("sample.records.0.station", "sample.mismatch")]


def test_sample_values_agreeing_with_the_dictionary_pass():
    data = with_record(energy_kwh=None, location={"lng": 121.6, "lat": 31.2}, district="999999")
    assert descriptor_validate(data)["sample"]["records"][1]["energy_kwh"] is None  # nullable
    # geo is not checked (no agreed encoding), a code of a named standard list neither
    data = with_record(slot_start="2024-03-01 08:00", rated_kw=7)
    descriptor_validate(data)


def test_every_dictionary_type_conforms_in_a_sample():
    types = {"s": "string", "i": "integer", "d": "decimal", "b": "boolean", "day": "date", "t": "datetime"}
    fields = [field(name, type=kind) for name, kind in types.items()]
    record = {"s": "x", "i": 3, "d": 2.5, "b": False, "day": "2024-02-29", "t": "2024-02-29T23:59:59Z"}
    data = {**with_fields(*fields), "sample": {"description": "样例", "records": [record]}}
    descriptor_validate(data)
    wrong = {"s": 1, "i": 2.5, "d": "2.5", "b": 0, "day": "2023-02-29", "t": "yesterday"}
    data["sample"]["records"] = [wrong]
    expected = sorted((f"sample.records.0.{name}", "sample.mismatch") for name in types)
    assert errors_of(data) == expected


def test_a_sample_record_holding_a_million_values_is_refused_quickly():
    """Sample records are free-form, so only the copy's budget stops one record carrying 810,000 values."""
    data = {**example_10(), "sample": {"description": "样例", "records": [{"a": [list(range(900))] * 900}]}}
    started = time.perf_counter()
    assert errors_of(data) == [("", "too_large")]
    assert time.perf_counter() - started < 1.0
