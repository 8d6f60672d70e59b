"""Automatic compliance rules: each rule's trigger, severity and field, and the order of findings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from standards.compliance import (
    COMPLIANCE_RULES,
    compliance_evaluate,
    compliance_rules_as_json,
    findings_blocking,
)
from standards.descriptor import descriptor_validate

EXAMPLE = Path(__file__).resolve().parents[1] / "docs/examples/product-descriptor.json"


def example() -> dict:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def with_items(**items: dict) -> dict:
    data = example()
    for name, values in items.items():
        data["compliance"][name].update(values)
    return descriptor_validate(data)  # every case is a valid descriptor


INVOLVED = {"involved": True, "status": "passed"}
CONSENTED = {"category": "with_consent", "status": "passed", "evidence_ref": "CONSENT-7"}


def findings_of(data: dict) -> list[tuple[str, str, str]]:
    return [(f.rule, f.severity, f.field) for f in compliance_evaluate(data)]


def test_example_has_no_findings():
    assert compliance_evaluate(example()) == []


CASES = [
    (
        {"source_legality": {"status": "pending"}},
        [("C1.source_legality", "blocking", "compliance.source_legality.status")],
    ),
    (
        {"source_legality": {"evidence_ref": None}},
        [("C1.source_legality", "blocking", "compliance.source_legality.evidence_ref")],
    ),
    (
        {"source_legality": {"evidence_ref": "  "}},
        [("C1.source_legality", "blocking", "compliance.source_legality.evidence_ref")],
    ),
    (
        {"authorization": {"status": "not_applicable"}},
        [("C2.authorization", "blocking", "compliance.authorization.status")],
    ),
    (
        {"personal_information": {"category": "with_consent", "status": "passed", "evidence_ref": None}},
        [("C3.personal_information", "blocking", "compliance.personal_information.evidence_ref")],
    ),
    (
        {"personal_information": {"category": "with_consent", "status": "pending", "evidence_ref": "C-1"}},
        [("C3.personal_information", "blocking", "compliance.personal_information.status")],
    ),
    (
        {"personal_information": CONSENTED},
        [],
    ),
    (
        {"personal_information": {"category": "deidentified", "status": "not_applicable"}},
        [("C3.personal_information", "blocking", "compliance.personal_information.status")],
    ),
    ({"personal_information": {"category": "deidentified", "status": "passed"}}, []),
    (
        {"important_data": INVOLVED, "security_assessment": {"status": "pending"}},
        [("C4.important_data", "blocking", "compliance.security_assessment.status")],
    ),
    (
        {"important_data": INVOLVED, "security_assessment": {"evidence_ref": ""}},
        [("C4.important_data", "blocking", "compliance.security_assessment.evidence_ref")],
    ),
    (
        {"cross_border_transfer": INVOLVED, "security_assessment": {"status": "pending"}},
        [("C5.cross_border_transfer", "blocking", "compliance.security_assessment.status")],
    ),
    (
        {"cross_border_transfer": INVOLVED, "security_assessment": {"evidence_ref": None}},
        [("C12.assessment_evidence", "warning", "compliance.security_assessment.evidence_ref")],
    ),
    (
        {"important_data": {"involved": True}},  # status stays not_applicable
        [("C6.involved_not_applicable", "blocking", "compliance.important_data.status")],
    ),
    (
        {"authorization": {"status": "failed"}},
        [("C7.item_failed", "blocking", "compliance.authorization.status")],
    ),
    (
        {"security_assessment": {"status": "failed"}, "important_data": INVOLVED},
        [("C7.item_failed", "blocking", "compliance.security_assessment.status")],
    ),
    (
        {"important_data": INVOLVED, "cross_border_transfer": INVOLVED},
        [("C8.data_export_assessment", "warning", "compliance.cross_border_transfer.involved")],
    ),
    (
        {"important_data": {"involved": True, "status": "pending"}},
        [("C9.item_pending", "warning", "compliance.important_data.status")],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("items", "expected"), CASES)
def test_rule_triggers_with_its_severity_and_field(items, expected):
    assert findings_of(with_items(**items)) == expected


def test_missing_sample_is_a_warning():
    data = example()
    del data["sample"]
    assert findings_of(data) == [("C10.sample_missing", "warning", "sample")]


def test_offline_delivery_of_consented_personal_information_is_a_warning():
    data = with_items(
        personal_information={"category": "with_consent", "status": "passed", "evidence_ref": "C-9"}
    )
    data["delivery_methods"] = ["offline"]
    assert findings_of(data) == [("C11.offline_personal_information", "warning", "delivery_methods")]
    data["product_form"] = "report"
    assert findings_of(data) == []


def test_pending_items_already_blocked_are_not_repeated_as_warnings():
    data = with_items(source_legality={"status": "pending"}, authorization={"status": "pending"})
    assert [f.rule for f in compliance_evaluate(data)] == ["C1.source_legality", "C2.authorization"]


def test_findings_are_deterministic_blocking_first_then_table_order():
    data = with_items(
        source_legality={"status": "failed"},
        important_data={"involved": True, "status": "passed"},
        cross_border_transfer={"involved": True, "status": "pending"},
        security_assessment={"status": "pending"},
    )
    del data["sample"]
    findings = findings_of(data)
    assert findings == findings_of(data)
    assert [f[0] for f in findings] == [
        "C4.important_data",
        "C7.item_failed",
        "C8.data_export_assessment",
        "C9.item_pending",
        "C10.sample_missing",
    ]
    assert findings_blocking(compliance_evaluate(data))
    assert not findings_blocking(compliance_evaluate(example()))


def test_every_finding_has_bilingual_messages():
    data = with_items(source_legality={"status": "failed"}, important_data={"involved": True})
    for finding in compliance_evaluate(data):
        assert finding.message and finding.message_en and finding.message != finding.message_en


def test_rules_table():
    table = compliance_rules_as_json()
    codes = [rule["rule"] for rule in table["rules"]]
    assert codes == [rule.code for rule in COMPLIANCE_RULES]
    assert len(codes) == len(set(codes))
    assert all(code.startswith(f"C{i}.") for i, code in enumerate(codes, start=1))
    assert {rule["severity"] for rule in table["rules"]} == {"blocking", "warning"}
    json.dumps(table)


@pytest.mark.parametrize("data", [{}, {"compliance": []}, {"compliance": {"source_legality": "x"}}])
def test_half_valid_input_does_not_crash(data):
    assert findings_blocking(compliance_evaluate(data))
