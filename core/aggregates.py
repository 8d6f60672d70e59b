"""`Median(expression)`: the median of the non-null values, computed by the database in the query.

PostgreSQL: `percentile_cont(0.5) WITHIN GROUP (ORDER BY …)` (numbers and intervals alike). SQLite has
no median: `sqlite_functions` registers one on each new SQLite connection (core.apps), as Django registers
its own STDDEV_POP and VAR_POP there: the values never leave the statement, and the embedded default holds
few rows (the PostgreSQL figures are in docs/performance.md, "Deal statistics").
"""

from __future__ import annotations

from typing import Any

from django.db.models import Aggregate

SQLITE_MEDIAN = "dexr_median"


class Median(Aggregate):
    function = SQLITE_MEDIAN
    name = "Median"
    allow_distinct = False

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            function="percentile_cont",
            template="%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)",
            **extra_context,
        )


class _SqliteMedian:
    """SQLite's aggregate protocol: step() per row, finalize() once; the mean of the two middle values for
    an even count, as percentile_cont(0.5) gives."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def step(self, value: Any) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        if not self.values:
            return None
        ordered = sorted(self.values)
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[middle]
        return (ordered[middle - 1] + ordered[middle]) / 2


def sqlite_functions(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: the median aggregate on SQLite connections."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_MEDIAN, 1, _SqliteMedian)
