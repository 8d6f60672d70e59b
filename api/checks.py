"""System checks of the HTTP surface's deployment (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

from core.replicas import REPLICA

# Caches that every process keeps for itself: throttling counters in one hold for that process only.
PER_PROCESS_CACHES = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    }
)


@register(Tags.security, Tags.caches, deploy=True)
def throttle_cache_shared(app_configs, **kwargs):
    """The throttles (API limits, participant and admin logins) count in the default cache: a cache of each
    process multiplies every limit by the number of web processes (gunicorn workers, containers)."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend not in PER_PROCESS_CACHES:
        return []
    return [
        Warning(
            f"CACHE_URL is a cache of each process ({backend.rsplit('.', 1)[-1]}): every web process keeps "
            "its own throttling counters, so the API's limits and the login limits (participants, admin) "
            "multiply by the number of web processes.",
            hint="Set CACHE_URL to a cache all web processes share, e.g. redis://<host>:6379/1 "
            "(docs/operations.md, Cache and throttling).",
            id="registry.W001",
        )
    ]


@register(Tags.caches, Tags.database, deploy=True)
def replica_pins_shared(app_configs, **kwargs):
    """With a read replica, the client that wrote reads the primary by a marker in the default cache
    (core/replicas.py): in a cache of each process, the next request served by another process misses it."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if REPLICA not in settings.DATABASES or backend not in PER_PROCESS_CACHES:
        return []
    return [
        Warning(
            "DATABASE_REPLICA_URL is set and CACHE_URL is a cache of each process "
            f"({backend.rsplit('.', 1)[-1]}): an API client that wrote may read the replica from another "
            "web process before its write reached it (read-your-writes holds only for clients that keep "
            "the pinning cookie).",
            hint="Set CACHE_URL to a cache all web processes share, e.g. redis://<host>:6379/1 "
            "(docs/operations.md, When one machine is not enough).",
            id="registry.W002",
        )
    ]
