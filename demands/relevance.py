"""Text relevance of a product to a demand: the share of the demand's meaningful words the product uses, each
word weighted by how rare it is in this node's catalogue (IDF) and by where it stands.

A demand's terms are its title's and description's words without stop words (`standards.segmentation.
match_terms`). A word few products use says much about which product is wanted; a word most use (上海市 in
a Shanghai catalogue) says little: each term weighs its inverse document frequency, from the full-text
index's own counts (`document_frequencies`), the title's terms twice (the title names what is wanted). A
product scores the weight of the terms it uses over the weight of all the demand's terms, a term counting in
full in the product's name or keywords and FIELD_WEIGHTS["body"] in its summary, provider or data source only.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from functools import lru_cache

from django.db import connection

from products.models import Product
from products.search import FTS_TABLE

TITLE_BOOST = 2.0
FIELD_WEIGHTS = {"name": 1.0, "keywords": 1.0, "body": 0.6}
# A product whose matched words weigh less than this share of the demand's is not a match at all.
MIN_TEXT = 0.15
# On a catalogue larger than this, document frequencies are cached for DF_TTL seconds per process: one more
# product moves them by a negligible amount, and counting a common word's matches costs milliseconds.
LARGE_CATALOGUE = 8000
DF_TTL = 600.0
STATISTICS_TTL = 600.0  # seconds a process keeps the lexeme statistics (they change at ANALYZE)
_statistics: dict[str, tuple[float, tuple[dict[str, float], float, float] | None]] = {}
_frequencies: dict[str, tuple[float, float, dict[str, float]]] = {}  # database -> (time, rows, counts)


def lexeme_statistics() -> tuple[dict[str, float], float, float] | None:
    """(share of products using each common word, share assumed for any other word, product rows): what
    PostgreSQL's planner estimates full-text matches with (ANALYZE samples the search vector's lexemes).
    None where there are none: SQLite, or a table never analysed."""
    if connection.vendor != "postgresql":
        return None
    key = connection.settings_dict["NAME"]
    cached = _statistics.get(key)
    if cached and time.monotonic() - cached[0] < STATISTICS_TTL:
        return cached[1]
    table = Product._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples "
            "FROM pg_stats s JOIN pg_class c ON c.oid = %s::regclass "
            "WHERE s.schemaname = current_schema() AND s.tablename = %s AND s.attname = 'search_vector'",
            [table, table],
        )
        row = cursor.fetchone()
    found = None
    if row and row[0] and row[1] and row[2] and row[2] > 0:
        words, shares, rows = row
        # The shares are followed by their minimum and maximum (and the share of nulls): a word not listed
        # is rarer than the rarest listed, and estimated at half of it as the planner does.
        found = (dict(zip(words, shares[: len(words)], strict=True)), min(shares[: len(words)]) / 2, rows)
    _statistics[key] = (time.monotonic(), found)
    return found


def _counted(tokens: list[str]) -> tuple[float, dict[str, float]]:
    """(products indexed, products whose indexed words include each token), counted in one statement on the
    full-text index (FTS5 on SQLite, the GIN index on PostgreSQL)."""
    table = Product._meta.db_table
    if connection.vendor == "postgresql":
        each = f"(SELECT count(*) FROM {table} WHERE search_vector @@ to_tsquery('simple', %s))"  # noqa: S608
        params = ["'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in tokens]
    else:
        each = f"(SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)"  # noqa: S608
        params = ['"' + t.replace('"', '""') + '"' for t in tokens]
    # The table names are the model's own; every token is a bound parameter.
    sql = f"SELECT (SELECT count(*) FROM {table}), " + ", ".join([each] * len(tokens))  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return float(row[0]), {t: float(n) for t, n in zip(tokens, row[1:], strict=True)}


def document_frequencies(tokens: list[str]) -> tuple[float, dict[str, float]]:
    """(products in the catalogue, how many use each token). On a large PostgreSQL catalogue, from the
    planner's statistics (no query); otherwise counted on the index, and on a large catalogue cached."""
    if not tokens:
        return 0.0, {}
    stats = lexeme_statistics()
    if stats is not None and stats[2] > LARGE_CATALOGUE:
        shares, other, rows = stats
        return rows, {t: shares.get(t, other) * rows for t in tokens}
    key = f"{connection.vendor}:{connection.settings_dict['NAME']}"
    cached = _frequencies.get(key)
    if cached and time.monotonic() - cached[0] < DF_TTL:
        missing = [t for t in tokens if t not in cached[2]]
        if missing:
            cached[2].update(_counted(missing)[1])
        return cached[1], {t: cached[2][t] for t in tokens}
    rows, counts = _counted(tokens)
    if rows > LARGE_CATALOGUE:
        _frequencies[key] = (time.monotonic(), rows, dict(counts))
    return rows, counts


def idf(used_by: float, products: float) -> float:
    """Smoothed inverse document frequency: 1 for a word every product uses, 1 + ln(1 + products) for one no
    product uses. Never 0, so that in a small catalogue (where every word a product uses is common) the words
    a product shares with the demand still count against those it lacks."""
    return 1.0 + math.log((1.0 + products) / (1.0 + min(used_by, products)))


def term_weights(
    tokens: list[str], *, title: int, frequencies: Mapping[str, float] | None = None, products: float = 0.0
) -> dict[str, float]:
    """Each term's weight: its IDF (1 for every term when `frequencies` is None), doubled for the first
    `title` terms (the title's)."""
    weights = {}
    for i, token in enumerate(tokens):
        weight = 1.0 if frequencies is None else idf(frequencies.get(token, 0.0), products)
        weights[token] = weight * (TITLE_BOOST if i < title else 1.0)
    return weights


def demand_term_weights(tokens: list[str], *, title: int) -> dict[str, float]:
    """`term_weights` with the IDF of this node's catalogue."""
    products, frequencies = document_frequencies(tokens)
    return term_weights(tokens, title=title, frequencies=frequencies, products=products)


@lru_cache(maxsize=256)
def _words_pattern(tokens: tuple[str, ...]) -> re.Pattern:
    # A column is its words separated by single spaces: one scan of it (in C) finds which tokens it uses.
    alternatives = "|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True))
    return re.compile(f"(?<= )(?:{alternatives})(?= )")


def text_relevance(weights: Mapping[str, float], product) -> tuple[float, list[str]]:
    """(0–1: the weight of the terms `product` uses over the weight of all, the terms it uses). `product`: a
    Product or any object with its three segmented search columns."""
    total = sum(weights.values())
    if not total:
        return 0.0, []
    pattern = _words_pattern(tuple(weights))
    used: dict[str, float] = {}
    for field, text in (
        ("body", product.search_body),
        ("keywords", product.search_keywords),
        ("name", product.search_name),
    ):
        for token in pattern.findall(f" {text} "):
            used[token] = max(used.get(token, 0.0), FIELD_WEIGHTS[field])
    hits = [token for token in weights if token in used]
    return sum(weights[t] * used[t] for t in hits) / total, hits
