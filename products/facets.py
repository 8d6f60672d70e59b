"""Facet counts of a product search: for each requested facet, how many of the filtered products carry each
value (docs/api.md, *Facets*; shared by `GET /api/v1/products/?facets=…` and CKAN's `package_search`).

The database counts (GROUP BY) over the same filtered set the search returns, never Python over rows. The
facets are one declarative table (`FACETS`), each an expression over the product row, and the facets asked for
are counted in one statement over one scan of the filtered set (on PostgreSQL an index-only scan of the
covering index `product_facets` when the filter is on its columns). A facet whose values are a list (the
delivery methods, the provinces of the coverage) reads the list's bit mask, a column the write path keeps
(products/columns.py): the statement groups by the mask, and each group's count is added to every value whose
bit the mask has, so a product counts once for each of its values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BigIntegerField, BooleanField, CharField, F, Q, QuerySet, Value
from django.db.models.expressions import Case, RawSQL, When
from django.db.models.lookups import GreaterThan

from exchanges.models import Exchange
from products.columns import DELIVERY_BITS, PROVINCE_BITS, delivery_bit, mask_codes, province_bit
from products.facet_cache import counts_cached
from products.facet_rollup import rollup_rows, rollup_statuses
from products.models import Product
from standards.quality import GRADES
from standards.regions import region_get
from standards.vocabularies import vocabulary_label

# The (label_zh, label_en) of each of the values that has a label.
Labels = Callable[[list[str]], dict[str, tuple[str, str]]]


@dataclass(frozen=True)
class Facet:
    """A facet: an `expression` over a product row (counted with the other facets asked for, in one scan of
    the filtered set); `labels` of its values; `filter`, the products with a value; `codes`, for a facet on a
    bit mask column, the code of each bit (a mask counts for every code whose bit it has); `group`, the
    facets grouped together (`_statement`)."""

    name: str
    labels: Labels
    filter: Callable[[QuerySet[Product], str], QuerySet[Product]]
    expression: Callable[[], Any]
    group: int
    codes: tuple[str, ...] | None = None


def _vocabulary(name: str) -> Labels:
    def labels(codes: list[str]):
        terms = ((code, vocabulary_label(name, code)) for code in codes)
        return {code: (term.zh, term.en) for code, term in terms if term}

    return labels


def _exchange_labels(codes: list[str]):
    rows = Exchange.objects.filter(code__in=codes).values_list("code", "name_zh", "name_en")
    return {code: (zh, en) for code, zh, en in rows}


def _region_labels(codes: list[str]):
    regions = (region_get(code) for code in codes)
    return {r.code: (r.name_zh, r.name_en or r.name_zh) for r in regions if r}


def _grade_labels(codes: list[str]):
    """A grade's labels (a product without a valid quality report has no value, so is not counted)."""
    labels = {grade: (f"{grade} {zh}", f"{grade} {en}") for _, grade, zh, en in GRADES}
    return {code: labels[code] for code in codes if code in labels}


def _base(queryset: QuerySet[Product]) -> QuerySet[Product]:
    """The filtered set without its ordering (a search's is already cut to its ranked matches); the
    `values()` of each count leaves the list's deferrals and annotations out of the SQL."""
    return queryset.order_by()


def column_facet(name: str, column: str, labels: Labels, *, group: int) -> Facet:
    """A facet on a plain column of Product."""

    def select(queryset, value):
        return queryset.filter(**{column: value})

    return Facet(name, labels, select, expression=lambda: F(column), group=group)


def mask_facet(
    name: str, column: str, codes: tuple[str, ...], bit: Callable[[str], int | None], labels, *, group: int
) -> Facet:
    """A facet on a bit mask column: its values are `codes` (bit i: codes[i]); its filter keeps the products
    whose mask has the value's bit (`bit` gives it; None for a code without one, which no product has)."""

    def select(queryset, value):
        found = bit(value)
        if found is None:
            return queryset.none()
        # A BIGINT parameter: with server-side binding Django sends a bare int as int4, losing a high bit.
        return queryset.filter(GreaterThan(F(column).bitand(Value(found, output_field=BigIntegerField())), 0))

    return Facet(name, labels, select, expression=lambda: F(column), group=group, codes=codes)


def _statement(vendor: str, sql: str, sets: list[list[int]]) -> str:
    """One statement over the filtered set's SQL grouping by each of `sets` (lists of its columns' indexes),
    each row a bit mask of the columns not grouped in it (the first column's bit the highest, as PostgreSQL's
    GROUPING() gives it), every column's value (NULL where not grouped) and the count. PostgreSQL groups by
    GROUPING SETS (one pass, a hash table per set); SQLite groups a common table expression once per set
    (UNION ALL)."""
    width = sum(len(columns) for columns in sets)
    names = ", ".join(f"c{i}" for i in range(width))
    if vendor == "postgresql":
        grouped = ", ".join("(" + ", ".join(f"c{i}" for i in columns) + ")" for columns in sets)
        return (
            f"SELECT GROUPING({names}), {names}, COUNT(*) FROM ({sql}) AS f({names}) "
            f"GROUP BY GROUPING SETS ({grouped})"
        )
    selects = []
    for columns in sets:
        bits = sum(1 << (width - 1 - i) for i in range(width) if i not in columns)
        values = ", ".join(f"c{i}" if i in columns else "NULL" for i in range(width))
        by = ", ".join(f"c{i}" for i in columns)
        selects.append(f"SELECT {bits}, {values}, COUNT(*) FROM f GROUP BY {by}")
    return f"WITH f({names}) AS ({sql}) " + " UNION ALL ".join(selects)


def _count_together(queryset: QuerySet[Product], facets: list[Facet]) -> dict[str, list[tuple[str, int]]]:
    """(value, products) of each facet, in one statement over one scan of the filtered set. Facets of one
    `group` are grouped together (a hash table per group, not per facet: half the time over 100,000 products,
    docs/performance.md), so a row of the result counts for a value of each of them: the groups are chosen
    so that their combinations stay few (a few thousand at most)."""
    facets = sorted(facets, key=lambda facet: facet.group)
    counted: dict[str, dict[str, int]] = {facet.name: {} for facet in facets}
    statuses = rollup_statuses(queryset)
    if statuses is not None:  # a selection by status alone: summed from the rollup (products/facet_rollup.py)
        rows = rollup_rows(queryset, statuses, facets)
    else:
        aliases = {f"facet{i}": facet.expression() for i, facet in enumerate(facets)}
        inner = _base(queryset).annotate(**aliases).values_list(*aliases)
        try:
            sql, params = inner.query.sql_with_params()
        except EmptyResultSet:  # a search that matched nothing: pk IN ()
            return {name: [] for name in counted}
        sets: dict[int, list[int]] = {}
        for i, facet in enumerate(facets):
            sets.setdefault(facet.group, []).append(i)
        conn = connections[inner.db]
        with conn.cursor() as cursor:
            cursor.execute(_statement(conn.vendor, sql, list(sets.values())), params)
            rows = cursor.fetchall()
    width = len(facets)
    for bits, *values, n in rows:
        for i, facet in enumerate(facets):
            value = values[i]
            if bits >> (width - 1 - i) & 1 or value in (None, ""):
                continue  # not grouped in this row, or no value
            found = counted[facet.name]
            for code in mask_codes(int(value), facet.codes) if facet.codes else (str(value),):
                found[code] = found.get(code, 0) + n
    return {name: list(found.items()) for name, found in counted.items()}


def _unnest_counts(queryset: QuerySet[Product], key: str) -> list[tuple[str, int]]:
    """(element, products) for the strings of the descriptor's list `key`, unnested by the database."""
    inner = _base(queryset).values_list("pk", "descriptor")
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:
        return []
    if connections[inner.db].vendor == "postgresql":
        statement = (
            f"SELECT m, COUNT(*) FROM ({sql}) AS f(pk, d), "
            f"jsonb_array_elements_text(f.d::jsonb -> %s::text) AS m GROUP BY m"
        )
    else:
        statement = (
            f"SELECT j.value, COUNT(*) FROM ({sql}) AS f, json_each(f.descriptor, %s) AS j GROUP BY j.value"
        )
    path = key if connections[inner.db].vendor == "postgresql" else f"$.{key}"
    with connections[inner.db].cursor() as cursor:
        cursor.execute(statement, [*params, path])
        return [(str(value), n) for value, n in cursor.fetchall()]


def keyword_counts(queryset: QuerySet[Product], *, shared: bool = False) -> list[tuple[str, int]]:
    """Products per keyword of the descriptors (CKAN's tags), counted by the database; `shared`: as in
    `product_facets`."""
    if shared:
        return counts_cached(queryset, "keywords", lambda: _unnest_counts(queryset, "keywords"))
    return _unnest_counts(queryset, "keywords")


def _list_contains(queryset: QuerySet[Product], key: str, value: str) -> QuerySet[Product]:
    """Products whose descriptor's list `key` (a constant of this module) holds the string `value`."""
    table = Product._meta.db_table
    if connections[queryset.db].vendor == "postgresql":
        condition = f"({table}.descriptor::jsonb -> '{key}') ? %s"
    else:
        condition = f"EXISTS (SELECT 1 FROM json_each({table}.descriptor, '$.{key}') WHERE value = %s)"
    return queryset.filter(RawSQL(condition, [value], output_field=BooleanField()))


def product_filter_keyword(queryset: QuerySet[Product], *, keyword: str) -> QuerySet[Product]:
    """Products one of whose keywords is exactly `keyword` (CKAN's `tags:` filter)."""
    return _list_contains(queryset, "keywords", keyword)


# Price bands on the lowest price (CNY): (code, label_zh, label_en, lower bound inclusive, upper exclusive).
PRICE_BANDS = (
    ("free", "免费", "Free", Decimal(0), Decimal("0.01")),
    ("lt_1k", "1千元以下", "Under 1,000", Decimal("0.01"), Decimal(1000)),
    ("1k_10k", "1千至1万元", "1,000 to 10,000", Decimal(1000), Decimal(10000)),
    ("10k_100k", "1万至10万元", "10,000 to 100,000", Decimal(10000), Decimal(100000)),
    ("100k_1m", "10万至100万元", "100,000 to 1,000,000", Decimal(100000), Decimal(1000000)),
    ("ge_1m", "100万元以上", "1,000,000 and more", Decimal(1000000), None),
)
PRICE_BAND_CODES = tuple(band[0] for band in PRICE_BANDS)


def _band_condition(low: Decimal, high: Decimal | None) -> Q:
    return Q(price_min__gte=low) & (Q(price_min__lt=high) if high is not None else Q())


def _price_band_expression():
    """The band of the row's lowest price: the first band whose upper bound is above it (one comparison per
    band passed, not two per band; a price is never negative, the descriptor standard's minimum is 0)."""
    return Case(
        *(
            When(price_min__lt=high, then=Value(code))
            for code, _, _, _, high in PRICE_BANDS
            if high is not None
        ),
        default=Value(PRICE_BANDS[-1][0]),
        output_field=CharField(),
    )


def _price_labels(codes: list[str]):
    return {code: (zh, en) for code, zh, en, _, _ in PRICE_BANDS if code in codes}


def _filter_price(queryset, value: str):
    band = next(((low, high) for code, _, _, low, high in PRICE_BANDS if code == value), None)
    return queryset.filter(_band_condition(*band)) if band else queryset.none()


def price_band(price: Decimal) -> str:
    """The band (PRICE_BANDS) a lowest price falls in."""
    return next(
        code for code, _, _, low, high in PRICE_BANDS if price >= low and (high is None or price < high)
    )


# Groups: 0, the vocabularies of few codes (industry × form × level × grade: at most 2,400 combinations);
# 1, where and how (exchange × frequency × price band: at most 1,300); 2, the lists (delivery methods ×
# the coverage's provinces: 16 × the distinct coverages, a few hundred).
FACETS: dict[str, Facet] = {
    facet.name: facet
    for facet in (
        column_facet("industry", "industry", _vocabulary("industry"), group=0),
        column_facet("form", "product_form", _vocabulary("product_form"), group=0),
        column_facet("data_level", "data_level", _vocabulary("data_level"), group=0),
        column_facet("update_frequency", "update_frequency", _vocabulary("update_frequency"), group=1),
        column_facet("exchange", "exchange_id", _exchange_labels, group=1),
        column_facet("quality_grade", "quality_grade", _grade_labels, group=0),
        # Products per province-level unit of their coverage (100000: nationwide), each once per unit. The
        # API's `region` filter instead matches products available in a region (covering it, its province or
        # the whole country); this facet's filter (CKAN's fq) matches what it counts.
        mask_facet("region", "province_mask", PROVINCE_BITS, province_bit, _region_labels, group=2),
        mask_facet(
            "delivery_method",
            "delivery_mask",
            DELIVERY_BITS,
            delivery_bit,
            _vocabulary("delivery_method"),
            group=2,
        ),
        Facet("price", _price_labels, _filter_price, expression=_price_band_expression, group=1),
    )
}
FACET_NAMES = tuple(FACETS)


@dataclass(frozen=True)
class FacetValue:
    value: str
    label_zh: str
    label_en: str
    count: int


def product_facets(
    queryset: QuerySet[Product], *, names: list[str], shared: bool = False
) -> dict[str, list[FacetValue]]:
    """The counts of each named facet over `queryset` (the filtered search), most frequent first, equal counts
    by value, all counted in one statement. `names` must be known facet names (the API refuses others before
    calling this). `shared`: `queryset` holds listed products only, whoever asks, so its counts are kept in
    the shared cache until the catalogue changes (products/facet_cache.py)."""
    facets = [FACETS[name] for name in names]
    counted = {}
    if names and shared:
        kind = "facets:" + ",".join(sorted(names))
        counted = counts_cached(queryset, kind, lambda: _count_together(queryset, facets))
    elif names:
        counted = _count_together(queryset, facets)
    result = {}
    for name in names:
        labels = FACETS[name].labels([value for value, _ in counted[name]])
        values = [
            FacetValue(value, *labels.get(value, (value, value)), count=n) for value, n in counted[name]
        ]
        result[name] = sorted(values, key=lambda v: (-v.count, v.value))
    return result
