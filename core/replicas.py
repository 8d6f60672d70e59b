"""Public reads from a PostgreSQL streaming replica, with read-your-writes for the client that wrote.

Installed only when `DATABASE_REPLICA_URL` is set (registry/settings.py adds the router and the middleware;
docs/operations.md, "When one machine is not enough"). Everything reads the primary unless a web request
says otherwise: Celery tasks, beat, management commands, migrations and the federation's apply never enter
a request, so they read and write the primary. A request reads the replica only when all of these hold:

* its method is GET or HEAD (any other request reads and writes the primary);
* its path is not one that must see the latest state: the node-to-node endpoints (a peer woken for a head
  must find it in the feed), the admin, the metrics;
* its client did not write in the last `DATABASE_REPLICA_PIN_SECONDS`: a write (POST, PUT, PATCH, DELETE)
  answered below 400 pins the client to the primary for that long, by a cookie (browsers, any client keeping
  cookies) and by a marker in the shared cache under a hash of the request's `Authorization` header (API
  clients, which keep no cookies: the token that wrote reads the primary). The marker is in `CACHE_URL`'s
  cache, so with several web processes it holds across them only when that cache is shared (Redis):
  `manage.py check --deploy` warns.

Inside a transaction on the primary every read stays on the primary, and a record read from one database
takes its related records from the same one. The replica's connection is checked at a request's first read
(`replica_usable`): one that cannot be reached sends the request's reads to the primary rather than failing
them. A streamed response's body is read after the request's
routing ended, from the primary.
"""

from __future__ import annotations

import hashlib
import logging
import time
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections

PRIMARY = "default"
REPLICA = "replica"
PIN_COOKIE = "dxr_primary"
PIN_MARKER = "replica-pin:"
# Reads that must see the primary's latest state even in a GET.
PRIMARY_PATHS = ("/federation/", "/admin/", "/metrics")
LAGGING_METHODS = frozenset({"GET", "HEAD"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PIN_SECONDS_DEFAULT = 10
# A replica that could not be reached is not tried again by this process for this long: its reads go to the
# primary meanwhile (each process pays at most one connection timeout per period).
RETRY_SECONDS = 30

logger = logging.getLogger(__name__)
# PRIMARY, REPLICA, or UNCHECKED: the request may read the replica, whose connection is checked at the first
# read (a request that reads nothing, say a cached answer, costs the replica nothing).
UNCHECKED = "replica?"
_reads: ContextVar[str] = ContextVar("replica_reads", default=PRIMARY)
_down_until = 0.0


def pin_seconds() -> int:
    return getattr(settings, "DATABASE_REPLICA_PIN_SECONDS", PIN_SECONDS_DEFAULT)


def reads_alias() -> str:
    """Where the current context's reads go: `replica` inside a request the middleware let read it, once the
    replica answered (`replica_usable`); the primary otherwise."""
    alias = _reads.get()
    if alias == UNCHECKED:
        alias = REPLICA if replica_usable() else PRIMARY
        _reads.set(alias)  # for the rest of the request: the middleware resets it
    return alias


class ReplicaRouter:
    """Django's database router (`DATABASE_ROUTERS`): writes and migrations on the primary, reads where the
    current request may read."""

    def db_for_read(self, model, **hints) -> str:
        instance = hints.get("instance")
        if instance is not None and instance._state.db in (PRIMARY, REPLICA):
            return instance._state.db
        if _reads.get() == PRIMARY or connections[PRIMARY].in_atomic_block:
            return PRIMARY  # a transaction reads what it wrote
        return reads_alias()

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # One database in two copies: records of either relate.
        if {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA, None}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        return db == PRIMARY  # the replica follows the primary's schema by streaming it


def _marker(request) -> str | None:
    credential = request.META.get("HTTP_AUTHORIZATION", "")
    if not credential:
        return None
    return PIN_MARKER + hashlib.sha256(credential.encode("utf-8", "surrogateescape")).hexdigest()


def _cookie_pinned(request) -> bool:
    value = request.COOKIES.get(PIN_COOKIE, "")
    return value.isdigit() and len(value) <= 12 and int(value) > time.time()


def may_lag(request) -> bool:
    """Whether this request may read the replica (the module's rules)."""
    if request.method not in LAGGING_METHODS or request.path.startswith(PRIMARY_PATHS):
        return False
    if _cookie_pinned(request):
        return False
    marker = _marker(request)
    return marker is None or cache.get(marker) is None


def replica_usable() -> bool:
    """Whether the replica answers: its connection checked (Django's health check) or opened. One that does
    not is left alone for RETRY_SECONDS, and the request reads the primary instead of failing."""
    global _down_until
    if time.monotonic() < _down_until:
        return False
    replica = connections[REPLICA]
    try:
        replica.close_if_health_check_failed()
        replica.ensure_connection()
    except DatabaseError as exc:
        _down_until = time.monotonic() + RETRY_SECONDS
        logger.warning("read replica unreachable, reading the primary for %s s: %s", RETRY_SECONDS, exc)
        return False
    return True


def pin(request, response) -> None:
    """The client that wrote reads the primary for the next `pin_seconds()`."""
    seconds = pin_seconds()
    response.set_cookie(
        PIN_COOKIE,
        str(int(time.time()) + seconds),
        max_age=seconds,
        httponly=True,
        samesite="Lax",
        secure=getattr(settings, "SESSION_COOKIE_SECURE", False),
    )
    marker = _marker(request)
    if marker is not None:
        cache.set(marker, 1, seconds)


class ReplicaReadsMiddleware:
    """Chooses where the request reads (the module's rules) and pins a client that wrote."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _reads.set(UNCHECKED if may_lag(request) else PRIMARY)
        try:
            response = self.get_response(request)
        finally:
            _reads.reset(token)
        if request.method in WRITE_METHODS and response.status_code < 400:
            pin(request, response)
        return response
