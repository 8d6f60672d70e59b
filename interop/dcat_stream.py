"""One RDF document written from a catalog's header graph and its products' triples, chunk by chunk, so a
catalog of any size is served in constant memory: each chunk is serialized on its own and the pieces are
joined into a well-formed Turtle, JSON-LD or RDF/XML document."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Iterator

from rdflib import BNode, Graph, Literal
from rdflib.namespace import RDF

from interop.dcat import PREFIXES, new_graph
from interop.dcat_parts import Triples

# rdflib's format name → (media type, suffix)
FORMATS = {
    "turtle": ("text/turtle", "ttl"),
    "json-ld": ("application/ld+json", "jsonld"),
    "xml": ("application/rdf+xml", "rdf"),
}
SUFFIXES = {suffix: name for name, (_, suffix) in FORMATS.items()}
CONTEXT = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
_XML_ROOT = re.compile(r"<rdf:RDF\b[^>]*>(.*)</rdf:RDF>", re.S)


def _turtle(header: Graph, chunks: Iterable[Triples]) -> Iterator[bytes]:
    # The header with its prefixes, then each chunk as N-Triples lines, which are Turtle too (N-Triples is a
    # subset of Turtle): rdflib's pretty Turtle writer costs ten times as much as the graph's making.
    yield header.serialize(format="turtle", encoding="utf-8")
    for chunk in chunks:
        yield chunk.ntriples().encode()


def _graphs(header: Graph, chunks: Iterable[Triples]) -> Iterator[Graph]:
    yield header
    for chunk in chunks:
        yield chunk.into(new_graph())


def _nodes(graph: Graph) -> list:
    data = json.loads(graph.serialize(format="json-ld", context=CONTEXT, auto_compact=True))
    if "@graph" in data:
        return data["@graph"]
    data.pop("@context", None)
    return [data] if data else []


def _term(term) -> dict:
    """An object as JSON-LD's expanded form writes it: a node reference, or a value with its language or
    datatype (the lexical form, as N-Triples writes it)."""
    if isinstance(term, Literal):
        if term.language:
            return {"@value": str(term), "@language": term.language}
        return {"@value": str(term), "@type": str(term.datatype)} if term.datatype else {"@value": str(term)}
    return {"@id": f"_:{term}" if isinstance(term, BNode) else str(term)}


def _expanded(chunk: Triples) -> list[dict]:
    """The chunk's triples as JSON-LD node objects in expanded form (full IRIs, no compaction), one per
    subject: what rdflib's JSON-LD writer would say, without building a `Graph` and compacting it (six times
    the Turtle path's time, docs/performance.md)."""
    nodes: dict = {}
    for s, p, o in chunk:
        node = nodes.get(s)
        if node is None:
            node = nodes[s] = {"@id": f"_:{s}" if isinstance(s, BNode) else str(s)}
        if p == RDF.type and not isinstance(o, Literal):
            node.setdefault("@type", []).append(str(o))
        else:
            node.setdefault(str(p), []).append(_term(o))
    return list(nodes.values())


def _json_ld(header: Graph, chunks: Iterable[Triples]) -> Iterator[bytes]:
    # The header through rdflib's writer (compacted with the prefixes), then each chunk's nodes in expanded
    # form, one piece per chunk: the same document model, in constant memory.
    yield b'{"@context": ' + json.dumps(CONTEXT).encode() + b', "@graph": ['
    pieces = itertools.chain([_nodes(header)], (_expanded(chunk) for chunk in chunks))
    first = True
    for nodes in pieces:
        if nodes:
            yield (b"" if first else b",\n") + ",\n".join(
                json.dumps(n, ensure_ascii=False) for n in nodes
            ).encode()
            first = False
    yield b"]}\n"


def _xml(header: Graph, chunks: Iterable[Triples]) -> Iterator[bytes]:
    namespaces = {"rdf": str(RDF), **CONTEXT}
    declarations = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in namespaces.items())
    yield f'<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF {declarations}>\n'.encode()
    for graph in _graphs(header, chunks):
        text = graph.serialize(format="xml")
        body = _XML_ROOT.search(text)
        if body:
            yield body.group(1).encode()
    yield b"</rdf:RDF>\n"


_WRITERS = {"turtle": _turtle, "json-ld": _json_ld, "xml": _xml}


def stream_graphs(header: Graph, chunks: Iterable[Triples], rdf_format: str) -> Iterator[bytes]:
    """The document of `header` and every chunk of triples, in pieces."""
    return _WRITERS[rdf_format](header, chunks)
