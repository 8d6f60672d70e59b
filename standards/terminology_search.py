"""Full-text search in the glossary, Chinese and English, with the network's segmentation
(`standards.segmentation`): a term's names and definitions are indexed as products are, a query is cut as
product queries are, so 出境 finds 数据出境 and "transfer" finds "cross-border data transfer".

A term matches when it holds every query word, or its name contains the query; when no term does, terms
holding any of the words match. Ranking, best first: a query equal to a term's name, alias or id; then a
name containing the query; then terms by the query words they hold (a word in a name counts five times one
in a definition); ties go to the shorter Chinese name, then to the glossary's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from standards.segmentation import segment_for_index, segment_query
from standards.terminology import GlossaryTerm, glossary

MAX_QUERY_LENGTH = 100
_EXACT, _CONTAINS, _IN_NAME, _IN_DEFINITION, _ALL_WORDS = 1000, 100, 10, 2, 5


@dataclass(frozen=True)
class _Entry:
    term: GlossaryTerm
    order: int
    names: frozenset[str]  # the term's names, aliases and id, folded
    name_words: frozenset[str]
    definition_words: frozenset[str]


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _words(text: str) -> frozenset[str]:
    return frozenset(segment_for_index(text).split())


@cache
def _index(sha256: str) -> tuple[_Entry, ...]:
    # Keyed by the glossary's hash: a test that swaps the glossary gets an index of its own.
    entries = []
    for order, term in enumerate(glossary().terms):
        names = (term.zh, term.en, *term.aliases_zh, *term.aliases_en)
        entries.append(
            _Entry(
                term=term,
                order=order,
                names=frozenset({_fold(name) for name in names} | {term.id}),
                name_words=_words(" ".join(names)),
                definition_words=_words(f"{term.definition_zh} {term.definition_en}"),
            )
        )
    return tuple(entries)


def _word_variants(word: str) -> tuple[str, ...]:
    # English plurals: "transfers" finds "transfer", "services" finds "service".
    if word.isascii() and len(word) > 3 and word.endswith("s"):
        return (word, word[:-1])
    return (word,)


def _score(entry: _Entry, query: str, words: list[str]) -> tuple[int, bool]:
    """The entry's score and whether it matches fully (the query in a name, or every word found)."""
    score = 0
    if query in entry.names:
        score += _EXACT
    elif any(query in name for name in entry.names):
        score += _CONTAINS
    found = 0
    for word in words:
        variants = _word_variants(word)
        if any(v in entry.name_words for v in variants):
            score += _IN_NAME
            found += 1
        elif any(v in entry.definition_words for v in variants):
            score += _IN_DEFINITION
            found += 1
    every_word = bool(words) and found == len(words)
    if every_word:
        score += _ALL_WORDS
    return score, score >= _CONTAINS or every_word


def terms_search(*, q: str) -> list[GlossaryTerm]:
    """The terms matching a query, best first; none for a query with no word to search."""
    query = _fold(q)[:MAX_QUERY_LENGTH]
    if not query:
        return []
    words = segment_query(query)
    full, partial = [], []
    for entry in _index(glossary().sha256):
        score, matches_fully = _score(entry, query, words)
        if score:
            (full if matches_fully else partial).append((-score, len(entry.term.zh), entry.order, entry.term))
    ranked = sorted(full or partial, key=lambda row: row[:3])
    return [row[3] for row in ranked]
