"""Harvesting a DCAT catalog (DCAT-AP 3; docs/interop.md, *Harvesting*): JSON-LD, Turtle or RDF/XML, from a
URL or a file, paged by hydra (`hydra:next` / `hydra:nextPage` of the page's `hydra:PartialCollectionView`).

`dcat_records(graph)` maps every `dcat:Dataset` and `dcat:DataService` of an rdflib graph to a harvested
record (`interop.harvest`); the round trip with this node's own export reads through it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS

from interop.dcat_odrl import policy_from_odrl
from interop.harvest import HarvestError, fetch
from standards.vocabularies import vocabulary_codes

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
SCHEMA = Namespace("http://schema.org/")
MAX_PAGES = 10_000
ACCEPT = "text/turtle, application/ld+json;q=0.9, application/rdf+xml;q=0.8"
_FORMATS = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/json": "json-ld",
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
}
_SUFFIXES = {".ttl": "turtle", ".jsonld": "json-ld", ".json": "json-ld", ".rdf": "xml", ".xml": "xml"}
_API_FORMATS = {"API", "JSON_API", "REST", "WMS_SRVC", "WFS_SRVC", "SPARQLQ", "SPARQL"}


def rdf_format(name: str, content_type: str = "") -> str:
    """rdflib's parser for a document, by its content type, else its suffix, else Turtle."""
    if content_type in _FORMATS:
        return _FORMATS[content_type]
    suffix = Path(name.split("?")[0]).suffix.lower()
    return _SUFFIXES.get(suffix, "turtle")


def _remote_context(node) -> bool:
    """Whether a JSON-LD document names a context by URL (rdflib would fetch it: a peer's document must not
    make this node fetch anything else)."""
    if isinstance(node, list):
        return any(_remote_context(item) for item in node)
    if not isinstance(node, dict):
        return False
    context = node.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if any(isinstance(c, str) or (isinstance(c, dict) and "@import" in c) for c in contexts):
        return True
    return any(_remote_context(value) for key, value in node.items() if key != "@context")


def graph_parse(data: bytes, *, fmt: str, base: str) -> Graph:
    if fmt == "json-ld":
        try:
            document = json.loads(data)
        except ValueError as exc:
            raise HarvestError(f"{base} is not a readable JSON-LD document: {exc}") from exc
        if _remote_context(document):
            raise HarvestError(f"{base}: a JSON-LD context given by URL is not fetched; give it inline")
    graph = Graph()
    try:
        graph.parse(data=data, format=fmt, publicID=base)
    except Exception as exc:
        raise HarvestError(
            f"{base} is not a readable {fmt} document: {exc.__class__.__name__}: {exc}"
        ) from exc
    return graph


def _texts(graph: Graph, subject, predicate) -> list[Literal]:
    return [o for o in graph.objects(subject, predicate) if isinstance(o, Literal)]


def _text(graph: Graph, subject, predicate) -> str:
    """A literal, the Chinese one first, then one without a language, then any."""
    found = _texts(graph, subject, predicate)
    for wanted in ("zh", None):
        for literal in found:
            if (literal.language or None) == wanted or (
                wanted and (literal.language or "").startswith(wanted)
            ):
                return str(literal).strip()
    return str(found[0]).strip() if found else ""


def _identifier(graph: Graph, node) -> str:
    """An agent's identifier: `adms:identifier` (a literal, or an `adms:Identifier` with `skos:notation`),
    `dct:identifier`, else its IRI."""
    for value in graph.objects(node, ADMS.identifier):
        if isinstance(value, Literal):
            return str(value).strip()
        notation = _text(graph, value, SKOS.notation)
        if notation:
            return notation
    return _text(graph, node, DCTERMS.identifier) or (str(node) if isinstance(node, URIRef) else "")


def _publisher(graph: Graph, dataset) -> dict:
    node = graph.value(dataset, DCTERMS.publisher)
    if node is None:
        return {"id": "", "name": ""}
    name = _text(graph, node, FOAF.name) or _text(graph, node, SKOS.prefLabel)
    return {
        "id": _identifier(graph, node),
        "name": name,
    }


def _temporal(graph: Graph, dataset) -> dict:
    for period in graph.objects(dataset, DCTERMS.temporal):
        start = graph.value(period, DCAT.startDate) or graph.value(period, SCHEMA.startDate)
        end = graph.value(period, DCAT.endDate) or graph.value(period, SCHEMA.endDate)
        if start is not None:
            return {"start": str(start), "end": str(end) if end is not None else None}
    return {"start": None, "end": None}


def _spatial(graph: Graph, dataset) -> list[str]:
    found = []
    for place in graph.objects(dataset, DCTERMS.spatial):
        if isinstance(place, BNode):
            found.extend(str(v) for v in graph.objects(place, SKOS.notation))
            found.extend(str(v) for v in graph.objects(place, DCTERMS.identifier))
        else:
            found.append(str(place))
    return found


# A distribution's delivery method as this network's export states it (`dct:type`, the concept's IRI).
_DELIVERY_TYPE = re.compile(r"/delivery_method/([a-z_]+)$")
_PRODUCT_FORM_TYPE = re.compile(r"/product_form/([a-z_]+)$")


def _delivery(graph: Graph, dataset) -> list[str]:
    methods = ["api"] if (dataset, RDF.type, DCAT.DataService) in graph else []
    for dist in graph.objects(dataset, DCAT.distribution):
        stated = _DELIVERY_TYPE.search(str(graph.value(dist, DCTERMS.type) or ""))
        if stated and stated.group(1) in vocabulary_codes("delivery_method"):
            methods.append(stated.group(1))
            continue
        kind = graph.value(dist, DCTERMS.format)
        kind = str(kind).rstrip("/").rsplit("/", 1)[-1].upper() if kind is not None else ""
        if graph.value(dist, DCAT.accessService) is not None or kind in _API_FORMATS:
            methods.append("api")
        elif graph.value(dist, DCAT.downloadURL) is not None or graph.value(dist, DCAT.accessURL) is not None:
            methods.append("file")
    return list(dict.fromkeys(methods))


_GBT4754_SECTION = re.compile(
    r"(?:4754.*|/vocabularies/industry)[/#:]([A-T])$"
)  # GB/T 4754, or this network's concept


def _stated(graph: Graph, dataset) -> dict:
    """Descriptor fields DCAT states outright: a GB/T 4754 section among the themes (`industry`); a data
    service that is not also a dataset is an API product (`product_form`); `dct:rights` (a literal, or a
    `dct:RightsStatement`'s `rdfs:label`/`dct:description`) is the usage restrictions."""
    stated: dict = {}
    for theme in graph.objects(dataset, DCAT.theme):
        match = _GBT4754_SECTION.search(str(theme))
        if isinstance(theme, URIRef) and match:
            stated["industry"] = match.group(1)
            break
    if (dataset, RDF.type, DCAT.DataService) in graph and (dataset, RDF.type, DCAT.Dataset) not in graph:
        stated["product_form"] = "api"
    form = _PRODUCT_FORM_TYPE.search(str(graph.value(dataset, DCTERMS.type) or ""))
    if form and form.group(1) in vocabulary_codes("product_form"):  # as this network's export states it
        stated["product_form"] = form.group(1)
    for rights in graph.objects(dataset, DCTERMS.rights):
        text = str(rights).strip() if isinstance(rights, Literal) else ""
        text = text or _text(graph, rights, RDFS.label) or _text(graph, rights, DCTERMS.description)
        if text:
            stated["usage_restrictions"] = text
            break
    return stated


def dataset_record(graph: Graph, dataset) -> dict:
    """One `dcat:Dataset` (or `dcat:DataService`) as a harvested record; the identifier is its
    `dct:identifier`, else its IRI."""
    literals = _texts(graph, dataset, DCAT.keyword)
    chinese = [k for k in literals if not k.language or k.language.lower().startswith("zh")]
    keywords = [str(k).strip() for k in (chinese or literals) if str(k).strip()]
    frequency = graph.value(dataset, DCTERMS.accrualPeriodicity)
    modified = graph.value(dataset, DCTERMS.modified)
    identifier = _text(graph, dataset, DCTERMS.identifier)
    if not identifier and isinstance(dataset, URIRef):
        identifier = str(dataset)
    stated = _stated(graph, dataset)
    return {
        "identifier": identifier,
        "modified": str(modified) if modified is not None else "",
        "title": _text(graph, dataset, DCTERMS.title),
        "description": _text(graph, dataset, DCTERMS.description),
        "keywords": list(dict.fromkeys(keywords)),
        "publisher": _publisher(graph, dataset),
        "temporal": _temporal(graph, dataset),
        "spatial": _spatial(graph, dataset),
        "frequency": str(frequency) if frequency is not None else "",
        "delivery_methods": _delivery(graph, dataset),
        "descriptor": stated,
        # The ODRL offer, read by the usage policy standard (its remarks: the rights statement).
        "usage_policy": policy_from_odrl(graph, dataset, remarks=stated.get("usage_restrictions", "")),
    }


def dcat_records(graph: Graph) -> list[dict]:
    """Every dataset and data service of the graph as a harvested record, in identifier order."""
    subjects = set(graph.subjects(RDF.type, DCAT.Dataset)) | set(graph.subjects(RDF.type, DCAT.DataService))
    # A data service serving a dataset of the same catalog is that dataset's API, not a product of its own.
    served = {
        s for s in subjects if (s, RDF.type, DCAT.DataService) in graph and graph.value(s, DCAT.servesDataset)
    }
    records = [dataset_record(graph, s) for s in subjects - served]
    return sorted(records, key=lambda r: r["identifier"])


def _next_page(graph: Graph) -> str | None:
    for predicate in (HYDRA.next, HYDRA.nextPage):
        for value in graph.objects(None, predicate):
            return str(value)
    return None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def dcat_pages(location: str) -> Iterator[Graph]:
    """The catalog's pages: a file (one page), or a URL followed through hydra's next page links."""
    path = Path(location)
    if "://" not in location:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise HarvestError(f"cannot read {location}: {exc.strerror}") from exc
        yield graph_parse(data, fmt=rdf_format(location), base=path.resolve().as_uri())
        return
    url: str | None = location
    seen: set[str] = set()
    while url and url not in seen and len(seen) < MAX_PAGES:
        seen.add(url)
        body, kind = fetch(url, accept=ACCEPT)
        graph = graph_parse(body, fmt=rdf_format(url, kind), base=url)
        yield graph
        following = _next_page(graph)
        following = urljoin(url, following) if following else None
        if following and _origin(following) != _origin(location):  # a page may not send the node elsewhere
            raise HarvestError(f"{url}: the next page {following} is not on {_origin(location)}")
        url = following


def dcat_source_records(location: str) -> Iterator[dict]:
    for graph in dcat_pages(location):
        kinds = (DCAT.Catalog, DCAT.Dataset, DCAT.DataService)
        if not any((None, RDF.type, kind) in graph for kind in kinds):
            raise HarvestError(
                f"{location} holds no dcat:Catalog, dcat:Dataset or dcat:DataService: not a DCAT catalog"
            )
        yield from dcat_records(graph)
