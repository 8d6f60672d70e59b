"""The node's change generation: a number that grows with every change a reader of public data can see, read
in one statement. It is the sum of this node's change-log counters (`OriginCounter.last_seq`: what this node
published), its cursors (`SyncState.cursor`: what it applied of every origin's log) and the `ReadGeneration`
row (what changes outside the log). Each of them moves inside the transaction of the change itself, so a
reader never sees the new generation before the new data (api/read_cache.py keys its pages with it), and each
only grows (a cursor never moves back, no row of them is deleted), so no generation ever comes back.
"""

from django.db import connections, router
from django.db.models import F

from federation.models import ReadGeneration

_SQL = (  # the tables of OriginCounter, SyncState and ReadGeneration (tests/test_read_cache.py checks them)
    'SELECT (SELECT COALESCE(SUM(last_seq), 0) FROM "federation_origincounter")'
    ' + (SELECT COALESCE(SUM("cursor"), 0) FROM "federation_syncstate")'
    ' + (SELECT COALESCE(MAX(value), 0) FROM "federation_readgeneration")'
)


def generation(using: str | None = None) -> int:
    """The current change generation (one statement), read from the database the request's reads go to (a
    streaming replica's generation names the replica's content, never the primary's newer one), or from the
    database `using` names (the one a query about to be answered reads)."""
    with connections[using or router.db_for_read(ReadGeneration)].cursor() as cursor:
        cursor.execute(_SQL)
        return int(cursor.fetchone()[0])


def generation_bump() -> None:
    """A change the change log does not count: raise the generation, in the caller's transaction."""
    if not ReadGeneration.objects.filter(pk=1).update(value=F("value") + 1):
        ReadGeneration.objects.get_or_create(pk=1, defaults={"value": 1})
