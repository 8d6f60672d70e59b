"""The vocabularies of the DCAT export (docs/interop.md, *DCAT-AP 3*): the network-wide IRIs of the
descriptor standard's codes, and the mappings onto the EU vocabularies DCAT-AP names (frequency, data theme,
file type)."""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import XSD

from standards.vocabularies import vocabulary_label

# The network's standards are named under this base (the descriptor schema's `$id` is under it too): a
# code's IRI is the same at every node.
STANDARDS_BASE = "https://registry.invalid/standards/vocabularies"

EU_FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
EU_THEME = Namespace("http://publications.europa.eu/resource/authority/data-theme/")
EU_FILE_TYPE_NS = Namespace("http://publications.europa.eu/resource/authority/file-type/")

# update_frequency → EU frequency authority table.
FREQUENCY = {
    "realtime": "UPDATE_CONT",
    "hourly": "HOURLY",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "yearly": "ANNUAL",
    "irregular": "IRREG",
    "one_off": "NEVER",
}

# GB/T 4754 section → EU data theme, only where the section falls wholly within one theme; the sections
# not listed (manufacturing, trade, real estate, …) span several themes and get none.
THEMES = {
    "A": "AGRI",
    "D": "ENER",
    "G": "TRAN",
    "I": "TECH",
    "J": "ECON",
    "M": "TECH",
    "N": "ENVI",
    "P": "EDUC",
    "Q": "HEAL",
    "R": "EDUC",
    "S": "GOVE",
    "T": "INTR",
}

EU_FILE_TYPE = {
    name: EU_FILE_TYPE_NS[name]
    for name in ("JSON", "CSV", "XLSX", "XLS", "XML", "PARQUET", "ZIP", "PDF", "TXT")
}

# Data dictionary field types → the CSVW column datatypes.
FIELD_DATATYPES = {
    "string": XSD.string,
    "integer": XSD.integer,
    "decimal": XSD.decimal,
    "boolean": XSD.boolean,
    "date": XSD.date,
    "datetime": XSD.dateTime,
    "code": XSD.string,
    "geo": XSD.string,
}


def vocabulary_iri(name: str, code: str | None = None) -> URIRef:
    """`<STANDARDS_BASE>/<vocabulary>` (a concept scheme) or `<STANDARDS_BASE>/<vocabulary>/<code>`."""
    return URIRef(f"{STANDARDS_BASE}/{name}" + (f"/{code}" if code is not None else ""))


def region_iri(code: str) -> URIRef:
    """A GB/T 2260 code's stable IRI (`100000` is the whole country)."""
    return vocabulary_iri("region", code)


def term_label(vocabulary: str, code: str) -> str:
    """The Chinese label of a code, or the code itself where the vocabulary does not know it."""
    term = vocabulary_label(vocabulary, code)
    return term.zh if term is not None else code
