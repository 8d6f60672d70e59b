"""Facet counts of a product search: for each requested facet, how many of the filtered products carry each
value (docs/api.md, *Facets*; shared by `GET /api/v1/products/?facets=…` and CKAN's `package_search`).

The database counts (GROUP BY) over the same filtered set the search returns, never Python over rows. The
facets are one declarative table (`FACETS`): a facet on a plain column of `Product` is one line,
`column_facet(name, column, labels)`, and is counted with the other facets of the row in one statement; a
facet whose values live elsewhere (regions in `ProductRegion`, delivery methods in the descriptor's list)
names its own counting query, and a facet without a filter of the API's its own filter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, CharField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.expressions import Case, RawSQL, When

from exchanges.models import Exchange
from products.models import Product, ProductRegion
from standards.quality import GRADES
from standards.regions import NATIONWIDE, region_get, region_province
from standards.vocabularies import vocabulary_label

# The (label_zh, label_en) of each of the values that has a label.
Labels = Callable[[list[str]], dict[str, tuple[str, str]]]
# (value, count) pairs over a filtered queryset of products, counted by the database.
Counter = Callable[[QuerySet[Product]], list[tuple[str, int]]]


@dataclass(frozen=True)
class Facet:
    """A facet: either an `expression` over a product row (counted together with the other such facets, in
    one scan of the filtered set) or a `count` query of its own; `labels` of its values; `filter`, the
    products with a value."""

    name: str
    labels: Labels
    filter: Callable[[QuerySet[Product], str], QuerySet[Product]]
    expression: Callable[[], Any] | None = None
    count: Counter | None = None


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


def column_facet(name: str, column: str, labels: Labels) -> Facet:
    """A facet on a plain column of Product (grouped with the others of the row: `_count_together`)."""

    def select(queryset, value):
        return queryset.filter(**{column: value})

    return Facet(name, labels, select, expression=lambda: F(column))


def _count_together(queryset: QuerySet[Product], facets: list[Facet]) -> dict[str, list[tuple[str, int]]]:
    """The facets computed from a product row's own columns, in one statement over one scan of the filtered
    set: PostgreSQL groups by GROUPING SETS (one pass, a hash table per facet); SQLite groups a common table
    expression once per facet (UNION ALL)."""
    aliases = {f"facet{i}": facet.expression() for i, facet in enumerate(facets)}
    inner = _base(queryset).annotate(**aliases).values_list(*aliases)
    found: dict[str, list[tuple[str, int]]] = {facet.name: [] for facet in facets}
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:  # a search that matched nothing: pk IN ()
        return found
    columns = [f"c{i}" for i in range(len(facets))]
    names = ", ".join(columns)
    conn = connections[inner.db]
    if conn.vendor == "postgresql":
        statement = (
            f"SELECT {names}, GROUPING({names}), COUNT(*) FROM ({sql}) AS f({names}) "
            f"GROUP BY GROUPING SETS ({', '.join(f'({c})' for c in columns)})"
        )
    else:
        statement = f"WITH f({names}) AS ({sql}) " + " UNION ALL ".join(
            f"SELECT {i}, {c}, COUNT(*) FROM f GROUP BY {c}" for i, c in enumerate(columns)
        )
    with conn.cursor() as cursor:
        cursor.execute(statement, params)
        for row in cursor.fetchall():
            if conn.vendor == "postgresql":  # GROUPING(): bit set for each column not grouped in this row
                bits, n = row[-2], row[-1]
                index = next(i for i in range(len(columns)) if not bits & (1 << (len(columns) - 1 - i)))
                value = row[index]
            else:
                index, value, n = row
            if value not in (None, ""):
                found[facets[index].name].append((str(value), n))
    return found


def _count_regions(queryset):
    """Products per province-level unit of their coverage (100000: nationwide), each product once per unit:
    the distinct (province, product) pairs counted per province. The filtered set is joined as a derived table
    of its own SQL (not as a Django subquery, which would rename the tables its raw conditions name)."""
    inner = _base(queryset).values(facet_pk=F("pk"))
    try:
        sql, params = inner.query.sql_with_params()
    except EmptyResultSet:
        return []
    region = ProductRegion._meta.db_table
    statement = (
        f"SELECT g.province, COUNT(*) FROM (SELECT DISTINCT SUBSTR(r.code, 1, 2) || '0000' AS province, "
        f"r.product_id FROM {region} r JOIN ({sql}) AS f ON r.product_id = f.facet_pk) AS g "
        f"GROUP BY g.province"
    )
    with connections[inner.db].cursor() as cursor:
        cursor.execute(statement, params)
        return [(str(value), n) for value, n in cursor.fetchall()]


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


def _count_delivery(queryset):
    """Products per delivery method: the descriptor's `delivery_methods` list unnested by the database."""
    return _unnest_counts(queryset, "delivery_methods")


def keyword_counts(queryset: QuerySet[Product]) -> list[tuple[str, int]]:
    """Products per keyword of the descriptors (CKAN's tags), counted by the database."""
    return _unnest_counts(queryset, "keywords")


def _list_contains(queryset: QuerySet[Product], key: str, value: str) -> QuerySet[Product]:
    """Products whose descriptor's list `key` (a constant of this module) holds the string `value`."""
    table = Product._meta.db_table
    if connections[queryset.db].vendor == "postgresql":
        condition = f"({table}.descriptor::jsonb -> '{key}') ? %s"
    else:
        condition = f"EXISTS (SELECT 1 FROM json_each({table}.descriptor, '$.{key}') WHERE value = %s)"
    return queryset.filter(RawSQL(condition, [value], output_field=BooleanField()))


def _filter_delivery(queryset, value: str):
    return _list_contains(queryset, "delivery_methods", value)


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
    return Case(
        *(When(_band_condition(low, high), then=Value(code)) for code, _, _, low, high in PRICE_BANDS),
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


def _filter_province(queryset, value: str):
    """Products whose coverage lies in the province-level unit `value`: what the `region` facet counts (the
    API's `region` filter instead matches products available in a region: covering it, its province or the
    whole country)."""
    if value == NATIONWIDE:
        rows = ProductRegion.objects.filter(code=NATIONWIDE)
    elif region_province(value) is not None and region_province(value).code == value:
        rows = ProductRegion.objects.filter(code__startswith=value[:2])
    else:
        return queryset.none()
    return queryset.filter(Exists(rows.filter(product=OuterRef("pk"))))


FACETS: dict[str, Facet] = {
    facet.name: facet
    for facet in (
        column_facet("industry", "industry", _vocabulary("industry")),
        column_facet("form", "product_form", _vocabulary("product_form")),
        column_facet("data_level", "data_level", _vocabulary("data_level")),
        column_facet("update_frequency", "update_frequency", _vocabulary("update_frequency")),
        column_facet("exchange", "exchange_id", _exchange_labels),
        column_facet("quality_grade", "quality_grade", _grade_labels),
        Facet("region", _region_labels, _filter_province, count=_count_regions),
        Facet("delivery_method", _vocabulary("delivery_method"), _filter_delivery, count=_count_delivery),
        Facet("price", _price_labels, _filter_price, expression=_price_band_expression),
    )
}
FACET_NAMES = tuple(FACETS)


@dataclass(frozen=True)
class FacetValue:
    value: str
    label_zh: str
    label_en: str
    count: int


def product_facets(queryset: QuerySet[Product], *, names: list[str]) -> dict[str, list[FacetValue]]:
    """The counts of each named facet over `queryset` (the filtered search), most frequent first, equal counts
    by value. `names` must be known facet names (the API refuses others before calling this)."""
    together = [FACETS[name] for name in names if FACETS[name].expression is not None]
    counted = _count_together(queryset, together) if together else {}
    result = {}
    for name in names:
        facet = FACETS[name]
        counts = counted[name] if facet.expression is not None else facet.count(queryset)
        labels = facet.labels([value for value, _ in counts])
        values = [FacetValue(value, *labels.get(value, (value, value)), count=n) for value, n in counts]
        result[name] = sorted(values, key=lambda v: (-v.count, v.value))
    return result
