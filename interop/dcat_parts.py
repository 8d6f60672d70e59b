"""Parts of a product's DCAT graph (interop/dcat.py): its data dictionary (CSVW), its quality reports (DQV)
and its version links (DCAT 3 versioning). The usage policy as ODRL is interop/dcat_odrl.py."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from functools import lru_cache

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS, XSD

from interop.dcat_terms import FIELD_DATATYPES, region_iri, term_label, vocabulary_iri
from products import lifecycle
from products.models import ProductVersion
from quality.models import QualityReport


class Terms:
    """A namespace's terms, each made once: rdflib makes (and validates) a new URIRef on every attribute
    access of a namespace, which is a third of a catalog's mapping time."""

    def __init__(self, namespace) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> URIRef:
        if name.startswith("__"):
            raise AttributeError(name)
        term = self._namespace[name]
        setattr(self, name, term)
        return term

    def __getitem__(self, name: str) -> URIRef:
        return getattr(self, name)

    def __str__(self) -> str:
        return str(self._namespace)


ODRL_NS = Namespace("http://www.w3.org/ns/odrl/2/")
DQV_NS = Namespace("http://www.w3.org/ns/dqv#")
CSVW_NS = Namespace("http://www.w3.org/ns/csvw#")
PROV_NS = Namespace("http://www.w3.org/ns/prov#")
DCAT_NS = Namespace("http://www.w3.org/ns/dcat#")  # DCAT 3 (rdflib's DCAT is DCAT 2)
ODRL, DQV, CSVW, PROV = Terms(ODRL_NS), Terms(DQV_NS), Terms(CSVW_NS), Terms(PROV_NS)
DCAT = Terms(DCAT_NS)
DCTERMS, RDF, RDFS, SKOS, XSD = Terms(DCTERMS), Terms(RDF), Terms(RDFS), Terms(SKOS), Terms(XSD)
ZH = "zh"


def lexical(text: str, *, lang: str | None = None, datatype: URIRef | None = None, value=None) -> Literal:
    """The literal `Literal(...)` would make of a lexical form the caller has written itself (a string, a
    language-tagged string, `isoformat()` of a datetime with `value` the Python value it stands for): the
    same term (equal, same hash, same `.value`), without rdflib's check of the language tag and its casts
    between lexical form and value, a large part of a product's mapping time. For constant language tags and
    datatypes only: nothing here checks them."""
    term = str.__new__(Literal, text)
    term._language = lang
    term._datatype = datatype
    term._value = text if datatype is None else value
    term._ill_typed = None
    return term


def when(moment, datatype: URIRef) -> Literal:
    """A date or datetime as `Literal(moment, datatype=...)` writes it (its `isoformat()`)."""
    return lexical(moment.isoformat(), datatype=datatype, value=moment)


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


def day(text: str) -> Literal:
    """A descriptor's date text as `Literal(text, datatype=XSD.date)`: made from its lexical form when it is
    a plain `YYYY-MM-DD` date, else (another form, a date that does not exist) by rdflib, which decides."""
    if isinstance(text, str) and _ISO_DATE.match(text):
        try:
            return lexical(text, datatype=XSD.date, value=date.fromisoformat(text))
        except ValueError:
            pass
    return Literal(text, datatype=XSD.date)


class Triples:
    """The triples of a graph being built, in insertion order and without repeats: what a product's mapping
    writes into. Much cheaper than an rdflib `Graph` (no indexes); the streamed catalog writes it out in each
    format (interop/dcat_stream.py), `into()` adds it to a `Graph`."""

    def __init__(self, shared: set | None = None) -> None:
        self._triples: dict[tuple, None] = {}
        self._shared = set() if shared is None else shared

    def add(self, triple: tuple) -> None:
        self._triples[triple] = None

    def first(self, key) -> bool:
        """True the first time `key` is asked: whether the triples that many products share (a vocabulary
        concept, a usage rule, an exchange's service desk), named by `key`, are still to be added. Once per
        catalog when the chunks of a stream share one set (`catalog_chunks`), else once per chunk."""
        if key in self._shared:
            return False
        self._shared.add(key)
        return True

    def add_shared(self, key, triples: Iterable[tuple]) -> None:
        if self.first(key):
            for triple in triples:
                self._triples[triple] = None

    def __iter__(self):
        return iter(self._triples)

    def __len__(self) -> int:
        return len(self._triples)

    def into(self, graph: Graph) -> Graph:
        graph.addN((s, p, o, graph) for s, p, o in self._triples)
        return graph


@lru_cache(maxsize=8192)
def concept_triples(scheme: str, code: str) -> tuple[URIRef, tuple]:
    """A code of the standard's vocabularies as a SKOS concept (made once per code: the same in every
    product)."""
    iri = region_iri(code) if scheme == "region" else vocabulary_iri(scheme, code)
    triples = [
        (iri, RDF.type, SKOS.Concept),
        (iri, SKOS.notation, Literal(code)),
        (iri, SKOS.prefLabel, Literal(term_label(scheme, code), lang=ZH)),
        (iri, SKOS.inScheme, vocabulary_iri(scheme)),
    ]
    if scheme == "region":
        triples.append((iri, RDF.type, DCTERMS.Location))
    return iri, tuple(triples)


@lru_cache(maxsize=64)
def label(vocabulary: str, code: str) -> Literal:
    """A code's Chinese label as a literal (made once per code)."""
    return Literal(term_label(vocabulary, code), lang=ZH)


def concept(graph: Triples, scheme: str, code: str) -> URIRef:
    """The concept's IRI, its triples added to `graph` (once per stream)."""
    iri, triples = concept_triples(scheme, code)
    graph.add_shared(iri, triples)
    return iri


DQV_DIMENSIONS = ("normativity", "completeness", "accuracy", "consistency", "timeliness", "accessibility")


def add_dictionary(graph: Triples, subject: URIRef, descriptor: dict) -> None:
    """The data dictionary (descriptor 1.1 `fields`) as a CSVW table schema the dataset conforms to."""
    fields = descriptor.get("fields") or []
    if not fields:
        return
    schema = URIRef(f"{subject}#schema")
    graph.add((subject, DCTERMS.conformsTo, schema))
    graph.add((schema, RDF.type, DCTERMS.Standard))
    graph.add((schema, RDF.type, CSVW.Schema))
    columns = []
    for entry in fields:
        column = URIRef(f"{subject}#field-{entry['name']}")
        columns.append(column)
        graph.add((column, RDF.type, CSVW.Column))
        graph.add((column, CSVW.name, Literal(entry["name"])))
        graph.add((column, CSVW.title, Literal(entry["label"], lang=ZH)))
        graph.add((column, CSVW.datatype, FIELD_DATATYPES.get(entry["type"], XSD.string)))
        if "nullable" in entry:
            graph.add((column, CSVW.required, Literal(not entry["nullable"])))
        if entry.get("description"):
            graph.add((column, DCTERMS.description, Literal(entry["description"], lang=ZH)))
        if entry.get("unit"):
            graph.add((column, CSVW.unit, Literal(entry["unit"])))
    head = BNode()
    graph.add((schema, CSVW.column, head))
    for position, column in enumerate(columns):  # an RDF list keeps the dictionary's order
        graph.add((head, RDF.first, column))
        rest = BNode() if position < len(columns) - 1 else RDF.nil
        graph.add((head, RDF.rest, rest))
        head = rest


def add_quality(graph: Triples, subject: URIRef, reports: Iterable[QualityReport]) -> None:
    """Each valid quality report's six dimension scores and its overall score as DQV measurements."""
    for report in reports:
        base = f"{subject}#quality-{report.gid}"
        scores = [(d, (report.dimensions.get(d) or {}).get("score")) for d in DQV_DIMENSIONS]
        scores.append(("overall", report.overall_score))
        for dimension, score in scores:
            if not isinstance(score, int):
                continue
            measurement = URIRef(f"{base}-{dimension}")
            graph.add((subject, DQV.hasQualityMeasurement, measurement))
            graph.add((measurement, RDF.type, DQV.QualityMeasurement))
            graph.add((measurement, DQV.computedOn, subject))
            graph.add((measurement, DQV.isMeasurementOf, vocabulary_iri("quality-metric", dimension)))
            graph.add((measurement, DQV.value, Literal(score, datatype=XSD.integer)))
            graph.add((measurement, PROV.generatedAtTime, Literal(report.assessed_at, datatype=XSD.date)))
            graph.add((measurement, DCTERMS.source, Literal(f"{report.assessor_name} {report.reference}")))


def public_versions(product_ids: list[int]) -> dict[int, list[int]]:
    """{product id: the versions of its stored history a reader may see (those in which it was public),
    in order}: what `dcat:hasVersion` lists (`products.selectors.product_versions` for an outsider)."""
    found: dict[int, list[int]] = {}
    rows = ProductVersion.objects.filter(product_id__in=product_ids, status__in=lifecycle.PUBLIC)
    for product_id, version in rows.order_by("product_id", "version").values_list("product_id", "version"):
        found.setdefault(product_id, []).append(version)
    return found


def version_iri(subject: URIRef, version: int) -> URIRef:
    """A version of a dataset: `<product IRI>/v<version>` (served: docs/interop.md, *Versions*)."""
    return URIRef(f"{subject}/v{version}")


def add_versions(graph: Triples, subject: URIRef, current: int, versions: Iterable[int]) -> list[int]:
    """`dcat:hasVersion` every stored version (and the current one), each with its `dcat:version`,
    `dcat:isVersionOf` the dataset and `dcat:previousVersion` the version before it;
    `dcat:hasCurrentVersion` the current one. Returns the versions, in order."""
    stored = sorted({*versions, current})
    previous = None
    for version in stored:
        iri = version_iri(subject, version)
        graph.add((subject, DCAT.hasVersion, iri))
        graph.add((iri, DCAT.version, lexical(str(version))))
        graph.add((iri, DCAT.isVersionOf, subject))
        if previous is not None:
            graph.add((iri, DCAT.previousVersion, previous))
        previous = iri
    graph.add((subject, DCAT.hasCurrentVersion, version_iri(subject, current)))
    return stored
