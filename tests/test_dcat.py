"""The DCAT-AP 3 export (docs/interop.md, *DCAT-AP 3*): the mapping of a product, the catalogs, their
conformance to the repository's DCAT-AP 3 shapes (pyshacl), and the HTTP surface (formats by suffix and by
content negotiation, streaming, paging, anonymous and listed-only)."""

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
from django.utils import timezone
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SH, SKOS, XSD

from interop.dcat import DCAT, catalog_graph, product_graph, product_iri
from interop.dcat_parts import CSVW, DQV, ODRL
from interop.dcat_terms import EU_FREQUENCY, EU_THEME, region_iri, vocabulary_iri
from products.models import ProductStatus
from quality.models import QualityReport
from tests.factories import make_foreign_product, make_product, random_descriptor

ROOT = Path(__file__).resolve().parents[1]
SHAPES = Graph().parse(ROOT / "interop" / "shapes" / "dcat-ap-3.ttl")
EXAMPLES = ROOT / "docs" / "examples"
HYDRA = "http://www.w3.org/ns/hydra/core#"


def _results(graph: Graph, severity=None) -> list[tuple]:
    _, report, _ = validate(graph, shacl_graph=SHAPES, allow_warnings=False)
    found = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        level = report.value(result, SH.resultSeverity)
        if severity is None or level == severity:
            found.append((report.value(result, SH.focusNode), report.value(result, SH.resultPath), level))
    return found


def _example(name: str) -> dict:
    descriptor = json.loads((EXAMPLES / name).read_text())
    if descriptor["descriptor_version"] == "1.0":  # the same product as the 1.1 example: another name
        descriptor["name"] = "上海市公共充电桩运行数据集"
    return descriptor


def _listed(alice, descriptor: dict):
    return make_product(actor=alice, descriptor=descriptor, status=ProductStatus.LISTED)


@pytest.fixture
def example_product(alice):
    return _listed(alice, _example("product-descriptor-1.1.json"))


@pytest.fixture
def shelf(alice):
    return {
        "v11": _listed(alice, _example("product-descriptor-1.1.json")),
        "v10": _listed(alice, _example("product-descriptor.json")),
        "api": _listed(
            alice,
            random_descriptor(
                name="全国企业信用评价数据接口",
                product_form="api",
                summary="企业工商、司法、经营异常等信用信息的综合评价。",
                keywords=["企业信用", "征信"],
                industry="L",
                spatial_coverage=["100000"],
                delivery_methods=["api", "sandbox"],
            ),
        ),
        "offline": _listed(alice, random_descriptor(delivery_methods=["offline"], industry="C")),
        "foreign": make_foreign_product(exchange_id="BJIDX"),
        "draft": make_product(actor=alice, descriptor=random_descriptor()),
    }


@pytest.mark.django_db
def test_example_products_conform_with_every_recommended_property(alice):
    for name in ("product-descriptor-1.1.json", "product-descriptor.json"):
        graph = product_graph(_listed(alice, _example(name)))
        assert _results(graph) == [], name


@pytest.mark.django_db
def test_every_product_of_a_test_catalog_conforms(shelf):
    for key in ("v11", "v10", "api", "offline", "foreign"):
        violations = _results(product_graph(shelf[key]), SH.Violation)
        assert violations == [], key
    network = catalog_graph("network")
    assert _results(network, SH.Violation) == []
    # Recommended properties a node cannot state: the catalog's licence, the file type of a distribution
    # delivered offline or in a sandbox, a catalog record's status.
    warned = {(path, level) for _, path, level in _results(network, SH.Warning)}
    expected = {DCTERMS.license, DCTERMS.format, URIRef("http://www.w3.org/ns/adms#status")}
    assert warned == {(path, SH.Warning) for path in expected}


@pytest.mark.django_db
def test_a_broken_graph_fails_the_shapes(example_product):
    graph = product_graph(example_product)
    subject = product_iri(example_product)
    graph.remove((subject, DCTERMS.title, None))
    distribution = URIRef(f"{subject}#distribution-file")
    graph.remove((distribution, DCAT.accessURL, None))
    graph.add((distribution, DCAT.accessService, Literal("not a service")))
    broken = {(node, path) for node, path, _ in _results(graph, SH.Violation)}
    assert (subject, DCTERMS.title) in broken
    assert (distribution, DCAT.accessURL) in broken
    assert (distribution, DCAT.accessService) in broken


@pytest.mark.django_db
def test_product_mapping_field_by_field(example_product):
    graph = product_graph(example_product)
    s = product_iri(example_product)
    assert str(s) == f"http://127.0.0.1:8001/dcat/products/{example_product.code}"
    assert graph.value(s, DCTERMS.identifier) == Literal(example_product.code)
    assert graph.value(s, DCTERMS.title) == Literal("上海市新能源汽车充电桩运行数据集", lang="zh")
    keywords = {str(k) for k in graph.objects(s, DCAT.keyword)}
    assert keywords == {"新能源汽车", "充电桩", "充电设施", "电网负荷", "上海"}
    publisher = graph.value(s, DCTERMS.publisher)
    assert graph.value(publisher, FOAF.name) == Literal("上海沪电智联能源科技有限公司", lang="zh")
    identifier = graph.value(publisher, URIRef("http://www.w3.org/ns/adms#identifier"))
    assert str(graph.value(identifier, SKOS.notation)) == "91310000MA1FL8XK2Y"
    assert (
        str(graph.value(s, DCAT.contactPoint)) == "http://127.0.0.1:8001/api/v1/exchanges/SHDEX/#service-desk"
    )
    assert set(graph.objects(s, DCTERMS.spatial)) == {region_iri("310000")}
    period = graph.value(s, DCTERMS.temporal)
    assert graph.value(period, DCAT.startDate) == Literal("2021-01-01", datatype=XSD.date)
    assert graph.value(period, DCAT.endDate) is None  # ongoing
    assert graph.value(s, DCTERMS.accrualPeriodicity) == EU_FREQUENCY.DAILY
    assert set(graph.objects(s, DCAT.theme)) == {vocabulary_iri("industry", "D"), EU_THEME.ENER}
    methods = {str(d).rsplit("-", 1)[-1] for d in graph.objects(s, DCAT.distribution)}
    assert methods == {"api", "file"}
    service = URIRef(f"{s}#service")
    assert (service, DCAT.servesDataset, s) in graph
    assert (URIRef(f"{s}#distribution-api"), DCAT.accessService, service) in graph
    assert graph.value(URIRef(f"{s}#distribution-file"), DCTERMS.format) == URIRef(
        "http://publications.europa.eu/resource/authority/file-type/CSV"
    )
    policy = graph.value(s, ODRL.hasPolicy)
    assert (policy, RDF.type, ODRL.Offer) in graph
    prohibited = {graph.value(rule, ODRL.action) for rule in graph.objects(policy, ODRL.prohibition)}
    assert ODRL.sell in prohibited  # resell: ODRL's own action (docs/interop.md, Usage policy as ODRL)
    assert "不得转售" in str(graph.value(graph.value(s, DCTERMS.rights), RDFS.label))
    schema = graph.value(s, DCTERMS.conformsTo)
    columns = list(graph.items(graph.value(schema, CSVW.column)))
    assert [str(graph.value(c, CSVW.name)) for c in columns][:3] == ["pile_id", "station", "district"]
    assert graph.value(columns[3], CSVW.datatype) == XSD.decimal
    assert graph.value(s, DCAT.version) == Literal(str(example_product.version))
    assert graph.value(s, DCAT.hasVersion) == URIRef(f"{s}/v{example_product.version}")


@pytest.mark.django_db
def test_quality_reports_become_dqv_measurements(example_product):
    today = timezone.localdate()
    QualityReport.objects.create(
        gid=f"SHDEX-{uuid.uuid4().hex}",
        origin="SHDEX",
        product_code=example_product.code,
        product_version=example_product.version,
        assessor_type="exchange",
        assessor_id="SHDEX",
        assessor_name="上海数据交易所",
        reference="SH-Q-1",
        dimensions={"accuracy": {"score": 85, "method": "m", "evidence": "e"}},
        overall_score=88,
        grade="B",
        assessed_at=today,
        valid_until=today + dt.timedelta(days=30),
        issued_at=timezone.now(),
    )
    graph = product_graph(example_product)
    s = product_iri(example_product)
    found = {
        str(graph.value(m, DQV.isMeasurementOf)).rsplit("/", 1)[-1]: graph.value(m, DQV.value).toPython()
        for m in graph.objects(s, DQV.hasQualityMeasurement)
    }
    assert found == {"accuracy": 85, "overall": 88}
    assert _results(graph, SH.Violation) == []


@pytest.mark.django_db
def test_catalogs_hold_what_they_should(shelf):
    own, network = catalog_graph("catalog"), catalog_graph("network")
    own_sets = set(own.objects(None, DCAT.dataset))
    net_sets = set(network.objects(None, DCAT.dataset))
    listed_home = {product_iri(shelf[k]) for k in ("v11", "v10", "api", "offline")}
    assert own_sets == listed_home
    assert net_sets == listed_home | {product_iri(shelf["foreign"])}
    assert product_iri(shelf["draft"]) not in net_sets
    assert str(product_iri(shelf["foreign"])).startswith("http://127.0.0.1:8001/")  # BJIDX runs no node here
    records = {
        network.value(r, FOAF.primaryTopic): network.value(r, DCTERMS.publisher)
        for r in network.subjects(RDF.type, DCAT.CatalogRecord)
    }
    assert str(records[product_iri(shelf["foreign"])]).endswith("/exchanges/BJIDX/")
    assert str(records[product_iri(shelf["v11"])]).endswith("/exchanges/SHDEX/")
    services = {
        URIRef(f"{product_iri(p)}#service")
        for k, p in shelf.items()
        if k != "draft" and ("api" in p.descriptor["delivery_methods"] or p.product_form == "api")
    }
    assert URIRef(f"{product_iri(shelf['api'])}#service") in services
    assert set(network.objects(None, DCAT.service)) == services


# --- HTTP --------------------------------------------------------------------------------------------------

PARSERS = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/rdf+xml": "xml"}


def _parse(response) -> Graph:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    mime = response["Content-Type"].split(";")[0]
    return Graph().parse(data=body, format=PARSERS[mime])


@pytest.mark.django_db
def test_product_by_suffix_and_by_accept_in_three_formats(client, example_product):
    code = example_product.code
    expected = len(product_graph(example_product))
    for suffix, mime in (
        ("ttl", "text/turtle"),
        ("jsonld", "application/ld+json"),
        ("rdf", "application/rdf+xml"),
    ):
        by_suffix = client.get(f"/dcat/products/{code}.{suffix}")
        assert by_suffix.status_code == 200 and by_suffix["Content-Type"].startswith(mime)
        by_accept = client.get(f"/dcat/products/{code}", HTTP_ACCEPT=f"text/html;q=0.9, {mime}")
        assert by_accept["Content-Type"].startswith(mime) and by_accept["Vary"] == "Accept"
        for response in (by_suffix, by_accept):
            graph = _parse(response)
            assert len(graph) == expected
            assert (product_iri(example_product), RDF.type, DCAT.Dataset) in graph
    weighted = client.get(f"/dcat/products/{code}", HTTP_ACCEPT="text/turtle;q=0.5, application/rdf+xml")
    assert weighted["Content-Type"].startswith("application/rdf+xml")
    assert client.get(f"/dcat/products/{code}")["Content-Type"].startswith("text/turtle")


@pytest.mark.django_db
def test_every_listed_product_is_served_whatever_its_check_character(client, shelf):
    # MOD 37-2 check characters include `*` (SHDEX-2026-000004-* here)
    assert any(p.code.endswith("*") for p in shelf.values())
    for key in ("v11", "v10", "api", "offline", "foreign"):
        response = client.get(f"/dcat/products/{shelf[key].code.lower()}.ttl")
        assert response.status_code == 200, key
        assert (product_iri(shelf[key]), DCTERMS.identifier, Literal(shelf[key].code)) in _parse(response)


@pytest.mark.django_db
def test_product_errors_in_the_error_shape(client, shelf):
    unlisted = client.get(f"/dcat/products/{shelf['draft'].code}.ttl")
    assert unlisted.status_code == 404 and unlisted.json()["error"]["code"] == "not_found"
    refused = client.get(f"/dcat/products/{shelf['v11'].code}", HTTP_ACCEPT="image/png")
    assert refused.status_code == 406
    assert refused.json()["error"]["errors"][0]["field"] == "Accept"
    assert client.post(f"/dcat/products/{shelf['v11'].code}.ttl").status_code == 405
    bad_page = client.get("/dcat/network.ttl?page=0")
    assert bad_page.status_code == 400 and bad_page.json()["error"]["errors"][0]["field"] == "page"
    assert client.get("/dcat/network.ttl?per_page=1001").status_code == 400


@pytest.mark.django_db
def test_catalog_streams_in_every_format_and_conforms(client, shelf):
    listed = 5
    for suffix in ("ttl", "jsonld", "rdf"):
        response = client.get(f"/dcat/network.{suffix}")
        assert response.status_code == 200 and response.streaming
        graph = _parse(response)
        assert len(set(graph.objects(URIRef("http://127.0.0.1:8001/dcat/network"), DCAT.dataset))) == listed
        assert len(set(graph.subjects(RDF.type, DCAT.CatalogRecord))) == listed
        assert _results(graph, SH.Violation) == [], suffix
    own = _parse(client.get("/dcat/catalog", HTTP_ACCEPT="application/ld+json"))
    assert len(set(own.objects(None, DCAT.dataset))) == listed - 1


@pytest.mark.django_db
def test_catalog_pages_with_a_hydra_view(client, shelf, settings):
    settings.DEBUG = False
    catalog = URIRef("http://127.0.0.1:8001/dcat/network")
    seen = set()
    for page in (1, 2, 3):
        graph = _parse(client.get(f"/dcat/network.ttl?page={page}&per_page=2"))
        datasets = set(graph.objects(catalog, DCAT.dataset))
        assert len(datasets) == (2 if page < 3 else 1)
        seen |= datasets
        view = graph.value(catalog, URIRef(HYDRA + "view"))
        assert graph.value(catalog, URIRef(HYDRA + "totalItems")).toPython() == 5
        assert str(graph.value(view, URIRef(HYDRA + "last"))).endswith("page=3&per_page=2")
        has_next = graph.value(view, URIRef(HYDRA + "next"))
        assert (has_next is not None) == (page < 3)
    assert len(seen) == 5
    beyond = _parse(client.get("/dcat/network.ttl?page=9&per_page=2"))
    assert set(beyond.objects(catalog, DCAT.dataset)) == set()


@pytest.mark.django_db
def test_the_streamed_json_ld_says_what_the_turtle_says(client, shelf):
    """The catalog's JSON-LD is written from each chunk's triples directly (expanded form), the Turtle as
    N-Triples lines: the same graph, blank nodes and literals' languages and datatypes included."""
    turtle = _parse(client.get("/dcat/network.ttl"))
    json_ld = _parse(client.get("/dcat/network.jsonld"))
    assert len(turtle) > 100 and isomorphic(turtle, json_ld)
    assert any(o.language == "zh" for o in json_ld.objects() if isinstance(o, Literal))
    assert any(o.datatype is not None for o in json_ld.objects() if isinstance(o, Literal))
