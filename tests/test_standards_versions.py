"""One standards version for the network (issue 20, section 5): the registry of standards with their versions
and content hashes, what a node announces, and the API that lists them (docs/standards/versions.md)."""

import dataclasses
import re

import pytest

from standards import compliance, versions
from standards.compliance import Rule, compliance_rules_as_json
from standards.versions import (
    STANDARDS,
    VERSION_PATTERN,
    Standard,
    combined_sha256,
    content_sha256,
    standard_knows,
    standards_all,
    standards_announcement,
    standards_check,
    standards_differences,
)

EXPECTED_CODES = {
    "descriptor",
    "naming",
    "compliance",
    "vocabularies",
    "participant_vocabularies",
    "usage_policy",
    "deal_flow",
    "dispute_rules",
    "glossary",
}


def test_every_standard_of_the_network_is_in_the_registry_with_a_semver_like_version():
    assert {s.code for s in STANDARDS} >= EXPECTED_CODES
    assert standards_check(STANDARDS) == []
    for state in standards_all():
        assert VERSION_PATTERN.match(state.standard.version), state.standard.code
        assert re.fullmatch(r"[0-9a-f]{64}", state.sha256)
        assert state.standard.version in state.standard.versions_known


def test_the_versions_are_the_standards_own_constants():
    from standards.descriptor import DESCRIPTOR_VERSION, DESCRIPTOR_VERSIONS
    from standards.terminology import glossary
    from standards.usage_policy import POLICY_VERSION

    states = {s.standard.code: s.standard for s in standards_all()}
    assert states["descriptor"].version == DESCRIPTOR_VERSION
    assert states["descriptor"].versions_known == DESCRIPTOR_VERSIONS  # 1.0 descriptors stay valid
    assert states["compliance"].version == compliance.COMPLIANCE_RULES_VERSION
    assert states["usage_policy"].version == POLICY_VERSION
    assert states["glossary"].version == glossary().version


@pytest.mark.parametrize(
    ("version", "ok"),
    [("1.0", True), ("1.10", True), ("2.0.3", True), ("1", False), ("v1.0", False), ("1.0-beta", False),
     ("01.0", False), ("1.0.0.0", False), ("", False)],
)  # fmt: skip
def test_a_version_must_be_major_minor_and_an_optional_patch(version, ok):
    standard = Standard("x", "x", "x", version, dict)
    assert (standards_check((standard,)) == []) is ok


def test_the_registry_refuses_duplicates_and_a_newest_version_it_does_not_know():
    one = Standard("x", "x", "x", "1.0", dict)
    assert standards_check((one, one)) == ["x: declared twice"]
    assert standards_check((Standard("y", "y", "y", "1.1", dict, ("1.0",)),)) == [
        "y: version 1.1 is not among the versions it knows"
    ]


def test_the_hash_is_of_the_canonical_json_and_changes_with_the_data(monkeypatch):
    before = content_sha256(compliance_rules_as_json())
    assert before == content_sha256(dict(reversed(compliance_rules_as_json().items())))  # order: none
    assert content_sha256({"a": 1, "b": [1, 2]}) == content_sha256({"b": [1, 2], "a": 1})  # key order: none
    # A rule reworded without a version bump: same version, another hash.
    reworded = (
        *compliance.COMPLIANCE_RULES[:-1],
        dataclasses.replace(compliance.COMPLIANCE_RULES[-1], en="x"),
    )
    monkeypatch.setattr(compliance, "COMPLIANCE_RULES", reworded)
    after = content_sha256(compliance_rules_as_json())
    assert after != before
    assert compliance_rules_as_json()["version"] == compliance.COMPLIANCE_RULES_VERSION
    # A rule added: another hash again.
    monkeypatch.setattr(compliance, "COMPLIANCE_RULES", (*reworded, Rule("C99.x", "warning", "x", "x")))
    assert content_sha256(compliance_rules_as_json()) not in {before, after}


def test_the_announcement_is_the_versions_and_one_hash_of_every_standards_hash():
    announced = standards_announcement()
    states = standards_all()
    assert announced["versions"] == {s.standard.code: s.standard.version for s in states}
    assert announced["sha256"] == combined_sha256({s.standard.code: s.sha256 for s in states})
    assert versions.announcement_valid(announced)


def test_differences_name_each_standard_and_same_versions_with_other_content():
    mine = standards_announcement()
    assert standards_differences(mine) == []
    newer = {"versions": {**mine["versions"], "descriptor": "1.2", "fees": "1.0"}, "sha256": "0" * 64}
    assert standards_differences(newer) == [
        {"code": "descriptor", "mine": mine["versions"]["descriptor"], "theirs": "1.2"},
        {"code": "fees", "mine": None, "theirs": "1.0"},
    ]
    edited = {"versions": dict(mine["versions"]), "sha256": "f" * 64}  # same versions, other rules
    assert standards_differences(edited) == [{"code": "*", "mine": mine["sha256"], "theirs": "f" * 64}]


@pytest.mark.parametrize(
    "announced",
    [None, [], {"versions": {}}, {"versions": {"a": 1}, "sha256": "0" * 64}, {"versions": {}, "sha256": "x"},
     {"versions": {"A B": "1.0"}, "sha256": "0" * 64}, {"versions": {}, "sha256": "0" * 64, "more": 1}],
)  # fmt: skip
def test_a_peers_announcement_of_another_shape_is_not_taken(announced):
    assert not versions.announcement_valid(announced)


def test_a_node_knows_the_versions_it_applies():
    assert standard_knows("descriptor", "1.0") and standard_knows("descriptor", "1.1")
    assert not standard_knows("descriptor", "1.2")
    assert not standard_knows("no_such_standard", "1.0")
    assert not standard_knows("descriptor", 1.0)


# --- the API --------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_standards_are_listed_with_their_hashes_and_each_url_serves_what_its_hash_covers(client):
    body = client.get("/api/v1/standards/").json()
    assert {row["code"] for row in body["standards"]} == {s.standard.code for s in standards_all()}
    assert body["combined"] == standards_announcement()
    descriptor = next(row for row in body["standards"] if row["code"] == "descriptor")
    assert descriptor["title"] == {"zh": "数据产品描述标准", "en": "product descriptor"}
    assert descriptor["versions_known"] == ["1.0", "1.1"]
    for row in body["standards"]:
        assert row["url"] == f"/api/v1/standards/versions/{row['code']}/"
        served = client.get(row["url"]).json()
        assert content_sha256(served["content"]) == row["sha256"] == served["sha256"], row["code"]
        assert served["version"] == row["version"]


@pytest.mark.django_db
def test_an_unknown_standard_is_404_in_the_error_shape(client):
    response = client.get("/api/v1/standards/versions/no_such_standard/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_the_node_announces_its_standards(client):
    node = client.get("/api/v1/node/").json()
    assert node["standards"] == standards_announcement()
    identity = client.get("/federation/v1/node/").json()
    assert identity["standards"] == standards_announcement()
