"""Counts over the listed products kept in the shared cache until the catalogue changes (docs/interop.md,
*Facets*; docs/performance.md, issue 22): counting every facet over a broad filter reads every matching entry
of an index (100,000 for every listed product), while the counts change only when a product does.

* **Keyed by the filtered set and the change generation.** The key names the SQL and parameters of the
  filtered set (two queries of the same SQL and parameters select the same products, whoever asks and
  whichever surface asks: the API, CKAN's `package_search`, the portal's catalog) and the node's change
  generation (`federation.generation`, the read cache's): every change of a listed product at this node moves
  it in the change's own transaction (a local write or bulk import publishes its change-log entry, a peer's
  applied change moves its cursor, a change outside the log bumps its counter), and it never comes back, so a
  count stored under a generation is the count of that generation's catalogue. `FACET_CACHE_SECONDS` only
  bounds how long an entry occupies the cache.
* **Stored only when nothing changed meanwhile.** The generation is read before the count and again after
  it; the count is stored only if the two are equal (no change committed while the count ran: it is exactly
  the catalogue of the generation it is stored under). A count made inside a transaction of the caller's own
  (whose uncommitted writes may already have moved the generation, and may yet roll back) is neither read nor
  stored.
* **Listed products only.** Callers ask for the cache (`shared=True`) only for a filtered set of listed
  products: the generation counts the changes the public can see, not an exchange's drafts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

from federation.generation import generation
from products.models import Product

T = TypeVar("T")

# Parameter types whose repr() is their whole value (a driver's JSON wrapper, for one, shortens its repr).
_EXACT_REPR = (str, int, float, Decimal, bool, type(None), bytes, dt.date, dt.datetime, dt.time, uuid.UUID)


def _own_transaction(alias: str) -> bool:
    """Whether the connection is inside a transaction the caller opened (a test case's wrapping transaction
    is not one: its writes are the test's fixtures, and the cache is emptied between tests)."""
    blocks = connections[alias].atomic_blocks
    return any(not getattr(block, "_from_testcase", False) for block in blocks)


def _exact(params: Any) -> bool:
    """Whether repr() of these parameters tells every value apart."""
    if isinstance(params, list | tuple):
        return all(_exact(value) for value in params)
    return isinstance(params, _EXACT_REPR)


def _key(kind: str, queryset: QuerySet[Product], at: int) -> str | None:
    """The cache key of `kind`'s counts over `queryset` at generation `at`; None for a set not to keep: one
    that selects nothing by construction (`pk IN ()`, whose counts cost nothing), or one with a parameter
    whose repr() would not tell it apart from another."""
    try:
        sql, params = queryset.order_by().values_list("pk").query.sql_with_params()
    except EmptyResultSet:
        return None
    if not _exact(params):
        return None
    raw = repr((kind, connections[queryset.db].vendor, sql, tuple(params), at))
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{settings.NODE_CODE}:facets:{digest}"


def counts_cached(queryset: QuerySet[Product], kind: str, count: Callable[[], T]) -> T:
    """`count()` (the counts named `kind` over `queryset`, a filtered set of listed products), from the
    shared cache when the catalogue has not changed since they were stored, else counted and stored."""
    seconds = settings.FACET_CACHE_SECONDS
    alias = queryset.db
    if not seconds or _own_transaction(alias):
        return count()
    before = generation(using=alias)
    key = _key(kind, queryset, before)
    if key is None:
        return count()
    store = caches["reads"]
    found = store.get(key)
    if found is not None:
        return found
    counted = count()
    if generation(using=alias) == before:  # nothing committed while counting: the counts of `before`
        store.set(key, counted, seconds)
    return counted
