"""The OpenAPI schema is the contract (docs/api.md): what the schema promises about pages, types, unknown
keys, anonymous access and the errors any request can meet is what the node does. scripts/schemathesis_run.py
holds the whole API to it from outside; these tests pin each promise at the source."""

import copy
import datetime
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient
from schemathesis.config import SchemathesisConfig

from api.schema import _openapi_30, descriptor_openapi_schema
from api.views.schema import SchemaView
from products.models import Product, ProductStatus
from tests.factories import make_product, register_provider

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
ROOT = Path(__file__).resolve().parents[1]
DEMAND = json.loads((ROOT / "docs/examples/demand.json").read_text("utf-8"))
DEMAND["deadline"] = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=60)).isoformat()
PRODUCT = json.loads((ROOT / "docs/examples/product-descriptor.json").read_text("utf-8"))
DEMANDER = "91310115AY4CL12T2E"


def _errors(response) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in response.json()["error"]["errors"]}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _login(username: str, password: str) -> APIClient:
    client = APIClient()
    pair = client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.json()['access']}")
    return client


@pytest.fixture
def posted(alice):
    provider = PRODUCT["provider"]
    register_provider(provider["uscc"], provider["name"])
    make_product(actor=alice, descriptor=copy.deepcopy(PRODUCT), status=ProductStatus.LISTED)
    register_provider(
        DEMANDER,
        "上海浦数智能科技有限公司",
        roles=("demander",),
        account={"username": "b", "password": "Qz8-b-harbor"},
    )
    demander = _login("b", "Qz8-b-harbor")
    response = demander.post("/api/v1/demands/", DEMAND, format="json")
    assert response.status_code == 201, response.content
    demander.demand = response.json()["id"]
    return demander


class TestPages:
    @pytest.mark.parametrize(
        "query, field",
        [
            ("page=0", "page"),
            ("page=-1", "page"),
            ("page=abc", "page"),
            ("page=last", "page"),
            ("page=１", "page"),
            ("page_size=0", "page_size"),
            ("page_size=101", "page_size"),
            ("page_size=x", "page_size"),
        ],
    )
    def test_a_malformed_page_or_page_size_is_400_naming_it(self, anon, query, field):
        for path in ("/api/v1/products/", "/api/v1/demands/", "/api/v1/participants/"):
            response = anon.get(f"{path}?{query}")
            assert response.status_code == 400, (path, response.content)
            assert _errors(response) == {(field, "invalid")}

    def test_a_page_past_the_last_is_404_naming_page(self, anon):
        response = anon.get("/api/v1/products/?page=2")
        assert response.status_code == 404
        assert _errors(response) == {("page", "out_of_range")}
        assert anon.get("/api/v1/products/?page=1&page_size=100").status_code == 200
        # A whole number too long to read is past the end too (schema-valid: `page` has no maximum).
        response = anon.get("/api/v1/products/?page=62033418497238745088")
        assert response.status_code == 404 and _errors(response) == {("page", "out_of_range")}

    def test_matches_and_responses_are_pages_like_every_list(self, posted, anon):
        matches = anon.get(f"/api/v1/demands/{posted.demand}/matches/?page_size=1").json()
        assert set(matches) == {"count", "count_exact", "next", "previous", "results"}
        assert matches["count"] >= 1 and len(matches["results"]) == 1
        assert matches["results"][0]["product"] == make_code(PRODUCT)
        assert anon.get(f"/api/v1/demands/{posted.demand}/matches/?page_size=500").status_code == 400
        responses = posted.get(f"/api/v1/demands/{posted.demand}/responses/").json()
        assert responses["count"] == 0 and responses["results"] == []


def make_code(descriptor: dict) -> str:
    return Product.objects.get(name=descriptor["name"]).code


class TestTypes:
    @pytest.mark.parametrize(
        "value, status", [("true", 200), ("false", 200), ("1", 200), ("", 200), ("null", 400), ("yes", 400)]
    )
    def test_a_boolean_filter_is_true_or_false(self, anon, value, status):
        for path, name in (("/api/v1/participants/", "duplicate"), ("/api/v1/evaluations/", "current")):
            response = anon.get(path, {name: value})
            assert response.status_code == status, (path, response.content)
            if status == 400:
                assert _errors(response) == {(name, "invalid")}

    @pytest.mark.parametrize(
        "path, body, field",
        [
            (
                "/api/v1/standards/naming/check/",
                {"name": "企业信用报告", "product_form": "dataset", "provider_uscc": 0},
                "provider_uscc",
            ),
            ("/api/v1/standards/naming/check/", {"name": 5, "product_form": "dataset"}, "name"),
            (
                "/api/v1/standards/naming/check/",
                {"name": "企业信用报告", "product_form": "dataset", "spatial_coverage": [310000]},
                "spatial_coverage",
            ),
            ("/api/v1/standards/product-code/check/", {"code": 0}, "code"),
            ("/api/v1/products/", {"descriptor": PRODUCT, "expected_version": "1"}, "expected_version"),
            ("/api/v1/products/", {"descriptor": PRODUCT, "expected_version": True}, "expected_version"),
            ("/api/v1/products/", {"descriptor": PRODUCT, "expected_version": 1.5}, "expected_version"),
        ],
    )
    def test_a_value_of_the_wrong_json_type_is_400(self, alice_api, path, body, field):
        response = alice_api.post(path, body, format="json")
        assert response.status_code == 400, response.content
        assert (field, "invalid_type") in _errors(response)

    @pytest.mark.parametrize("descriptor", [[None], "x", 1, None])
    def test_validate_refuses_a_descriptor_that_is_not_an_object(self, anon, descriptor):
        response = anon.post(
            "/api/v1/standards/product-descriptor/validate/", {"descriptor": descriptor}, format="json"
        )
        assert response.status_code == 400
        assert {field for field, _ in _errors(response)} == {"descriptor"}

    def test_validate_answers_an_invalid_object_with_its_errors(self, anon):
        path = "/api/v1/standards/product-descriptor/validate/"
        response = anon.post(path, {"descriptor": {}}, format="json")
        assert response.status_code == 200 and response.json()["valid"] is False


class TestSchema:
    def test_strict_request_bodies_refuse_unknown_keys_in_the_schema_too(self, schema):
        components = schema["components"]["schemas"]
        bodies = {
            operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            for operations in schema["paths"].values()
            for operation in operations.values()
            if "requestBody" in operation and "application/json" in operation["requestBody"]["content"]
        }
        assert len(bodies) > 20 and "NamingCheckRequestRequest" in bodies
        # the one body that is not JSON: a sample file, as the raw body (docs/api.md)
        upload = schema["paths"]["/api/v1/products/{code}/sample/"]["post"]["requestBody"]["content"]
        assert set(upload) == {"text/csv", "application/x-ndjson"}
        for name in bodies:  # every request body of the API is a StrictSerializer
            assert components[name]["additionalProperties"] is False, name
        assert "additionalProperties" not in components["ProductDetail"]

    def test_anonymous_reads_are_declared_and_signed_in_operations_are_not(self, schema):
        paths = schema["paths"]
        for path, method in [
            ("/api/v1/products/", "get"),
            ("/api/v1/products/{code}/", "get"),
            ("/api/v1/demands/{id}/matches/", "get"),
            ("/api/v1/participants/", "post"),  # self-registration
        ]:
            assert {} in paths[path][method]["security"], (path, method)
        for path, method in [
            ("/api/v1/products/", "post"),
            ("/api/v1/demands/", "post"),
            ("/api/v1/demands/{id}/responses/", "get"),
            ("/api/v1/notifications/", "get"),
            ("/api/v1/participants/{id}/", "patch"),
            ("/api/v1/evaluations/", "post"),
        ]:
            assert {} not in paths[path][method]["security"], (path, method)

    def test_every_operation_documents_the_errors_any_request_can_meet(self, schema):
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                assert {"400", "413", "414"} <= set(operation["responses"]), (path, method)
                if any(operation.get("security", [{}])):
                    assert "401" in operation["responses"], (path, method)

    def test_pages_are_whole_numbers_in_range(self, schema):
        listing = schema["paths"]["/api/v1/products/"]["get"]
        parameters = {p["name"]: p["schema"] for p in listing["parameters"]}
        assert parameters["page"]["minimum"] == 1
        assert (parameters["page_size"]["minimum"], parameters["page_size"]["maximum"]) == (1, 100)
        matches = schema["paths"]["/api/v1/demands/{id}/matches/"]["get"]
        assert {p["name"] for p in matches["parameters"] if p["in"] == "query"} == {"page", "page_size"}

    def test_the_descriptor_is_the_standards_json_schema(self, schema):
        body = schema["components"]["schemas"]["ProductWriteRequest"]["properties"]["descriptor"]
        descriptor = descriptor_openapi_schema()
        assert {k: v for k, v in body.items() if k != "description"} == {
            k: v for k, v in descriptor.items() if k != "description"
        }
        assert descriptor["properties"]["descriptor_version"]["enum"] == ["1.0", "1.1"]
        assert "$schema" not in json.dumps(descriptor)
        assert '"if"' not in json.dumps(descriptor)  # OpenAPI 3.0 has no if/then: rewritten as anyOf

    def test_a_conditional_means_the_same_in_openapi_30(self):
        import jsonschema  # lazy: the test's own oracle

        node = {
            "type": "object",
            "if": {"properties": {"v": {"const": "1.0"}}, "required": ["v"]},
            "then": {"properties": {"extra": {"not": {}}}},
        }
        rewritten = _openapi_30(node)
        for instance in ({"v": "1.0"}, {"v": "1.0", "extra": 1}, {"v": "1.1", "extra": 1}, {}):
            assert jsonschema.Draft202012Validator(node).is_valid(instance) == jsonschema.Draft4Validator(
                rewritten
            ).is_valid(instance), instance


@override_settings(MAX_REQUEST_URL_BYTES=100)
def test_an_over_long_url_is_414_in_the_error_shape(anon):
    assert settings.MAX_REQUEST_URL_BYTES == 100
    response = anon.get("/api/v1/products/", {"q": "x" * 100})
    assert response.status_code == 414
    assert response.json()["error"]["code"] == "uri_too_long"


def test_the_url_limit_lies_below_the_web_servers():
    dockerfile = (ROOT / "Dockerfile").read_text()
    gunicorn_line = int(re.search(r'"--limit-request-line", "(\d+)"', dockerfile).group(1))
    assert settings.MAX_REQUEST_URL_BYTES + len("DELETE  HTTP/1.1") < gunicorn_line


def test_redoc_loads_nothing_from_another_host(anon):
    html = anon.get("/api/redoc/").content.decode()
    assert "redoc" in html.lower()
    assert re.findall(r'(?:src|href)\s*=\s*["\'](?:https?:)?//', html, flags=re.IGNORECASE) == []
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html


def test_ci_runs_schemathesis_with_every_check_and_a_valid_configuration():
    ci = (ROOT / ".ci/run").read_text("utf-8")
    assert ".venv/bin/python scripts/schemathesis_run.py" in ci
    script = (ROOT / "scripts/schemathesis_run.py").read_text("utf-8")
    assert '"--checks",\n        "all",' in script and '"--seed",' in script
    config = SchemathesisConfig.from_path(ROOT / "schemathesis.toml")  # refuses an unknown or misspelt key
    assert config.projects.default.generation.allow_x00 is False


def test_clients_loading_the_schema_together_all_get_it():
    """drf-spectacular's generator is not thread-safe: the served document is generated once, under a lock
    (three schemathesis runs loading it at once got a 500)."""
    from concurrent.futures import ThreadPoolExecutor  # lazy: only this test runs threads

    SchemaView._documents.clear()

    def load(_):
        response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        return response.status_code, response.content

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(load, range(4)))
    assert {status for status, _ in answers} == {200}
    assert len({content for _, content in answers}) == 1
    assert json.loads(answers[0][1])["openapi"].startswith("3.0")
