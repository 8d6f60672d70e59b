"""The network's glossary (专业术语): every term the standards use, with its Chinese and English name, its
definition in both languages, the laws and standards it comes from, related terms, and the vocabulary codes
it explains. The data is `data/terms.json`, versioned with the code; this module reads it once, refuses a
file that breaks a rule (a bad file stops the process at start: `api.apps`), and answers lookups.

Every code of every controlled vocabulary links to one term (`term_for`): a vocabulary whose codes a national
classification defines (GB/T 2260 regions, GB/T 4754 industry sections) or that is a scale (the evaluation
grades) links as a whole to the term of that classification. A code without a term is a load error, so a new
code cannot ship without its definition. Search: `standards.terminology_search`; the glossary's document:
`standards.terminology_doc`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import rfc8785

from standards import participant_vocabularies as participant_vocab
from standards import quality as quality_standard
from standards.deal_dispute_steps import ACTION as DISPUTE_ACTION
from standards.deal_dispute_steps import CATEGORY as DISPUTE_CATEGORY
from standards.deal_dispute_steps import ESCALATION_VENUE
from standards.deal_dispute_steps import OUTCOME as DISPUTE_OUTCOME
from standards.deal_dispute_steps import ROLE as DISPUTE_ROLE
from standards.deal_dispute_steps import STATE as DISPUTE_STATE
from standards.deal_disputes import dispute_vocabularies_as_json
from standards.deal_flow import STATES as DEAL_STATES
from standards.demand import COMPLIANCE_REQUIREMENTS
from standards.terminology_rules import GlossaryError, glossary_problems
from standards.usage_policy_terms import ACTION_CODES, PURPOSE_CODES, TERRITORY_WORDS
from standards.vocabularies import VOCABULARIES

DATA_PATH = Path(__file__).resolve().parent / "data" / "terms.json"

__all__ = [
    "Citation",
    "Glossary",
    "GlossaryError",
    "GlossaryTerm",
    "Source",
    "dispute_vocabularies_with_terms",
    "glossary",
    "glossary_load",
    "glossary_parse",
    "linked_vocabularies",
    "participant_vocabularies_with_terms",
    "term_as_json",
    "term_for",
    "term_get",
    "terms_all",
    "vocabularies_with_terms",
]


@dataclass(frozen=True)
class Source:
    id: str
    kind: str
    zh: str
    en: str
    issuer_zh: str
    issuer_en: str
    year: int | None


@dataclass(frozen=True)
class Citation:
    source: Source
    provision_zh: str
    provision_en: str


@dataclass(frozen=True)
class GlossaryTerm:
    id: str
    zh: str
    en: str
    aliases_zh: tuple[str, ...]
    aliases_en: tuple[str, ...]
    definition_zh: str
    definition_en: str
    citations: tuple[Citation, ...]
    related: tuple[str, ...]
    codes: tuple[tuple[str, str], ...]  # (vocabulary, code) pairs this term explains
    vocabularies: tuple[str, ...]  # vocabularies whose every code this term explains


@dataclass(frozen=True)
class Glossary:
    version: str
    sha256: str
    sources: tuple[Source, ...]
    terms: tuple[GlossaryTerm, ...]
    by_id: dict[str, GlossaryTerm]
    by_code: dict[tuple[str, str], str]
    by_vocabulary: dict[str, str]
    vocabulary_codes: dict[str, frozenset[str]]


def linked_vocabularies() -> dict[str, frozenset[str]]:
    """Every controlled vocabulary of the standards, by the name the glossary links codes with: the product
    descriptor's (`standards.vocabularies`), the participant standard's, the demand standard's, the deal
    flow's states, the usage policy's actions, purposes and territory words, and dispute coordination's
    categories, states, actions, roles, outcomes and escalation venues. A deal's delivery method is the
    descriptor's `delivery_method`, not a vocabulary of its own."""
    linked = {name: frozenset(term.code for term in terms) for name, terms in VOCABULARIES.items()}
    linked.update(
        entity_type=participant_vocab.codes(participant_vocab.ENTITY_TYPE),
        role=participant_vocab.codes(participant_vocab.ROLE),
        business_category=participant_vocab.codes(participant_vocab.BUSINESS_CATEGORY),
        service=participant_vocab.codes(participant_vocab.SERVICE),
        evaluation_dimension=participant_vocab.codes(participant_vocab.DIMENSION),
        grade=frozenset(grade for _, grade, _, _ in participant_vocab.GRADES),
        demand_compliance_requirement=frozenset(COMPLIANCE_REQUIREMENTS),
        deal_state=frozenset(DEAL_STATES),
        usage_policy_action=ACTION_CODES,
        usage_policy_purpose=PURPOSE_CODES,
        dispute_category=frozenset(term.code for term in DISPUTE_CATEGORY),
        dispute_state=frozenset(term.code for term in DISPUTE_STATE),
        dispute_outcome=frozenset(term.code for term in DISPUTE_OUTCOME),
        escalation_venue=frozenset(term.code for term in ESCALATION_VENUE),
        dispute_action=frozenset(term.code for term in DISPUTE_ACTION),
        dispute_role=frozenset(term.code for term in DISPUTE_ROLE),
        usage_policy_territory=TERRITORY_WORDS,  # its other codes are GB/T 2260 regions (`region`)
        quality_dimension=frozenset(quality_standard.DIMENSION_CODES),
        quality_grade=frozenset(quality_standard.GRADE_CODES),
    )
    return linked


def _source(row: dict) -> Source:
    return Source(
        row["id"], row["kind"], row["zh"], row["en"], row["issuer_zh"], row["issuer_en"], row.get("year")
    )


def _term(row: dict, sources: dict[str, Source]) -> GlossaryTerm:
    aliases = row.get("aliases", {})
    return GlossaryTerm(
        id=row["id"],
        zh=row["zh"],
        en=row["en"],
        aliases_zh=tuple(aliases.get("zh", ())),
        aliases_en=tuple(aliases.get("en", ())),
        definition_zh=row["definition"]["zh"],
        definition_en=row["definition"]["en"],
        citations=tuple(
            Citation(
                sources[cite["source"]],
                cite.get("provision", {}).get("zh", ""),
                cite.get("provision", {}).get("en", ""),
            )
            for cite in row["sources"]
        ),
        related=tuple(row.get("related", ())),
        codes=tuple(
            (vocabulary, code) for vocabulary, codes in row.get("codes", {}).items() for code in codes
        ),
        vocabularies=tuple(row.get("vocabularies", ())),
    )


def glossary_parse(data: object, *, vocabularies: dict[str, frozenset[str]] | None = None) -> Glossary:
    """The glossary from the parsed JSON of a terms file; GlossaryError listing every broken rule.
    `vocabularies` (default: the standards' own) are the codes every one of which must link to a term."""
    vocabularies = linked_vocabularies() if vocabularies is None else vocabularies
    problems = glossary_problems(data, vocabularies)
    if problems:
        raise GlossaryError(problems)
    assert isinstance(data, dict)  # glossary_problems said so
    sources = {row["id"]: _source(row) for row in data["sources"]}
    terms = tuple(_term(row, sources) for row in data["terms"])
    return Glossary(
        version=data["version"],
        sha256=hashlib.sha256(rfc8785.dumps(data)).hexdigest(),
        sources=tuple(sources.values()),
        terms=terms,
        by_id={term.id: term for term in terms},
        by_code={pair: term.id for term in terms for pair in term.codes},
        by_vocabulary={name: term.id for term in terms for name in term.vocabularies},
        vocabulary_codes=vocabularies,
    )


def glossary_load(path: Path, *, vocabularies: dict[str, frozenset[str]] | None = None) -> Glossary:
    """Read and check a terms file; GlossaryError for a file that is not JSON or breaks a rule."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GlossaryError([f"{path.name}: cannot be read as JSON: {exc}"]) from exc
    return glossary_parse(data, vocabularies=vocabularies)


@cache
def glossary() -> Glossary:
    """The network's glossary, read once per process."""
    return glossary_load(DATA_PATH)


def terms_all() -> tuple[GlossaryTerm, ...]:
    """Every term, in the glossary's order."""
    return glossary().terms


_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def term_get(term_id: str) -> GlossaryTerm | None:
    """The term with this id, or None."""
    if not isinstance(term_id, str) or not _ID.match(term_id):
        return None
    return glossary().by_id.get(term_id)


def term_for(vocabulary: str, code: object) -> str | None:
    """The id of the term explaining a vocabulary's code; None for a code the vocabulary does not hold.
    KeyError for an unknown vocabulary name (a programming error)."""
    current = glossary()
    codes = current.vocabulary_codes[vocabulary]
    if not isinstance(code, str) or code not in codes:
        return None
    return current.by_vocabulary.get(vocabulary) or current.by_code[(vocabulary, code)]


def term_as_json(term: GlossaryTerm) -> dict:
    """A term as the API serves it (`GET /api/v1/standards/terms/{id}/`; docs/standards/terminology.md)."""
    by_id = glossary().by_id
    return {
        "id": term.id,
        "zh": term.zh,
        "en": term.en,
        "aliases": {"zh": list(term.aliases_zh), "en": list(term.aliases_en)},
        "definition": {"zh": term.definition_zh, "en": term.definition_en},
        "sources": [
            {
                "source": cite.source.id,
                "zh": cite.source.zh,
                "en": cite.source.en,
                "provision_zh": cite.provision_zh,
                "provision_en": cite.provision_en,
            }
            for cite in term.citations
        ],
        "related": [{"id": other, "zh": by_id[other].zh, "en": by_id[other].en} for other in term.related],
        "codes": [{"vocabulary": name, "code": code} for name, code in term.codes],
        "vocabularies": list(term.vocabularies),
    }


def vocabularies_with_terms(vocabularies: dict) -> dict:
    """The descriptor standard's vocabularies (`vocabularies_as_json()`) with each code's term id."""
    for name, vocabulary in vocabularies["vocabularies"].items():
        for row in vocabulary["terms"]:
            row["term"] = term_for(name, row["code"])
    return vocabularies


_DISPUTE_VOCABULARIES = {
    "category": "dispute_category",
    "state": "dispute_state",
    "action": "dispute_action",
    "role": "dispute_role",
    "outcome": "dispute_outcome",
    "escalation_venue": "escalation_venue",
}


def dispute_vocabularies_with_terms() -> dict:
    """Dispute coordination's vocabularies (`deal_disputes.dispute_vocabularies_as_json()`) with each code's
    term id."""
    vocabularies = dispute_vocabularies_as_json()
    for name, linked in _DISPUTE_VOCABULARIES.items():
        for row in vocabularies[name]:
            row["term"] = term_for(linked, row["code"])
    return vocabularies


def participant_vocabularies_with_terms(vocabularies: dict) -> dict:
    """The participant standard's vocabularies (`participant_vocabularies.as_json()`) with each code's term
    id, grades included."""
    for name in ("entity_type", "role", "business_category", "service", "evaluation_dimension"):
        for row in vocabularies[name]:
            row["term"] = term_for(name, row["code"])
    for row in vocabularies["grade_scale"]:
        row["term"] = term_for("grade", row["grade"])
    return vocabularies
