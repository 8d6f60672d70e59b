"""How every process of a node logs: one line per record, JSON in production (`LOG_FORMAT=json`), each
carrying the node's code and the request id of the work it belongs to.

The request id lives in django-guid's context variable: its middleware sets it for a web request (a valid
`X-Request-ID` the client sent, or a new one); `registry/celery.py` carries it on the tasks a request queues
and sets it while a worker runs one (a task queued by no request, a beat tick, gets a new one);
`federation.http` sends it to peers, whose middleware takes it up. A thread that works for a request or task
runs in a copy of its context (`core.threads.in_caller_context`), so the id follows it there too.
"""

from __future__ import annotations

import logging

from django_guid.context import guid

# django-guid's settings (DJANGO_GUID): a valid X-Request-ID — a UUID, in any of its spellings (32 hex digits,
# with hyphens, braces or `urn:uuid:`): bounded, and safe in a log line — is kept; any other is replaced by a
# new one (32 hex digits). Either way the response carries it back in X-Request-ID.
REQUEST_ID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": False,
}

# A record's own attributes that a JSON line renames; everything else given as `extra` is a field of its own.
JSON_FIELDS = {"levelname": "level", "name": "logger"}


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (`missing` when there is none: work no request caused)."""

    def __init__(self, missing: str | None = None):
        super().__init__()
        self.missing = missing

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = guid.get() or self.missing
        return True


def formatters(node: str) -> dict:
    return {
        "plain": {"format": f"%(asctime)s %(levelname)s %(name)s [{node}] [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.orjson.OrjsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": JSON_FIELDS,
            "static_fields": {"node": node},
            "timestamp": "time",  # ISO 8601 in UTC, microseconds: what log stores parse without a pattern
        },
    }


def logging_config(*, fmt: str, level: str, node: str) -> dict:
    """The `LOGGING` dict of a node: `fmt` is "plain" or "json"."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters(node),
        "filters": {"request_id": {"()": RequestIdFilter, "missing": None if fmt == "json" else "-"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": fmt, "filters": ["request_id"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # django-guid says at INFO, on every request, that it found or made an id.
            "django_guid": {"level": "WARNING"},
        },
    }


def gunicorn_config(*, fmt: str, level: str, node: str) -> dict | None:
    """gunicorn's `logconfig_dict`: its own lines (start, workers booted, a worker's timeout) in the node's
    format when that is JSON; its access log stays off, since the node logs each request itself
    (`core.middleware.RequestMetricsMiddleware`). None in plain mode: gunicorn's defaults."""
    if fmt != "json":
        return None
    config = logging_config(fmt=fmt, level=level, node=node)
    quiet = {"handlers": ["console"], "propagate": False}
    config["loggers"].update(
        {"gunicorn.error": {"level": "INFO", **quiet}, "gunicorn.access": {"level": "WARNING", **quiet}}
    )
    return config
