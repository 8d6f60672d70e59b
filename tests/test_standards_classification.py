"""Data classification (数据分类分级) and the data dictionary in the compliance rules: core data refused,
important data assessed, delivered by sandbox or api only and never exported, the level agreeing with
`important_data`, a personal-information field contradicting `category none`; 1.0 descriptors as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from products.verdict import recognition_evaluate
from standards.compliance import compliance_evaluate, findings_blocking
from standards.descriptor import descriptor_validate

EXAMPLES = Path(__file__).resolve().parents[1] / "docs/examples"


def example(name: str = "product-descriptor-1.1.json") -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def classified(level: str, *, delivery: list[str] | None = None, **items: dict) -> dict:
    data = example()
    data["classification"] = {"level": level}
    if delivery is not None:
        data["delivery_methods"] = delivery
    for name, values in items.items():
        data["compliance"][name].update(values)
    return descriptor_validate(data)  # every case is a valid descriptor


IMPORTANT = {"involved": True, "status": "passed", "evidence_ref": "SHDEX-IMP-2025-0001"}


def findings_of(data: dict) -> list[tuple[str, str, str]]:
    return [(f.rule, f.severity, f.field) for f in compliance_evaluate(data)]


def test_the_11_example_general_data_has_no_findings():
    assert compliance_evaluate(example()) == []


def test_core_data_is_never_listed():
    data = classified("core", important_data=IMPORTANT)
    assert ("C13.core_data", "blocking", "classification.level") in findings_of(data)
    assert recognition_evaluate(data)[0] == "refused"


def test_important_data_with_passed_assessment_sandbox_and_no_export_is_allowed():
    data = classified("important", delivery=["sandbox", "api"], important_data=IMPORTANT)
    assert findings_blocking(compliance_evaluate(data)) == []
    assert recognition_evaluate(data)[0] == "pending"  # an operator still reviews important data


@pytest.mark.parametrize(
    ("assessment", "field"),
    [
        ({"status": "pending"}, "compliance.security_assessment.status"),
        ({"status": "passed", "evidence_ref": None}, "compliance.security_assessment.evidence_ref"),
    ],
)
def test_important_data_without_an_evidenced_assessment_is_refused(assessment, field):
    data = classified(
        "important", delivery=["sandbox"], important_data=IMPORTANT, security_assessment=assessment
    )
    assert findings_of(data)[0] == ("C4.important_data", "blocking", field)


def test_important_data_delivered_as_files_or_offline_is_refused_per_method():
    data = classified("important", delivery=["api", "file", "offline"], important_data=IMPORTANT)
    assert findings_of(data) == [
        ("C14.important_data_delivery", "blocking", "delivery_methods.1"),
        ("C14.important_data_delivery", "blocking", "delivery_methods.2"),
    ]


def test_important_data_used_across_the_border_is_refused_not_only_warned():
    export = {"involved": True, "status": "passed", "evidence_ref": "CAC-2025-17"}
    data = classified("important", delivery=["api"], important_data=IMPORTANT, cross_border_transfer=export)
    assert findings_of(data) == [
        ("C15.important_data_cross_border", "blocking", "compliance.cross_border_transfer.involved")
    ]


@pytest.mark.parametrize(
    ("level", "involved"),
    [("general", {"involved": True, "status": "passed", "evidence_ref": "X-1"}), ("important", {})],
)
def test_the_level_contradicting_important_data_is_refused(level, involved):
    data = classified(level, delivery=["api"], **({"important_data": involved} if involved else {}))
    assert ("C16.classification_contradiction", "blocking", "classification.level") in findings_of(data)


def test_a_personal_information_field_contradicts_category_none():
    data = example()
    data["fields"][0]["personal_information"] = True
    data["fields"][7]["personal_information"] = True
    assert findings_of(descriptor_validate(data)) == [
        ("C17.personal_information_field", "blocking", "fields.0.personal_information"),
        ("C17.personal_information_field", "blocking", "fields.7.personal_information"),
    ]


def test_a_personal_information_field_with_deidentified_data_is_not_a_contradiction():
    data = example()
    data["fields"][0]["personal_information"] = True
    data["compliance"]["personal_information"] = {
        "category": "deidentified",
        "status": "passed",
        "evidence_ref": None,
    }
    assert findings_blocking(compliance_evaluate(descriptor_validate(data))) == []


def test_10_descriptor_keeps_its_behaviour_keyed_on_important_data_involved():
    data = example("product-descriptor.json")
    data["compliance"]["important_data"].update(IMPORTANT)
    data["compliance"]["cross_border_transfer"].update({"involved": True, "status": "passed"})
    data["compliance"]["security_assessment"]["status"] = "pending"
    rules = [rule for rule, _, _ in findings_of(descriptor_validate(data))]
    # as before 1.1: the assessment (C4) blocks, export of important data is a warning, file delivery passes
    assert rules == ["C4.important_data", "C8.data_export_assessment"]


def test_the_documented_important_example_gives_c14_and_c16():
    data = classified("important")  # the 1.1 example: api and file delivery, important_data not involved
    assert findings_of(data) == [
        ("C14.important_data_delivery", "blocking", "delivery_methods.1"),
        ("C16.classification_contradiction", "blocking", "classification.level"),
    ]
