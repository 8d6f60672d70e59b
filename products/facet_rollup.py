"""Facet counts of the broadest selections read from a rollup the database keeps (docs/performance.md, *Facet
counts of the broadest selections*; issue 22): counting the facets of every listed product reads 100,000
entries of an index (about 90 ms on PostgreSQL), and that count was paid again by the first request after
every change.

* **Kept by the database, in the writer's transaction.** On PostgreSQL, triggers on the products table
  (migration 0014) add, for every statement that inserts, updates or deletes products, the change of the
  counts per status and combination of one facet group's values (`FacetRollup`): + for the rows as written,
  − for the rows as they were, the combinations whose changes cancel left out. Every write path is counted,
  whatever issues it (the services, a bulk import's COPY, a federation apply, a migration's SQL), and a reader
  sees the rollup of exactly the products its snapshot sees: the counts are exact, never stale.
* **Read only for a selection by status alone.** A filtered set whose only condition is on the status (the
  API's list without filters, `package_search` without `q` or `fq`, the portal's catalog without a search)
  is counted by summing the rollup's rows of those statuses: a few thousand rows whatever the catalogue's
  size. Any other selection is counted from the products (products/facets.py).
* **Folded by a task.** Writes only append rows, so concurrent writers never wait on one another;
  `rollup_compact` (beat, every minute: `products.tasks.facet_rollup_compact`) folds them into one row per
  combination in one statement, which is exact whatever commits meanwhile (it deletes the rows its snapshot
  sees and inserts their sums).
* **PostgreSQL only.** On SQLite (the embedded default) the table stays empty and every selection is counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module
from typing import Any

from django.db import connections, transaction
from django.db.models import QuerySet
from django.db.models.expressions import Col
from django.db.models.lookups import Exact, In
from django.db.models.sql.where import AND, OR, WhereNode

from products.models import FacetRollup, Product

# The rollup's column of each facet (products/facets.py, FACETS).
COLUMNS = {
    "industry": "industry",
    "form": "product_form",
    "data_level": "data_level",
    "quality_grade": "quality_grade",
    "update_frequency": "update_frequency",
    "exchange": "exchange_id",
    "price": "price_band",
    "region": "province_mask",
    "delivery_method": "delivery_mask",
}
_KEY = (
    "grp, status, industry, product_form, data_level, quality_grade, update_frequency, exchange_id, "
    "price_band, province_mask, delivery_mask"
)
_TABLE = FacetRollup._meta.db_table


def _statuses(node: Any, status: Any, table: str) -> frozenset[str] | None:
    """The statuses a WHERE node lets through, if it is a condition on the status alone; else None."""
    if isinstance(node, WhereNode):
        if node.negated or not node.children:
            return None
        sets = [_statuses(child, status, table) for child in node.children]
        if any(found is None for found in sets):
            return None
        if node.connector == AND:
            return frozenset.intersection(*sets)
        return frozenset.union(*sets) if node.connector == OR else None
    if not isinstance(node, Exact | In) or not isinstance(node.lhs, Col):
        return None
    if node.lhs.target != status or node.lhs.alias != table:
        return None
    values = [node.rhs] if isinstance(node, Exact) else node.rhs
    if not isinstance(values, list | tuple | set | frozenset) or not all(isinstance(v, str) for v in values):
        return None
    return frozenset(values)


def rollup_statuses(queryset: QuerySet[Product]) -> frozenset[str] | None:
    """The statuses `queryset` selects if it selects by status alone (any other condition, a join that
    filters, a slice, a DISTINCT or a combined query: None), and it reads a PostgreSQL database."""
    query = queryset.query
    if connections[queryset.db].vendor != "postgresql" or query.model is not Product:
        return None
    if (
        query.is_sliced
        or query.distinct
        or query.combinator
        or query.extra_tables
        or query.group_by is not None
    ):
        return None
    table = query.get_initial_alias()
    return _statuses(query.where, Product._meta.get_field("status"), table)


def rollup_rows(queryset: QuerySet[Product], statuses: frozenset[str], facets: Sequence[Any]) -> list[tuple]:
    """Rows shaped as products/facets.py's counting statement's (the bit mask of the facets not grouped in the
    row, each facet's value, the count) for `facets` (each with `name` and `group`) over the products of
    `statuses`, summed from the rollup."""
    columns = [COLUMNS[facet.name] for facet in facets]
    groups = sorted({facet.group for facet in facets})
    names = ", ".join(columns)
    sets = ", ".join(f"({column})" for column in columns)
    statement = (
        f"SELECT GROUPING({names}), {names}, SUM(n)::bigint FROM {_TABLE} "
        f"WHERE status = ANY(%s) AND grp = ANY(%s) GROUP BY GROUPING SETS ({sets}) HAVING SUM(n) <> 0"
    )
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(statement, [sorted(statuses), groups])
        return cursor.fetchall()


def rollup_compact(using: str = "default") -> int:
    """Fold the rollup's rows into one per combination (those summing to nothing dropped), if it has more;
    in one statement, exact whatever commits meanwhile. The rows removed (0 on SQLite)."""
    if connections[using].vendor != "postgresql":
        return 0
    with connections[using].cursor() as cursor:
        combinations = f"SELECT COUNT(*) FROM (SELECT 1 FROM {_TABLE} GROUP BY {_KEY}) AS g"
        cursor.execute(f"SELECT COUNT(*), ({combinations}) FROM {_TABLE}")
        rows, combinations = cursor.fetchone()
        if rows == combinations:
            return 0
        cursor.execute(
            f"WITH moved AS (DELETE FROM {_TABLE} RETURNING {_KEY}, n) "
            f"INSERT INTO {_TABLE} ({_KEY}, n) SELECT {_KEY}, SUM(n) FROM moved GROUP BY {_KEY} "
            "HAVING SUM(n) <> 0"
        )
        return rows - cursor.rowcount


def rollup_rebuild(using: str = "default", *, keep: bool = True) -> tuple[int, int]:
    """Count the rollup again from the products (the migration's own statement), with writers of products held
    off by a SHARE lock, and return (combinations that were wrong or missing, combinations now). For after
    something bypassed the triggers (a data-only restore with `--disable-triggers`, the session replication
    role `replica`); `keep=False` only checks: the transaction is rolled back, the rollup left as it was."""
    if connections[using].vendor != "postgresql":
        return 0, 0
    migration = import_module("products.migrations.0014_facet_rollup")
    summed = f"SELECT {_KEY}, SUM(n) FROM {_TABLE} GROUP BY {_KEY} HAVING SUM(n) <> 0"
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(f"LOCK TABLE {Product._meta.db_table} IN SHARE MODE")
        cursor.execute(summed)
        before = set(cursor.fetchall())
        cursor.execute(f"DELETE FROM {_TABLE}")
        cursor.execute(migration.rollup_statement("products_product"))
        cursor.execute(summed)
        after = set(cursor.fetchall())
        if not keep:
            transaction.set_rollback(True, using=using)
    return len(after - before) + len({row[:-1] for row in before} - {row[:-1] for row in after}), len(after)
