"""The usage policy standard: validation and normalisation (also of peers' garbage), a requested use against
an offer, the JSON Schema agreeing with the validator, the policy derived from a descriptor, the endpoint."""

import copy
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from core.exceptions import ValidationFailed
from standards.usage_policy import (
    policy_clean,
    policy_from_descriptor,
    policy_schema,
    policy_within,
)
from standards.usage_policy_terms import ACTION_CODES, PURPOSE_CODES, territory_contains

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = json.loads((ROOT / "docs/examples/usage-policy.json").read_text("utf-8"))


def minimal(**constraints) -> dict:
    return {
        "permissions": ["use"],
        "constraints": {"purpose": ["research"], "territory": ["CN-mainland"], **constraints},
    }


def errors_of(value, **kwargs) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        policy_clean(value, **kwargs)
    return [(e.field, e.code) for e in caught.value.errors]


class TestClean:
    def test_a_minimal_policy_gets_every_default(self):
        assert policy_clean(minimal()) == {
            "version": "1.0",
            "permissions": ["use"],
            "prohibitions": [],
            "constraints": {
                "purpose": ["research"],
                "territory": ["CN-mainland"],
                "duration_days": None,
                "max_users": None,
                "delete_at_end": False,
                "deidentified_only": False,
            },
            "remarks": "",
        }

    def test_lists_are_sorted_and_deduplicated_and_remarks_stripped(self):
        policy = {
            "version": "1.0",
            "permissions": ["derive", "use", "analyse", "use"],
            "prohibitions": ["resell", "redistribute", "resell"],
            "constraints": {
                "purpose": ["risk_control", "research", "risk_control"],
                "territory": ["440300", "310000", "CN-mainland", "310000"],
                "duration_days": 365,
                "max_users": 20.0,
            },
            "remarks": "  仅限内部使用  ",
        }
        clean = policy_clean(policy)
        assert clean["permissions"] == ["analyse", "derive", "use"]
        assert clean["prohibitions"] == ["redistribute", "resell"]
        assert clean["constraints"]["purpose"] == ["research", "risk_control"]
        assert clean["constraints"]["territory"] == ["310000", "440300", "CN-mainland"]
        assert clean["constraints"]["max_users"] == 20 and isinstance(clean["constraints"]["max_users"], int)
        assert clean["remarks"] == "仅限内部使用"

    def test_cleaning_is_idempotent_and_leaves_the_input_alone(self):
        original = copy.deepcopy(EXAMPLE)
        once = policy_clean(EXAMPLE)
        assert policy_clean(once) == once
        assert original == EXAMPLE

    def test_the_example_is_valid(self):
        assert policy_clean(EXAMPLE)["constraints"]["territory"]

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            (lambda p: p.update(version="2.0"), ("usage_policy.version", "invalid_choice")),
            (lambda p: p.update(permissions=[]), ("usage_policy.permissions", "required")),
            (lambda p: p.pop("permissions"), ("usage_policy.permissions", "type")),
            (
                lambda p: p.update(permissions=["use", "steal"]),
                ("usage_policy.permissions.1", "invalid_choice"),
            ),
            (lambda p: p.update(permissions=["use"] * 21), ("usage_policy.permissions", "type")),
            (lambda p: p.update(prohibitions="resell"), ("usage_policy.prohibitions", "type")),
            (lambda p: p.update(prohibitions=["use"]), ("usage_policy.prohibitions", "conflict")),
            (lambda p: p.update(remarks="x" * 501), ("usage_policy.remarks", "max_length")),
            (lambda p: p.update(remarks=None), ("usage_policy.remarks", "max_length")),
            (lambda p: p.update(extra=1), ("usage_policy.extra", "unknown_field")),
            (lambda p: p.pop("constraints"), ("usage_policy.constraints", "type")),
            (lambda p: p["constraints"].update(purpose=[]), ("usage_policy.constraints.purpose", "required")),
            (
                lambda p: p["constraints"].update(purpose=["spying"]),
                ("usage_policy.constraints.purpose.0", "invalid_choice"),
            ),
            (lambda p: p["constraints"].pop("territory"), ("usage_policy.constraints.territory", "type")),
            (
                lambda p: p["constraints"].update(territory=["100000"]),
                ("usage_policy.constraints.territory.0", "invalid_choice"),
            ),
            (
                lambda p: p["constraints"].update(territory=["999900"]),
                ("usage_policy.constraints.territory.0", "invalid_choice"),
            ),
            (
                lambda p: p["constraints"].update(territory=["cn"]),
                ("usage_policy.constraints.territory.0", "invalid_choice"),
            ),
            (
                lambda p: p["constraints"].update(territory=["310000"] * 51),
                ("usage_policy.constraints.territory", "type"),
            ),
            (
                lambda p: p["constraints"].update(duration_days=0),
                ("usage_policy.constraints.duration_days", "range"),
            ),
            (
                lambda p: p["constraints"].update(duration_days=3651),
                ("usage_policy.constraints.duration_days", "range"),
            ),
            (
                lambda p: p["constraints"].update(duration_days=30.5),
                ("usage_policy.constraints.duration_days", "range"),
            ),
            (
                lambda p: p["constraints"].update(duration_days="30"),
                ("usage_policy.constraints.duration_days", "range"),
            ),
            (
                lambda p: p["constraints"].update(max_users=True),
                ("usage_policy.constraints.max_users", "range"),
            ),
            (
                lambda p: p["constraints"].update(max_users=100_001),
                ("usage_policy.constraints.max_users", "range"),
            ),
            (
                lambda p: p["constraints"].update(delete_at_end="yes"),
                ("usage_policy.constraints.delete_at_end", "type"),
            ),
            (
                lambda p: p["constraints"].update(deidentified_only=1),
                ("usage_policy.constraints.deidentified_only", "type"),
            ),
            (
                lambda p: p["constraints"].update(users=3),
                ("usage_policy.constraints.users", "unknown_field"),
            ),
        ],
    )
    def test_each_rule_names_its_field(self, change, expected):
        policy = minimal()
        change(policy)
        assert expected in errors_of(policy)

    def test_the_limits_themselves_are_allowed(self):
        clean = policy_clean(minimal(duration_days=3650, max_users=100_000, delete_at_end=True))
        assert clean["constraints"]["duration_days"] == 3650 and clean["constraints"]["max_users"] == 100_000
        assert policy_clean(minimal(duration_days=1, max_users=1))["constraints"]["duration_days"] == 1
        assert policy_clean({**minimal(), "remarks": "x" * 500})["remarks"] == "x" * 500

    def test_every_broken_rule_is_reported_at_once_under_the_callers_field(self):
        policy = {"permissions": ["x"], "constraints": {"purpose": ["y"], "territory": []}}
        assert errors_of(policy, field="order.usage_policy") == [
            ("order.usage_policy.permissions.0", "invalid_choice"),
            ("order.usage_policy.constraints.purpose.0", "invalid_choice"),
            ("order.usage_policy.constraints.territory", "required"),
        ]

    def test_messages_are_chinese_and_english(self):
        with pytest.raises(ValidationFailed) as caught:
            policy_clean(minimal(duration_days=0))
        error = caught.value.errors[0]
        assert "1–3650" in error.message and "1 to 3650" in error.message_en

    @pytest.mark.parametrize(
        "garbage",
        [
            None,
            [],
            "policy",
            42,
            {"permissions": None, "constraints": None},
            {"permissions": [None, 1, ["use"], {"a": 1}], "constraints": {"territory": [{}]}},
            {"permissions": {"use": True}, "constraints": []},
            {1: "a", None: 2, "permissions": ["use"]},
            {"permissions": ["use"], "prohibitions": [float("nan")], "constraints": {"territory": [310000]}},
            {"permissions": ["use"], "constraints": {"purpose": "research", "territory": "CN"}},
            {"version": ["1.0"], "permissions": ["use"], "constraints": {}},
            {"permissions": ["use"], "constraints": {"duration_days": float("inf"), "max_users": -1}},
        ],
    )
    def test_peer_garbage_only_ever_raises_validation_failed(self, garbage):
        with pytest.raises(ValidationFailed) as caught:
            policy_clean(garbage)
        assert caught.value.errors


def offer(**constraints) -> dict:
    base = {
        "purpose": ["research", "risk_control"],
        "territory": ["CN-mainland"],
        "duration_days": 365,
        "max_users": 10,
    }
    return {
        "permissions": ["analyse", "derive", "use"],
        "prohibitions": ["redistribute", "resell"],
        "constraints": {**base, **constraints},
    }


def request(permissions=("use",), **constraints) -> dict:
    base = {"purpose": ["research"], "territory": ["310000"], "duration_days": 180, "max_users": 5}
    return {"permissions": list(permissions), "constraints": {**base, **constraints}}


def codes(breaches) -> list[tuple[str, str]]:
    return [(field, code) for field, code, _zh, _en in breaches]


class TestWithin:
    def test_a_use_within_the_offer_has_no_breach(self):
        assert policy_within(request(("use", "analyse")), offer()) == []

    def test_the_same_policy_is_within_itself(self):
        assert policy_within(EXAMPLE, EXAMPLE) == []

    def test_a_prohibited_action_and_an_action_not_permitted(self):
        breaches = policy_within(request(("use", "resell", "train_model")), offer())
        assert codes(breaches) == [
            ("usage_policy.permissions", "policy.action_prohibited"),
            ("usage_policy.permissions", "policy.action_not_permitted"),
        ]
        assert "resell" in breaches[0][2] and "train_model" in breaches[1][3]

    def test_a_purpose_outside_the_offer(self):
        breaches = policy_within(request(purpose=["research", "marketing"]), offer())
        assert codes(breaches) == [("usage_policy.constraints.purpose", "policy.purpose_not_allowed")]
        assert "marketing" in breaches[0][3]

    @pytest.mark.parametrize(
        ("asked", "offered", "within"),
        [
            (["310000"], ["CN-mainland"], True),
            (["310115"], ["310000"], True),  # a district of Shanghai, within Shanghai
            (["440300"], ["440000"], True),
            (["440300"], ["310000"], False),
            (["310000"], ["310115"], False),
            (["CN-mainland"], ["CN"], True),
            (["CN-mainland"], ["310000"], False),
            (["CN"], ["CN-mainland"], False),
            (["810000"], ["CN-mainland"], False),  # Hong Kong is outside the mainland
            (["810000"], ["CN"], True),
            (["710000"], ["CN-mainland", "310000"], False),
            (["310000", "440000"], ["310000", "440000"], True),
            (["310000", "440000"], ["310000"], False),
        ],
    )
    def test_territory_within(self, asked, offered, within):
        breaches = policy_within(request(territory=asked), offer(territory=offered))
        assert (breaches == []) is within
        if not within:
            assert codes(breaches) == [("usage_policy.constraints.territory", "policy.territory_not_allowed")]

    def test_cross_border_only_when_offered(self):
        asked = request(territory=["cross_border"])
        assert codes(policy_within(asked, offer(territory=["CN"]))) == [
            ("usage_policy.constraints.territory", "policy.cross_border_not_allowed")
        ]
        assert policy_within(asked, offer(territory=["CN", "cross_border"])) == []
        assert not territory_contains("cross_border", "310000")
        assert not territory_contains("CN", "cross_border")

    def test_duration_and_users_at_most_the_offer_and_unlimited_breaks_a_limit(self):
        assert policy_within(request(duration_days=365, max_users=10), offer()) == []
        assert codes(policy_within(request(duration_days=366, max_users=11), offer())) == [
            ("usage_policy.constraints.duration_days", "policy.duration_exceeded"),
            ("usage_policy.constraints.max_users", "policy.users_exceeded"),
        ]
        assert codes(policy_within(request(duration_days=None, max_users=None), offer())) == [
            ("usage_policy.constraints.duration_days", "policy.duration_exceeded"),
            ("usage_policy.constraints.max_users", "policy.users_exceeded"),
        ]
        unlimited = offer(duration_days=None, max_users=None)
        assert policy_within(request(duration_days=None, max_users=None), unlimited) == []

    def test_duties_of_the_offer_must_be_accepted(self):
        duties = offer(delete_at_end=True, deidentified_only=True)
        assert codes(policy_within(request(), duties)) == [
            ("usage_policy.constraints.delete_at_end", "policy.delete_at_end_required"),
            ("usage_policy.constraints.deidentified_only", "policy.deidentified_only_required"),
        ]
        assert policy_within(request(delete_at_end=True, deidentified_only=True), duties) == []
        assert policy_within(request(delete_at_end=True, deidentified_only=True), offer()) == []

    def test_breaches_are_bilingual_and_use_the_callers_field(self):
        [breach] = policy_within(request(duration_days=400), offer(), field="order.usage_policy")
        field, _code, zh, en = breach
        assert field == "order.usage_policy.constraints.duration_days"
        assert "365" in zh and "天" in zh and "365 days" in en

    def test_an_invalid_document_raises_and_says_which(self):
        with pytest.raises(ValidationFailed) as caught:
            policy_within(request(), {"permissions": "all"})
        assert {e.field for e in caught.value.errors} >= {"offered_policy.permissions"}
        with pytest.raises(ValidationFailed) as caught:
            policy_within(None, offer())
        assert caught.value.errors[0].field == "usage_policy"


class TestSchema:
    def test_it_is_a_valid_draft_2020_12_schema_accepting_the_example(self):
        schema = policy_schema()
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)
        Draft202012Validator(schema).validate(EXAMPLE)

    def test_each_call_gives_a_fresh_copy(self):
        policy_schema()["properties"].clear()
        assert "permissions" in policy_schema()["properties"]

    def test_vocabularies_carry_both_labels(self):
        actions = policy_schema()["properties"]["permissions"]["items"]["oneOf"]
        assert {a["const"] for a in actions} == ACTION_CODES
        assert {"const": "resell", "title": "转售 / Resell"} in actions
        purposes = policy_schema()["properties"]["constraints"]["properties"]["purpose"]["items"]["oneOf"]
        assert {p["const"] for p in purposes} == PURPOSE_CODES

    @pytest.mark.parametrize(
        "policy",
        [
            minimal(),
            minimal(duration_days=30.0),
            {**minimal(), "permissions": ["use", "use"]},
            {**minimal(), "version": "2.0"},
            {**minimal(), "permissions": []},
            {**minimal(), "permissions": ["use"] * 21},
            {**minimal(), "prohibitions": ["resell"], "remarks": "x" * 500},
            {**minimal(), "remarks": "x" * 501},
            {**minimal(), "other": 1},
            {"permissions": ["use"]},
            minimal(purpose=[]),
            minimal(purpose=["spying"]),
            minimal(territory=["100000"]),
            minimal(territory=["31000"]),
            minimal(territory=["CN", "cross_border", "310000"]),
            minimal(territory=["310000"] * 51),
            minimal(duration_days=0),
            minimal(duration_days=3650, max_users=100_000),
            minimal(duration_days=3651),
            minimal(max_users=None, duration_days=None),
            minimal(max_users=True),
            minimal(max_users="5"),
            minimal(delete_at_end=1),
            minimal(deidentified_only=True),
            minimal(unknown=True),
        ],
    )
    def test_the_schema_and_the_validator_agree(self, policy):
        by_schema = Draft202012Validator(policy_schema()).is_valid(policy)
        try:
            policy_clean(policy)
            by_clean = True
        except ValidationFailed:
            by_clean = False
        assert by_schema is by_clean

    def test_what_the_schema_cannot_say_is_left_to_the_validator_and_described(self):
        conflicting = {**minimal(), "prohibitions": ["use"]}
        assert Draft202012Validator(policy_schema()).is_valid(conflicting)
        assert ("usage_policy.prohibitions", "conflict") in errors_of(conflicting)
        description = policy_schema()["properties"]["prohibitions"]["description"]
        assert "must not repeat a permitted action" in description


class TestFromDescriptor:
    def test_the_example_product_without_personal_information_or_export(self, example_descriptor):
        policy = policy_from_descriptor(example_descriptor)
        assert policy == policy_clean(policy)
        assert policy["permissions"] == ["analyse", "derive", "link_with_other_data", "train_model", "use"]
        assert policy["prohibitions"] == ["redistribute", "resell"]
        assert policy["constraints"]["territory"] == ["CN-mainland"]
        assert policy["constraints"]["purpose"] == sorted(PURPOSE_CODES)
        assert not policy["constraints"]["delete_at_end"] and not policy["constraints"]["deidentified_only"]

    def test_an_export_with_a_passed_assessment_allows_cross_border(self, example_descriptor):
        compliance = example_descriptor["compliance"]
        compliance["cross_border_transfer"].update(involved=True, status="passed")
        compliance["security_assessment"]["status"] = "passed"
        territory = policy_from_descriptor(example_descriptor)["constraints"]["territory"]
        assert territory == ["CN", "cross_border"]
        compliance["security_assessment"]["status"] = "pending"
        territory = policy_from_descriptor(example_descriptor)["constraints"]["territory"]
        assert territory == ["CN-mainland"]

    @pytest.mark.parametrize(
        ("category", "trains"), [("deidentified", True), ("with_consent", False), (None, False)]
    )
    def test_personal_information_means_deidentified_use_and_deletion(
        self, example_descriptor, category, trains
    ):
        example_descriptor["compliance"]["personal_information"]["category"] = category
        policy = policy_from_descriptor(example_descriptor)
        assert policy["constraints"]["deidentified_only"] and policy["constraints"]["delete_at_end"]
        assert "link_with_other_data" in policy["prohibitions"]
        assert ("train_model" in policy["permissions"]) is trains

    def test_usage_restrictions_become_the_remarks_cut_to_500(self, example_descriptor):
        example_descriptor["usage_restrictions"] = "  不得用于营销。" + "长" * 600
        remarks = policy_from_descriptor(example_descriptor)["remarks"]
        assert remarks.startswith("不得用于营销。") and len(remarks) == 500 and remarks.endswith("…")

    @pytest.mark.parametrize("garbage", [None, [], {}, {"compliance": "x"}, {"compliance": {"x": 1}}])
    def test_a_descriptor_that_declares_nothing_gets_the_strict_policy(self, garbage):
        policy = policy_from_descriptor(garbage)
        assert policy["constraints"]["territory"] == ["CN-mainland"]
        assert policy["constraints"]["deidentified_only"]

    def test_a_buyer_asking_for_the_common_use_is_within_the_derived_policy(self, example_descriptor):
        asked = request(("use", "analyse"), duration_days=None, max_users=None)
        assert policy_within(asked, policy_from_descriptor(example_descriptor)) == []
        asked["constraints"]["territory"] = ["cross_border"]
        assert codes(policy_within(asked, policy_from_descriptor(example_descriptor))) == [
            ("usage_policy.constraints.territory", "policy.cross_border_not_allowed")
        ]


@pytest.mark.django_db
def test_the_schema_is_served_beside_the_descriptors(anon):
    response = anon.get("/api/v1/standards/usage-policy/")
    assert response.status_code == 200
    assert response.json() == policy_schema()
