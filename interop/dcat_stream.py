"""One RDF document written from a catalog's header graph and its products' triples, chunk by chunk, so a
catalog of any size is served in constant memory: each chunk is written on its own, straight from its
triples (no rdflib `Graph`, no rdflib writer), and the pieces are joined into a well-formed Turtle, JSON-LD
or RDF/XML document. What the formats write is the same graph (tests/test_dcat_stream.py)."""

from __future__ import annotations

import gc
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache

import orjson
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF

from interop.dcat import PREFIXES
from interop.dcat_parts import Triples

# rdflib's format name → (media type, suffix)
FORMATS = {
    "turtle": ("text/turtle", "ttl"),
    "json-ld": ("application/ld+json", "jsonld"),
    "xml": ("application/rdf+xml", "rdf"),
}
SUFFIXES = {suffix: name for name, (_, suffix) in FORMATS.items()}
CONTEXT = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
_TYPE_KEY = str(RDF.type)


@contextmanager
def _collector_paused():
    """Python's cyclic garbage collector held while one chunk is mapped and written. A chunk makes tens of
    thousands of tracked objects (its triples, literals, node objects) and no reference cycle: reference
    counting frees all of it, while the collector, run every 700 allocations, scanned them again and again
    (half the stream's time: docs/performance.md). Enabled again before the piece is yielded: never held
    while the client reads, nor left off if the stream is abandoned."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _pieces(chunks: Iterable[Triples], write: Callable[[Triples], bytes]) -> Iterator[bytes]:
    """Each chunk read and mapped (the chunks' generator runs on `next`) and written, the collector held."""
    iterator = iter(chunks)
    while True:
        with _collector_paused():
            chunk = next(iterator, None)
            if chunk is None:
                return
            piece = write(chunk)
            del chunk
        yield piece


# --- Turtle -------------------------------------------------------------------------------------------------


def _literal_nt(literal: Literal, datatypes: dict) -> str:
    """A literal as N-Triples writes it (which is Turtle too): the lexical form quoted with `\\`, `"`, line
    feeds and carriage returns escaped, then its language or datatype."""
    text = '"' + literal.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    language = literal.language
    if language:
        return text + '"@' + language
    datatype = literal.datatype
    if datatype is None:
        return text + '"'
    written = datatypes.get(datatype)
    if written is None:
        written = datatypes[datatype] = datatype.n3()
    return text + '"^^' + written


def _ntriples(chunk: Iterable[tuple], shared: dict) -> str:
    """The triples as N-Triples lines. `shared` keeps what every chunk writes again (the predicates, the
    datatypes) for the whole stream; the other terms are written once per chunk (a product's IRI is the
    subject of dozens of its triples)."""
    written: dict = {}
    lines = []
    for s, p, o in chunk:
        subject = written.get(s)
        if subject is None:
            subject = written[s] = s.n3()  # an IRI that cannot be written raises, as rdflib's writers do
        predicate = shared.get(p)
        if predicate is None:
            predicate = shared[p] = p.n3()
        if isinstance(o, Literal):  # mostly a product's own: no use keeping it (and a literal's hash is slow)
            obj = _literal_nt(o, shared)
        else:
            obj = written.get(o)
            if obj is None:
                obj = written[o] = o.n3()
        lines.append(f"{subject} {predicate} {obj} .\n")
    return "".join(lines)


def _turtle(header: Graph, chunks: Iterable[Triples]) -> Iterator[bytes]:
    # The header with its prefixes, then each chunk as N-Triples lines, which are Turtle too (N-Triples is a
    # subset of Turtle): rdflib's pretty Turtle writer costs ten times as much as the graph's making.
    yield header.serialize(format="turtle", encoding="utf-8")
    shared: dict = {}
    yield from _pieces(chunks, lambda chunk: _ntriples(chunk, shared).encode())


# --- JSON-LD ------------------------------------------------------------------------------------------------


def _nodes(graph: Graph) -> list:
    data = json.loads(graph.serialize(format="json-ld", context=CONTEXT, auto_compact=True))
    if "@graph" in data:
        return data["@graph"]
    data.pop("@context", None)
    return [data] if data else []


def _expanded(chunk: Iterable[tuple], keys: dict) -> list[dict]:
    """The chunk's triples as JSON-LD node objects in expanded form (full IRIs, no compaction), one per
    subject: what rdflib's JSON-LD writer would say, without building a `Graph` and compacting it (six times
    the Turtle path's time, docs/performance.md). A node reference is one dict per chunk, however often it is
    an object; values carry the lexical form with their language or datatype. `keys` keeps each property's
    key (a plain `str`: orjson takes no subclass of it as a key) for the whole stream."""
    nodes: dict = {}
    refs: dict = {}
    for s, p, o in chunk:
        node = nodes.get(s)
        if node is None:
            node = nodes[s] = {"@id": "_:" + s if type(s) is BNode else str(s)}
        key = keys.get(p)
        if key is None:
            key = keys[p] = str(p)
        if key == _TYPE_KEY:
            node.setdefault("@type", []).append(o)
            continue
        if isinstance(o, Literal):  # a term's language and datatype read from its slots (no property call)
            language = o._language
            if language:
                value = {"@value": o, "@language": language}
            else:
                datatype = o._datatype
                value = {"@value": o, "@type": datatype} if datatype is not None else {"@value": o}
        else:
            value = refs.get(o)
            if value is None:
                value = refs[o] = {"@id": "_:" + o if isinstance(o, BNode) else o}
        values = node.get(key)
        if values is None:
            node[key] = [value]
        else:
            values.append(value)
    return list(nodes.values())


def _json_ld(header: Graph, chunks: Iterable[Triples]) -> Iterator[bytes]:
    # The header through rdflib's writer (compacted with the prefixes), then each chunk's nodes in expanded
    # form, one piece per chunk: the same document model, in constant memory. Terms are str subclasses:
    # orjson writes them as their text (as values; keys are made plain `str`).
    yield b'{"@context": ' + orjson.dumps(CONTEXT) + b', "@graph": ['
    keys: dict = {}
    chunk_pieces = _pieces(chunks, lambda chunk: _json_nodes(_expanded(chunk, keys)))
    pieces = itertools.chain([_json_nodes(_nodes(header))], chunk_pieces)
    first = True
    for piece in pieces:
        if piece:
            yield piece if first else b",\n" + piece
            first = False
    yield b"]}\n"


def _json_nodes(nodes: list[dict]) -> bytes:
    """The nodes as JSON objects separated by commas (the array's brackets cut off), one orjson call."""
    return orjson.dumps(nodes)[1:-1]


# --- RDF/XML ------------------------------------------------------------------------------------------------

_XML_NAMESPACES = {"rdf": str(RDF), **CONTEXT}
_XML_PREFIX = {uri: prefix for prefix, uri in _XML_NAMESPACES.items()}
# Characters XML 1.0 cannot carry at all, not even as a character reference.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_LOCAL_NAME = re.compile(r"[^\W\d][\w.\-]*\Z")  # the name part of a property's IRI (an XML NCName)
_NODE_ID = re.compile(r"[A-Za-wyz_][A-Za-z0-9_.\-]*\Z")


def _xml_text(text: str) -> str:
    """Text content: markup characters escaped, a carriage return as a reference (a parser would turn a raw
    one into a line feed); a character XML cannot carry (a C0 control) becomes U+FFFD."""
    if not text.isprintable() and _NOT_XML.search(text):  # isprintable: no control character, mostly
        text = _NOT_XML.sub("\ufffd", text)
    if "&" in text or "<" in text or ">" in text or "\r" in text:  # mostly none: `in` is cheaper than replace
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return text


def _xml_attribute(text: str) -> str:
    # In an attribute a parser also normalises line feeds and tabs to spaces: they are written as references.
    return _xml_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _node_id(node: BNode) -> str:
    """A blank node's `rdf:nodeID` (an XML name): its own label where it is one (rdflib's are), else `x` and
    the label's UTF-8 in hex. Labels starting with `x` are always encoded, so no two labels meet."""
    return node if _NODE_ID.match(node) else "x" + node.encode().hex()


def _property(predicate) -> tuple[str, str]:
    """A property's element name and the namespace declaration it needs (none for the document's prefixes).
    An IRI that ends in no XML name cannot be a property in RDF/XML: ValueError, as rdflib's writer raises."""
    found = _LOCAL_NAME.search(predicate)
    if found is None or not found.start():
        raise ValueError(f"{predicate} cannot be written as an RDF/XML property element")
    namespace, local = predicate[: found.start()], found.group()
    prefix = _XML_PREFIX.get(namespace)
    if prefix is not None:
        return f"{prefix}:{local}", ""
    return f"ns0:{local}", f' xmlns:ns0="{_xml_attribute(namespace)}"'


@lru_cache(maxsize=64)
def _datatype_attribute(datatype) -> str:
    return f' rdf:datatype="{_xml_attribute(datatype)}"'


def _element(predicate) -> tuple[str, str]:
    """A property element's start (up to its attributes) and its end tag."""
    tag, declaration = _property(predicate)
    return f"    <{tag}{declaration}", f"</{tag}>\n"


def _reference(node) -> str:
    """The attribute that names a node: `rdf:nodeID` for a blank node, else `rdf:resource`."""
    if isinstance(node, BNode):
        return f'rdf:nodeID="{_node_id(node)}"'
    return f'rdf:resource="{_xml_attribute(node)}"'


def _rdf_xml(triples: Iterable[tuple], properties: dict) -> str:
    """The triples as `rdf:Description` elements, one per subject (a subject met again in a later chunk gets
    another: RDF/XML merges them), each property an element of its prefixed name; `properties` keeps the
    element names for the whole stream. A literal's language and datatype are read from its slots (rdflib's
    properties cost a call each)."""
    subjects: dict = {}
    refs: dict = {}
    for s, p, o in triples:
        lines = subjects.get(s)
        if lines is None:
            lines = subjects[s] = []
        element = properties.get(p)
        if element is None:
            element = properties[p] = _element(p)
        kind = type(o)
        if kind is Literal or (kind is not URIRef and kind is not BNode and isinstance(o, Literal)):
            language = o._language
            if language:
                extra = f' xml:lang="{language}"'
            elif o._datatype is not None:
                extra = _datatype_attribute(o._datatype)
            else:
                extra = ""
            lines.append(f"{element[0]}{extra}>{_xml_text(o)}{element[1]}")
        else:
            ref = refs.get(o)
            if ref is None:
                ref = refs[o] = _reference(o)
            lines.append(f"{element[0]} {ref}/>\n")
    out = []
    for subject, lines in subjects.items():
        about = (
            f'rdf:nodeID="{_node_id(subject)}"'
            if isinstance(subject, BNode)
            else f'rdf:about="{_xml_attribute(subject)}"'
        )
        out.append(f"  <rdf:Description {about}>\n{''.join(lines)}  </rdf:Description>\n")
    return "".join(out)


def _xml(header: Graph, chunks: Iterable[Triples]) -> Iterator[bytes]:
    declarations = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in _XML_NAMESPACES.items())
    yield f'<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF {declarations}>\n'.encode()
    properties: dict = {}
    yield _rdf_xml(header, properties).encode()
    yield from _pieces(chunks, lambda chunk: _rdf_xml(chunk, properties).encode())
    yield b"</rdf:RDF>\n"


_WRITERS = {"turtle": _turtle, "json-ld": _json_ld, "xml": _xml}


def stream_graphs(header: Graph, chunks: Iterable[Triples], rdf_format: str) -> Iterator[bytes]:
    """The document of `header` and every chunk of triples, in pieces."""
    return _WRITERS[rdf_format](header, chunks)
