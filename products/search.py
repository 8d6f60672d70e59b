"""Chinese full-text search over products.

Chinese has no spaces between words, so the database cannot tokenise it. jieba segments the text when a
product is written (search-engine mode, which also emits the sub-words of long words) and the segments are
stored space-separated in three columns: name, keywords, body. The database indexes those columns:

jieba runs through `rjieba`, the binding of jieba-rs: the same dictionary and algorithm (DAG + HMM) with the
same output as Python jieba, about ten times faster, which is what lets a bulk import segment thousands of
descriptors a second.

* PostgreSQL: a stored generated `tsvector` column (`simple` configuration: no stemming, lower-casing only),
  weighted A (name), B (keywords), C (body), with a GIN index; ranked with `ts_rank`.
* SQLite: an FTS5 external-content table kept in sync by triggers; ranked with `bm25` using the same weights.

A query is segmented with jieba's precise mode and every segment must match (AND).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable

from django.db import connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, F, FloatField, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Collate

from standards.segmentation import segment_for_index

logger = logging.getLogger(__name__)

FTS_TABLE = "products_product_fts"
# bm25 is lower-is-better: negated so both backends sort by rank descending; the column weights are those of
# the tsvector's A (name), B (keywords) and C (body).
_BM25 = f"-bm25({FTS_TABLE}, 10.0, 4.0, 1.0)"


def search_columns(descriptor: dict) -> dict[str, str]:
    """The three segmented columns for a validated descriptor."""
    body = " ".join(
        part
        for part in (
            descriptor.get("summary", ""),
            descriptor.get("provider", {}).get("name", ""),
            descriptor.get("data_source", {}).get("description", ""),
        )
        if part
    )
    return {
        "search_name": segment_for_index(descriptor.get("name", "")),
        "search_keywords": segment_for_index(" ".join(descriptor.get("keywords", []))),
        "search_body": segment_for_index(body),
    }


# --- Query ------------------------------------------------------------------------------------------------
def _pg_tsquery(tokens: Iterable[str], operator: str = "&") -> str:
    # Each token becomes a quoted lexeme; quotes and backslashes inside are escaped as to_tsquery expects.
    quoted = ("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in tokens)
    return f" {operator} ".join(quoted)


def _fts5_query(tokens: Iterable[str], operator: str = "AND") -> str:
    return f" {operator} ".join('"' + t.replace('"', '""') + '"' for t in tokens)


def _sql(queryset: QuerySet, tokens: list[str], *, any_token: bool = False) -> tuple[str, str, list]:
    """(match condition, rank expression, params) for this database: every token, or any of them."""
    table = queryset.model._meta.db_table
    if connection.vendor == "postgresql":
        tsquery = _pg_tsquery(tokens, "|" if any_token else "&")
        return (
            f"{table}.search_vector @@ to_tsquery('simple', %s)",
            f"ts_rank({table}.search_vector, to_tsquery('simple', %s))",
            [tsquery],
        )
    match = _fts5_query(tokens, "OR" if any_token else "AND")
    return (
        f"{table}.id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)",
        f"(SELECT {_BM25} FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid = {table}.id)",
        [match],
    )


def search_match(queryset: QuerySet, *, tokens: list[str]) -> QuerySet:
    """Restrict `queryset` to products matching every token."""
    if not tokens:
        return queryset.none()
    condition, _, params = _sql(queryset, tokens)
    return queryset.filter(RawSQL(condition, params, output_field=BooleanField()))


def search_rank(queryset: QuerySet, *, tokens: list[str]) -> QuerySet:
    """Annotate `rank` (higher is better) without filtering: for rows already known to match."""
    if not tokens:
        return queryset.annotate(rank=Value(0.0, output_field=FloatField()))
    _, rank, params = _sql(queryset, tokens)
    return queryset.annotate(rank=RawSQL(rank, params, output_field=FloatField()))


# search_window on PostgreSQL (see there): the newest PROBE_KEYS primary keys are walked first; the walk goes
# on while the matches' density there puts the rest of the window within WALK_KEYS more keys, never further
# back than the newest RECENT_KEYS; otherwise the index's matches are read over SPAN_MARGIN times the keys
# that density says hold the rest (0: over the rest of the newest RECENT_KEYS, then the older rows).
# A span wider than SPAN_WIDE of the keys left is not asked for, every key's matches instead: the planner
# does not add so wide a key range to the bitmap (it filters the rows after reading them), so the statement
# reads every match whatever the range, and a range that held too few (the density walked over-estimated the
# rest) made step 4 read them all again (0.4 % queries at 10^6: 60 + 27 ms, where one statement takes 20).
RECENT_KEYS = 50_000
PROBE_KEYS = 4_000
WALK_KEYS = 25_000
SPAN_MARGIN = 1.5
SPAN_WIDE = 0.125


def search_window(queryset: QuerySet, *, tokens: list[str], size: int) -> list[tuple[int, str, float]]:
    """The newest `size` rows of `queryset` matching every token, as (primary key, code, rank), newest first.

    A statement that ranks only the window, on either database:

    * PostgreSQL: the matches are cut to the newest `size` in a subquery and ranked in the outer SELECT
      (ranking in the same SELECT would rank every match: the planner evaluates a cheap-looking function
      like `ts_rank` before the sort that the LIMIT applies to).
    * SQLite: FTS5 drives. It yields the matches newest first (`ORDER BY rowid DESC` needs no sort), each
      joined to its product row for the other filters, until `size` rows passed, and `bm25` is computed for
      those rows only. bm25 counts every match of every term (its IDF) once per full-text query, so the
      index must never be queried once per product row: not by a correlated subquery (as `search_rank`
      is), nor by a rowid lookup per product, which the unary plus in the join condition rules out. Either
      repeated that count for every row: seconds for a broad term over 20,000 products
      (docs/performance.md).

    On PostgreSQL the window is read in primary key ranges, newest first, so that no estimate of how many
    rows match decides what a search costs. The planner chooses between walking the primary key backwards
    and a bitmap of the index's matches from that estimate, and it can be far off: the tokens of one word
    (充电桩: 充电 & 桩) always occur together, and it multiplies their frequencies (1,553 estimated of
    24,481 at 385,500 products), then visits every match. So it is not asked:

    1. the newest PROBE_KEYS keys are walked (the text condition written as `ts_match_vq`, which the
       full-text index does not serve); the matches found there measure the density of the query with all
       its filters;
    2. if at that density the rest of the window lies within WALK_KEYS more keys (a common term: about
       16,000 rows for one in 6 % of the products), the walk goes on, never further back than the newest
       RECENT_KEYS keys;
    3. otherwise (a rare term, or a common one with a narrow filter) the rest comes from the index's
       matches among SPAN_MARGIN times the keys that density says hold it: a bitmap whose rows are about
       the window's, not every match (none found: among every older key, a rare term has few; a span
       wider than SPAN_WIDE of the keys left: every key, see there);
    4. only if that range held too few, from the older keys' matches.

    Whatever the estimate, a walk reads at most RECENT_KEYS rows and a bitmap about SPAN_MARGIN times the
    rows it needs, unless the matches thin out further back (then step 4)."""
    if not tokens:
        return []
    table, pk = queryset.model._meta.db_table, queryset.model._meta.pk.column
    conn = connections[queryset.db]
    if conn.vendor != "postgresql":
        # extra(): the one way to put the FTS5 table in the FROM clause; only constants go into the SQL,
        # the query is a parameter.
        window = queryset.order_by().extra(  # noqa: S610
            tables=[FTS_TABLE],
            where=[f"{table}.{pk} = +{FTS_TABLE}.rowid", f"{FTS_TABLE} MATCH %s"],
            params=[_fts5_query(tokens)],
            select={"_rank": _BM25},
            order_by=[f"-{FTS_TABLE}.rowid"],
        )
        return list(window.values_list("pk", "code", "_rank")[:size])
    newest = queryset.model._base_manager.using(queryset.db).order_by("-pk").values_list("pk", flat=True)
    top = newest.first() or 0
    if top <= RECENT_KEYS:
        return _pg_window(queryset, tokens=tokens, size=size)
    recent = top - RECENT_KEYS  # the walk goes no further back than this key
    probed = max(top - PROBE_KEYS, recent)
    rows = (
        _pg_window(queryset.filter(pk__gt=probed), tokens=tokens, size=size, walk=True)
        if probed < top
        else []
    )
    if len(rows) >= size:
        return rows
    # The keys that hold the rest of the window at the density found among the keys walked.
    reach = (size - len(rows)) * (top - probed) / len(rows) if rows else math.inf
    walk = reach <= WALK_KEYS
    if walk or not (SPAN_MARGIN and probed < top):
        floor = recent  # the walk's limit; or no density to go by: the rest of the newest keys
    elif rows and reach * SPAN_MARGIN <= SPAN_WIDE * probed:
        floor = max(probed - math.ceil(reach * SPAN_MARGIN), 0)
    else:
        floor = 0  # none among the keys walked (a rare term, whose matches are few), or a span too wide
    if probed > floor:
        rows += _pg_window(_keys(queryset, floor, probed), tokens=tokens, size=size - len(rows), walk=walk)
    if len(rows) < size and floor > 0:
        # The range held fewer: the rest from the older keys, still newest first.
        rows += _pg_window(_keys(queryset, 0, floor), tokens=tokens, size=size - len(rows))
    return rows


def _keys(queryset: QuerySet, above: int, upto: int) -> QuerySet:
    """The rows of `queryset` whose primary key is above `above` (0: any) and at most `upto`."""
    queryset = queryset.filter(pk__lte=upto)
    return queryset.filter(pk__gt=above) if above > 0 else queryset


def _pg_window(
    queryset: QuerySet, *, tokens: list[str], size: int, walk: bool = False
) -> list[tuple[int, str, float]]:
    """`search_window`'s statement on PostgreSQL: the newest `size` matches, ranked in the outer SELECT.

    `walk`: the text condition as `ts_match_vq(…)`, the function behind `@@`, which the full-text index
    does not serve, and no bitmap scans for the statement (`enable_bitmapscan` off in its transaction, the
    setting restored after it), so the rows are read newest first by the primary key (the caller bounds
    their range): the other filters' indexes are not scanned either (the region filter's GIN index holds
    66,000 postings for a province at 10^6 products, 18–23 ms to read, where the walk reads 4,000 rows)."""
    table = queryset.model._meta.db_table
    if walk:
        # Only the table's name goes into the SQL; the query is a parameter.
        condition = f"ts_match_vq({table}.search_vector, to_tsquery('simple', %s))"
        matching = queryset.filter(RawSQL(condition, [_pg_tsquery(tokens)], output_field=BooleanField()))
    else:
        matching = search_match(queryset, tokens=tokens)
    inner = (
        matching.order_by("-pk")
        .annotate(_search_vector=RawSQL(f"{table}.search_vector", [], output_field=TextField()))
        .values_list("pk", "code", "_search_vector")[:size]
    )
    sql, params = inner.query.get_compiler(using=queryset.db).as_sql()
    statement = (
        f"SELECT w.pk, w.code, ts_rank(w.vector, to_tsquery('simple', %s)) "
        f"FROM ({sql}) AS w(pk, code, vector) ORDER BY w.pk DESC"
    )
    if not walk:
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(statement, [_pg_tsquery(tokens), *params])
            return cursor.fetchall()
    # A setting local to the transaction outlives a savepoint's release: restored by hand, for a caller
    # already in a transaction.
    with transaction.atomic(using=queryset.db), connections[queryset.db].cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('enable_bitmapscan'), set_config('enable_bitmapscan', 'off', true)"
        )
        (before, _) = cursor.fetchone()
        cursor.execute(statement, [_pg_tsquery(tokens), *params])
        rows = cursor.fetchall()
        cursor.execute("SELECT set_config('enable_bitmapscan', %s, true)", [before])
        return rows


def search_order(queryset: QuerySet) -> QuerySet:
    """`queryset`, annotated with `rank`, best first; equal ranks by product code in code-point order (as
    Python sorts strings), so every node orders them alike: primary keys are local, and a database's locale
    collation may ignore hyphens (`…-1234567-X` before `…-123456-M`)."""
    code = Collate(F("code"), "C") if connections[queryset.db].vendor == "postgresql" else F("code")
    return queryset.order_by(F("rank").desc(), code.asc())


def search_any(
    queryset: QuerySet,
    *,
    tokens: list[str],
    match_tokens: list[str] | None = None,
    known_to_match: bool = False,
) -> QuerySet:
    """Rows matching any of `tokens`, annotated with `rank` (more and rarer tokens rank higher): the text
    part of matching a demand's words against products.

    `match_tokens`: rows matching any of these instead (a subset of `tokens`, say the selective ones), still
    ranked on all of `tokens`. `known_to_match`: no text condition at all, only the rank (for rows already
    selected by primary key: repeating the condition would make PostgreSQL visit every match again)."""
    match_tokens = tokens if match_tokens is None else match_tokens
    if not tokens or not (match_tokens or known_to_match):
        return queryset.none()
    _, rank, rank_params = _sql(queryset, tokens, any_token=True)
    if not known_to_match:
        condition, _, params = _sql(queryset, match_tokens, any_token=True)
        queryset = queryset.filter(RawSQL(condition, params, output_field=BooleanField()))
    return queryset.annotate(rank=RawSQL(rank, rank_params, output_field=FloatField()))


# --- Index installation -------------------------------------------------------------------------------------
_PG_INSTALL = [
    """
    ALTER TABLE products_product ADD COLUMN IF NOT EXISTS search_vector tsvector
    GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, search_name), 'A')
        || setweight(to_tsvector('simple'::regconfig, search_keywords), 'B')
        || setweight(to_tsvector('simple'::regconfig, search_body), 'C')
    ) STORED
    """,
    "CREATE INDEX IF NOT EXISTS products_product_search ON products_product USING gin (search_vector)",
]

_COLS = "search_name, search_keywords, search_body"
_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS products_product_fts_ai AFTER INSERT ON products_product BEGIN
        INSERT INTO {FTS_TABLE}(rowid, {_COLS}) VALUES (new.id, new.search_name, new.search_keywords,
        new.search_body); END""",
    f"""CREATE TRIGGER IF NOT EXISTS products_product_fts_ad AFTER DELETE ON products_product BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLS}) VALUES ('delete', old.id, old.search_name,
        old.search_keywords, old.search_body); END""",
    f"""CREATE TRIGGER IF NOT EXISTS products_product_fts_au AFTER UPDATE OF {_COLS} ON products_product BEGIN
        INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLS}) VALUES ('delete', old.id, old.search_name,
        old.search_keywords, old.search_body);
        INSERT INTO {FTS_TABLE}(rowid, {_COLS}) VALUES (new.id, new.search_name, new.search_keywords,
        new.search_body); END""",
]


def search_index_install(conn: BaseDatabaseWrapper) -> None:
    """Create the full-text index if it is missing. Idempotent.

    On SQLite, Django rebuilds a table (copy, drop, rename) for many schema changes, which drops its
    triggers; this runs after every migrate and restores them, rebuilding the index when it had to.
    """
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            for sql in _PG_INSTALL:
                cursor.execute(sql)
            return
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'products_product_fts_%'"
        )
        present = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({_COLS}, "
            f"content='products_product', content_rowid='id', tokenize='unicode61')"
        )
        for sql in _SQLITE_TRIGGERS:
            cursor.execute(sql)
        if len(present) < len(_SQLITE_TRIGGERS):
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
            logger.info("full-text index (re)built")
