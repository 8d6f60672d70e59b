"""Version IRIs of the DCAT-AP 3 export (docs/interop.md, *Versions*): `<product IRI>/v<version>` is served
(suffixes and content negotiation) with the DCAT description of that version from the stored history;
`dcat:hasVersion` lists every public version, `dcat:previousVersion` chains them; unknown versions are 404
in the error shape; every version's graph conforms to the shapes."""

import copy
import json
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SH

from interop.dcat import DCAT, product_graph, product_iri
from interop.dcat_versions import version_graph
from products import services
from products.models import ProductStatus
from tests.factories import make_product

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]
SHAPES = Graph().parse(ROOT / "interop" / "shapes" / "dcat-ap-3.ttl")
EXAMPLE = json.loads((ROOT / "docs" / "examples" / "product-descriptor-1.1.json").read_text("utf-8"))
PARSERS = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/rdf+xml": "xml"}
FIRST_SUMMARY = EXAMPLE["summary"]
SECOND_SUMMARY = FIRST_SUMMARY + "自2025年起新增直流快充桩的分时功率数据。"


@pytest.fixture
def history(alice):
    """A product listed (v3: created v1, submitted v2), updated while listed (v4), suspended (v5) and
    reinstated (v6): public versions 3, 4, 5 and 6; drafts 1 and 2 are not."""
    product = make_product(actor=alice, descriptor=copy.deepcopy(EXAMPLE), status=ProductStatus.LISTED)
    assert product.version == 3
    changed = copy.deepcopy(product.descriptor)
    changed["summary"] = SECOND_SUMMARY
    changed["keywords"] = [*changed["keywords"], "快充"]
    product = services.product_update(actor=alice, product=product, descriptor=changed)
    product = services.product_suspend(actor=alice, product=product, reasons=["核查中"])
    product = services.product_reinstate(actor=alice, product=product)
    assert product.version == 6 and product.status == ProductStatus.LISTED
    return product


def _violations(graph: Graph) -> list:
    _, report, _ = validate(graph, shacl_graph=SHAPES, allow_warnings=False)
    return [
        (report.value(r, SH.focusNode), report.value(r, SH.resultPath), report.value(r, SH.resultSeverity))
        for r in report.subjects(RDF.type, SH.ValidationResult)
    ]


def _v(product, version: int) -> URIRef:
    return URIRef(f"{product_iri(product)}/v{version}")


def test_has_version_lists_every_public_version_and_previous_version_chains_them(history):
    graph = product_graph(history)
    s = product_iri(history)
    assert set(graph.objects(s, DCAT.hasVersion)) == {_v(history, n) for n in (3, 4, 5, 6)}
    assert graph.value(s, DCAT.hasCurrentVersion) == _v(history, 6)
    assert graph.value(s, DCAT.version) == Literal("6")
    for n in (3, 4, 5, 6):
        assert graph.value(_v(history, n), DCAT.version) == Literal(str(n))
        assert graph.value(_v(history, n), DCAT.isVersionOf) == s
    chain = {n: graph.value(_v(history, n), DCAT.previousVersion) for n in (3, 4, 5, 6)}
    assert chain == {3: None, 4: _v(history, 3), 5: _v(history, 4), 6: _v(history, 5)}
    assert (s, DCAT.hasVersion, _v(history, 1)) not in graph  # the drafts' versions are not public


def test_a_version_is_described_as_its_history_stored_it(history):
    old, new = version_graph(history, 3), version_graph(history, 4)
    v3, v4 = _v(history, 3), _v(history, 4)
    assert (v3, RDF.type, DCAT.Dataset) in old and (v4, RDF.type, DCAT.Dataset) in new
    assert old.value(v3, DCTERMS.description) == Literal(FIRST_SUMMARY, lang="zh")
    assert new.value(v4, DCTERMS.description) == Literal(SECOND_SUMMARY, lang="zh")
    assert "快充" not in {str(k) for k in old.objects(v3, DCAT.keyword)}
    assert "快充" in {str(k) for k in new.objects(v4, DCAT.keyword)}
    assert old.value(v3, DCAT.version) == Literal("3") and new.value(v4, DCAT.version) == Literal("4")
    assert old.value(v3, DCAT.isVersionOf) == product_iri(history)
    assert old.value(v3, DCAT.previousVersion) is None
    assert new.value(v4, DCAT.previousVersion) == v3
    # its own distributions and offer, not the product's
    assert URIRef(f"{v3}#distribution-api") in set(old.objects(v3, DCAT.distribution))
    assert old.value(v3, URIRef("http://www.w3.org/ns/odrl/2/hasPolicy")) == URIRef(f"{v3}#usage-policy")
    assert version_graph(history, 1) is None and version_graph(history, 7) is None


def test_every_version_conforms_to_the_shapes(history):
    for n in (3, 4, 5, 6):
        assert _violations(version_graph(history, n)) == [], n
    assert _violations(product_graph(history)) == []


def _parse(response) -> Graph:
    mime = response["Content-Type"].split(";")[0]
    return Graph().parse(data=response.content, format=PARSERS[mime])


def test_version_iris_are_served_by_suffix_and_by_accept(client, history):
    code = history.code
    expected = len(version_graph(history, 4))
    for suffix, mime in (
        ("ttl", "text/turtle"),
        ("jsonld", "application/ld+json"),
        ("rdf", "application/rdf+xml"),
    ):
        by_suffix = client.get(f"/dcat/products/{code}/v4.{suffix}")
        by_accept = client.get(f"/dcat/products/{code.lower()}/v4", HTTP_ACCEPT=f"text/html;q=0.5, {mime}")
        for response in (by_suffix, by_accept):
            assert response.status_code == 200 and response["Content-Type"].startswith(mime)
            assert response["Vary"] == "Accept"
            graph = _parse(response)
            assert len(graph) == expected
            assert graph.value(_v(history, 4), DCTERMS.description) == Literal(SECOND_SUMMARY, lang="zh")
    # the IRI the product's description names is the one served
    named = product_graph(history).value(_v(history, 5), DCAT.version)
    served = _parse(client.get(str(_v(history, 5)).removeprefix("http://127.0.0.1:8001")))
    assert served.value(_v(history, 5), DCAT.version) == named


def test_unknown_versions_are_404_in_the_error_shape(client, history, alice):
    for path in (f"{history.code}/v1", f"{history.code}/v7.ttl", f"{history.code}/v999999999"):
        response = client.get(f"/dcat/products/{path}")
        assert response.status_code == 404, path
        error = response.json()["error"]
        assert error["code"] == "not_found" and error["errors"][0]["field"] == "version"
    for path in (f"{history.code}/v0", f"{history.code}/v03", f"{history.code}/vx"):  # not a version IRI
        response = client.get(f"/dcat/products/{path}")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", path
    draft = make_product(actor=alice)
    unlisted = client.get(f"/dcat/products/{draft.code}/v1.ttl")
    assert unlisted.status_code == 404 and unlisted.json()["error"]["code"] == "not_found"
    refused = client.get(f"/dcat/products/{history.code}/v4", HTTP_ACCEPT="image/png")
    assert refused.status_code == 406
    assert client.post(f"/dcat/products/{history.code}/v4.ttl").status_code == 405


def test_the_catalog_lists_the_versions_too(client, history):
    response = client.get("/dcat/catalog.ttl")
    graph = Graph().parse(data=b"".join(response.streaming_content), format="turtle")
    s = product_iri(history)
    assert set(graph.objects(s, DCAT.hasVersion)) == {_v(history, n) for n in (3, 4, 5, 6)}
    assert graph.value(_v(history, 6), DCAT.previousVersion) == _v(history, 5)
