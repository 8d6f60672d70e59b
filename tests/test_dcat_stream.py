"""The streamed DCAT catalog's writers (interop/dcat_stream.py): Turtle, JSON-LD and RDF/XML written straight
from each chunk's triples say the same graph as rdflib's own writers of the catalog's graph; the shared
concepts are written once per catalog; the literals made without rdflib's casts are rdflib's literals; text
that needs escaping survives; the database is read per chunk, never per product."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD

from interop.dcat import catalog_chunks, catalog_graph, catalog_header, product_iri
from interop.dcat_parts import ODRL, Triples, day, lexical, when
from interop.dcat_stream import _node_id, _property, stream_graphs
from interop.dcat_terms import region_iri, vocabulary_iri
from products.models import Product, ProductStatus
from tests.factories import make_foreign_product, make_product, random_descriptor

pytestmark = pytest.mark.django_db
PARSERS = {"turtle": "turtle", "json-ld": "json-ld", "xml": "xml"}


def _stream(scope: str, rdf_format: str, **chunking) -> bytes:
    return b"".join(stream_graphs(catalog_header(scope), catalog_chunks(scope, **chunking), rdf_format))


@pytest.fixture
def shelf(alice):
    listed = ProductStatus.LISTED
    products = [make_product(actor=alice, descriptor=random_descriptor(), status=listed) for _ in range(4)]
    products.append(
        make_product(
            actor=alice,
            descriptor=random_descriptor(
                name="全国企业信用评价数据接口",
                product_form="api",
                industry="L",
                spatial_coverage=["100000"],
                delivery_methods=["api", "file"],
            ),
            status=ProductStatus.LISTED,
        )
    )
    products.append(make_foreign_product(exchange_id="BJIDX"))
    return products


@pytest.mark.parametrize("rdf_format", ["turtle", "json-ld", "xml"])
@pytest.mark.parametrize("scope", ["catalog", "network"])
def test_each_format_streams_the_graph_rdflib_writes(shelf, scope, rdf_format):
    """The streamed document parses back to the graph rdflib's own writer makes of the catalog's graph (what
    the export wrote before its writers were its own), chunk boundaries included."""
    expected = Graph().parse(data=catalog_graph(scope).serialize(format=rdf_format), format=rdf_format)
    streamed = Graph().parse(data=_stream(scope, rdf_format, chunk=2), format=PARSERS[rdf_format])
    assert len(streamed) == len(expected) > 50 * len(shelf)
    assert isomorphic(streamed, expected)


def test_shared_concepts_are_written_once_per_catalog(shelf):
    Product.objects.filter(pk__in=[p.pk for p in shelf]).update(industry="D")
    for product in shelf:
        product.descriptor["spatial_coverage"] = ["310000"]
        Product.objects.filter(pk=product.pk).update(descriptor=product.descriptor)
    turtle = _stream("network", "turtle", chunk=2).decode()
    region = region_iri("310000").n3()
    assert turtle.count(f"{region} {SKOS.prefLabel.n3()} ") == 1  # three chunks, one concept
    assert turtle.count(f"{region} {SKOS.notation.n3()} ") == 1
    datasets = [product_iri(p).n3() for p in shelf]
    assert all(turtle.count(f"{d} {DCTERMS.spatial.n3()} {region} .") == 1 for d in datasets)
    # every chunk's products still refer to it, and the graph holds it once
    graph = Graph().parse(data=turtle, format="turtle")
    assert len(set(graph.subjects(DCTERMS.spatial, region_iri("310000")))) == len(shelf)
    # so are the usage policy's rules: every offer links the rule, whose triples are written once
    rule = vocabulary_iri("usage-rule", "prohibition-resell")
    assert turtle.count(f"{rule.n3()} {RDF.type.n3()} ") == 1
    assert len(set(graph.subjects(ODRL.prohibition, rule))) == len(shelf)


def test_lexical_literals_are_rdflibs_literals(shelf):
    """Every literal of the catalog equals, hashes and converts as rdflib's own literal of its lexical form,
    language and datatype: building them without rdflib's casts changed no term."""
    graph = catalog_graph("network")
    literals = [o for o in graph.objects() if isinstance(o, Literal)]
    assert {o.datatype for o in literals} >= {None, XSD.dateTime}
    for literal in literals:
        made = Literal(str(literal), lang=literal.language, datatype=literal.datatype)
        assert literal == made and hash(literal) == hash(made)
        assert literal.value == made.value and not literal.ill_typed and not made.ill_typed
    moment = dt.datetime(2026, 12, 6, 5, 1, 2, 345678, tzinfo=dt.UTC)
    assert when(moment, XSD.dateTime) == Literal(moment, datatype=XSD.dateTime)
    assert when(moment, XSD.dateTime).value == moment
    assert lexical("数据", lang="zh") == Literal("数据", lang="zh")
    for text in ("2026-02-28", "2026-02-30", "2026-2-1", "20260201", "2026-02-28Z"):  # a non-date: rdflib's
        made, expected = day(text), Literal(text, datatype=XSD.date)
        assert made == expected and hash(made) == hash(expected) and made.value == expected.value, text
        assert bool(made.ill_typed) == bool(expected.ill_typed), text
    assert day("2026-02-28").value == dt.date(2026, 2, 28) and day("2026-02-30").ill_typed
    assert lexical("数据", lang="zh") != Literal("数据")


HARD = "A & B <c> \"d\" 'e' \\ f\r\ng\th ]]> 数据"


def test_text_that_needs_escaping_survives_every_format(alice):
    product = make_product(actor=alice, descriptor=random_descriptor(), status=ProductStatus.LISTED)
    descriptor = {**product.descriptor, "summary": HARD, "keywords": ["x\ny", "a\u0001b"]}
    Product.objects.filter(pk=product.pk).update(name=HARD[:60], descriptor=descriptor)
    subject = product_iri(product)
    for rdf_format in ("turtle", "json-ld", "xml"):
        graph = Graph().parse(data=_stream("network", rdf_format), format=PARSERS[rdf_format])
        assert graph.value(subject, DCTERMS.description) == Literal(HARD, lang="zh"), rdf_format
        assert graph.value(subject, DCTERMS.title) == Literal(HARD[:60], lang="zh"), rdf_format
        keywords = set(graph.objects(subject, URIRef("http://www.w3.org/ns/dcat#keyword")))
        # XML 1.0 cannot carry U+0001 even as a reference: the RDF/XML says U+FFFD instead
        control = "a\ufffdb" if rdf_format == "xml" else "a\u0001b"
        assert keywords == {Literal("x\ny", lang="zh"), Literal(control, lang="zh")}, rdf_format


def _xml_of(triples) -> Graph:
    chunk = Triples()
    for triple in triples:
        chunk.add(triple)
    body = b"".join(stream_graphs(Graph(), [chunk], "xml"))
    return Graph().parse(data=body, format="xml")


def test_rdf_xml_writes_any_blank_node_label_and_any_property_namespace():
    blank, odd, xish = BNode("N1a"), BNode("1 not a name"), BNode("x31")
    other = URIRef("https://example.org/terms/size")
    subject = URIRef("https://example.org/d?a=1&b=2")
    triples = [
        (subject, other, Literal("3", datatype=XSD.integer)),
        (subject, DCTERMS.publisher, blank),
        (blank, DCTERMS.relation, odd),
        (odd, DCTERMS.relation, xish),
        (xish, DCTERMS.title, Literal("")),
    ]
    parsed = _xml_of(triples)
    expected = Graph()
    for triple in triples:
        expected.add(triple)
    assert isomorphic(parsed, expected)
    assert len({_node_id(n) for n in (odd, xish, BNode("x" + b"x31".hex()))}) == 3
    assert _property(other) == ("ns0:size", ' xmlns:ns0="https://example.org/terms/"')
    with pytest.raises(ValueError):
        _property(URIRef("https://example.org/terms/1"))


def test_the_stream_reads_the_database_per_chunk_not_per_product(alice, shelf):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            _stream("network", "turtle")
        return len(captured)

    before = queries()
    for _ in range(3):
        make_product(actor=alice, descriptor=random_descriptor(), status=ProductStatus.LISTED)
    assert queries() == before  # one chunk either way: no column read lazily per product
