"""The rules a glossary file (`data/terms.json`) must meet; `glossary_problems` lists every one it breaks.

A file: `{"version", "sources": [...], "terms": [...]}`, nothing else. A source: `id` (a slug), `kind`,
`zh`, `en`, `issuer_zh`, `issuer_en`, optional `year`. A term: `id` (a slug, unique), `zh` and `en` (each
unique), optional `aliases` `{"zh": [...], "en": [...]}`, `definition` `{"zh", "en"}`, `sources` (at least one
`{"source": <source id>, "provision"?: {"zh", "en"}}`), optional `related` (ids of other terms), `codes`
(`{vocabulary: [code, ...]}`) and `vocabularies` (names of vocabularies whose every code the term explains).
Every code of every vocabulary links to exactly one term.
"""

from __future__ import annotations

import re

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SOURCE_KINDS = frozenset({"law", "regulation", "policy", "guidance", "standard", "network"})
MAX_NAME, MAX_DEFINITION = 80, 2000
_FILE_KEYS = {"version", "sources", "terms"}
_SOURCE_KEYS = {"id", "kind", "zh", "en", "issuer_zh", "issuer_en", "year"}
_TERM_KEYS = {"id", "zh", "en", "aliases", "definition", "sources", "related", "codes", "vocabularies"}
_BILINGUAL = {"zh", "en"}


class GlossaryError(ValueError):
    """A glossary file that breaks its rules; `problems` lists each broken rule."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("the glossary is invalid: " + "; ".join(problems))


def _text(value: object, limit: int) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= limit and value == value.strip()


def _keys(where: str, row: object, allowed: set[str], required: set[str]) -> list[str]:
    if not isinstance(row, dict):
        return [f"{where}: must be an object"]
    problems = [f"{where}: unknown field {key!r}" for key in sorted(set(row) - allowed)]
    problems += [f"{where}: missing {key!r}" for key in sorted(required - set(row))]
    return problems


def _bilingual(where: str, value: object, limit: int) -> list[str]:
    problems = _keys(where, value, _BILINGUAL, _BILINGUAL)
    if problems:
        return problems
    assert isinstance(value, dict)
    return [
        f"{where}.{lang}: must be non-empty text of at most {limit}"
        for lang in ("zh", "en")
        if not _text(value[lang], limit)
    ]


def _source_problems(sources: object) -> tuple[list[str], set[str]]:
    if not isinstance(sources, list) or not sources:
        return ["sources: must be a non-empty list"], set()
    problems: list[str] = []
    ids: set[str] = set()
    for i, row in enumerate(sources):
        where = f"sources[{i}]"
        found = _keys(where, row, _SOURCE_KEYS, _SOURCE_KEYS - {"year"})
        if found:
            problems += found
            continue
        if not isinstance(row["id"], str) or not SLUG.match(row["id"]):
            problems.append(f"{where}.id: must be a lowercase slug")
        elif row["id"] in ids:
            problems.append(f"{where}.id: duplicate source {row['id']!r}")
        else:
            ids.add(row["id"])
        if row["kind"] not in SOURCE_KINDS:
            problems.append(f"{where}.kind: must be one of {sorted(SOURCE_KINDS)}")
        problems += [
            f"{where}.{key}: must be non-empty text"
            for key in ("zh", "en", "issuer_zh", "issuer_en")
            if not _text(row[key], 300)
        ]
        year = row.get("year")
        if year is not None and (
            isinstance(year, bool) or not isinstance(year, int) or not 1949 <= year <= 2100
        ):
            problems.append(f"{where}.year: must be a year")
    return problems, ids


def _aliases(where: str, aliases: object) -> list[str]:
    if not isinstance(aliases, dict) or set(aliases) - _BILINGUAL:
        return [f"{where}: must be an object with lists 'zh' and 'en'"]
    problems = []
    for lang, names in aliases.items():
        if not isinstance(names, list) or not all(_text(name, MAX_NAME) for name in names):
            problems.append(f"{where}.{lang}: must be a list of non-empty names")
    return problems


def _citations(where: str, citations: object, source_ids: set[str]) -> list[str]:
    if not isinstance(citations, list) or not citations:
        return [f"{where}: cite at least one source"]
    problems = []
    for i, cite in enumerate(citations):
        here = f"{where}[{i}]"
        found = _keys(here, cite, {"source", "provision"}, {"source"})
        if found:
            problems += found
            continue
        if cite["source"] not in source_ids:
            problems.append(f"{here}.source: unknown source {cite['source']!r}")
        if "provision" in cite:
            problems += _bilingual(f"{here}.provision", cite["provision"], 100)
    return problems


def _term_problems(where: str, row: object, source_ids: set[str]) -> list[str]:
    problems = _keys(where, row, _TERM_KEYS, {"id", "zh", "en", "definition", "sources"})
    if problems:
        return problems
    assert isinstance(row, dict)
    if not isinstance(row["id"], str) or not SLUG.match(row["id"]):
        problems.append(f"{where}.id: must be a lowercase slug")
    problems += [
        f"{where}.{lang}: must be a non-empty name" for lang in ("zh", "en") if not _text(row[lang], MAX_NAME)
    ]
    problems += _bilingual(f"{where}.definition", row["definition"], MAX_DEFINITION)
    if "aliases" in row:
        problems += _aliases(f"{where}.aliases", row["aliases"])
    problems += _citations(f"{where}.sources", row["sources"], source_ids)
    for key in ("related", "vocabularies"):
        value = row.get(key, [])
        if (
            not isinstance(value, list)
            or not all(isinstance(v, str) for v in value)
            or len(set(value)) != len(value)
        ):
            problems.append(f"{where}.{key}: must be a list of distinct strings")
    codes = row.get("codes", {})
    if not isinstance(codes, dict) or not all(
        isinstance(v, list) and all(isinstance(c, str) for c in v) for v in codes.values()
    ):
        problems.append(f"{where}.codes: must map vocabulary names to lists of codes")
    return problems


def _unique(terms: list[dict], key: str, fold) -> list[str]:
    seen: dict[str, str] = {}
    problems = []
    for row in terms:
        value = fold(row[key]) if isinstance(row[key], str) else row[key]
        if value in seen:
            problems.append(f"term {row['id']!r}: duplicate {key} {row[key]!r} (also {seen[value]!r})")
        else:
            seen[value] = row["id"]
    return problems


def _references(terms: list[dict], vocabularies: dict[str, frozenset[str]]) -> list[str]:
    """Related terms exist; linked vocabularies and codes exist; every code links to exactly one term."""
    ids = {row["id"] for row in terms}
    problems: list[str] = []
    linked: dict[tuple[str, str], str] = {}
    whole: dict[str, str] = {}
    for row in terms:
        tid = row["id"]
        for other in row.get("related", []):
            if other == tid:
                problems.append(f"term {tid!r}: related to itself")
            elif other not in ids:
                problems.append(f"term {tid!r}: unknown related term {other!r}")
        for name in row.get("vocabularies", []):
            if name not in vocabularies:
                problems.append(f"term {tid!r}: unknown vocabulary {name!r}")
            elif name in whole:
                problems.append(f"term {tid!r}: vocabulary {name!r} already linked to {whole[name]!r}")
            else:
                whole[name] = tid
        for name, codes in row.get("codes", {}).items():
            for code in codes:
                if name not in vocabularies or code not in vocabularies[name]:
                    problems.append(f"term {tid!r}: {name}.{code} is not a vocabulary code")
                elif (name, code) in linked:
                    problems.append(f"term {tid!r}: {name}.{code} already linked to {linked[name, code]!r}")
                else:
                    linked[name, code] = tid
    for name, codes in sorted(vocabularies.items()):
        if name in whole:
            problems += [
                f"{name}.{code}: linked to {linked[name, code]!r} and, as a whole, to {whole[name]!r}"
                for code in sorted(codes)
                if (name, code) in linked
            ]
            continue
        problems += [
            f"{name}.{code}: no term explains this code"
            for code in sorted(codes)
            if (name, code) not in linked
        ]
    return problems


def glossary_problems(data: object, vocabularies: dict[str, frozenset[str]]) -> list[str]:
    """Every rule the parsed JSON of a glossary file breaks; empty when it is valid."""
    problems = _keys("file", data, _FILE_KEYS, _FILE_KEYS)
    if problems:
        return problems
    assert isinstance(data, dict)
    if not _text(data["version"], 20):
        problems.append("version: must be non-empty text")
    found, source_ids = _source_problems(data["sources"])
    problems += found
    terms = data["terms"]
    if not isinstance(terms, list) or not terms:
        return [*problems, "terms: must be a non-empty list"]
    for i, row in enumerate(terms):
        problems += _term_problems(f"terms[{i}]", row, source_ids)
    if problems:
        return problems  # the cross-term rules below read well-formed terms only
    problems += _unique(terms, "id", str)
    problems += _unique(terms, "zh", str.strip)
    problems += _unique(terms, "en", str.casefold)
    return problems + _references(terms, vocabularies)
