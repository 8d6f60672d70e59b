"""The glossary over HTTP: GET /api/v1/standards/terms/ (list, search, pages) and /terms/{id}/, anonymous; the
responses match the published OpenAPI schema exactly; the vocabularies name each code's term."""

from __future__ import annotations

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

from standards.terminology import glossary, term_for

pytestmark = pytest.mark.django_db
URL = "/api/v1/standards/terms/"


@pytest.fixture(scope="module")
def openapi() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _closed(schema: dict) -> dict:
    """The OpenAPI (3.0) schema as a JSON Schema that also refuses undeclared fields."""
    if isinstance(schema, dict):
        schema = {key: _closed(value) for key, value in schema.items()}
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
        if schema.pop("nullable", False) and "type" in schema:
            schema["type"] = [schema["type"], "null"]
        return schema
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


def _validate(body, openapi: dict, path: str, status: str = "200") -> None:
    operation = openapi["paths"][path]["get"]
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    document = _closed({**schema, "components": openapi["components"]})
    jsonschema.Draft202012Validator(document).validate(body)


class TestList:
    def test_every_term_in_pages_with_version_and_hash(self, anon, openapi):
        response = anon.get(URL, {"page_size": 100})
        assert response.status_code == 200
        body = response.json()
        _validate(body, openapi, URL)
        assert body["count"] == len(glossary().terms)
        assert body["version"] == glossary().version and body["sha256"] == glossary().sha256
        assert [t["id"] for t in body["results"]] == [t.id for t in glossary().terms[:100]]
        assert body["next"] and body["previous"] is None
        rest = anon.get(URL, {"page_size": 100, "page": 2}).json()
        assert len(body["results"]) + len(rest["results"]) == body["count"] and rest["next"] is None

    def test_no_database_query(self, anon, django_assert_num_queries):
        with django_assert_num_queries(0):
            assert anon.get(URL, {"q": "数据"}).status_code == 200
        with django_assert_num_queries(0):
            assert anon.get(f"{URL}data/").status_code == 200

    def test_default_page_size_is_the_api_default(self, anon):
        assert len(anon.get(URL).json()["results"]) == 20

    def test_search_ranks_the_term_first(self, anon, openapi):
        body = anon.get(URL, {"q": "出境"}).json()
        _validate(body, openapi, URL)
        assert body["results"][0]["id"] == "cross-border-data-transfer"
        assert body["count"] == len(body["results"]) and body["count"] < len(glossary().terms)

    def test_search_in_english(self, anon):
        assert anon.get(URL, {"q": "data merchant"}).json()["results"][0]["id"] == "data-merchant"

    def test_search_without_match_is_an_empty_page(self, anon):
        body = anon.get(URL, {"q": "zzzqqq"}).json()
        assert body["count"] == 0 and body["results"] == []

    def test_blank_search_lists_everything(self, anon):
        assert anon.get(URL, {"q": "  "}).json()["count"] == len(glossary().terms)

    def test_too_long_search_is_400_naming_the_field(self, anon, openapi):
        response = anon.get(URL, {"q": "出" * 101})
        assert response.status_code == 400
        body = response.json()
        _validate(body, openapi, URL, "400")
        assert body["error"]["code"] == "validation_error"
        assert [(e["field"], e["code"]) for e in body["error"]["errors"]] == [("q", "max_length")]

    @pytest.mark.parametrize("page", ["99", "abc", "0"])
    def test_a_page_that_does_not_exist_is_404_as_in_other_lists(self, anon, page):
        response = anon.get(URL, {"page": page})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


class TestDetail:
    def test_one_term_with_definitions_sources_related_and_codes(self, anon, openapi):
        response = anon.get(f"{URL}cross-border-data-transfer/")
        assert response.status_code == 200
        body = response.json()
        _validate(body, openapi, f"{URL}{{id}}/")
        assert (body["zh"], body["en"]) == ("数据出境", "cross-border data transfer")
        assert body["definition"]["zh"].startswith("数据处理者") and body["definition"]["en"]
        cited = {s["source"]: s for s in body["sources"]}
        assert cited["export-assessment"]["zh"] == "《数据出境安全评估办法》"
        assert (cited["pipl"]["provision_zh"], cited["pipl"]["provision_en"]) == ("第三十八条", "Art. 38")
        assert {"id": "important-data", "zh": "重要数据", "en": "important data"} in body["related"]
        assert {"vocabulary": "compliance_item", "code": "cross_border_transfer"} in body["codes"]
        assert body["vocabularies"] == []

    def test_a_term_for_a_whole_vocabulary(self, anon):
        body = anon.get(f"{URL}administrative-division-code/").json()
        assert body["vocabularies"] == ["region"] and body["codes"] == []

    @pytest.mark.parametrize("term_id", ["no-such-term", "Data-Merchant", "%E6%95%B0%E5%95%86"])
    def test_unknown_term_is_404_in_the_error_shape(self, anon, term_id, openapi):
        response = anon.get(f"{URL}{term_id}/")
        assert response.status_code == 404
        body = response.json()
        _validate(body, openapi, f"{URL}{{id}}/", "404")
        assert body["error"]["code"] == "not_found" and body["error"]["message_en"]

    def test_writes_are_not_allowed(self, anon):
        assert anon.post(URL, {}, format="json").status_code == 405
        assert anon.delete(f"{URL}data/").status_code == 405


class TestVocabulariesNameTheirTerms:
    def test_descriptor_vocabularies(self, anon):
        body = anon.get("/api/v1/standards/vocabularies/").json()
        forms = {row["code"]: row["term"] for row in body["vocabularies"]["product_form"]["terms"]}
        assert forms["dataset"] == "dataset" and forms["api"] == "data-api"
        for name, vocabulary in body["vocabularies"].items():
            assert all(row["term"] == term_for(name, row["code"]) for row in vocabulary["terms"]), name

    def test_participant_vocabularies(self, anon):
        body = anon.get("/api/v1/standards/participant-vocabularies/").json()
        roles = {row["code"]: row["term"] for row in body["role"]}
        assert roles == {
            "data_merchant": "data-merchant",
            "demander": "demander",
            "service_provider": "third-party-service-provider",
        }
        assert {row["term"] for row in body["grade_scale"]} == {"evaluation-grade"}
        assert all(row["term"] for row in body["service"] + body["evaluation_dimension"])
