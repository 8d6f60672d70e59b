"""Descriptor 1.1 through the products API: a data dictionary and a level are stored and served, core data
and contradictions are blocking findings at submission, dictionary errors are 400s naming the field."""

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/v1/products/"
EXAMPLE = Path(__file__).resolve().parents[1] / "docs/examples/product-descriptor-1.1.json"


@pytest.fixture
def descriptor_11() -> dict:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def _create(api, descriptor):
    return api.post(URL, {"descriptor": descriptor}, format="json")


def _act(api, code, action, body=None):
    return api.post(f"{URL}{code}/{action}/", body or {}, format="json")


def _errors(response, status=400) -> dict[str, str]:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["message"] and error["message_en"]
    return {e["field"]: e["code"] for e in error["errors"]}


def test_a_11_product_is_listed_with_its_dictionary_and_level(alice_api, anon, descriptor_11):
    created = _create(alice_api, descriptor_11)
    assert created.status_code == 201, created.content
    code = created.json()["code"]
    assert _act(alice_api, code, "submit").json()["findings"] == []
    assert _act(alice_api, code, "review", {"decision": "approve"}).json()["status"] == "listed"
    served = anon.get(f"{URL}{code}/").json()["descriptor"]
    assert served["classification"] == {"level": "general"}
    assert [f["name"] for f in served["fields"]][:3] == ["pile_id", "station", "district"]


def test_core_data_cannot_be_listed(alice_api, descriptor_11):
    descriptor_11["classification"] = {"level": "core"}
    descriptor_11["compliance"]["important_data"].update(involved=True, status="passed", evidence_ref="I-1")
    code = _create(alice_api, descriptor_11).json()["code"]
    findings = _act(alice_api, code, "submit").json()["findings"]
    assert {(f["rule"], f["severity"]) for f in findings} == {("C13.core_data", "blocking")}
    refused = _act(alice_api, code, "review", {"decision": "approve"})
    assert _errors(refused, 409) == {"descriptor.classification.level": "C13.core_data"}


def test_dictionary_and_sample_errors_name_the_field(alice_api, descriptor_11):
    descriptor_11["fields"].append(dict(descriptor_11["fields"][0]))
    descriptor_11["sample"]["records"][0]["status"] = "exploded"
    fields = _errors(_create(alice_api, descriptor_11))
    assert fields == {
        "descriptor.fields.8.name": "unique",
        "descriptor.sample.records.0.status": "sample.mismatch",
    }


def test_a_10_descriptor_carrying_11_fields_is_refused(alice_api, descriptor_11):
    descriptor_11["descriptor_version"] = "1.0"
    del descriptor_11["fields"]
    fields = _errors(_create(alice_api, descriptor_11))
    assert fields == {"descriptor.classification": "unknown_field"}


def test_search_filters_on_the_declared_data_level(alice_api, anon, descriptor_11, example_descriptor):
    important = json.loads(json.dumps(descriptor_11))
    important["name"] = "上海市新能源汽车充电桩运行明细数据集"
    important["classification"] = {"level": "important"}
    example_descriptor["name"] = "上海市新能源汽车充电桩运行汇总数据集"  # 1.0, no level
    important["delivery_methods"] = ["sandbox"]
    important["compliance"]["important_data"].update(involved=True, status="passed", evidence_ref="I-1")
    codes = {}
    for key, descriptor in (
        ("general", descriptor_11),
        ("important", important),
        ("none", example_descriptor),
    ):
        created = _create(alice_api, descriptor)
        assert created.status_code == 201, created.content
        codes[key] = created.json()["code"]
        _act(alice_api, codes[key], "submit")
        assert _act(alice_api, codes[key], "review", {"decision": "approve"}).json()["status"] == "listed"

    def found(level: str) -> set[str]:
        response = anon.get(URL, {"data_level": level})
        assert response.status_code == 200, response.content
        return {row["code"] for row in response.json()["results"]}

    assert found("general") == {codes["general"]}
    assert found("important") == {codes["important"]}
    assert found("core") == set()
    assert _errors(anon.get(URL, {"data_level": "secret"})) == {"data_level": "invalid_choice"}
