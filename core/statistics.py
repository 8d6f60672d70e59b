"""Planner statistics kept fresh during long bulk loads.

PostgreSQL plans each statement from the statistics `ANALYZE` last took. A table that grows from empty to a
million rows in one load (an import, a node's first catch-up) is planned all along as the small table it was:
the change log's compaction `DELETE … WHERE gid = ANY(…)` then used two of its index's three columns and
scanned every earlier entry (513 ms a batch at 385,500 products; 2.1 ms after ANALYZE). Autovacuum's analyse
may be off, or behind a load that commits a batch every fraction of a second, so a long load analyses the
tables it writes itself, with autovacuum's own rule: when the rows changed since the last analyse exceed
`ANALYZE_BASE + ANALYZE_SCALE × the rows it counted then`. Growth by a factor of 1.5 each time: about
30 analyses from empty to 10^6 rows, each reading a bounded sample (default_statistics_target).

SQLite's planner does not depend on statistics this way (docs/performance.md); nothing is done there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import connections

logger = logging.getLogger(__name__)

ANALYZE_BASE = 1000
ANALYZE_SCALE = 0.5


def tables_stale(tables: Iterable[str], *, using: str = "default") -> list[str]:
    """Those of `tables` whose changes since their last analyse pass the threshold (PostgreSQL)."""
    conn = connections[using]
    names = sorted(set(tables))
    if conn.vendor != "postgresql" or not names:
        return []
    with conn.cursor() as cur:
        cur.execute(
            "SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid "
            "WHERE s.relname = ANY(%s) AND s.schemaname = current_schema() "
            "AND s.n_mod_since_analyze > %s + %s * greatest(c.reltuples, 0)",
            [names, ANALYZE_BASE, ANALYZE_SCALE],
        )
        return sorted(name for (name,) in cur.fetchall())


def analyze_stale(tables: Iterable[str], *, using: str = "default") -> list[str]:
    """ANALYZE those of `tables` that changed enough since their last analyse; returns their names. Call it
    outside a long transaction (between a load's batches): ANALYZE takes a lock that only conflicts with
    schema changes and other analyses of the same table."""
    stale = tables_stale(tables, using=using)
    if stale:
        with connections[using].cursor() as cur:
            for name in stale:  # names from pg_stat_user_tables, quoted as identifiers anyway
                cur.execute('ANALYZE "{}"'.format(name.replace('"', '""')))
        logger.info("analysed %s during a bulk load", ", ".join(stale))
    return stale
